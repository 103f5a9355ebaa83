"""The `state_*` tables of the live state (append-only list of migrations, versioned in `state_schema_version`)."""

from __future__ import annotations

from mcpwarden.storage.sqlite_conn import Schema

STATE_SCHEMA = Schema(
    version_table="state_schema_version",
    migrations=(
        (
            """CREATE TABLE state_sessions (
                id TEXT PRIMARY KEY,
                principal TEXT NOT NULL,
                client TEXT,
                created REAL NOT NULL,
                last_seen REAL NOT NULL,
                ended REAL
            )""",
            """CREATE TABLE state_rate_hits (
                key TEXT NOT NULL,
                at REAL NOT NULL
            )""",
            "CREATE INDEX state_rate_hits_by_key ON state_rate_hits (key, at)",
            """CREATE TABLE state_approvals (
                id TEXT PRIMARY KEY,
                server TEXT NOT NULL,
                tool TEXT NOT NULL,
                principal TEXT NOT NULL,
                session TEXT,
                arguments TEXT NOT NULL,
                reason TEXT NOT NULL,
                call_id TEXT,
                status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
                created REAL NOT NULL,
                expires_at REAL NOT NULL,
                decided_by TEXT,
                decision_reason TEXT,
                decided_at REAL
            )""",
            "CREATE INDEX state_approvals_by_status ON state_approvals (status, created)",
            """CREATE TABLE state_quarantine (
                target TEXT PRIMARY KEY,
                reason TEXT NOT NULL,
                by TEXT NOT NULL,
                created REAL NOT NULL
            )""",
            """CREATE TABLE state_versions (
                name TEXT PRIMARY KEY,
                version INTEGER NOT NULL
            )""",
            "INSERT INTO state_versions (name, version) VALUES ('quarantine', 0)",
        ),
    ),
)
