"""SQLite plumbing for the audit log and live state: WAL, clear errors, a versioned schema, loop-friendly writes.

Each concern keeps its own tables (`audit_*`, `state_*`) and its own schema-version table, so it
can share the inventory's database file without touching the inventory's tables or migrations,
and can later move to its own backend (Postgres for audit, Redis for live state) on its own.

Two connections per store. The *waiting* one (busy timeout) runs in worker threads and may block
while another process holds the write lock. The *loop* one never waits (busy timeout 0, no
automatic checkpoint): small reads and writes run on it directly on the event loop when the lock
is free, which saves the worker-thread hop (about 100–150 µs here, most of an uncontended write);
when it is not free they go to a thread instead.

Checkpoints: every `CHECKPOINT_EVERY` loop-side commits, a background thread checkpoints the WAL
(PASSIVE: it copies committed pages into the database file and syncs it while writers go on), so
no write, and so no gateway call, waits for those fsyncs (about 2 × 8 ms on the development VM,
which used to land on one call in every `CHECKPOINT_EVERY`). The WAL restarts from its beginning
only when a write begins with every frame copied, which a passive checkpoint that writers keep
overtaking never achieves; so when one finds the WAL holding `WAL_RESTART_FRAMES` frames or more,
the next write goes to a thread and checkpoints there with no write from this process in between
(as every checkpoint used to), and the write after it rewinds the WAL. The same happens when a
checkpoint is still running as the next one falls due, so the WAL stays bounded under any load.
(A reader holding an old snapshot can keep any checkpoint from catching up; that write then just
goes on, and the next due checkpoint tries again.) Durability is the commit's, not the
checkpoint's: a committed transaction is in the WAL before `COMMIT` returns.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import anyio

from mcpwarden.errors import StorageError

Synchronous = Literal["NORMAL", "FULL"]
R = TypeVar("R")
CHECKPOINT_EVERY = 200
WAL_RESTART_FRAMES = 4096  # pages (4 KiB by default): the WAL restarts once it passes about 16 MiB

log = logging.getLogger("mcpwarden.storage")


@dataclass(frozen=True)
class Schema:
    """A concern's migrations (append only: a released entry is never edited) and where it records them."""

    version_table: str
    migrations: tuple[tuple[str, ...], ...]


def sqlite_hint(exc: sqlite3.Error) -> str:
    """Turn SQLite's terse reason into what the user can do about it."""
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return "the file is damaged or is not an mcpwarden database; move it aside or pass --db PATH"
    if "unable to open" in text or "readonly" in text or "read-only" in text:
        return "check that the path exists and is writable, or pass --db PATH"
    if "append-only" in text:
        return "audit records cannot be changed or deleted; export them and start a new database instead"
    return "is another process holding the database? wait for it to finish or pass --db PATH"


class SqliteConn:
    """A store's connections to one SQLite file (WAL); every method is safe from any thread.

    Writers in all processes are serialised by SQLite itself: every write transaction starts with
    `BEGIN IMMEDIATE`, so it holds the write lock before it reads anything it depends on.
    `inline_writes` is off with `synchronous="FULL"`: an fsync must not run on the event loop.
    """

    def __init__(
        self,
        path: Path,
        schema: Schema,
        *,
        timeout_s: float = 5.0,
        synchronous: Synchronous = "NORMAL",
        inline_writes: bool = True,
        now: str = "",
    ) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self._synchronous = "FULL" if synchronous == "FULL" else "NORMAL"
        self.inline_writes = inline_writes and self._synchronous == "NORMAL"
        self._lock = threading.Lock()
        self._loop_lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._loop_conn: sqlite3.Connection | None = None
        self._loop_commits = 0
        self._restart_due = False  # a background checkpoint found the WAL too long: the next write rewinds it
        self._checkpointer: threading.Thread | None = None
        self.checkpoints = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"cannot create the database directory: {exc.strerror or exc}",
                where=str(self.path.parent),
                hint="pass --db PATH in a writable directory",
            ) from None
        try:
            self._conn = self._connect(self.timeout_s)
            with self.reading("cannot open the database") as c:
                c.execute("PRAGMA journal_mode = WAL").fetchall()
            with self.writing("cannot prepare the database schema") as c:
                _migrate(c, schema, now=now, where=str(self.path))
            self._loop_conn = self._connect(0.0)
            self._loop_conn.execute("PRAGMA wal_autocheckpoint = 0")
        except sqlite3.Error as exc:
            self.close()
            raise self.error("cannot open the database", exc) from None
        except BaseException:
            self.close()
            raise

    def _connect(self, busy_timeout_s: float, *, read_only: bool = False) -> sqlite3.Connection:
        if read_only:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=self.timeout_s, isolation_level=None)
        else:
            conn = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        except BaseException:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        """Close both connections (after any background checkpoint); safe to call twice."""
        with self._loop_lock:
            if self._loop_conn is not None:
                self._loop_conn.close()
                self._loop_conn = None
        checkpointer = self._checkpointer
        if checkpointer is not None:
            checkpointer.join()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def error(self, action: str, exc: sqlite3.Error) -> StorageError:
        """A StorageError naming the file, SQLite's reason and what to do about it."""
        return StorageError(f"{action}: {exc}", where=str(self.path), hint=sqlite_hint(exc))

    def _closed(self) -> StorageError:
        return StorageError("the database is closed", where=str(self.path))

    # -- the waiting connection (worker threads, CLI)

    @contextmanager
    def reading(self, action: str) -> Iterator[sqlite3.Connection]:
        """The waiting connection for statements that need no write lock (each runs in its own snapshot)."""
        with self._lock:
            if self._conn is None:
                raise self._closed()
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise self.error(action, exc) from None

    @contextmanager
    def writing(self, action: str) -> Iterator[sqlite3.Connection]:
        """One transaction on the waiting connection, holding the write lock from its first statement."""
        with self.reading(action) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def write_blocking(self, action: str, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Run `fn` in a write transaction, waiting for the lock; restart the WAL when it has grown too long."""
        with self.writing(action) as c:
            result = fn(c)
        if self._restart_due:
            # Loop writes wait while this flag is set, so nothing overtakes this checkpoint.
            self._checkpoint(background=False)
            self._restart_due = False
        return result

    def _checkpoint(self, *, background: bool) -> None:
        """A PASSIVE checkpoint on the waiting connection; a failure only delays it (the data is in the WAL)."""
        try:
            with self.reading("cannot checkpoint the database") as c:
                frames = c.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
        except StorageError as exc:
            log.warning("WAL checkpoint failed (it is retried later): %s", exc.one_line())
            return
        self.checkpoints += 1
        # `frames` is the WAL's length when this checkpoint began. Even one that copied them all has
        # usually been overtaken by writes since, and the WAL rewinds only when a write begins with
        # every frame copied; so a long WAL is rewound by the next write (see the module docstring).
        if background and frames >= WAL_RESTART_FRAMES:
            self._restart_due = True

    def _checkpoint_soon(self) -> None:
        """Start a background checkpoint unless one is running (called with the loop lock held)."""
        if self._checkpointer is not None and self._checkpointer.is_alive():
            # Writes outpace checkpoints: the next write waits for this one and checkpoints behind it.
            self._restart_due = True
            return
        self._loop_commits = 0
        self._checkpointer = threading.Thread(
            target=self._checkpoint, kwargs={"background": True}, name="mcpwarden-wal-checkpoint", daemon=True
        )
        self._checkpointer.start()

    @contextmanager
    def snapshot(self, action: str) -> Iterator[sqlite3.Connection]:
        """A private read-only connection inside one read transaction: a consistent view for long reads.

        Long scans (verify, export) use it so they neither hold a shared connection nor see
        appends that land half way through.
        """
        try:
            conn = self._connect(self.timeout_s, read_only=True)
        except sqlite3.Error as exc:
            raise self.error(action, exc) from None
        try:
            conn.execute("BEGIN")
            yield conn
        except sqlite3.Error as exc:
            raise self.error(action, exc) from None
        finally:
            conn.close()

    # -- the loop connection (never waits)

    def write_inline(self, action: str, fn: Callable[[sqlite3.Connection], R]) -> tuple[R] | None:
        """Run `fn` in a write transaction only if the write lock is free right now; `(result,)` or None."""
        if not self.inline_writes or self._restart_due:
            return None
        if not self._loop_lock.acquire(blocking=False):
            return None
        try:
            conn = self._loop_conn
            if conn is None:
                raise self._closed()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error:
                return None  # another writer holds the lock (or worse): the waiting path waits or reports it
            try:
                result = fn(conn)
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self.error(action, exc) from None
                raise
            self._loop_commits += 1
            if self._loop_commits >= CHECKPOINT_EVERY:
                self._checkpoint_soon()
            return (result,)
        finally:
            self._loop_lock.release()

    def read_now(self, action: str, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Run `fn` in one read transaction on the loop connection (WAL readers never wait for writers)."""
        with self._loop_lock:
            conn = self._loop_conn
            if conn is None:
                raise self._closed()
            try:
                conn.execute("BEGIN")
                try:
                    return fn(conn)
                finally:
                    conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self.error(action, exc) from None

    async def write(self, action: str, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Run `fn` in a write transaction: on the loop if the lock is free now, else in a worker thread."""
        done = self.write_inline(action, fn)
        if done is not None:
            return done[0]
        return await anyio.to_thread.run_sync(self.write_blocking, action, fn)


def _migrate(conn: sqlite3.Connection, schema: Schema, *, now: str, where: str) -> None:
    """Apply the concern's missing migrations inside the caller's write transaction; refuse newer databases."""
    table = schema.version_table
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    current = int(conn.execute(f"SELECT COALESCE(MAX(version), 0) FROM {table}").fetchone()[0])  # noqa: S608
    latest = len(schema.migrations)
    if current > latest:
        raise StorageError(
            f"{table} is at version {current}, newer than this mcpwarden supports ({latest})",
            where=where,
            hint="upgrade mcpwarden or pass --db PATH",
        )
    for version in range(current + 1, latest + 1):
        for statement in schema.migrations[version - 1]:
            conn.execute(statement)
        conn.execute(f"INSERT INTO {table} (version, applied_at) VALUES (?, ?)", (version, now))  # noqa: S608
