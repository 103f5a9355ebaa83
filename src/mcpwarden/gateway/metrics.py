"""Prometheus metrics for one gateway (its own registry: no process-wide state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class GatewayMetrics:
    """Calls, denials by reason, latencies per upstream and tool, sessions, restarts, protocol errors."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.calls = Counter(
            "mcpwarden_calls",
            "Proxied calls by upstream, tool and outcome.",
            ["upstream", "tool", "outcome"],
            registry=r,
        )
        self.denials = Counter(
            "mcpwarden_denials", "Refused calls by deciding interceptor and reason.", ["source", "reason"], registry=r
        )
        self.latency = Histogram(
            "mcpwarden_call_duration_seconds",
            "Time from request to response through the gateway.",
            ["upstream", "tool"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.upstream_latency = Histogram(
            "mcpwarden_upstream_duration_seconds",
            "Time the upstream took to answer.",
            ["upstream"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.sessions = Gauge("mcpwarden_sessions", "Open client sessions.", registry=r)
        self.upstream_up = Gauge("mcpwarden_upstream_up", "1 when the upstream is connected.", ["upstream"], registry=r)
        self.restarts = Gauge(
            "mcpwarden_upstream_restarts", "Reconnections or restarts per upstream.", ["upstream"], registry=r
        )
        self.protocol_errors = Counter(
            "mcpwarden_protocol_errors",
            "Client messages refused at the protocol level, by JSON-RPC code.",
            ["code"],
            registry=r,
        )
        self.audit_failures = Counter(
            "mcpwarden_audit_failures", "Calls refused because their audit record failed.", registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
