"""The approval queue over HTTP, on the gateway's front (for the dashboard and for scripts).

    GET  /approvals?status=pending        pending (default), approved, denied, expired or all
    GET  /approvals/ID                    one approval
    POST /approvals/ID/approve            body {"reason": "…"} (optional)
    POST /approvals/ID/deny               body {"reason": "…"} (required)

Answers are JSON: `{"approvals": [...]}`, `{"approval": {...}}`, or `{"error": "…"}` with 400
(bad body or status), 401 (no credential), 403 (not an approver, or the caller's own call), 404
(unknown id, or no approval queue), 409 (already decided or expired), 413, 415.

Who may call, checked like `/metrics`: an API-key client (`clients:`), or an OAuth principal with
one of `interceptors.approval.admin_groups` or `admin_scopes`. Without any authentication
configured the gateway listens on loopback only and every local caller may answer, as the CLI can.
When authentication is on, nobody decides an approval of their own call (an agent holding an API
key must not approve itself). A decision goes to the same queue the CLI uses (the first answer wins)
and to the audit trail as an `approval` event, like `mcpwarden approvals approve|deny`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qs

import anyio

from mcpwarden.errors import UsageError, WardenError
from mcpwarden.gateway.auth.resource_server import Refusal, ResourceServer
from mcpwarden.gateway.core import Gateway
from mcpwarden.gateway.interceptors.approval import Approval as ApprovalInterceptor
from mcpwarden.gateway.jsonrpc import dumps, encode
from mcpwarden.storage.audit import AuditEntry, AuditLog
from mcpwarden.storage.state import APPROVAL_STATUSES, Approval, LiveState
from mcpwarden.types import Principal, escape_evidence

log = logging.getLogger("mcpwarden.gateway.approvals")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
PREFIX = "/approvals"
MAX_BODY_BYTES = 16 * 1024
REASON_LIMIT = 500
VIA = "via HTTP API"
AUDIT_TIMEOUT_S = 10.0


def is_approvals_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


class _Refused(Exception):
    def __init__(self, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


async def _send_json(send: Send, status: int, value: Any, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = encode(dumps(value))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


def approval_json(approval: Approval) -> dict[str, Any]:
    """An approval as the API shows it (its arguments were masked when it was queued)."""
    data = asdict(approval)
    data["arguments"] = dict(approval.arguments)
    return data


class ApprovalsApi:
    """Serves `/approvals…` for a front: `api_key` and `resource_server` are the front's own checks."""

    def __init__(
        self,
        gateway: Gateway,
        api_key: Callable[[dict[str, str]], Principal | None],
        resource_server: ResourceServer | None,
    ) -> None:
        self.gateway = gateway
        self.api_key = api_key
        self.resource_server = resource_server
        found = [i for i in gateway.pipeline.interceptors if isinstance(i, ApprovalInterceptor)]
        self.interceptor = found[0] if found else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], path: str) -> None:
        try:
            caller = await self._caller(scope, headers)
            state = self.interceptor.state if self.interceptor is not None else None
            if state is None:
                raise _Refused(404, "no approval queue is configured (the approval interceptor and `storage.db`)")
            parts = path[len(PREFIX) :].strip("/").split("/") if path != PREFIX else []
            method = scope["method"]
            if not parts:
                self._method(method, "GET")
                await _send_json(send, 200, {"approvals": await self._list(state, scope)})
            elif len(parts) == 1:
                self._method(method, "GET")
                await _send_json(send, 200, {"approval": approval_json(await self._get(state, parts[0]))})
            elif len(parts) == 2 and parts[1] in ("approve", "deny"):
                self._method(method, "POST")
                reason = await self._reason(receive, headers, required=parts[1] == "deny")
                decided = await self._decide(state, caller, parts[0], parts[1] == "approve", reason)
                await _send_json(send, 200, {"approval": approval_json(decided)})
            else:
                raise _Refused(404, "not found")
        except _Refused as exc:
            await _send_json(send, exc.status, {"error": exc.message}, exc.headers)
        except WardenError as exc:  # the live state could not be read or written
            log.error("approvals API failed", extra={"fields": {"error": str(exc)}})
            await _send_json(send, 503, {"error": "the approval queue is unavailable"})

    async def _caller(self, scope: Scope, headers: dict[str, str]) -> Principal:
        principal = self.api_key(headers)  # an API-key client, or everyone when authentication is off
        if principal is not None:
            return principal
        challenge = ((b"www-authenticate", b'Bearer realm="mcpwarden"'),)
        if self.resource_server is None:
            raise _Refused(401, "unauthorized: a valid API key is required", challenge)
        found = await self.resource_server.authenticate(headers, scope.get("query_string", b""))
        if isinstance(found, Refusal):
            raise _Refused(found.status, f"unauthorized: {found.description}", challenge)
        principal = found[0]
        admins = self.interceptor.admins if self.interceptor is not None else None
        if admins is None or not (principal.groups & admins.groups or principal.scopes & admins.scopes):
            raise _Refused(403, "forbidden: answering approvals needs an admin group or scope")
        return principal

    @staticmethod
    def _method(method: str, allowed: str) -> None:
        if method != allowed:
            raise _Refused(405, f"method not allowed (use {allowed})", ((b"allow", allowed.encode()),))

    async def _list(self, state: LiveState, scope: Scope) -> list[dict[str, Any]]:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        status = query.get("status", ["pending"])[-1]
        if status != "all" and status not in APPROVAL_STATUSES:
            raise _Refused(400, f"status must be one of {', '.join((*APPROVAL_STATUSES, 'all'))}")
        found = await state.list_approvals(None if status == "all" else status)
        return [approval_json(a) for a in found]

    async def _get(self, state: LiveState, approval_id: str) -> Approval:
        found = await state.get_approval(approval_id)
        if found is None:
            raise _Refused(404, f"no approval with id {escape_evidence(approval_id, 40)}")
        return found

    async def _reason(self, receive: Receive, headers: dict[str, str], *, required: bool) -> str:
        chunks: list[bytes] = []
        size = 0
        while True:
            event = await receive()
            if event["type"] == "http.disconnect":
                raise _Refused(400, "the request body did not arrive")
            chunk = event.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _Refused(413, f"the body exceeds {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
            if not event.get("more_body", False):
                break
        body = b"".join(chunks).strip()
        reason: Any = ""
        if body:
            if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
                raise _Refused(415, "send the body as application/json")
            try:
                data = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                raise _Refused(400, "the body is not valid JSON") from None
            if not isinstance(data, dict) or set(data) - {"reason"}:
                raise _Refused(400, 'the body must be an object {"reason": "…"}')
            reason = data.get("reason", "")
        if not isinstance(reason, str) or len(reason) > REASON_LIMIT:
            raise _Refused(400, f"reason must be a string of at most {REASON_LIMIT} characters")
        if required and not reason.strip():
            raise _Refused(400, "a denial needs a reason (shown to the agent and audited)")
        return reason.strip()

    async def _decide(
        self, state: LiveState, caller: Principal, approval_id: str, approve: bool, reason: str
    ) -> Approval:
        pending = await self._get(state, approval_id)
        if self.gateway.config.authenticated and pending.principal == caller.id:
            raise _Refused(403, "forbidden: a principal cannot answer an approval of its own call")
        who = f"{caller.id} {VIA}"
        try:
            decided = await state.decide(approval_id, approve, who, reason)
        except UsageError as exc:  # decided or expired in the meantime: the first answer won
            raise _Refused(409, str(exc)) from None
        await self._audit(decided, caller, approve, reason)
        return decided

    async def _audit(self, decided: Approval, caller: Principal, approve: bool, reason: str) -> None:
        sink = self.gateway.audit
        record = getattr(sink, "record", None)  # a sink that takes plain entries besides calls
        audit_log = getattr(sink, "log", None)
        if not callable(record) and not isinstance(audit_log, AuditLog):
            return  # a sink that records calls only (or none): the call's own record carries the verdict
        detail = f"approval {decided.id} {VIA}" + (f": {reason}" if reason else "")
        entry = AuditEntry(
            event="approval",
            principal=caller.id,
            session=decided.session,
            upstream=decided.server,
            tool=decided.tool,
            call_id=decided.call_id,
            decision="allow" if approve else "deny",
            outcome=decided.status,
            detail=detail,
        )
        try:
            with anyio.fail_after(AUDIT_TIMEOUT_S):
                if callable(record):
                    await record(entry)
                elif isinstance(audit_log, AuditLog):
                    await audit_log.append(entry)
        except Exception as exc:  # the decision stands (as with the CLI); say loudly that its record is missing
            log.error("the approval decision could not be audited", extra={"fields": {"error": repr(exc)}})
