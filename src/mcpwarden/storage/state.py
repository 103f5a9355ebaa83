"""Live gateway state shared by every gateway worker and the CLI: sessions, rate limits, approvals, quarantine.

All of it must work across processes: the CLI approves a call or quarantines a server from
another process than the gateway that waits for it. Embedded, that is one SQLite file; scaled
out, Redis (counters, pub/sub for decisions and the kill switch) behind the same `LiveState`.

Times are Unix epoch seconds (floats): they are compared across processes, so they must come
from the wall clock, not a per-process monotonic one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

from mcpwarden.errors import UsageError

ApprovalStatus = Literal["pending", "approved", "denied", "expired"]
APPROVAL_STATUSES: tuple[ApprovalStatus, ...] = ("pending", "approved", "denied", "expired")
KILL_ALL = "*"


@dataclass(frozen=True)
class SessionInfo:
    """One client session as the gateway knows it."""

    id: str
    principal: str
    client: str | None
    created: float
    last_seen: float
    ended: float | None = None

    @property
    def active(self) -> bool:
        return self.ended is None


class RateLimit(NamedTuple):
    """The answer to one rate-limit hit: unpack as `allowed, remaining, reset_s = await state.hit(...)`.

    `remaining` is how many more hits the window allows now; `reset_s` is how long until the oldest
    counted hit leaves the window and frees a slot (0 when nothing is counted).
    """

    allowed: bool
    remaining: int
    reset_s: float


@dataclass(frozen=True)
class ApprovalRequest:
    """What a human is asked to approve: one call, summarised. `arguments` must already be secret-masked."""

    server: str
    tool: str
    principal: str
    session: str | None = None
    arguments: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""
    call_id: str | None = None


@dataclass(frozen=True)
class Approval:
    """An approval request and, once there is one, its decision."""

    id: str
    server: str
    tool: str
    principal: str
    session: str | None
    arguments: Mapping[str, Any]
    reason: str
    call_id: str | None
    status: ApprovalStatus
    created: float
    expires_at: float
    decided_by: str | None = None
    decision_reason: str | None = None
    decided_at: float | None = None

    @property
    def approved(self) -> bool:
        return self.status == "approved"


@dataclass(frozen=True)
class QuarantineEntry:
    """A blocked target: `server`, `server/tool`, or `*` (every server: the kill switch)."""

    target: str
    reason: str
    by: str
    created: float


def parse_target(target: str) -> tuple[str, str | None]:
    """Split `server` or `server/tool` (or `*`); raises UsageError on anything else."""
    text = target.strip()
    server, sep, tool = text.partition("/")
    if not server or (sep and not tool) or any(ch.isspace() or ord(ch) < 0x20 for ch in text):
        raise UsageError(f"invalid quarantine target {target!r}", hint="use SERVER, SERVER/TOOL or * (everything)")
    if server == KILL_ALL and sep:
        raise UsageError(f"invalid quarantine target {target!r}", hint="`*` stands alone: it blocks every server")
    return server, tool if sep else None


def match_quarantine(entries: Mapping[str, QuarantineEntry], server: str, tool: str | None) -> QuarantineEntry | None:
    """The entry that blocks (server, tool), most general first: `*`, then the server, then the tool."""
    for key in (KILL_ALL, server, f"{server}/{tool}" if tool is not None else None):
        if key is not None and key in entries:
            return entries[key]
    return None


@runtime_checkable
class LiveState(Protocol):
    """Sessions, rate limits, approvals and quarantine, shared by every process on one deployment.

    The quarantine checks (`blocked`, `quarantined`, `quarantine_version`) are synchronous and
    answer from an in-process cache that is refreshed at most every fraction of a second, so the
    gateway can ask on every call without I/O in the common case; a change made anywhere is seen
    by every process within one second.
    """

    # -- sessions

    async def open_session(self, session_id: str, principal: str, *, client: str | None = None) -> SessionInfo:
        """Start a session, or resume it for the same principal; another principal's or an ended one is refused."""
        ...

    async def touch_session(self, session_id: str) -> None:
        """Note activity (written at most once a second per session, so it stays off the hot path)."""
        ...

    async def end_session(self, session_id: str) -> None:
        """Mark the session ended."""
        ...

    async def get_session(self, session_id: str) -> SessionInfo | None:
        """The session, or None if unknown."""
        ...

    async def sessions(self, *, active_only: bool = True) -> list[SessionInfo]:
        """Sessions, newest first."""
        ...

    # -- rate limits

    async def hit(self, key: str, limit: int, window_s: float) -> RateLimit:
        """Count one hit on `key` if fewer than `limit` were counted in the last `window_s` seconds."""
        ...

    # -- approvals

    async def request_approval(self, request: ApprovalRequest, *, ttl_s: float = 300.0) -> Approval:
        """Queue a pending approval that expires after `ttl_s` seconds."""
        ...

    async def wait_for_decision(self, approval_id: str, timeout_s: float) -> Approval:
        """Wait up to `timeout_s` seconds for a decision; still pending then means expired (and is stored so)."""
        ...

    async def decide(self, approval_id: str, approve: bool, by: str, reason: str = "") -> Approval:
        """Approve or deny a pending request; UsageError if unknown, decided or expired."""
        ...

    async def get_approval(self, approval_id: str) -> Approval | None:
        """One approval, or None if unknown."""
        ...

    async def list_approvals(self, status: ApprovalStatus | None = "pending") -> list[Approval]:
        """Approvals with that status (None: all), oldest first."""
        ...

    # -- quarantine

    async def quarantine(self, target: str, reason: str, by: str) -> QuarantineEntry:
        """Block `server`, `server/tool` or `*` for every session in every process."""
        ...

    async def release(self, target: str) -> bool:
        """Unblock a target; False if it was not quarantined."""
        ...

    async def quarantine_entries(self) -> list[QuarantineEntry]:
        """Every quarantined target with its reason, read fresh."""
        ...

    def blocked(self, server: str, tool: str | None = None) -> QuarantineEntry | None:
        """The entry blocking this server or tool, if any (cached; see the class docstring)."""
        ...

    def quarantined(self) -> frozenset[str]:
        """Every quarantined target (cached)."""
        ...

    def quarantine_version(self) -> int:
        """A counter that changes whenever the quarantine set changes (cached)."""
        ...

    def close(self) -> None:
        """Release the backend; safe to call twice."""
        ...
