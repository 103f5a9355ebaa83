"""Client sessions: who is calling, in which protocol era, and where unsolicited messages go.

A 2025-era client gets a session at `initialize` (its id comes from a CSPRNG, 192 bits) and keeps
it until DELETE or until it is idle too long. A 2026-07-28 client is stateless: each request gets a
throwaway `Session` that is never stored. Messages the gateway sends on its own (list_changed,
resource updates, logging) go to the session's listener, the GET stream or stdout, if it has one;
a slow listener loses messages rather than stalling the gateway.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from mcpwarden.types import Principal

Era = Literal["legacy", "modern"]
LISTENER_BUFFER = 256


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
    _listener: MemoryObjectSendStream[str] | None = None

    @property
    def client_name(self) -> str | None:
        name = self.client_info.get("name")
        return name if isinstance(name, str) else None

    @property
    def listening(self) -> bool:
        return self._listener is not None

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

    def create(self, principal: Principal, protocol_version: str, client_info: Mapping[str, Any]) -> Session:
        if len(self._sessions) >= self.max_sessions:
            self.reap()
            if len(self._sessions) >= self.max_sessions:
                raise SessionLimitError(f"the gateway already holds {self.max_sessions} sessions")
        session_id = secrets.token_urlsafe(24)
        session = Session(session_id, principal, "legacy", protocol_version, dict(client_info))
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
        return session

    def reap(self, now: float | None = None) -> int:
        """Close sessions idle longer than the timeout (a listening session is not idle)."""
        now = time.monotonic() if now is None else now
        stale = [sid for sid, s in self._sessions.items() if self._idle(s, now)]
        for sid in stale:
            self.close(sid)
        return len(stale)
