"""Approval (human in the loop): the call waits until a human approves or denies it, or time runs out.

A call needs approval when an earlier interceptor answered `ask` (an authz permit marked
`@approval("required")`, flow control with `on_tainted: approve`), or when it matches a rule here:

    interceptors:
      approval:
        timeout_s: 120                        # no answer by then: denied
        tools: ["github__delete_*", "mail/send"]   # globs over `server__tool` or `server/tool`
        labels_any: [destructive]             # any of these capability labels

The request goes to the approval queue in the live state (`SqliteLiveState.request_approval`),
where `mcpwarden approvals list`, `approvals approve ID` and `approvals deny ID --reason …` (from
any process) answer it; the gateway logs the approval id. MCP elicitation is not used: the gateway
core sends clients no requests of its own, so the queue is the one channel. Approved → the call
goes on; denied → refused naming the approval id and the reason; timed out → refused. Reason id:
`approval.<id>`. In `monitor` mode nothing waits: the need for approval is only recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from mcpwarden.gateway.interceptors.common import (
    Labels,
    failer,
    label_list,
    live_state,
    matches,
    number,
    only_keys,
    string_list,
)
from mcpwarden.gateway.pipeline import InterceptorContext, ToolCatalog
from mcpwarden.storage.state import ApprovalRequest, LiveState
from mcpwarden.types import ToolCall, Verdict

NAME = "approval"
DEFAULT_TIMEOUT_S = 120.0
log = logging.getLogger("mcpwarden.gateway.approval")


class Approval:
    """Puts calls that need a human on the approval queue and waits for the decision."""

    name = NAME

    def __init__(
        self,
        catalog: ToolCatalog,
        state: LiveState | None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        tools: tuple[str, ...] = (),
        labels_any: frozenset[str] = frozenset(),
        wait: bool = True,
    ) -> None:
        self.state = state
        self.timeout_s = timeout_s
        self.tools = tools
        self.labels_any = labels_any
        self.wait = wait
        self.labels = Labels(catalog)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: InterceptorContext) -> Approval:
        fail = failer(context, NAME)
        only_keys(options, ("timeout_s", "tools", "labels_any"), fail)
        timeout = number(options.get("timeout_s", DEFAULT_TIMEOUT_S), "timeout_s", fail, minimum=0.1)
        tools = string_list(options.get("tools"), "tools", fail)
        labels = label_list(options.get("labels_any"), "labels_any", fail)
        state = live_state(context)
        if (tools or labels) and state is None:
            raise fail("", "approval rules need a database (`storage.db`) for the approval queue")
        monitor = context.config is not None and context.config.mode == "monitor"
        return cls(context.catalog, state, timeout_s=timeout, tools=tools, labels_any=labels, wait=not monitor)

    def _why(self, call: ToolCall) -> str | None:
        asked = [v for v in call.verdicts if v.decision == "ask"]
        if asked:
            return "; ".join(f"{v.source}: {v.message or ', '.join(v.reasons)}" for v in asked)
        if self.tools and matches(call, self.tools):
            return "the tool is on the approval list"
        if self.labels_any:
            hit = sorted(self.labels.of(call) & self.labels_any)
            if hit:
                return f"the tool is labelled {', '.join(hit)}"
        return None

    async def request(self, call: ToolCall) -> Verdict | None:
        why = self._why(call)
        if why is None:
            return None
        if not self.wait:
            return Verdict("ask", source=NAME, reasons=("approval.required",), message=f"needs approval: {why}")
        if self.state is None:
            message = f"needs approval ({why}) but no approval queue is configured (`storage.db`)"
            return Verdict("deny", source=NAME, reasons=("approval.unavailable",), message=message)
        pending = await self.state.request_approval(
            ApprovalRequest(
                server=call.upstream,
                tool=call.upstream_tool,
                principal=call.principal.id,
                session=call.session_id,
                arguments=call.arguments,
                reason=why,
                call_id=call.id,
            ),
            ttl_s=self.timeout_s,
        )
        log.warning(
            "call waits for approval: mcpwarden approvals approve %s",
            pending.id,
            extra={"fields": {"approval": pending.id, "tool": call.tool, "principal": call.principal.id}},
        )
        decided = await self.state.wait_for_decision(pending.id, self.timeout_s)
        reason = (f"approval.{decided.id}",)
        if decided.status == "approved":
            return Verdict("allow", source=NAME, reasons=reason, message=f"approved by {decided.decided_by}")
        if decided.status == "denied":
            because = f": {decided.decision_reason}" if decided.decision_reason else ""
            message = f"approval {decided.id} was denied by {decided.decided_by}{because}"
            return Verdict("deny", source=NAME, reasons=reason, message=message)
        message = f"approval {decided.id} got no answer within {self.timeout_s:g} s ({why})"
        return Verdict("deny", source=NAME, reasons=reason, message=message)

    async def response(self, call: ToolCall) -> Verdict | None:
        return None
