"""The audit log in SQLite: hash-chained rows in `audit_log`, the head checkpoint in `audit_head`.

Concurrency: every append transaction starts with `BEGIN IMMEDIATE` and reads the head inside
it, so appenders in any number of processes serialise on SQLite's write lock and the sequence
never forks. Within a process, an append commits at once on the event loop when the write lock
is free (no thread hop), otherwise it goes through `GroupCommitter` to a worker thread, and every
append arriving while that commit runs shares the next transaction.

Durability: `append` returns after COMMIT, and the gateway answers a call only after its append
returned (or refuses the call when it failed): nothing acknowledged is only in memory. With WAL
and `synchronous="NORMAL"` (the default) a committed record is in the WAL file (in the OS page
cache) and survives the gateway process crashing or being killed (tested with SIGKILL); the
newest commits can be lost only if the machine loses power or the OS crashes before the WAL
reaches the disk. `synchronous="FULL"` fsyncs the WAL on every commit (one fsync per group under
load) and survives power loss too; it always commits in a thread, about 0.8 ms per uncontended
append against 0.1–0.3 ms with NORMAL on the 2-core development machine (where one fsync takes
2–35 ms). WAL checkpoints (which fsync) run in a background thread, never in an append.

Tail truncation: new records continue from `audit_head`, not from the last row, and verification
compares the two. Deleting the newest records is therefore detected unless whoever deleted them
also rewrote the checkpoint; only an anchor kept outside the database (`mcpwarden audit verify`
prints the head to copy; pass it back with `--anchor`) catches that. Append-only triggers stop
accidental UPDATE/DELETE; they are a guard rail, not a defence (anyone with write access can drop them).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from mcpwarden.errors import StorageError
from mcpwarden.storage.audit import (
    AuditEntry,
    AuditRecord,
    ChainHead,
    ChainReport,
    Redactor,
)
from mcpwarden.storage.audit_chain import (
    STRUCTURED_KEYS,
    BadRecord,
    PreparedEntry,
    chain,
    prepare,
    verify_bodies,
)
from mcpwarden.storage.audit_commit import GroupCommitter
from mcpwarden.storage.sqlite_conn import Schema, SqliteConn, Synchronous

_COLUMNS = (
    "seq",
    "fmt",
    "ts",
    "event",
    "principal",
    "session",
    "client",
    "upstream",
    "tool",
    "action",
    "call_id",
    "arguments",
    "decision",
    "verdicts",
    "findings",
    "result_digest",
    "latency_ms",
    "outcome",
    "detail",
    "prev_hash",
    "hash",
)
_JSON_COLUMNS = frozenset(STRUCTURED_KEYS)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM audit_log"  # noqa: S608
_INSERT = f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"  # noqa: S608

AUDIT_SCHEMA = Schema(
    version_table="audit_schema_version",
    migrations=(
        (
            """CREATE TABLE audit_log (
                seq INTEGER PRIMARY KEY,
                fmt INTEGER NOT NULL,
                ts TEXT NOT NULL,
                event TEXT NOT NULL,
                principal TEXT,
                session TEXT,
                client TEXT,
                upstream TEXT,
                tool TEXT,
                action TEXT,
                call_id TEXT,
                arguments TEXT NOT NULL,
                decision TEXT,
                verdicts TEXT NOT NULL,
                findings TEXT NOT NULL,
                result_digest TEXT,
                latency_ms REAL,
                outcome TEXT NOT NULL,
                detail TEXT NOT NULL,
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL
            )""",
            "CREATE INDEX audit_log_by_session ON audit_log (session, seq)",
            """CREATE TABLE audit_head (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                seq INTEGER NOT NULL,
                hash TEXT NOT NULL
            )""",
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')",
            """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
               BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
            """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
               BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        ),
    ),
)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _row(record: AuditRecord, prepared: PreparedEntry) -> tuple[Any, ...]:
    stored, fmt = prepared.stored, prepared.fields["fmt"]
    return tuple(stored[c] if c in stored else fmt if c == "fmt" else getattr(record, c) for c in _COLUMNS)


def _body(row: Sequence[Any]) -> tuple[dict[str, Any], str] | BadRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    digest = values.pop("hash")
    for column in _JSON_COLUMNS:
        try:
            values[column] = json.loads(values[column])
        except (TypeError, ValueError) as exc:
            return BadRecord(values["seq"], f"record {values['seq']}: stored {column} is not valid JSON ({exc})")
    return values, digest


class SqliteAuditLog:
    """`AuditLog` on one SQLite file (WAL); see the module docstring for concurrency and durability.

    `redact` is applied to every caller-supplied string before it is hashed and stored; pass the
    secret masker (e.g. `mcpwarden.detect.secrets.mask_secrets`), there is deliberately no default.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        redact: Redactor,
        timeout_s: float = 5.0,
        synchronous: Synchronous = "NORMAL",
        max_batch: int = 256,
        inline: bool = True,
        clock: Callable[[], str] = _now_iso,
    ) -> None:
        self.path = Path(path).expanduser()
        self._redact = redact
        self._clock = clock
        self._db = SqliteConn(
            self.path, AUDIT_SCHEMA, timeout_s=timeout_s, synchronous=synchronous, inline_writes=inline, now=clock()
        )
        self._committer: GroupCommitter[PreparedEntry, AuditRecord] = GroupCommitter(
            self._commit, inline=self._commit_inline, max_batch=max_batch
        )

    def close(self) -> None:
        """Close the database; safe to call twice."""
        self._db.close()

    def __enter__(self) -> SqliteAuditLog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def stats(self) -> dict[str, int]:
        """Transactions, records, transactions that needed a worker thread, and WAL checkpoints, of this instance."""
        c = self._committer
        return {
            "transactions": c.batches,
            "records": c.committed,
            "threaded": c.threaded,
            "checkpoints": self._db.checkpoints,
        }

    async def append(self, entry: AuditEntry) -> AuditRecord:
        """Redact, chain and commit one entry; returns after COMMIT (group commit under load)."""
        # Prepared here, not in the batch: an entry the redact hook rejects fails alone, not its batch.
        prepared = prepare(entry, redact=self._redact, now=self._clock())
        return await self._committer.submit(prepared)

    def _append(self, c: sqlite3.Connection, prepared: list[PreparedEntry]) -> list[AuditRecord]:
        """Chain and insert a batch inside the caller's write transaction; continue from the checkpoint."""
        row = c.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        if row is None:
            raise StorageError(
                "the audit head checkpoint is missing",
                where=str(self.path),
                hint="the log was tampered with; run `mcpwarden audit verify`",
            )
        records = chain(prepared, seq=int(row[0]), prev_hash=str(row[1]))
        c.executemany(_INSERT, [_row(r, p) for r, p in zip(records, prepared, strict=True)])
        c.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (records[-1].seq, records[-1].hash))
        return records

    def _commit(self, prepared: list[PreparedEntry]) -> list[AuditRecord]:
        return self._db.write_blocking("cannot append to the audit log", lambda c: self._append(c, prepared))

    def _commit_inline(self, prepared: list[PreparedEntry]) -> list[AuditRecord] | None:
        done = self._db.write_inline("cannot append to the audit log", lambda c: self._append(c, prepared))
        return None if done is None else done[0]

    def records(
        self, *, session: str | None = None, since_seq: int | None = None, limit: int | None = None
    ) -> list[AuditRecord]:
        """Records in sequence order, optionally one session's, after `since_seq`, at most `limit`."""
        where: list[str] = []
        params: list[Any] = []
        if session is not None:
            where.append("session = ?")
            params.append(session)
        if since_seq is not None:
            where.append("seq > ?")
            params.append(since_seq)
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(0, limit))
        with self._db.reading("cannot read the audit log") as c:
            rows = c.execute(sql, params).fetchall()
        out: list[AuditRecord] = []
        for row in rows:
            body = _body(row)
            if isinstance(body, BadRecord):
                raise StorageError(body.problem, where=str(self.path), hint="run `mcpwarden audit verify`")
            out.append(AuditRecord.from_body(*body))
        return out

    def head(self) -> ChainHead:
        """The head checkpoint: the newest record's sequence number and hash."""
        with self._db.reading("cannot read the audit head") as c:
            row = c.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        if row is None:
            raise StorageError("the audit head checkpoint is missing", where=str(self.path))
        return ChainHead(int(row[0]), str(row[1]))

    def verify_chain(self, *, anchors: Sequence[ChainHead] = ()) -> ChainReport:
        """Check every record, the head checkpoint and any external anchors, in one consistent snapshot."""
        with self._db.snapshot("cannot verify the audit log") as c:
            head = c.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
            if head is None:
                return ChainReport(False, 0, None, "the head checkpoint row is missing (audit_head was edited)")
            rows = (_body(r) for r in _stream(c, _SELECT + " ORDER BY seq", ()))
            return verify_bodies(rows, checkpoint=ChainHead(int(head[0]), str(head[1])), anchors=anchors)

    def export_jsonl(self, fp: TextIO, *, session: str | None = None) -> int:
        """Write records as JSON lines (body plus `hash`, exactly as stored), oldest first; return how many."""
        where, params = (" WHERE session = ?", (session,)) if session is not None else ("", ())
        sql = _SELECT + where + " ORDER BY seq"
        count = 0
        with self._db.snapshot("cannot export the audit log") as c:
            for row in _stream(c, sql, params):
                body = _body(row)
                line: Mapping[str, Any] = (
                    {"seq": body.seq, "unreadable": body.problem}
                    if isinstance(body, BadRecord)
                    else {**body[0], "hash": body[1]}
                )
                fp.write(json.dumps(line, sort_keys=True, ensure_ascii=True, allow_nan=True) + "\n")
                count += 1
        return count


def _stream(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """Rows in chunks, so verifying or exporting a large log runs in bounded memory."""
    cursor = conn.execute(sql, params)
    while chunk := cursor.fetchmany(1000):
        yield from chunk
