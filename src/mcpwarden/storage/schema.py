"""The SQLite schema as an append-only list of migrations, and the step that applies them."""

from __future__ import annotations

import sqlite3

from mcpwarden.errors import StorageError

# Append only: a released migration is never edited, the next change is a new entry.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE scans (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            is_static INTEGER NOT NULL DEFAULT 0,
            summary TEXT NOT NULL DEFAULT '{}'
        )""",
        """CREATE TABLE scan_servers (
            scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
            server TEXT NOT NULL,
            identity TEXT NOT NULL,
            PRIMARY KEY (scan_id, server)
        )""",
        """CREATE TABLE definitions (
            hash TEXT PRIMARY KEY,
            definition TEXT NOT NULL
        )""",
        """CREATE TABLE observations (
            scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
            server TEXT NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            hash TEXT NOT NULL REFERENCES definitions(hash),
            PRIMARY KEY (scan_id, server, kind, name)
        )""",
        "CREATE INDEX observations_by_definition ON observations (server, kind, name, scan_id)",
        """CREATE TABLE pins (
            server TEXT NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            identity TEXT NOT NULL,
            hash TEXT NOT NULL,
            definition TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            accepted_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'removed')),
            PRIMARY KEY (server, kind, name)
        )""",
        """CREATE TABLE findings (
            id INTEGER PRIMARY KEY,
            scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
            fingerprint TEXT NOT NULL,
            rule_id TEXT NOT NULL,
            severity TEXT NOT NULL,
            finding TEXT NOT NULL
        )""",
        "CREATE INDEX findings_by_scan ON findings (scan_id)",
    ),
)


def current_version(conn: sqlite3.Connection) -> int:
    """The highest migration applied (0 on a database that has none)."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, *, now: str, where: str) -> int:
    """Apply every migration not yet applied, inside the caller's write transaction; return the version.

    A database from a newer mcpwarden is refused rather than guessed at.
    """
    current = current_version(conn)
    if current > len(MIGRATIONS):
        raise StorageError(
            f"database schema version {current} is newer than this mcpwarden supports ({len(MIGRATIONS)})",
            where=where,
            hint="upgrade mcpwarden or pass --db PATH",
        )
    for version in range(current + 1, len(MIGRATIONS) + 1):
        for statement in MIGRATIONS[version - 1]:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, now))
    return len(MIGRATIONS)
