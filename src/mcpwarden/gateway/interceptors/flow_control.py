"""Flow control: breaking the lethal trifecta at run time, per session.

Once a tool labelled `untrusted_content` returns a result (a web fetch, an inbox read) the session
is tainted: whatever the model reads next may carry someone else's instructions. In a tainted
session, tools labelled `exfiltration_sink` or `destructive` are refused (`on_tainted: block`) or
sent to a human (`on_tainted: approve`, an `ask` the approval interceptor answers).

    interceptors:
      flow_control:
        on_tainted: block                    # block | approve
        taint_labels: [untrusted_content]    # labels whose results taint the session
        sink_labels: [exfiltration_sink, destructive]
        labels:                              # per-tool label overrides (as `classify_tool` takes them)
          "web/fetch": [untrusted_content]
          "mail/*": ["+exfiltration_sink"]
          "notes/append": []                 # no labels: never taints, never a sink

Taint lives in this gateway process's memory, keyed by the gateway session id (it ends with the
process; the most recent `MAX_SESSIONS` sessions are remembered). Stateless (2026-07-28) requests
have no session: their taint is keyed by the principal, so one tainting call taints every later
stateless call of that principal (stricter, never looser). Reason id: `flow_control.tainted`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from mcpwarden.detect.capabilities import DESTRUCTIVE, EXFILTRATION_SINK, UNTRUSTED_CONTENT, parse_override
from mcpwarden.errors import ConfigError
from mcpwarden.gateway.interceptors.common import Labels, choice, failer, label_list, only_keys
from mcpwarden.gateway.pipeline import InterceptorContext, ToolCatalog
from mcpwarden.types import ToolCall, Verdict

NAME = "flow_control"
REASON = "flow_control.tainted"
MAX_SESSIONS = 100_000
DEFAULT_TAINT = frozenset({UNTRUSTED_CONTENT})
DEFAULT_SINKS = frozenset({EXFILTRATION_SINK, DESTRUCTIVE})


class FlowControl:
    """Taints sessions on untrusted results; stops sinks in tainted sessions."""

    name = NAME

    def __init__(
        self,
        catalog: ToolCatalog,
        *,
        on_tainted: str = "block",
        taint_labels: frozenset[str] = DEFAULT_TAINT,
        sink_labels: frozenset[str] = DEFAULT_SINKS,
        overrides: Mapping[str, list[str]] | None = None,
    ) -> None:
        self.on_tainted = on_tainted
        self.taint_labels = taint_labels
        self.sink_labels = sink_labels
        self.labels = Labels(catalog, overrides)
        self._tainted: OrderedDict[str, str] = OrderedDict()  # session key → the tool that tainted it

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: InterceptorContext) -> FlowControl:
        fail = failer(context, NAME)
        only_keys(options, ("on_tainted", "taint_labels", "sink_labels", "labels"), fail)
        overrides = options.get("labels") or {}
        if not isinstance(overrides, Mapping):
            raise fail("labels", "must map `server/tool` (or `server/*`) to a list of labels")
        checked: dict[str, list[str]] = {}
        for key, value in overrides.items():
            if not isinstance(key, str) or "/" not in key:
                raise fail(f"labels.{key}", "keys are `server/tool` or `server/*`")
            if not isinstance(value, list):
                raise fail(f"labels.{key}", f"must be a list of labels, found {value!r}")
            try:
                parse_override(key, value)
            except ConfigError as exc:
                raise fail(f"labels.{key}", exc.message) from None
            checked[key] = [str(v) for v in value]
        taint = options.get("taint_labels")
        sinks = options.get("sink_labels")
        return cls(
            context.catalog,
            on_tainted=choice(options.get("on_tainted", "block"), "on_tainted", fail, ("block", "approve")),
            taint_labels=label_list(taint, "taint_labels", fail) if taint is not None else DEFAULT_TAINT,
            sink_labels=label_list(sinks, "sink_labels", fail) if sinks is not None else DEFAULT_SINKS,
            overrides=checked,
        )

    @staticmethod
    def session_key(call: ToolCall) -> str:
        """The gateway session, or (stateless requests) the principal."""
        return f"s:{call.session_id}" if call.session_id else f"p:{call.principal.id}"

    def tainted_by(self, call: ToolCall) -> str | None:
        """The tool whose result tainted this call's session, if any."""
        return self._tainted.get(self.session_key(call))

    async def request(self, call: ToolCall) -> Verdict | None:
        if call.action != "call_tool":
            return None
        source = self.tainted_by(call)
        if source is None:
            return None
        sinks = sorted(self.labels.of(call) & self.sink_labels)
        if not sinks:
            return None
        message = f"this session read untrusted content from {source}, and {call.tool} is labelled {', '.join(sinks)}"
        if self.on_tainted == "approve":
            return Verdict("ask", source=NAME, reasons=(REASON,), message=message)
        return Verdict("deny", source=NAME, reasons=(REASON,), message=message + "; it is blocked")

    async def response(self, call: ToolCall) -> Verdict | None:
        if call.action != "call_tool" or call.result is None or not (self.labels.of(call) & self.taint_labels):
            return None
        key = self.session_key(call)
        if key not in self._tainted:
            self._tainted[key] = call.tool
            while len(self._tainted) > MAX_SESSIONS:
                self._tainted.popitem(last=False)
        return Verdict("allow", source=NAME, reasons=(REASON,), message=f"session tainted by {call.tool}")
