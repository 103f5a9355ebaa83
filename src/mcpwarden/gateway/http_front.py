"""The streamable-HTTP front: a raw ASGI app serving both protocol eras on one path.

Order of checks on every request: Host (DNS rebinding: 421 unless allowed), Origin (a browser on a
foreign origin: 403; no Origin is a non-browser client and passes), the path, then credentials
(401 when clients are configured and none matched), then the protocol:

- 2025 era (`MCP-Protocol-Version` absent or a handshake version): `initialize` opens a session
  whose id is returned in `Mcp-Session-Id`; later POSTs must carry it (400 without, 404 unknown);
  GET opens the session's stream of unsolicited messages; DELETE ends the session.
- 2026-07-28 (a modern `MCP-Protocol-Version`): every POST stands alone; the envelope in
  `params._meta` and the `Mcp-Method`/`Mcp-Name` headers are checked with the SDK's own ladder.
- Any other `MCP-Protocol-Version` value: 400.

A request is answered with JSON unless the gateway has notifications for it (progress) before the
answer is ready; then the answer becomes an SSE stream (`http_replies`). `/metrics` serves Prometheus text and
`/healthz` the upstreams' state; `/approvals` is the approval queue's API (`approvals_api`).

Requests the gateway sends a 2025-era client (elicitation) go out on the SSE stream of the POST
whose call caused them (the answer turns into SSE for them, as for progress), or on the session's
GET stream when that POST has none (a batch); the client's response arrives as a POST of its own
(a response, no method), is routed by id to the waiting request of that same session, and gets 202.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    InboundLadderRejection,
    classify_inbound_request,
    find_duplicated_routing_header,
)
from mcp_types import HEADER_MISMATCH, UNSUPPORTED_PROTOCOL_VERSION
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, KNOWN_PROTOCOL_VERSIONS

from mcpwarden.gateway.approvals_api import ApprovalsApi, is_approvals_path
from mcpwarden.gateway.auth.context import CALLER_TOKEN
from mcpwarden.gateway.auth.resource_server import (
    Refusal,
    ResourceServer,
    challenge,
    fetch_policy_for,
    refusal_body,
    same_principal,
)
from mcpwarden.gateway.auth.tokens import TokenValidator
from mcpwarden.gateway.core import Emit, Gateway
from mcpwarden.gateway.http_replies import (
    JSON_HEADERS,
    Receive,
    Send,
    answer,
    answer_in_group,
    json_response,
    plain,
    rpc_error,
    session_stream,
)
from mcpwarden.gateway.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    Message,
    ProtocolError,
    dumps,
    error_text,
    parse_client_payload,
)
from mcpwarden.gateway.metrics import CONTENT_TYPE
from mcpwarden.gateway.session import Session, SessionLimitError
from mcpwarden.protocol.safe_fetch import SafeFetcher
from mcpwarden.types import Principal

Scope = dict[str, Any]
_JSON = JSON_HEADERS


class HttpFront:
    """The ASGI application in front of a `Gateway`."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        listen = gateway.config.listen
        self.path = listen.path
        self.hosts = listen.effective_hosts()
        self.origins = listen.effective_origins()
        self.limits = gateway.config.limits
        auth = gateway.config.auth
        self.resource_server: ResourceServer | None = None
        if auth is not None:
            fetcher = SafeFetcher(fetch_policy_for(auth))
            self.resource_server = ResourceServer(auth, TokenValidator(auth, fetcher))
        self.approvals = ApprovalsApi(gateway, self._api_key_principal, self.resource_server)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        raw_headers: list[tuple[bytes, bytes]] = scope["headers"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw_headers}
        if headers.get("host", "").lower() not in self.hosts:
            await plain(send, 421, b"Misdirected request: Host not allowed")
            return
        origin = headers.get("origin")
        if origin is not None and origin.rstrip("/").lower() not in self.origins:
            await plain(send, 403, b"Forbidden: Origin not allowed")
            return
        path = scope["path"].rstrip("/") or "/"
        if path == self.path:
            found = await self._authenticate(scope, send, headers)
            if found is None:
                return
            principal, token = found
            reset = CALLER_TOKEN.set(token)
            try:
                await self._mcp(scope, receive, send, headers, raw_headers, principal)
            finally:
                CALLER_TOKEN.reset(reset)
        elif self.resource_server is not None and path in self.resource_server.paths and scope["method"] == "GET":
            # Public by design (RFC 9728): a client reads it to find where to get a token.
            cors = [(b"access-control-allow-origin", b"*")]
            await plain(send, 200, self.resource_server.metadata, [*_JSON, *cors])
        elif path in ("/metrics", "/healthz") and scope["method"] == "GET":
            authorized = await self._principal(scope, headers) is not None
            if path == "/healthz":
                # Liveness for anyone (load balancers); upstream details only for known clients.
                health: dict[str, Any] = {"status": "ok"}
                if authorized:
                    health["upstreams"] = {
                        u.name: {"ready": u.ready, "restarts": u.restarts} for u in self.gateway.pool
                    }
                    health["detection"] = "ready" if self.gateway.detection_ready else "loading"
                await json_response(send, 200, dumps(health))
            elif not authorized:
                await plain(send, 401, b"Unauthorized", [(b"www-authenticate", b'Bearer realm="mcpwarden"')])
            else:
                self.gateway.refresh_gauges()
                await plain(send, 200, self.gateway.metrics.render(), [(b"content-type", CONTENT_TYPE.encode())])
        elif is_approvals_path(path):
            await self.approvals(scope, receive, send, headers, path)
        else:
            await plain(send, 404, b"Not found")

    def _api_key_principal(self, headers: dict[str, str]) -> Principal | None:
        auth = headers.get("authorization", "")
        key = auth[7:].strip() if auth[:7].lower() == "bearer " else headers.get("x-api-key")
        return self.gateway.authenticate(key)

    async def _principal(self, scope: Scope, headers: dict[str, str]) -> Principal | None:
        principal = self._api_key_principal(headers)
        if principal is None and self.resource_server is not None:
            found = await self.resource_server.authenticate(headers, scope.get("query_string", b""))
            principal = None if isinstance(found, Refusal) else found[0]
        return principal

    async def _authenticate(
        self, scope: Scope, send: Send, headers: dict[str, str]
    ) -> tuple[Principal, str | None] | None:
        """The caller and its OAuth token (None for API keys), or None once a refusal has been sent.

        A configured API key is tried first; then the resource server validates the bearer token.
        A session id is never a credential: it only names a session the credential must own.
        """
        principal = self._api_key_principal(headers)
        if principal is not None:
            return principal, None
        if self.resource_server is None:
            await rpc_error(send, 401, INVALID_REQUEST, "Unauthorized: a valid API key is required")
            return None
        found = await self.resource_server.authenticate(headers, scope.get("query_string", b""))
        if isinstance(found, Refusal):
            www = challenge(self.resource_server.settings, found).encode("latin-1", "replace")
            await plain(send, found.status, refusal_body(found), [*_JSON, (b"www-authenticate", www)])
            return None
        return found

    async def _mcp(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[str, str],
        raw: list[tuple[bytes, bytes]],
        principal: Principal,
    ) -> None:
        version = headers.get("mcp-protocol-version")
        if version is not None and version not in KNOWN_PROTOCOL_VERSIONS:
            data = {"supported": list(KNOWN_PROTOCOL_VERSIONS), "requested": version}
            await rpc_error(send, 400, UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version", None, data)
            return
        modern = version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS
        method = scope["method"]
        if method == "POST":
            body = await self._body(receive, send, headers)
            if body is None:
                return
            if modern:
                await self._post_modern(scope, receive, send, headers, raw, principal, body)
            else:
                await self._post_legacy(receive, send, headers, principal, body)
        elif method in ("GET", "DELETE") and not modern:
            session = await self._session(send, headers, principal)
            if session is None:
                return
            if method == "DELETE":
                self.gateway.sessions.close(session.id or "")
                await plain(send, 200)
            else:
                await session_stream(receive, send, headers, session)
        else:
            await plain(send, 405, b"Method not allowed", [(b"allow", b"POST" if modern else b"GET, POST, DELETE")])

    async def _body(self, receive: Receive, send: Send, headers: dict[str, str]) -> bytes | None:
        limit = self.limits.max_message_bytes
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            await rpc_error(send, 415, INVALID_REQUEST, "Unsupported media type: use application/json")
            return None
        accept = headers.get("accept", "*/*").lower()
        if not any(t in accept for t in ("application/json", "text/event-stream", "*/*", "application/*")):
            await rpc_error(send, 406, INVALID_REQUEST, "Not acceptable: accept application/json or text/event-stream")
            return None
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await rpc_error(send, 413, INVALID_REQUEST, f"Invalid request: message exceeds {limit} bytes")
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            event = await receive()
            if event["type"] == "http.disconnect":
                return None
            chunk = event.get("body", b"")
            size += len(chunk)
            if size > limit:
                await rpc_error(send, 413, INVALID_REQUEST, f"Invalid request: message exceeds {limit} bytes")
                return None
            chunks.append(chunk)
            if not event.get("more_body", False):
                return b"".join(chunks)

    def _parse(self, body: bytes) -> Message | list[Message | ProtocolError]:
        limits = self.limits
        return parse_client_payload(
            body, max_bytes=limits.max_message_bytes, max_depth=limits.max_json_depth, max_batch=limits.max_batch
        )

    async def _session(self, send: Send, headers: dict[str, str], principal: Any) -> Session | None:
        session_id = headers.get("mcp-session-id")
        if not session_id:
            await rpc_error(send, 400, INVALID_REQUEST, "Bad request: missing Mcp-Session-Id header")
            return None
        session = self.gateway.sessions.get(session_id)
        # Another principal's session id reads as unknown: a session is bound to who opened it.
        if session is None or not same_principal(session.principal, principal):
            await rpc_error(send, 404, INVALID_REQUEST, "Session not found")
            return None
        return session

    async def _post_legacy(
        self, receive: Receive, send: Send, headers: dict[str, str], principal: Any, body: bytes
    ) -> None:
        try:
            parsed = self._parse(body)
        except ProtocolError as exc:
            self.gateway.metrics.protocol_errors.labels(str(exc.code)).inc()
            await json_response(send, 400, exc.response())
            return
        if isinstance(parsed, Message) and parsed.method == "initialize" and parsed.is_request:
            try:
                opened, text = self.gateway.open_session(principal, parsed)
            except SessionLimitError as exc:
                await rpc_error(send, 503, INTERNAL_ERROR, str(exc), parsed.id_text)
                return
            await json_response(send, 200, text, [(b"mcp-session-id", (opened.id or "").encode())])
            return
        session = await self._session(send, headers, principal)
        if session is None:
            return
        if isinstance(parsed, list):
            await self._batch(send, session, parsed)
            return
        if not parsed.is_request:
            await self.gateway.handle(session, parsed)
            await plain(send, 202)
            return
        await self._answer(receive, send, lambda emit: self.gateway.handle(session, parsed, emit), watch=False)

    async def _batch(self, send: Send, session: Session, entries: list[Message | ProtocolError]) -> None:
        replies: list[str | None] = [None] * len(entries)

        async def one(index: int, entry: Message | ProtocolError) -> None:
            if isinstance(entry, ProtocolError):
                replies[index] = entry.response()
            elif entry.method == "initialize":
                replies[index] = error_text(entry.id_text, INVALID_REQUEST, "initialize cannot be batched")
            else:
                replies[index] = await self.gateway.handle(session, entry)

        async with anyio.create_task_group() as tg:
            for index, entry in enumerate(entries):
                tg.start_soon(one, index, entry)
        texts = [r for r in replies if r is not None]
        if not texts:
            await plain(send, 202)
        else:
            await json_response(send, 200, "[" + ",".join(texts) + "]")

    async def _post_modern(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[str, str],
        raw: list[tuple[bytes, bytes]],
        principal: Any,
        body: bytes,
    ) -> None:
        try:
            parsed = self._parse(body)
        except ProtocolError as exc:
            self.gateway.metrics.protocol_errors.labels(str(exc.code)).inc()
            await json_response(send, 400, exc.response())
            return
        if isinstance(parsed, list):
            await rpc_error(send, 400, INVALID_REQUEST, "Body must be a single JSON-RPC request or notification")
            return
        if not parsed.is_request:
            await plain(send, 202)  # this revision defines no client notifications over HTTP
            return
        duplicated = find_duplicated_routing_header((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)
        decoded = {key: member.value for key, member in parsed.members.items()}
        verdict = (
            InboundLadderRejection(code=HEADER_MISMATCH, message=f"{duplicated} header appears more than once")
            if duplicated
            else classify_inbound_request(decoded, headers=headers)
        )
        if isinstance(verdict, InboundLadderRejection):
            status = ERROR_CODE_HTTP_STATUS.get(verdict.code, 400)
            await rpc_error(send, status, verdict.code, verdict.message, parsed.id_text, verdict.data)
            return
        session = self.gateway.modern_session(principal, verdict.protocol_version, verdict.client_info)
        await self._answer(receive, send, lambda emit: self.gateway.handle(session, parsed, emit), watch=True)

    async def _answer(
        self, receive: Receive, send: Send, work: Callable[[Emit], Awaitable[str | None]], *, watch: bool
    ) -> None:
        """Run `work`; answer with JSON, or with SSE once it emits a notification before its answer.

        `work` runs in this task (no hand-off on the hot path). Without `watch`, the SSE writer, made
        only when a notification comes first, is a task of the gateway's: no task group per request.
        """
        if watch or not self.gateway.running:
            await answer_in_group(receive, send, work, watch=watch)
        else:
            await answer(send, work, self.gateway.spawn)
