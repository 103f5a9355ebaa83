"""Approval (human in the loop): the call waits until a human approves or denies it, or time runs out.

A call needs approval when an earlier interceptor answered `ask` (an authz permit marked
`@approval("required")`, flow control with `on_tainted: approve`), or when it matches a rule here:

    interceptors:
      approval:
        timeout_s: 120                        # no answer by then: denied
        tools: ["github__delete_*", "mail/send"]   # globs over `server__tool` or `server/tool`
        labels_any: [destructive]             # any of these capability labels
        admin_groups: [secops]                # OAuth principals who may answer through the HTTP API
        admin_scopes: ["mcpwarden:approve"]

Two channels ask the human, and the first answer wins:
- The approval queue in the live state (`SqliteLiveState.request_approval`): `mcpwarden approvals
  list|approve ID|deny ID --reason …` from any process, or the gateway's HTTP API
  (`gateway.approvals_api`). Every held call is queued, so an operator can always answer there.
- MCP elicitation, when the session's client declared the `elicitation` capability at `initialize`
  (2025 session protocol only: the 2026-07-28 revision has no server-initiated requests on a
  session, so stateless calls use the queue alone). The client gets an `elicitation/create` naming
  the tool, the upstream, what asked for approval and a masked view of the arguments, with a form of
  a boolean `approve` and an optional `reason`. `accept` with `approve: true` approves, recorded as
  decided by "<the session's principal> via elicitation"; decline, cancel, `approve: false`, an error
  or a malformed answer deny. A client that does not answer leaves the queue to decide until the
  timeout. The request goes only to the client of the call's own session (`session.CLIENT_LINK`).
  A decision the client made is appended to the audit trail as an `approval` event (who, how, why),
  as the CLI and the HTTP API do for theirs, ahead of the call's own record.

Approved → the call goes on; denied → refused naming the approval id, who denied it, the reason and
what asked; timed out → refused. Reason id: `approval.<id>`. In `monitor` mode nothing waits: the
need for approval is only recorded.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from mcpwarden.detect.secrets import mask_secrets
from mcpwarden.errors import UsageError
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
from mcpwarden.gateway.jsonrpc import Message
from mcpwarden.gateway.pipeline import InterceptorContext, ToolCatalog
from mcpwarden.gateway.session import CLIENT_LINK, ClientLink, ClientUnreachable
from mcpwarden.storage.audit import AuditEntry
from mcpwarden.storage.state import ApprovalRequest, ApprovalStatus, LiveState
from mcpwarden.types import ToolCall, Verdict, canonical_json, escape_evidence

NAME = "approval"
DEFAULT_TIMEOUT_S = 120.0
ARGUMENTS_SHOWN = 300
REASON_LIMIT = 500
ELICITED_BY = "via elicitation"
REQUESTED_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "approve": {
            "type": "boolean",
            "title": "Approve",
            "description": "Let this call go through",
            "default": False,
        },
        "reason": {
            "type": "string",
            "title": "Reason",
            "description": "Why (recorded in the audit trail)",
            "maxLength": REASON_LIMIT,
        },
    },
    "required": ["approve"],
}
_KIND = {"call_tool": "tool", "get_prompt": "prompt", "read_resource": "resource"}
log = logging.getLogger("mcpwarden.gateway.approval")


@dataclass(frozen=True)
class Decision:
    """How an approval ended, whichever channel answered."""

    id: str
    status: ApprovalStatus
    by: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Admins:
    """OAuth principals with one of these groups or scopes may answer approvals through the HTTP API."""

    groups: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()


class Approval:
    """Holds calls that need a human: queues them, asks the client when it can answer, waits."""

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
        admins: Admins | None = None,
    ) -> None:
        self.state = state
        self.timeout_s = timeout_s
        self.tools = tools
        self.labels_any = labels_any
        self.wait = wait
        self.admins = admins or Admins()
        self.labels = Labels(catalog)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: InterceptorContext) -> Approval:
        fail = failer(context, NAME)
        only_keys(options, ("timeout_s", "tools", "labels_any", "admin_groups", "admin_scopes"), fail)
        timeout = number(options.get("timeout_s", DEFAULT_TIMEOUT_S), "timeout_s", fail, minimum=0.1)
        tools = string_list(options.get("tools"), "tools", fail)
        labels = label_list(options.get("labels_any"), "labels_any", fail)
        admins = Admins(
            frozenset(string_list(options.get("admin_groups"), "admin_groups", fail)),
            frozenset(string_list(options.get("admin_scopes"), "admin_scopes", fail)),
        )
        state = live_state(context)
        if (tools or labels) and state is None:
            raise fail("", "approval rules need a database (`storage.db`) for the approval queue")
        monitor = context.config is not None and context.config.mode == "monitor"
        return cls(
            context.catalog, state, timeout_s=timeout, tools=tools, labels_any=labels, wait=not monitor, admins=admins
        )

    def _why(self, call: ToolCall) -> str | None:
        asked = [v for v in call.verdicts if v.decision == "ask"]
        if asked:
            return "; ".join(_asked(v) for v in asked)
        if self.tools and matches(call, self.tools):
            return "the tool is on the approval list (interceptors.approval.tools)"
        if self.labels_any:
            hit = sorted(self.labels.of(call) & self.labels_any)
            if hit:
                return f"the tool is labelled {', '.join(hit)} (interceptors.approval.labels_any)"
        return None

    async def request(self, call: ToolCall) -> Verdict | None:
        why = self._why(call)
        if why is None:
            return None
        if not self.wait:
            return Verdict("ask", source=NAME, reasons=("approval.required",), message=f"needs approval: {why}")
        link = CLIENT_LINK.get()
        if link is not None and (link.session.id != call.session_id or link.session.principal != call.principal):
            link = None  # only the client of the call's own session may be asked
        if self.state is None:
            if link is None:
                message = f"needs approval ({why}) but no approval queue is configured (`storage.db`)"
                return Verdict("deny", source=NAME, reasons=("approval.unavailable",), message=message)
            decided = await self._elicit_only(link, call, why)
        else:
            decided = await self._queue(self.state, link, call, why)
        return self._verdict(decided, why)

    async def _queue(self, state: LiveState, link: ClientLink | None, call: ToolCall, why: str) -> Decision:
        pending = await state.request_approval(
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
            extra={
                "fields": {
                    "approval": pending.id,
                    "tool": call.tool,
                    "principal": call.principal.id,
                    "elicitation": link is not None,
                }
            },
        )
        found = None
        elicited: tuple[bool, str] | None = None  # the client's answer, when it is the one that decided
        async with anyio.create_task_group() as tg:

            async def queue() -> None:
                nonlocal found
                found = await state.wait_for_decision(pending.id, self.timeout_s)
                tg.cancel_scope.cancel()

            async def client(link: ClientLink) -> None:
                nonlocal found, elicited
                answer = await self._ask(link, call, why, pending.id)
                if answer is None:
                    return  # no answer from the client: the queue may still be answered until the timeout
                approve, reason = answer
                try:
                    found = await state.decide(pending.id, approve, f"{call.principal.id} {ELICITED_BY}", reason)
                    elicited = answer
                except UsageError:  # answered first in the queue (or expired): the first answer wins
                    found = await state.get_approval(pending.id)
                tg.cancel_scope.cancel()

            tg.start_soon(queue)
            if link is not None:
                tg.start_soon(client, link)
        if found is None:  # cannot happen (one task always sets it); fail closed all the same
            return Decision(pending.id, "expired")
        if link is not None and elicited is not None:  # recorded here, outside the scope the answer cancelled
            await _audit_answer(link, call, found.id, *elicited)
        return Decision(found.id, found.status, found.decided_by, found.decision_reason)

    async def _elicit_only(self, link: ClientLink, call: ToolCall, why: str) -> Decision:
        """No queue (no database): the client is the one channel."""
        approval_id = secrets.token_hex(6)
        answer = await self._ask(link, call, why, approval_id)
        if answer is None:
            return Decision(approval_id, "expired")
        approve, reason = answer
        await _audit_answer(link, call, approval_id, approve, reason)
        return Decision(approval_id, "approved" if approve else "denied", f"{call.principal.id} {ELICITED_BY}", reason)

    async def _ask(self, link: ClientLink, call: ToolCall, why: str, approval_id: str) -> tuple[bool, str] | None:
        """Ask the client through elicitation: (approve, reason), or None when it cannot be asked or never answered."""
        params = {"mode": "form", "message": self._message(call, why, approval_id), "requestedSchema": REQUESTED_SCHEMA}
        try:
            reply = await link.request("elicitation/create", params, self.timeout_s)
        except ClientUnreachable as exc:
            log.info("cannot ask the client for approval %s: %s; the queue decides", approval_id, exc)
            return None
        return None if reply is None else _answer(reply)

    def _message(self, call: ToolCall, why: str, approval_id: str) -> str:
        kind = _KIND.get(call.action, "tool")
        arguments = escape_evidence(mask_secrets(canonical_json(call.arguments)), ARGUMENTS_SHOWN)
        return (
            f"mcpwarden holds this call until you answer.\n"
            f"{kind}: {escape_evidence(call.tool, 200)} (upstream {escape_evidence(call.upstream, 100)})\n"
            f"asked by: {escape_evidence(why, 400)}\n"
            f"arguments: {arguments}\n"
            f"approval {approval_id}: no answer within {self.timeout_s:g} s means deny."
        )

    def _verdict(self, decided: Decision, why: str) -> Verdict:
        reason = (f"approval.{decided.id}",)
        if decided.status == "approved":
            because = f": {decided.reason}" if decided.reason else ""
            return Verdict("allow", source=NAME, reasons=reason, message=f"approved by {decided.by}{because}")
        if decided.status == "denied":
            because = f": {decided.reason}" if decided.reason else ""
            message = f"approval {decided.id} was denied by {decided.by}{because} (asked: {why})"
            return Verdict("deny", source=NAME, reasons=reason, message=message)
        message = f"approval {decided.id} got no answer within {self.timeout_s:g} s ({why})"
        return Verdict("deny", source=NAME, reasons=reason, message=message)

    async def response(self, call: ToolCall) -> Verdict | None:
        return None


async def _audit_answer(link: ClientLink, call: ToolCall, approval_id: str, approve: bool, reason: str) -> None:
    """Append the client's decision to the audit trail as an `approval` event, as the queue's answerers do.

    A failed write is logged and counted (by the recorder) and the decision stands: the call's own
    record carries it in its `approval` verdict, and a call whose record cannot be written is refused.
    """
    if link.record is None:
        return  # an audit sink that records calls only: the call's record carries the verdict
    detail = f"approval {approval_id} {ELICITED_BY}" + (f": {reason}" if reason else "")
    entry = AuditEntry(
        event="approval",
        principal=call.principal.id,
        session=call.session_id,
        client=link.session.client_name or call.principal.client_id,
        upstream=call.upstream,
        tool=call.upstream_tool,
        action=call.action,
        call_id=call.id,
        decision="allow" if approve else "deny",
        outcome="approved" if approve else "denied",
        detail=detail,
    )
    if not await link.record(entry):
        log.error("the approval answered through elicitation could not be audited: %s", approval_id)


def _asked(verdict: Verdict) -> str:
    """What an `ask` verdict said, always with its rule or policy ids."""
    ids = ", ".join(verdict.reasons)
    if not verdict.message:
        return f"{verdict.source}: {ids}"
    return f"{verdict.source}: {verdict.message}" + (f" [{ids}]" if ids and ids not in verdict.message else "")


def _answer(reply: Message) -> tuple[bool, str]:
    """(approve, reason) from the client's response to `elicitation/create`; anything unclear denies."""
    error = reply.members.get("error")
    if error is not None:
        detail = error.value.get("message") if isinstance(error.value, dict) else None
        return False, _clean(f"the client could not ask: {detail if isinstance(detail, str) else 'error'}")
    result = reply.members.get("result")
    value = result.value if result is not None else None
    if not isinstance(value, dict) or value.get("action") not in ("accept", "decline", "cancel"):
        return False, "the client's answer was not an elicitation result"
    content = value.get("content")
    content = content if isinstance(content, dict) else {}
    given = content.get("reason")
    reason = _clean(given) if isinstance(given, str) else ""
    if value["action"] != "accept":
        return False, reason or ("declined" if value["action"] == "decline" else "cancelled")
    if content.get("approve") is True:
        return True, reason
    return False, reason or "not approved"


def _clean(text: str) -> str:
    """Client-supplied text made safe to record and show: secrets masked, hidden characters visible, bounded."""
    return escape_evidence(mask_secrets(text.strip()), REASON_LIMIT)
