"""Upstream servers as the gateway sees them: one supervised connection each, the gateway as the client.

`Upstream` holds what every transport shares: the `initialize` handshake (the gateway advertises its
own client info and speaks the handshake era, which every server supports), request ids allocated
per upstream so concurrent calls from many clients never collide, a timeout on every call, and a
supervision loop that reconnects (restarts, for stdio) with exponential backoff. A connection that
drops fails every call in flight with an `UpstreamError` naming the upstream. Messages the upstream
sends on its own (notifications, and the rare server-to-client request) go to a callback.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import anyio
from anyio.abc import TaskStatus
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_HANDSHAKE_VERSION

from mcpwarden import __version__
from mcpwarden.errors import ConnectError
from mcpwarden.gateway.jsonrpc import (
    METHOD_NOT_FOUND,
    UPSTREAM_TIMEOUT,
    UPSTREAM_UNAVAILABLE,
    Message,
    dumps,
    error_text,
    notification_text,
    request_text,
    result_text,
)
from mcpwarden.types import ServerSpec

log = logging.getLogger("mcpwarden.gateway.upstream")

NotificationHandler = Callable[[str, Message], None]
INITIAL_BACKOFF_S = 0.25
MAX_BACKOFF_S = 30.0
STABLE_AFTER_S = 30.0  # a connection that lived this long resets the backoff
CLIENT_INFO = {"name": "mcpwarden-gateway", "version": __version__}


class UpstreamError(Exception):
    """A call that the upstream could not answer: unavailable, timed out, or the connection died."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Pending:
    __slots__ = ("error", "event", "message")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.message: Message | None = None
        self.error: UpstreamError | None = None


class Upstream(abc.ABC):
    """One upstream server behind the gateway. Subclasses implement one transport."""

    def __init__(
        self,
        spec: ServerSpec,
        *,
        on_notification: NotificationHandler,
        startup_timeout: float,
        max_message_bytes: int,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.on_notification = on_notification
        self.startup_timeout = startup_timeout
        self.max_message_bytes = max_message_bytes
        self.protocol_version: str | None = None
        self.server_info: dict[str, Any] = {}
        self.capabilities: dict[str, Any] = {}
        self.instructions: str | None = None
        self.restarts = 0
        self.last_error: str | None = None
        self.on_connect: Callable[[str], None] | None = None  # the router drops cached listings
        self._pending: dict[int, _Pending] = {}
        self._next_id = 0
        self._ready = anyio.Event()
        self._is_ready = False
        self._task_group: anyio.abc.TaskGroup | None = None

    # --- the transport's part

    @abc.abstractmethod
    async def _connect_and_serve(self) -> None:
        """Open the connection, call `_handshake()`, then serve until the connection ends."""

    @abc.abstractmethod
    async def _send(self, text: str) -> None:
        """Send one message; raise UpstreamError if it cannot be sent."""

    # --- calls

    @property
    def ready(self) -> bool:
        return self._is_ready

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def wait_ready(self, timeout: float) -> None:  # noqa: ASYNC109 - bounded below
        if self._is_ready:
            return
        with anyio.move_on_after(min(timeout, self.startup_timeout)):
            await self._ready.wait()
        if not self._is_ready:
            why = f": {self.last_error}" if self.last_error else ""
            raise UpstreamError(UPSTREAM_UNAVAILABLE, f"upstream {self.name} is not available{why}")

    async def request(
        self,
        method: str,
        params: str | None,
        *,
        timeout: float,  # noqa: ASYNC109 - applied with fail_after
        request_id: int | None = None,
    ) -> Message:
        """Send `method` with `params` (JSON text, forwarded as is) and return the upstream's reply."""
        await self.wait_ready(timeout)
        return await self._call(method, params, timeout=timeout, request_id=request_id)

    async def _call(self, method: str, params: str | None, *, timeout: float, request_id: int | None = None) -> Message:  # noqa: ASYNC109
        rid = request_id if request_id is not None else self.new_id()
        pending = _Pending()
        self._pending[rid] = pending
        try:
            with anyio.fail_after(timeout):
                await self._send(request_text(str(rid), method, params))
                await pending.event.wait()
        except TimeoutError:
            self.cancel_soon(rid, "timed out in the gateway")
            raise UpstreamError(
                UPSTREAM_TIMEOUT, f"upstream {self.name} did not answer {method} within {timeout:g}s"
            ) from None
        finally:
            self._pending.pop(rid, None)
        if pending.error is not None:
            raise pending.error
        assert pending.message is not None  # set together with the event
        return pending.message

    async def notify(self, method: str, params: str | None) -> None:
        """Send a notification; silently dropped while the upstream is down (notifications are best effort)."""
        if self._is_ready:
            try:
                await self._send(notification_text(method, params))
            except UpstreamError as exc:
                log.debug("notification %s to %s dropped: %s", method, self.name, exc.message)

    def cancel_soon(self, request_id: int, reason: str) -> None:
        """Tell the upstream to stop working on `request_id` (best effort, does not wait)."""
        if self._task_group is not None and self._is_ready:
            params = dumps({"requestId": request_id, "reason": reason})
            self._task_group.start_soon(self.notify, "notifications/cancelled", params)

    # --- what the transport calls

    def deliver(self, message: Message) -> None:
        """Route one message received from the upstream."""
        if message.is_response:
            rid = message.id
            pending = self._pending.get(rid) if isinstance(rid, int) and not isinstance(rid, bool) else None
            if pending is not None and not pending.event.is_set():
                pending.message = message
                pending.event.set()
            else:
                log.debug("upstream %s answered unknown or finished request %r", self.name, rid)
        elif message.is_request:
            if self._task_group is not None:
                self._task_group.start_soon(self._answer_server_request, message)
        elif message.is_notification:
            self.on_notification(self.name, message)

    async def _answer_server_request(self, message: Message) -> None:
        # The gateway advertises no client capabilities (no sampling, roots or elicitation): only ping is answered.
        id_text = message.id_text or "null"
        if message.method == "ping":
            reply = result_text(id_text, "{}")
        else:
            reply = error_text(id_text, METHOD_NOT_FOUND, f"the mcpwarden gateway does not forward {message.method}")
        with contextlib.suppress(UpstreamError):
            await self._send(reply)

    def _fail_pending(self, reason: str) -> None:
        error = UpstreamError(UPSTREAM_UNAVAILABLE, reason)
        for pending in list(self._pending.values()):
            if not pending.event.is_set():
                pending.error = error
                pending.event.set()

    async def _handshake(self) -> None:
        params = dumps({"protocolVersion": LATEST_HANDSHAKE_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO})
        reply = await self._call("initialize", params, timeout=self.startup_timeout)
        result = reply.members.get("result")
        if result is None or not isinstance(result.value, dict):
            error = reply.members.get("error")
            detail = dumps(error.value)[:300] if error is not None else "no result"
            raise ConnectError(f"initialize failed: {detail}")
        version = result.value.get("protocolVersion")
        if version not in HANDSHAKE_PROTOCOL_VERSIONS:
            raise ConnectError(f"upstream chose protocol version {version!r}, which the gateway does not speak")
        self.protocol_version = version
        self.capabilities = result.value.get("capabilities") or {}
        self.server_info = result.value.get("serverInfo") or {}
        instructions = result.value.get("instructions")
        self.instructions = instructions if isinstance(instructions, str) else None
        await self._send(notification_text("notifications/initialized", None))

    def _mark_ready(self) -> None:
        self._is_ready = True
        self.last_error = None
        self._ready.set()
        if self.on_connect is not None:
            self.on_connect(self.name)
        log.info("upstream connected", extra={"fields": {"upstream": self.name, "server": self.server_info}})

    def _mark_down(self, reason: str) -> None:
        self._is_ready = False
        if self._ready.is_set():
            self._ready = anyio.Event()
        self._fail_pending(f"upstream {self.name} {reason}")

    # --- supervision

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Keep the upstream connected until cancelled, reconnecting with exponential backoff."""
        backoff = INITIAL_BACKOFF_S
        async with anyio.create_task_group() as tg:
            self._task_group = tg
            task_status.started()
            while True:
                started = time.monotonic()
                try:
                    await self._connect_and_serve()
                    reason = "closed the connection"
                except (ConnectError, UpstreamError, OSError) as exc:
                    reason = f"failed: {getattr(exc, 'message', None) or exc}"
                except Exception as exc:  # a transport bug must not end supervision
                    log.exception("upstream %s: unexpected error", self.name)
                    reason = f"failed: {type(exc).__name__}: {exc}"
                self.last_error = reason
                self._mark_down(reason)
                self.restarts += 1
                if time.monotonic() - started > STABLE_AFTER_S:
                    backoff = INITIAL_BACKOFF_S
                log.warning(
                    "upstream down, reconnecting",
                    extra={"fields": {"upstream": self.name, "reason": reason, "retry_in_s": backoff}},
                )
                await anyio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
