"""Audit records for the requests that are not proxied calls: listings, and sessions opening and closing.

Calls reach the audit log through `AuditSink.append(call)`. Everything else needs a sink that also
takes a ready `AuditEntry` (`record(entry)`, as `storage.audit.CallAuditSink` does); with a sink
that lacks it (a test's in-memory sink) only calls are recorded.

- A listing (tools/list, prompts/list, resources/list, resources/templates/list) is recorded before
  it is answered, with how many items went out, the names the interceptors hid (quarantine, poisoned
  description, policy, rug pull) and the verdicts interceptors gave about it (why a definition was
  hidden, or listed with a warning; their rule ids are the record's `findings`); when the record
  cannot be written the listing is withheld, as a call's result would be.
- Other entries the gateway makes while deciding a call (an approval answered through MCP
  elicitation) go through `record`, ahead of the call's own record.
- A session's start (`initialize`) and end (DELETE, idle timeout, gateway stop) happen in
  synchronous code, so their entries wait in a backlog. A background task drains it as soon as it
  can, and every recorded request drains it first, so one session's records stay in order in the
  chain: its start before anything it asked for.
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import anyio

from mcpwarden.gateway.session import Session, SessionStore
from mcpwarden.storage.audit import AuditEntry
from mcpwarden.types import Verdict

log = logging.getLogger("mcpwarden.gateway.audit")

LISTING_EVENT = "list"
HIDDEN_REASON = "listing.hidden"
STOPPED = "gateway stopped"
_RULE_ID = re.compile(r"^MW\d{3}$")


@runtime_checkable
class EntrySink(Protocol):
    """An audit sink that records entries other than calls. Raising means the record was not written."""

    async def record(self, entry: AuditEntry) -> None: ...


def hidden_names(listed: Sequence[dict[str, Any]], shown: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """Names of the items in `listed` that did not make it into `shown` (the same dict objects)."""
    kept = {id(item) for item in shown}
    return tuple(str(item.get("name", "")) for item in listed if id(item) not in kept)


class AuditEvents:
    """Records listings and session starts and ends through an `EntrySink`."""

    def __init__(self, sink: EntrySink, *, timeout: float, on_failure: Callable[[], object]) -> None:
        self._sink = sink
        self._timeout = timeout
        self._on_failure = on_failure
        self._backlog: deque[AuditEntry] = deque()
        self._lock: anyio.Lock | None = None
        self._wake: anyio.Event | None = None

    @property
    def pending(self) -> bool:
        """Whether session entries wait to be written (a caller about to append must `flush` first)."""
        return bool(self._backlog)

    # --- sessions (synchronous callers: queued)

    def session_started(self, session: Session) -> None:
        self._queue(_session_entry("session_start", session, f"protocol {session.protocol_version}"))

    def session_ended(self, session: Session, reason: str) -> None:
        lived = time.monotonic() - session.created
        self._queue(_session_entry("session_end", session, f"{reason} after {lived:.1f} s"))

    def _queue(self, entry: AuditEntry) -> None:
        self._backlog.append(entry)
        if self._wake is not None:
            self._wake.set()

    async def flush(self) -> None:
        """Write every queued entry, oldest first; each leaves the backlog only once its append returned.

        So a caller that finds the backlog empty knows every queued entry is in the chain ahead of it.
        A failed entry is logged and counted, not retried: the session it describes already exists.
        """
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            while self._backlog:
                entry = self._backlog[0]
                try:
                    with anyio.fail_after(self._timeout):
                        await self._sink.record(entry)
                except Exception as exc:
                    self._failed(entry, exc)
                finally:
                    self._backlog.popleft()

    async def run(self, sessions: SessionStore) -> None:
        """Drain the backlog whenever something is queued; when cancelled, end the open sessions and drain."""
        try:
            while True:
                self._wake = anyio.Event()
                if not self._backlog:
                    await self._wake.wait()
                await self.flush()
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(self._timeout):
                for session in sessions:
                    if isinstance(sessions, AuditedSessionStore):
                        sessions.close(session.id or "", reason=STOPPED)
                    else:
                        self.session_ended(session, STOPPED)
                await self.flush()

    # --- listings and other awaited entries (fail closed)

    async def listing(
        self,
        session: Session,
        method: str,
        count: int,
        hidden: tuple[str, ...],
        started: float,
        notes: Sequence[Verdict] = (),
    ) -> bool:
        """Record one answered listing (`started` from `time.perf_counter`); False when it was not written.

        `notes` are the interceptors' verdicts about the listing (`Pipeline.review`); the rule ids among
        their reasons become the record's findings.
        """
        detail = f"{count} returned" + (f"; hidden: {', '.join(hidden)}" if hidden else "")
        verdicts = (Verdict("modify", source="listing", reasons=(HIDDEN_REASON,), message=f"{len(hidden)} hidden"),)
        findings = dict.fromkeys(r for v in notes for r in v.reasons if _RULE_ID.match(r))
        entry = AuditEntry(
            event=LISTING_EVENT,
            principal=session.principal.id,
            session=session.id,
            client=session.client_name or session.principal.client_id,
            action=method,
            decision="modify" if hidden else "allow",
            verdicts=(verdicts if hidden else ()) + tuple(notes),
            findings=tuple(findings),
            latency_ms=(time.perf_counter() - started) * 1000,
            outcome="ok",
            detail=detail,
        )
        return await self.record(entry)

    async def record(self, entry: AuditEntry) -> bool:
        """Write one entry now, after the queued session entries; False (logged, counted) when it was not written."""
        try:
            if self._backlog:
                await self.flush()
            with anyio.fail_after(self._timeout):
                await self._sink.record(entry)
        except Exception as exc:
            self._failed(entry, exc)
            return False
        return True

    def _failed(self, entry: AuditEntry, exc: Exception) -> None:
        fields = {"event": entry.event, "session": entry.session, "error": repr(exc)}
        log.error("audit record failed", extra={"fields": fields})
        self._on_failure()


class AuditedSessionStore(SessionStore):
    """A `SessionStore` whose closes are recorded (with why: closed by the client, idle, gateway stopped)."""

    def __init__(self, events: AuditEvents | None, *, max_sessions: int, idle_timeout: float) -> None:
        super().__init__(max_sessions=max_sessions, idle_timeout=idle_timeout)
        self._events = events

    def close(self, session_id: str, *, reason: str | None = None) -> Session | None:
        session = super().close(session_id)
        if session is not None and self._events is not None:
            idle = time.monotonic() - session.last_seen > self.idle_timeout
            self._events.session_ended(session, reason or ("idle timeout" if idle else "closed by the client"))
        return session


def audit_events(sink: object, *, timeout: float, on_failure: Callable[[], object]) -> AuditEvents | None:
    """The recorder for `sink`, or None when it records calls only."""
    return AuditEvents(sink, timeout=timeout, on_failure=on_failure) if isinstance(sink, EntrySink) else None


def _session_entry(event: str, session: Session, detail: str) -> AuditEntry:
    return AuditEntry(
        event=event,
        principal=session.principal.id,
        session=session.id,
        client=session.client_name or session.principal.client_id,
        outcome="ok",
        detail=detail,
    )
