"""What the gateway needs from modules built beside it, as Protocols they plug into.

- `AuditSink`: every proxied call is appended after its decision and before its response is sent.
  `gateway.audit.open_audit_sink` adapts the hash-chained `mcpwarden.storage.audit` log. A sink gets
  the call as it is and must mask secrets before it persists anything (that log does, with
  `mask_secrets` as its redact hook: storage cannot import the detectors itself). A sink that also
  has `record(entry)` gets the rest of the trail (see `AuditSink`).
- `CapabilityClassifier`: `mcpwarden.detect.capabilities.classify_tool`; its labels land in
  `ToolCall.labels` for the policy and flow-control interceptors.
- Interceptor factories that replace built-in ones for chain slots (see `pipeline.SLOTS`); every
  slot has a built-in in `gateway.interceptors`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mcpwarden.gateway.pipeline import InterceptorFactory
from mcpwarden.types import ToolCall, ToolDef


class AuditSink(Protocol):
    """Where every call and its decision is recorded. Raising means the record was not written.

    A sink may also define `async def record(entry: storage.audit.AuditEntry) -> None` (the
    `audit_events.EntrySink` Protocol, as `storage.audit.CallAuditSink` does): then listings,
    session starts and ends, and approvals answered through MCP elicitation or the HTTP API are
    recorded too, and a listing whose record fails is withheld. Without it only calls are recorded.
    """

    async def append(self, call: ToolCall) -> None: ...


CapabilityClassifier = Callable[[ToolDef], Any]
"""`classify_tool(ToolDef) -> Capabilities`; the result's `labels` (or the iterable itself) become `ToolCall.labels`."""


def labels_of(classified: Any) -> frozenset[str]:
    """Labels from whatever a classifier returned: an object with `labels`, or an iterable of names."""
    labels = getattr(classified, "labels", classified)
    if isinstance(labels, str) or not isinstance(labels, Iterable):
        return frozenset()
    return frozenset(str(label) for label in labels)


@dataclass(frozen=True)
class GatewayDeps:
    """The pluggable parts. Everything is optional: without an audit sink nothing is recorded."""

    audit: AuditSink | None = None
    classify: CapabilityClassifier | None = None
    factories: Mapping[str, InterceptorFactory] = field(default_factory=dict)
    services: Mapping[str, Any] = field(default_factory=dict)  # handed to every interceptor factory
