"""SQLite implementation of the storage Protocols: one file, WAL mode, versioned schema.

Pin key: (server name, kind, definition name). The model sees tools under the server's *name*,
so what a name stands for is what the user trusts. Keying by identity (command/args or URL)
instead would turn every upgrade that bumps a version pin in the args (`pkg@1.2` → `pkg@1.3`)
into "all tools new", and hide exactly the change a rug pull makes. With the name as key, an
upgrade keeps its pins and any change in what the tools say is reported. The identity is stored
beside each pin and per scan, for display. Consequence: renaming a server in config starts fresh
pins under the new name (trust on first use); the old name's pins stay until accepted away.

SQL is kept to what SQLite and Postgres share (`ON CONFLICT … DO UPDATE`, `RETURNING`), so a
Postgres backend can reuse the statements with its own placeholders and schema types.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from mcpwarden.errors import StorageError
from mcpwarden.storage.base import HistoryEntry, Pin, PinStatus, ScanMeta, ScanRecord
from mcpwarden.storage.codec import dump_json, finding_from_json, finding_to_json, load_json
from mcpwarden.storage.schema import current_version, migrate
from mcpwarden.types import DefinitionKind, Finding, ToolDef

_SELECT_PINS = (
    "SELECT server, kind, name, identity, hash, definition, first_seen, last_seen, accepted_at, status FROM pins"
)
# (kind, name, hash, definition JSON): one candidate for a pin, from a scan or from the caller.
_Candidate = tuple[str, str, str, str]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _hint(exc: sqlite3.Error) -> str:
    """Turn SQLite's terse reason into what the user can do about it."""
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return "the file is damaged or is not an mcpwarden database; move it aside or pass --db PATH"
    if "unable to open" in text or "readonly" in text or "read-only" in text:
        return "check that the path exists and is writable, or pass --db PATH"
    if "constraint" in text:
        return "the record refers to a scan that does not exist"
    return "is another process holding the database? wait for it to finish or pass --db PATH"


class SqliteStore:
    """Inventory, pins and findings in one SQLite file (WAL, busy timeout, foreign keys on).

    Safe to share between threads (one connection behind a lock); several processes may open
    the same file, writers wait up to `timeout_s` for each other.
    """

    def __init__(self, path: Path, *, timeout_s: float = 5.0, clock: Callable[[], datetime] | None = None) -> None:
        self.path = Path(path)
        self._clock = clock or _utc_now
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"cannot create the database directory: {exc.strerror or exc}",
                where=str(self.path.parent),
                hint="pass --db PATH in a writable directory",
            ) from None
        try:
            conn = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise self._error("cannot open the database", exc) from None
        self._conn = conn
        try:
            with self._reading("cannot open the database") as c:
                c.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
                c.execute("PRAGMA journal_mode = WAL").fetchall()
                c.execute("PRAGMA foreign_keys = ON")
                c.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except BaseException:
            self.close()
            raise

    # -- lifecycle

    def close(self) -> None:
        """Close the connection; safe to call twice."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self._reading("cannot read the schema version") as c:
            return current_version(c)

    def _migrate(self) -> None:
        with self._writing("cannot prepare the database schema") as c:
            migrate(c, now=self._now(), where=str(self.path))

    # -- plumbing

    def _now(self) -> str:
        return self._clock().astimezone(UTC).isoformat(timespec="milliseconds")

    def _error(self, action: str, exc: sqlite3.Error) -> StorageError:
        return StorageError(f"{action}: {exc}", where=str(self.path), hint=_hint(exc))

    @contextmanager
    def _reading(self, action: str) -> Iterator[sqlite3.Connection]:
        """The connection for statements that need no write lock (each runs in its own snapshot)."""
        with self._lock:
            if self._conn is None:
                raise StorageError("the database is closed", where=str(self.path))
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise self._error(action, exc) from None

    @contextmanager
    def _writing(self, action: str) -> Iterator[sqlite3.Connection]:
        """One transaction that takes the write lock up front, so it never fails half way on a busy file."""
        with self._reading(action) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    # -- scans

    def record_scan(self, meta: ScanMeta) -> int:
        """Store a scan and return its id."""
        summary = dump_json(dict(meta.summary), where="scan summary")
        with self._writing("cannot record the scan") as c:
            row = c.execute(
                "INSERT INTO scans (started_at, finished_at, is_static, summary) VALUES (?, ?, ?, ?) RETURNING id",
                (meta.started_at, meta.finished_at, int(meta.static), summary),
            ).fetchone()
        return int(row[0])

    def finish_scan(self, scan_id: int, *, finished_at: str, summary: Mapping[str, Any]) -> None:
        """Set the end time and summary of a scan recorded before its results were known."""
        text = dump_json(dict(summary), where="scan summary")
        with self._writing("cannot update the scan") as c:
            cur = c.execute("UPDATE scans SET finished_at = ?, summary = ? WHERE id = ?", (finished_at, text, scan_id))
            if cur.rowcount == 0:
                raise StorageError(f"no scan with id {scan_id}", where=str(self.path))

    def last_scan(self) -> ScanRecord | None:
        """The most recently recorded scan, or None on a fresh database."""
        with self._reading("cannot read scans") as c:
            row = c.execute(
                "SELECT id, started_at, finished_at, is_static, summary FROM scans ORDER BY id DESC LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        summary = load_json(row[4], where=f"{self.path} scans/{row[0]}")
        return ScanRecord(id=row[0], started_at=row[1], finished_at=row[2], static=bool(row[3]), summary=summary)

    # -- observations and pins

    def observe(self, scan_id: int, defs: Sequence[ToolDef], *, servers: Mapping[str, str] | None = None) -> None:
        """Record what a scan saw (see `InventoryStore.observe`); seen pins get a fresh `last_seen`."""
        enumerated = dict(servers or {})
        for d in defs:
            enumerated.setdefault(d.server, "")
        rows = [(d, d.hash, dump_json(dict(d.definition), where=f"{d.server}/{d.name}")) for d in defs]
        now = self._now()
        with self._writing("cannot record observations") as c:
            c.executemany(
                "INSERT INTO scan_servers (scan_id, server, identity) VALUES (?, ?, ?) "
                "ON CONFLICT (scan_id, server) DO UPDATE SET identity = excluded.identity",
                [(scan_id, name, identity) for name, identity in enumerated.items()],
            )
            for d, digest, text in rows:
                c.execute(
                    "INSERT INTO definitions (hash, definition) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING",
                    (digest, text),
                )
                c.execute(
                    "INSERT INTO observations (scan_id, server, kind, name, hash) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (scan_id, server, kind, name) DO UPDATE SET hash = excluded.hash",
                    (scan_id, d.server, d.kind, d.name, digest),
                )
                c.execute(
                    "UPDATE pins SET last_seen = ? "
                    "WHERE server = ? AND kind = ? AND name = ? AND hash = ? AND status = 'active'",
                    (now, d.server, d.kind, d.name, digest),
                )

    def get_pins(self, server: str | None = None) -> list[Pin]:
        """Every pin (active and removed), optionally for one server, ordered by server, kind, name."""
        with self._reading("cannot read pins") as c:
            if server is None:
                rows = c.execute(_SELECT_PINS + " ORDER BY server, kind, name").fetchall()
            else:
                rows = c.execute(_SELECT_PINS + " WHERE server = ? ORDER BY kind, name", (server,)).fetchall()
        return [self._pin(row) for row in rows]

    def _pin(self, row: Sequence[Any]) -> Pin:
        return Pin(
            server=row[0],
            kind=cast(DefinitionKind, row[1]),
            name=row[2],
            identity=row[3],
            hash=row[4],
            definition=load_json(row[5], where=f"{self.path} pins/{row[0]}/{row[2]}"),
            first_seen=row[6],
            last_seen=row[7],
            accepted_at=row[8],
            status=cast(PinStatus, row[9]),
        )

    def accept(
        self,
        server: str | None = None,
        name: str | None = None,
        current: Sequence[ToolDef] | None = None,
        *,
        kind: DefinitionKind | None = None,
    ) -> int:
        """Make definitions the trusted pins; return how many pins changed (see `InventoryStore.accept`)."""

        def wanted(s: str, k: str, n: str) -> bool:
            return (server is None or s == server) and (kind is None or k == kind) and (name is None or n == name)

        supplied: dict[str, list[_Candidate]] = {}
        for d in current or ():
            if wanted(d.server, d.kind, d.name):
                text = dump_json(dict(d.definition), where=f"{d.server}/{d.name}")
                supplied.setdefault(d.server, []).append((d.kind, d.name, d.hash, text))
        now = self._now()
        changed = 0
        with self._writing("cannot accept definitions") as c:
            if current is not None:
                by_server = supplied
            else:
                by_server = {s: self._latest_observation(c, s) for s in self._observed_servers(c, server)}
            for srv, candidates in by_server.items():
                changed += self._accept_server(c, srv, candidates, now, retire=current is None, wanted=wanted)
        return changed

    def _observed_servers(self, c: sqlite3.Connection, server: str | None) -> list[str]:
        # Only servers some scan enumerated: "never observed" must not read as "observed with nothing".
        if server is not None:
            rows = c.execute("SELECT DISTINCT server FROM scan_servers WHERE server = ?", (server,)).fetchall()
        else:
            rows = c.execute("SELECT DISTINCT server FROM scan_servers ORDER BY server").fetchall()
        return [r[0] for r in rows]

    def _latest_observation(self, c: sqlite3.Connection, server: str) -> list[_Candidate]:
        rows = c.execute(
            "SELECT o.kind, o.name, o.hash, d.definition FROM observations o "
            "JOIN definitions d ON d.hash = o.hash "
            "WHERE o.server = ? AND o.scan_id = (SELECT MAX(scan_id) FROM scan_servers WHERE server = ?)",
            (server, server),
        ).fetchall()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def _accept_server(
        self,
        c: sqlite3.Connection,
        server: str,
        candidates: Sequence[_Candidate],
        now: str,
        *,
        retire: bool,
        wanted: Callable[[str, str, str], bool],
    ) -> int:
        row = c.execute(
            "SELECT identity FROM scan_servers WHERE server = ? ORDER BY scan_id DESC LIMIT 1", (server,)
        ).fetchone()
        identity = row[0] if row else ""
        existing = {
            (r[0], r[1]): (r[2], r[3])
            for r in c.execute("SELECT kind, name, hash, status FROM pins WHERE server = ?", (server,)).fetchall()
        }
        changed = 0
        seen: set[tuple[str, str]] = set()
        for k, n, digest, text in candidates:
            if not wanted(server, k, n):
                continue
            seen.add((k, n))
            if existing.get((k, n)) == (digest, "active"):
                continue
            c.execute(
                "INSERT INTO pins (server, kind, name, identity, hash, definition, first_seen, last_seen, accepted_at, "
                "status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active') "
                "ON CONFLICT (server, kind, name) DO UPDATE SET identity = excluded.identity, hash = excluded.hash, "
                "definition = excluded.definition, last_seen = excluded.last_seen, "
                "accepted_at = excluded.accepted_at, status = 'active'",
                (server, k, n, identity, digest, text, now, now, now),
            )
            changed += 1
        if retire:
            for (k, n), (_, status) in existing.items():
                if status == "active" and (k, n) not in seen and wanted(server, k, n):
                    c.execute(
                        "UPDATE pins SET status = 'removed', accepted_at = ? "
                        "WHERE server = ? AND kind = ? AND name = ?",
                        (now, server, k, n),
                    )
                    changed += 1
        return changed

    def history(self, server: str, kind: DefinitionKind, name: str) -> list[HistoryEntry]:
        """Every observation of one definition, oldest first."""
        with self._reading("cannot read history") as c:
            rows = c.execute(
                "SELECT o.scan_id, s.started_at, o.hash, d.definition FROM observations o "
                "JOIN scans s ON s.id = o.scan_id JOIN definitions d ON d.hash = o.hash "
                "WHERE o.server = ? AND o.kind = ? AND o.name = ? ORDER BY o.scan_id",
                (server, kind, name),
            ).fetchall()
        return [
            HistoryEntry(scan_id=r[0], started_at=r[1], hash=r[2], definition=load_json(r[3], where=str(self.path)))
            for r in rows
        ]

    # -- findings

    def record_findings(self, scan_id: int, findings: Sequence[Finding]) -> None:
        """Store the findings a scan reported."""
        rows = [(scan_id, f.fingerprint, f.rule_id, f.severity.label, finding_to_json(f)) for f in findings]
        with self._writing("cannot record findings") as c:
            c.executemany(
                "INSERT INTO findings (scan_id, fingerprint, rule_id, severity, finding) VALUES (?, ?, ?, ?, ?)", rows
            )

    def get_findings(self, scan_id: int) -> list[Finding]:
        """The findings stored for a scan, in the order they were recorded."""
        with self._reading("cannot read findings") as c:
            rows = c.execute("SELECT id, finding FROM findings WHERE scan_id = ? ORDER BY id", (scan_id,)).fetchall()
        return [finding_from_json(r[1], where=f"{self.path} findings/{r[0]}") for r in rows]


def open_store(path: Path | str, *, timeout_s: float = 5.0) -> SqliteStore:
    """Open (creating if needed) the mcpwarden database at `path`; use it as a context manager."""
    return SqliteStore(Path(path).expanduser(), timeout_s=timeout_s)
