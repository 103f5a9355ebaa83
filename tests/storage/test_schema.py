from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mcpwarden.errors import StorageError
from mcpwarden.storage import SqliteStore
from mcpwarden.storage.schema import MIGRATIONS, migrate


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def test_migrates_an_empty_database_to_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with SqliteStore(path) as store:
        assert store.schema_version == len(MIGRATIONS)
    assert {"schema_version", "scans", "scan_servers", "definitions", "observations", "pins", "findings"} <= tables(
        path
    )


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    for _ in range(3):
        with SqliteStore(path):
            pass
    conn = sqlite3.connect(path)
    try:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    finally:
        conn.close()
    assert versions == list(range(1, len(MIGRATIONS) + 1))


def test_migrate_applies_only_missing_versions(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    try:
        assert migrate(conn, now="t0", where="a.db") == len(MIGRATIONS)
        assert migrate(conn, now="t1", where="a.db") == len(MIGRATIONS)
        stamps = {r[0] for r in conn.execute("SELECT applied_at FROM schema_version")}
    finally:
        conn.close()
    assert stamps == {"t0"}


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with SqliteStore(path):
        pass
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, 'future')", (len(MIGRATIONS) + 1,))
    conn.close()
    with pytest.raises(StorageError, match="newer") as err:
        SqliteStore(path)
    assert "upgrade" in (err.value.hint or "")
