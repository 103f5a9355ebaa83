"""Live state in SQLite (`state_*` tables), shared by every process that opens the same file.

Cross-process behaviour without notifications: waiting for an approval polls one row by primary
key (every `poll_s`, default 0.1 s); the quarantine cache re-reads one version counter at most
every `refresh_s` (default 0.25 s) and the list only when that counter moved, so a quarantine
made by the CLI reaches every gateway process well within a second. A Redis backend would push
both through pub/sub instead.

Rate limits are a sliding log: one row per counted hit, so "at most N in any window" is exact
(a fixed window lets 2N through around its boundary). Refused hits are not counted, so a client
hammering a limit does not extend its own block. Rows of keys that are never hit again stay until
`purge_rate_limits` removes them.
"""

from __future__ import annotations

import json
import math
import secrets
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import anyio

from mcpwarden.errors import UsageError
from mcpwarden.storage.audit import Redactor
from mcpwarden.storage.audit_chain import mask_tree
from mcpwarden.storage.sqlite_conn import SqliteConn
from mcpwarden.storage.state import (
    KILL_ALL,
    Approval,
    ApprovalRequest,
    ApprovalStatus,
    QuarantineEntry,
    RateLimit,
    SessionInfo,
    match_quarantine,
    parse_target,
)
from mcpwarden.storage.state_schema import STATE_SCHEMA

_APPROVAL_COLUMNS = (
    "id, server, tool, principal, session, arguments, reason, call_id, status, created, expires_at, "
    "decided_by, decision_reason, decided_at"
)
_TOUCH_MEMORY = 10_000


def _approval(row: Sequence[Any]) -> Approval:
    return Approval(
        id=row[0],
        server=row[1],
        tool=row[2],
        principal=row[3],
        session=row[4],
        arguments=json.loads(row[5]),
        reason=row[6],
        call_id=row[7],
        status=cast(ApprovalStatus, row[8]),
        created=row[9],
        expires_at=row[10],
        decided_by=row[11],
        decision_reason=row[12],
        decided_at=row[13],
    )


def _session(row: Sequence[Any]) -> SessionInfo:
    return SessionInfo(id=row[0], principal=row[1], client=row[2], created=row[3], last_seen=row[4], ended=row[5])


class SqliteLiveState:
    """`LiveState` on one SQLite file; see the module docstring for how changes cross processes.

    `redact` masks approval arguments and reasons before they are stored (callers pass them masked
    already; this is the second line). One instance serves one event loop.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        redact: Redactor,
        timeout_s: float = 5.0,
        refresh_s: float = 0.25,
        poll_s: float = 0.1,
        touch_every_s: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path).expanduser()
        self._redact = redact
        self._clock = clock
        self._refresh_s = refresh_s
        self._poll_s = poll_s
        self._touch_every_s = touch_every_s
        self._db = SqliteConn(self.path, STATE_SCHEMA, timeout_s=timeout_s, now=datetime.now(UTC).isoformat())
        self._touched: dict[str, float] = {}
        self._checked_at = -math.inf
        self._version = -1
        self._entries: dict[str, QuarantineEntry] = {}

    def close(self) -> None:
        """Close the database; safe to call twice."""
        self._db.close()

    def __enter__(self) -> SqliteLiveState:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- sessions

    async def open_session(self, session_id: str, principal: str, *, client: str | None = None) -> SessionInfo:
        """Start a session, or resume it for the same principal; another principal's or an ended one is refused."""
        now = self._clock()

        def run(c: sqlite3.Connection) -> SessionInfo:
            c.execute(
                "INSERT INTO state_sessions (id, principal, client, created, last_seen) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen "
                "WHERE state_sessions.principal = excluded.principal AND state_sessions.ended IS NULL",
                (session_id, principal, client, now, now),
            )
            return _session(c.execute("SELECT * FROM state_sessions WHERE id = ?", (session_id,)).fetchone())

        info = await self._db.write("cannot open the session", run)
        if info.principal != principal:
            raise UsageError(f"session {session_id!r} belongs to another principal", hint="start a new session")
        if info.ended is not None:
            raise UsageError(f"session {session_id!r} has ended", hint="start a new session")
        self._touched[session_id] = now
        return info

    async def touch_session(self, session_id: str) -> None:
        """Note activity; written at most once every `touch_every_s` per session, so it stays off the hot path."""
        now = self._clock()
        if now - self._touched.get(session_id, -math.inf) < self._touch_every_s:
            return
        if len(self._touched) >= _TOUCH_MEMORY:
            self._touched.clear()  # forgetting only costs one extra write per session
        self._touched[session_id] = now
        await self._db.write(
            "cannot update the session",
            lambda c: c.execute(
                "UPDATE state_sessions SET last_seen = ? WHERE id = ? AND ended IS NULL", (now, session_id)
            ),
        )

    async def end_session(self, session_id: str) -> None:
        """Mark the session ended (it cannot be resumed)."""
        now = self._clock()
        self._touched.pop(session_id, None)
        await self._db.write(
            "cannot end the session",
            lambda c: c.execute(
                "UPDATE state_sessions SET ended = ?, last_seen = ? WHERE id = ? AND ended IS NULL",
                (now, now, session_id),
            ),
        )

    async def get_session(self, session_id: str) -> SessionInfo | None:
        """The session, or None if unknown."""
        row = self._db.read_now(
            "cannot read the session",
            lambda c: c.execute("SELECT * FROM state_sessions WHERE id = ?", (session_id,)).fetchone(),
        )
        return None if row is None else _session(row)

    async def sessions(self, *, active_only: bool = True) -> list[SessionInfo]:
        """Sessions, newest first."""
        where = "WHERE ended IS NULL" if active_only else ""
        sql = f"SELECT * FROM state_sessions {where} ORDER BY created DESC"  # noqa: S608
        rows = await anyio.to_thread.run_sync(self._read, "cannot read sessions", sql, ())
        return [_session(r) for r in rows]

    def _read(self, action: str, sql: str, params: Sequence[Any]) -> list[Any]:
        with self._db.reading(action) as c:
            return c.execute(sql, params).fetchall()

    # -- rate limits

    async def hit(self, key: str, limit: int, window_s: float) -> RateLimit:
        """Count one hit on `key` if fewer than `limit` were counted in the last `window_s` seconds."""
        if limit < 0 or not window_s > 0:
            raise UsageError(f"invalid rate limit {limit} per {window_s}s", hint="use a limit >= 0 and a window > 0")
        now = self._clock()

        def run(c: sqlite3.Connection) -> RateLimit:
            c.execute("DELETE FROM state_rate_hits WHERE key = ? AND at <= ?", (key, now - window_s))
            count, oldest = c.execute("SELECT COUNT(*), MIN(at) FROM state_rate_hits WHERE key = ?", (key,)).fetchone()
            allowed = count < limit
            if allowed:
                c.execute("INSERT INTO state_rate_hits (key, at) VALUES (?, ?)", (key, now))
                count += 1
                oldest = now if oldest is None else oldest
            reset = 0.0 if oldest is None else max(0.0, oldest + window_s - now)
            return RateLimit(allowed, max(0, limit - count), reset)

        return await self._db.write("cannot update the rate limit", run)

    async def purge_rate_limits(self, older_than_s: float) -> int:
        """Delete counted hits older than `older_than_s` seconds (all keys); return how many."""
        cutoff = self._clock() - older_than_s
        return await self._db.write(
            "cannot purge rate limits",
            lambda c: c.execute("DELETE FROM state_rate_hits WHERE at <= ?", (cutoff,)).rowcount,
        )

    # -- approvals

    async def request_approval(self, request: ApprovalRequest, *, ttl_s: float = 300.0) -> Approval:
        """Queue a pending approval that expires after `ttl_s` seconds."""
        now = self._clock()
        masked = mask_tree(json.loads(json.dumps(dict(request.arguments), default=str)), self._redact)
        values = (
            secrets.token_hex(6),
            request.server,
            request.tool,
            request.principal,
            request.session,
            json.dumps(masked, sort_keys=True, ensure_ascii=True),
            self._redact(request.reason),
            request.call_id,
            "pending",
            now,
            now + ttl_s,
        )
        row = await self._db.write(
            "cannot queue the approval",
            lambda c: c.execute(
                f"INSERT INTO state_approvals ({_APPROVAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "  # noqa: S608
                f"NULL, NULL, NULL) RETURNING {_APPROVAL_COLUMNS}",
                values,
            ).fetchone(),
        )
        return _approval(row)

    async def get_approval(self, approval_id: str) -> Approval | None:
        """One approval, or None if unknown (a pending one past its expiry reads as expired)."""
        row = self._db.read_now(
            "cannot read the approval",
            lambda c: c.execute(
                f"SELECT {_APPROVAL_COLUMNS} FROM state_approvals WHERE id = ?",  # noqa: S608
                (approval_id,),
            ).fetchone(),
        )
        if row is None:
            return None
        found = _approval(row)
        if found.status == "pending" and found.expires_at <= self._clock():
            return await self._expire(approval_id)
        return found

    async def wait_for_decision(self, approval_id: str, timeout_s: float) -> Approval:
        """Poll until decided; after `timeout_s` (or at its expiry) a still-pending request is stored as expired."""
        with anyio.move_on_after(timeout_s):
            while True:
                found = await self.get_approval(approval_id)
                if found is None:
                    raise UsageError(f"no approval with id {approval_id!r}")
                if found.status != "pending":
                    return found
                await anyio.sleep(min(self._poll_s, max(0.0, found.expires_at - self._clock())))
        # The caller stops waiting and denies: make sure a late "approve" cannot read as if it counted.
        return await self._expire(approval_id)

    async def _expire(self, approval_id: str) -> Approval:
        def run(c: sqlite3.Connection) -> Sequence[Any]:
            c.execute(
                "UPDATE state_approvals SET status = 'expired', decided_at = ? WHERE id = ? AND status = 'pending'",
                (self._clock(), approval_id),
            )
            sql = f"SELECT {_APPROVAL_COLUMNS} FROM state_approvals WHERE id = ?"  # noqa: S608
            return cast(Sequence[Any], c.execute(sql, (approval_id,)).fetchone())

        return _approval(await self._db.write("cannot expire the approval", run))

    async def decide(self, approval_id: str, approve: bool, by: str, reason: str = "") -> Approval:
        """Approve or deny a pending request; UsageError if unknown, already decided or expired."""
        now = self._clock()
        status = "approved" if approve else "denied"

        def run(c: sqlite3.Connection) -> tuple[int, Sequence[Any] | None]:
            _expire_due(c, now)
            changed = c.execute(
                "UPDATE state_approvals SET status = ?, decided_by = ?, decision_reason = ?, decided_at = ? "
                "WHERE id = ? AND status = 'pending'",
                (status, by, self._redact(reason), now, approval_id),
            ).rowcount
            sql = f"SELECT {_APPROVAL_COLUMNS} FROM state_approvals WHERE id = ?"  # noqa: S608
            return changed, c.execute(sql, (approval_id,)).fetchone()

        changed, row = await self._db.write("cannot record the decision", run)
        if row is None:
            raise UsageError(f"no approval with id {approval_id!r}", hint="see `mcpwarden approvals list --all`")
        found = _approval(row)
        if not changed:
            raise UsageError(f"approval {approval_id} is already {found.status}", hint="only pending ones can change")
        return found

    async def list_approvals(self, status: ApprovalStatus | None = "pending") -> list[Approval]:
        """Approvals with that status (None: all), oldest first; expired ones are marked so first."""
        now = self._clock()

        def run(c: sqlite3.Connection) -> list[Any]:
            _expire_due(c, now)
            where, params = ("WHERE status = ?", (status,)) if status is not None else ("", ())
            sql = f"SELECT {_APPROVAL_COLUMNS} FROM state_approvals {where} ORDER BY created, id"  # noqa: S608
            return c.execute(sql, params).fetchall()

        return [_approval(r) for r in await self._db.write("cannot list approvals", run)]

    # -- quarantine

    async def quarantine(self, target: str, reason: str, by: str) -> QuarantineEntry:
        """Block `server`, `server/tool` or `*` for every session in every process."""
        server, tool = parse_target(target)
        key = server if tool is None else f"{server}/{tool}"
        entry = QuarantineEntry(target=key, reason=reason, by=by, created=self._clock())

        def run(c: sqlite3.Connection) -> None:
            c.execute(
                "INSERT INTO state_quarantine (target, reason, by, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (target) DO UPDATE SET reason = excluded.reason, by = excluded.by, "
                "created = excluded.created",
                (entry.target, entry.reason, entry.by, entry.created),
            )
            _bump(c)

        await self._db.write("cannot quarantine", run)
        self._checked_at = -math.inf
        return entry

    async def release(self, target: str) -> bool:
        """Unblock a target; False if it was not quarantined."""
        server, tool = parse_target(target)
        key = server if tool is None else f"{server}/{tool}"

        def run(c: sqlite3.Connection) -> bool:
            if c.execute("DELETE FROM state_quarantine WHERE target = ?", (key,)).rowcount == 0:
                return False
            _bump(c)
            return True

        released = await self._db.write("cannot release", run)
        self._checked_at = -math.inf
        return released

    async def quarantine_entries(self) -> list[QuarantineEntry]:
        """Every quarantined target with its reason, read fresh, `*` first then by name."""
        self._checked_at = -math.inf
        entries = self._current()
        return sorted(entries.values(), key=lambda e: (e.target != KILL_ALL, e.target))

    def blocked(self, server: str, tool: str | None = None) -> QuarantineEntry | None:
        """The entry blocking this server or tool, if any (from a cache at most `refresh_s` old)."""
        return match_quarantine(self._current(), server, tool)

    def quarantined(self) -> frozenset[str]:
        """Every quarantined target (from a cache at most `refresh_s` old)."""
        return frozenset(self._current())

    def quarantine_version(self) -> int:
        """A counter that changes whenever the quarantine set changes (from a cache at most `refresh_s` old)."""
        self._current()
        return self._version

    def _current(self) -> Mapping[str, QuarantineEntry]:
        # time.monotonic, not the injectable wall clock: this is a local cache age, never stored.
        now = time.monotonic()
        if now - self._checked_at < self._refresh_s:
            return self._entries

        def run(c: sqlite3.Connection) -> tuple[int, list[Any] | None]:
            version = int(c.execute("SELECT version FROM state_versions WHERE name = 'quarantine'").fetchone()[0])
            if version == self._version:
                return version, None
            return version, c.execute("SELECT target, reason, by, created FROM state_quarantine").fetchall()

        version, rows = self._db.read_now("cannot read the quarantine list", run)
        if rows is not None:
            self._entries = {r[0]: QuarantineEntry(target=r[0], reason=r[1], by=r[2], created=r[3]) for r in rows}
            self._version = version
        self._checked_at = now
        return self._entries


def _bump(c: sqlite3.Connection) -> None:
    c.execute("UPDATE state_versions SET version = version + 1 WHERE name = 'quarantine'")


def _expire_due(c: sqlite3.Connection, now: float) -> None:
    c.execute(
        "UPDATE state_approvals SET status = 'expired', decided_at = ? WHERE status = 'pending' AND expires_at <= ?",
        (now, now),
    )
