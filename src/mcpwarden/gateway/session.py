"""Client sessions: who is calling, in which protocol era, and where unsolicited messages go.

A 2025-era client gets a session at `initialize` (its id comes from a CSPRNG, 192 bits) and keeps
it until DELETE or until it is idle too long. A 2026-07-28 client is stateless: each request gets a
throwaway `Session` that is never stored. Messages the gateway sends on its own (list_changed,
resource updates, logging) go to the session's listener, the GET stream or stdout, if it has one;
a slow listener loses messages rather than stalling the gateway.

The gateway also sends a 2025-era client requests of its own (elicitation, to ask a human about a
held call), and only when the client declared the capability in `initialize`. `ClientLink` sends
one on the channel of the call that caused it (the POST's SSE stream, stdout) or the session's
listener, and waits for the answer: the client's response comes back as a message of the same
session, which `Session.deliver` routes by id to the one waiter. The ids are random strings with a
gateway prefix, so they cannot be guessed and never meet an id the client chose; an answer from
another session (or principal) finds no waiter and is ignored. `CLIENT_LINK` holds the link of the
call being decided, for the interceptors that need it, with where to audit what the client decided
(`record`, the gateway's `AuditEvents.record`; None when the audit sink takes calls only).
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from mcpwarden.gateway.jsonrpc import Message, dumps, notification_text, request_text
from mcpwarden.types import Principal

if TYPE_CHECKING:
    from mcpwarden.storage.audit import AuditEntry

Era = Literal["legacy", "modern"]
LISTENER_BUFFER = 256
MAX_CLIENT_REQUESTS = 32  # per session: requests the gateway has sent the client and still waits on
CLIENT_REQUEST_PREFIX = "mcpwarden-"


@dataclass(slots=True)
class InFlight:
    """A client request being served upstream (for cancellation)."""

    upstream: Any  # gateway.upstream.Upstream; Any keeps this module free of transport imports
    request_id: int
    scope: anyio.CancelScope | None = None


@dataclass(eq=False)
class Session:
    """One client's session (or, for the stateless era, one request's)."""

    id: str | None
    principal: Principal
    era: Era
    protocol_version: str
    client_info: Mapping[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.monotonic)
    last_seen: float = field(default_factory=time.monotonic)
    subscriptions: set[str] = field(default_factory=set)
    inflight: dict[str, InFlight] = field(default_factory=dict)
    capabilities: Mapping[str, Any] = field(default_factory=dict)  # what the client declared in `initialize`
    _listener: MemoryObjectSendStream[str] | None = None
    _waiting: dict[str, MemoryObjectSendStream[Message]] = field(default_factory=dict)

    @property
    def client_name(self) -> str | None:
        name = self.client_info.get("name")
        return name if isinstance(name, str) else None

    @property
    def listening(self) -> bool:
        return self._listener is not None

    @property
    def supports_elicitation(self) -> bool:
        """Whether the client declared form elicitation (`{}` means form, as in 2025-06-18)."""
        if self.era != "legacy":
            return False  # 2026-07-28: no server-initiated requests on a session
        declared = self.capabilities.get("elicitation")
        return isinstance(declared, dict) and (not declared or isinstance(declared.get("form"), dict))

    def expect_reply(self) -> tuple[str, MemoryObjectReceiveStream[Message]] | None:
        """A fresh request id and the stream its answer will arrive on; None when too many are waiting."""
        if len(self._waiting) >= MAX_CLIENT_REQUESTS:
            return None
        request_id = CLIENT_REQUEST_PREFIX + secrets.token_urlsafe(16)
        send, receive = anyio.create_memory_object_stream[Message](1)
        self._waiting[request_id] = send
        return request_id, receive

    def forget_reply(self, request_id: str) -> None:
        waiter = self._waiting.pop(request_id, None)
        if waiter is not None:
            waiter.close()

    def deliver(self, message: Message) -> bool:
        """Hand a client's response to the request of this session it answers; False if none waits."""
        request_id = message.id
        if not isinstance(request_id, str):
            return False
        waiter = self._waiting.pop(request_id, None)
        if waiter is None:
            return False  # unknown, already answered, or another session's: ignored
        with contextlib.suppress(anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
            waiter.send_nowait(message)
        waiter.close()
        return True

    def attach(self, buffer: int = LISTENER_BUFFER) -> MemoryObjectReceiveStream[str]:
        """Open the stream of unsolicited messages; a session has at most one."""
        if self._listener is not None:
            raise RuntimeError("this session already has a listener")
        send, receive = anyio.create_memory_object_stream[str](buffer)
        self._listener = send
        return receive

    def detach(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def close_replies(self) -> None:
        """Wake every request still waiting on the client (the session ended): they get no answer."""
        for waiter in self._waiting.values():
            waiter.close()
        self._waiting.clear()

    def push(self, text: str) -> bool:
        """Queue a message for the listener; False when there is none or it is full (the message is dropped)."""
        listener = self._listener
        if listener is None:
            return False
        try:
            listener.send_nowait(text)
        except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
            return False
        return True


class ClientUnreachable(Exception):
    """The gateway cannot send this client a request now (no channel, or too many waiting)."""


@dataclass(frozen=True)
class ClientLink:
    """How to reach the client of the call being decided (the call's own channel, else the listener), and
    where to audit what it answered (`record(entry)`: False when the entry could not be written)."""

    session: Session
    emit: Callable[[str], None] | None = None
    record: Callable[[AuditEntry], Awaitable[bool]] | None = None

    def _send(self, text: str) -> bool:
        if self.emit is not None:
            self.emit(text)
            return True
        return self.session.push(text)

    async def request(self, method: str, params: Mapping[str, Any], timeout_s: float) -> Message | None:
        """Send the client a request and wait for its response; None when none came within `timeout_s`.

        Raises ClientUnreachable when the request could not be sent. A request abandoned (timeout,
        or the caller cancelled) is followed by `notifications/cancelled`, so the client can close it.
        """
        expected = self.session.expect_reply()
        if expected is None:
            raise ClientUnreachable("too many requests are already waiting for this client")
        request_id, replies = expected
        answered = False
        try:
            if not self._send(request_text(dumps(request_id), method, dumps(dict(params)))):
                raise ClientUnreachable("the session has no open stream to send requests on")
            with anyio.move_on_after(timeout_s):
                try:
                    reply = await replies.receive()
                except anyio.EndOfStream:
                    return None  # the session ended
                answered = True
                return reply
            return None
        finally:
            self.session.forget_reply(request_id)
            replies.close()
            if not answered:
                cancelled = dumps({"requestId": request_id, "reason": "the gateway stopped waiting"})
                self._send(notification_text("notifications/cancelled", cancelled))


CLIENT_LINK: ContextVar[ClientLink | None] = ContextVar("mcpwarden_client_link", default=None)
"""The link to the client of the call the interceptor chain is deciding (set by the core)."""


class SessionLimitError(Exception):
    """The gateway holds as many sessions as it may."""


class SessionStore:
    """The 2025-era sessions by id, bounded in number and idle time."""

    def __init__(self, *, max_sessions: int, idle_timeout: float) -> None:
        self.max_sessions = max_sessions
        self.idle_timeout = idle_timeout
        self._sessions: dict[str, Session] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._sessions.values()))

    def create(
        self,
        principal: Principal,
        protocol_version: str,
        client_info: Mapping[str, Any],
        capabilities: Mapping[str, Any] | None = None,
    ) -> Session:
        if len(self._sessions) >= self.max_sessions:
            self.reap()
            if len(self._sessions) >= self.max_sessions:
                raise SessionLimitError(f"the gateway already holds {self.max_sessions} sessions")
        session_id = secrets.token_urlsafe(24)
        session = Session(session_id, principal, "legacy", protocol_version, dict(client_info))
        session.capabilities = dict(capabilities or {})
        self._sessions[session_id] = session
        return session

    def get(self, session_id: str) -> Session | None:
        """The live session with this id; one idle past the timeout is closed here, not only by `reap`."""
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = time.monotonic()
        if self._idle(session, now):
            self.close(session_id)
            return None
        session.last_seen = now
        return session

    def _idle(self, session: Session, now: float) -> bool:
        return not session.listening and not session.inflight and now - session.last_seen > self.idle_timeout

    def close(self, session_id: str) -> Session | None:
        session = self._sessions.pop(session_id, None)
        if session is not None:
            session.detach()
            session.close_replies()
        return session

    def reap(self, now: float | None = None) -> int:
        """Close sessions idle longer than the timeout (a listening session is not idle)."""
        now = time.monotonic() if now is None else now
        stale = [sid for sid, s in self._sessions.items() if self._idle(s, now)]
        for sid in stale:
            self.close(sid)
        return len(stale)
