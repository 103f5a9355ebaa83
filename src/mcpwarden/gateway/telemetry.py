"""OpenTelemetry spans for the gateway: the optional `otel` extra (`pip install 'mcpwarden[otel]'`).

Off unless the config says `telemetry: {otel: true}` or, with no `otel` key, the standard OTEL
variables select a trace exporter (`OTEL_TRACES_EXPORTER` other than `none`, or an OTLP endpoint);
`OTEL_SDK_DISABLED=true` turns it off. Off (or without the SDK installed) the gateway holds no
`Telemetry` and pays one branch per request.

Spans follow the OpenTelemetry MCP semantic conventions (server side): one SERVER span per client
request named `{mcp.method.name} {target}` (`tools/call files__read_file`, `tools/list`), with
`mcp.method.name`, `mcp.session.id`, `mcp.protocol.version`, `jsonrpc.request.id`,
`gen_ai.tool.name` / `gen_ai.prompt.name`, `rpc.response.status_code` and `error.type`, plus
`mcpwarden.*` attributes for what the gateway decided (principal, upstream, decision, rule ids).
A proxied call gets child spans for each interceptor and a CLIENT span for the upstream request,
placed from the durations the pipeline measures. Argument values, results and error messages
(an upstream's may quote arguments) never go into spans; a resource URI is secret-masked.

mcpwarden configures no exporter of its own: it builds an SDK `TracerProvider` whose sampler,
resource and exporters come from the standard OTEL_* variables, or uses the global provider when
one is already installed (e.g. under `opentelemetry-instrument`).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mcpwarden import __version__
from mcpwarden.errors import ConfigError
from mcpwarden.types import ToolCall, Verdict

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

    from mcpwarden.gateway.jsonrpc import Message
    from mcpwarden.gateway.session import Session

log = logging.getLogger("mcpwarden.gateway.telemetry")

TRACER_NAME = "mcpwarden.gateway"
DEFAULT_SERVICE_NAME = "mcpwarden"
EXPORTER_GROUP = "opentelemetry_traces_exporter"
# JSON-RPC codes that are not errors of the server span: the caller sent what cannot be served
# (as the semantic conventions list them), a policy refusal (-32050: the gateway working as
# intended) and a request the client cancelled (-32054).
CALLER_ERRORS = frozenset({-32700, -32600, -32601, -32602, -32002, -32050, -32054})
_METHODS = {"call_tool": "tools/call", "get_prompt": "prompts/get", "read_resource": "resources/read"}
_NS = 1_000_000_000
# An interceptor step gets its own span when it gave a verdict or took at least this long (seconds):
# a span costs tens of microseconds, more than most steps that only look and pass.
INTERCEPTOR_SPAN_MIN_S = 0.0001


class _Reader(Protocol):
    environ: Mapping[str, str]

    def fail(self, key: str, message: str) -> ConfigError: ...
    def mapping(self, value: Any, key: str) -> Mapping[str, Any]: ...
    def only(self, value: Mapping[str, Any], key: str, allowed: set[str]) -> None: ...
    def string(self, value: Any, key: str, *, secret: bool = False) -> str: ...


@dataclass(frozen=True)
class TelemetrySettings:
    """`telemetry:` in the gateway config, with the OTEL_* variables already taken into account."""

    otel: bool = False
    service_name: str | None = None  # None: OTEL_SERVICE_NAME, else "mcpwarden"


def otel_from_env(environ: Mapping[str, str]) -> bool:
    """Whether the standard variables ask for traces (used when the config has no `telemetry.otel`)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporters:
        return exporters != "none"
    return bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def parse_telemetry(r: _Reader, raw: Any) -> TelemetrySettings:
    """Validate `telemetry:` (keys `otel`, `service_name`); absent, the OTEL_* variables decide."""
    data = r.mapping(raw, "telemetry")
    r.only(data, "telemetry", {"otel", "service_name"})
    otel = data.get("otel")
    if otel is not None and not isinstance(otel, bool):
        raise r.fail("telemetry.otel", f"must be true or false, found {otel!r}")
    name = data.get("service_name")
    service_name = r.string(name, "telemetry.service_name") if name is not None else None
    if service_name is not None and not service_name.strip():
        raise r.fail("telemetry.service_name", "must not be empty")
    disabled = r.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    enabled = otel_from_env(r.environ) if otel is None else otel and not disabled
    return TelemetrySettings(otel=enabled, service_name=service_name)


def build_telemetry(settings: TelemetrySettings, *, provider: TracerProvider | None = None) -> Telemetry | None:
    """The gateway's `Telemetry`, or None when it is off or OpenTelemetry is not installed.

    `provider` overrides the choice (tests pass one with an in-memory exporter).
    """
    if not settings.otel:
        return None
    if provider is None:
        provider = _provider(settings)
        if provider is None:
            return None
    return Telemetry(provider.get_tracer(TRACER_NAME, __version__))


def _provider(settings: TelemetrySettings) -> TracerProvider | None:
    from importlib import metadata

    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError:
        log.warning("telemetry is on but the OpenTelemetry SDK is not installed: pip install 'mcpwarden[otel]'")
        return None
    current = trace.get_tracer_provider()
    if not isinstance(current, trace.ProxyTracerProvider):
        return current  # someone (opentelemetry-instrument, the host application) already set one up
    name = settings.service_name or os.environ.get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE_NAME
    provider = SdkTracerProvider(resource=Resource.create({"service.name": name}))
    for exporter_name in os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(","):
        exporter_name = exporter_name.strip().lower()
        if not exporter_name or exporter_name == "none":
            continue
        if exporter_name == "console":
            # stdout may be the MCP channel (`mcpwarden wrap`): spans printed there would corrupt it.
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
            continue
        found = metadata.entry_points(group=EXPORTER_GROUP, name=exporter_name)
        if not found:
            hint = " (pip install opentelemetry-exporter-otlp)" if exporter_name.startswith("otlp") else ""
            log.warning("OTEL_TRACES_EXPORTER names %r, which is not installed%s", exporter_name, hint)
            continue
        try:
            exporter = next(iter(found)).load()()
        except Exception as exc:
            log.warning("span exporter %r could not be created: %s", exporter_name, exc)
            continue
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


class Telemetry:
    """Makes the spans; the gateway holds one only when telemetry is on."""

    def __init__(self, tracer: Tracer) -> None:
        from opentelemetry import trace
        from opentelemetry.trace import SpanKind, Status, StatusCode

        from mcpwarden.storage.audit import final_decision

        self._decision = final_decision
        self._tracer = tracer
        self._trace = trace
        self._server, self._client, self._internal = SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL
        self._error = Status(StatusCode.ERROR)

    # --- one span per client request

    async def traced(self, session: Session, message: Message, handled: Awaitable[str | None]) -> str | None:
        """Await `handled` (the gateway answering `message`) inside the request's SERVER span."""
        if not message.is_request:
            return await handled
        method = message.method or ""
        span = self._tracer.start_span(method, kind=self._server, attributes=_session_attributes(session, method))
        if message.id is not None:
            span.set_attribute("jsonrpc.request.id", str(message.id))
        try:
            with self._trace.use_span(span, record_exception=False, set_status_on_exception=False):
                reply = await handled
            if reply is not None:
                self._reply_status(span, message, reply)
            return reply
        except BaseException as exc:
            span.set_attribute("error.type", type(exc).__qualname__)
            if isinstance(exc, Exception):
                span.set_status(self._error)
            raise
        finally:
            span.end()

    def initialized(self, session: Session) -> None:
        """The span of an `initialize` the gateway answered by opening `session`."""
        self._tracer.start_span(
            "initialize", kind=self._server, attributes=_session_attributes(session, "initialize")
        ).end()

    def _reply_status(self, span: Span, message: Message, reply: str) -> None:
        # The gateway writes every error envelope itself in this one form, so a prefix test suffices.
        if not reply.startswith(f'{{"jsonrpc":"2.0","id":{message.id_text or "null"},"error":'):
            return
        code = _error_code(reply)
        if code is None:
            span.set_attribute("error.type", "invalid_error")
            span.set_status(self._error)
            return
        span.set_attribute("rpc.response.status_code", str(code))
        span.set_attribute("error.type", str(code))
        if code not in CALLER_ERRORS:
            span.set_status(self._error)  # no description: an upstream's message may quote the arguments

    # --- what the gateway learnt while answering (set on the current request span)

    def listed(self, count: int, hidden: tuple[str, ...]) -> None:
        """A listing answered with `count` items after hiding `hidden`."""
        span = self._trace.get_current_span()
        if span.is_recording():
            span.set_attribute("mcpwarden.listing.count", count)
            span.set_attribute("mcpwarden.listing.hidden_count", len(hidden))
            if hidden:
                span.set_attribute("mcpwarden.listing.hidden", hidden)

    def call_done(self, call: ToolCall, outcome: str) -> None:
        """A proxied call finished with `outcome` (allowed, modified, denied, error, upstream_error, cancelled)."""
        span = self._trace.get_current_span()
        if not span.is_recording():
            return
        end = time.time_ns()
        method = _METHODS.get(call.action, call.action)
        span.set_attributes(_call_attributes(call, outcome, self._decision(call.verdicts)))
        if call.action != "read_resource":
            span.update_name(f"{method} {call.tool}")
        if (outcome == "denied" and call.action == "call_tool") or (call.result or {}).get("isError") is True:
            span.set_attribute("error.type", "tool_error")
        self._children(span, call, method, end, outcome)

    def _children(self, parent: Span, call: ToolCall, method: str, end: int, outcome: str) -> None:
        """Interceptor and upstream spans, laid out from the measured durations (the pipeline runs them in turn)."""
        context = self._trace.set_span_in_context(parent)
        start = int(call.started_at * _NS) if call.started_at else end
        request = [(k, v) for k, v in call.timings.items() if k.startswith("request.")]
        response = [(k, v) for k, v in call.timings.items() if k.startswith("response.")]
        verdicts = _verdicts_by_step(call, [k for k, _ in request + response])
        cursor = start
        for key, seconds in request:
            cursor = self._interceptor(context, key, seconds, cursor, verdicts.get(key))
        tail = end - int(sum(v for _, v in response) * _NS)
        upstream = call.timings.get("upstream")
        failed = any(v.source == "upstream" for v in call.verdicts)
        if upstream is not None or failed:
            began = max(cursor, tail - int(upstream * _NS)) if upstream is not None else cursor
            finished = tail if upstream is not None else end
            attributes: dict[str, Any] = {"mcp.method.name": method, "mcpwarden.upstream": call.upstream}
            if call.action == "call_tool":
                attributes["gen_ai.tool.name"] = call.upstream_tool
            elif call.action == "get_prompt":
                attributes["gen_ai.prompt.name"] = call.upstream_tool
            name = method if call.action == "read_resource" else f"{method} {call.upstream_tool}"
            span = self._tracer.start_span(
                name, context, kind=self._client, attributes=attributes, start_time=min(began, finished)
            )
            if failed or outcome == "upstream_error":
                code = _error_code(call.raw_response) if outcome == "upstream_error" else None
                if code is not None:
                    span.set_attribute("rpc.response.status_code", str(code))
                span.set_attribute("error.type", str(code) if code is not None else "upstream_error")
                span.set_status(self._error)  # on the client side every JSON-RPC error counts
            span.end(end_time=finished)
        cursor = max(cursor, tail)
        for key, seconds in response:
            cursor = self._interceptor(context, key, seconds, cursor, verdicts.get(key))

    def _interceptor(self, context: Any, key: str, seconds: float, start: int, verdict: Verdict | None) -> int:
        finish = start + int(seconds * _NS)
        if verdict is None and seconds < INTERCEPTOR_SPAN_MIN_S:
            return finish  # a span costs more than such a step took: it stays inside the parent
        hook, _, name = key.partition(".")
        attributes: dict[str, Any] = {"mcpwarden.interceptor.name": name, "mcpwarden.interceptor.hook": hook}
        if verdict is not None:
            attributes["mcpwarden.decision"] = verdict.decision
            attributes["mcpwarden.verdict.reasons"] = tuple(verdict.reasons)
        span = self._tracer.start_span(
            f"interceptor {name}", context, kind=self._internal, attributes=attributes, start_time=start
        )
        span.end(end_time=finish)
        return finish


def _session_attributes(session: Session, method: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "mcp.method.name": method,
        "mcp.protocol.version": session.protocol_version,
        "mcpwarden.principal.id": session.principal.id,
    }
    if session.id is not None:  # the stateless era has no session (the conventions say: do not set it)
        attributes["mcp.session.id"] = session.id
    client = session.client_name or session.principal.client_id
    if client:
        attributes["mcpwarden.client.name"] = client
    return attributes


def _call_attributes(call: ToolCall, outcome: str, decision: str | None) -> dict[str, Any]:
    reasons: dict[str, None] = {}
    for verdict in call.verdicts:
        reasons.update(dict.fromkeys(verdict.reasons))
    attributes: dict[str, Any] = {
        "mcpwarden.upstream": call.upstream,
        "mcpwarden.call.id": call.id,
        "mcpwarden.outcome": outcome,
        "mcpwarden.decision": decision or "allow",
        "mcpwarden.verdict.reasons": tuple(reasons),
        "mcpwarden.verdict.sources": tuple(dict.fromkeys(v.source for v in call.verdicts)),
        "mcpwarden.findings": tuple(dict.fromkeys(f.rule_id for f in call.findings)),
    }
    if call.action == "call_tool":
        attributes["gen_ai.tool.name"] = call.tool
        attributes["gen_ai.operation.name"] = "execute_tool"
    elif call.action == "get_prompt":
        attributes["gen_ai.prompt.name"] = call.tool
    else:
        from mcpwarden.detect.secrets import mask_secrets  # here: config.py imports this module, keep it light

        attributes["mcp.resource.uri"] = mask_secrets(call.tool)
    return attributes


def _error_code(raw: bytes | str | None) -> int | None:
    try:
        return int(json.loads(raw or b"")["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


def _verdicts_by_step(call: ToolCall, steps: list[str]) -> dict[str, Verdict]:
    """Which verdict each interceptor step gave: the pipeline appends a step's verdict right after timing it."""
    out: dict[str, Verdict] = {}
    pending = [v for v in call.verdicts if v.source not in ("upstream", "pipeline")]
    index = 0
    for step in steps:
        name = step.partition(".")[2]
        if index < len(pending) and pending[index].source == name:
            out[step] = pending[index]
            index += 1
    return out
