from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mcpwarden.errors import StorageError
from mcpwarden.storage import Closeable, InventoryStore, ScanMeta, SqliteStore, open_store
from mcpwarden.types import Confidence, Finding, Location, Severity, ToolDef


def tool(server: str, name: str, description: str = "", **extra: Any) -> ToolDef:
    return ToolDef(
        server=server, kind="tool", name=name, definition={"name": name, "description": description, **extra}
    )


def new_scan(store: SqliteStore, started_at: str = "2025-01-01T00:00:00Z") -> int:
    return store.record_scan(ScanMeta(started_at=started_at))


class Clock:
    """Advances one minute per reading, so every stored time is distinct and predictable."""

    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def test_satisfies_the_storage_protocols(tmp_path: Path) -> None:
    with open_store(tmp_path / "a.db") as store:
        assert isinstance(store, InventoryStore)
        assert isinstance(store, Closeable)


def test_open_creates_parent_dirs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "mcpwarden.db"
    with SqliteStore(path):
        pass
    assert path.is_file()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "a.db") as store, pytest.raises(StorageError) as err:
        store.observe(999, [tool("fs", "read")])
    assert "FOREIGN KEY" in err.value.message
    assert err.value.where == str(tmp_path / "a.db")


def test_reopen_persists_everything(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    finding = Finding(
        rule_id="MW401",
        title="changed",
        severity=Severity.HIGH,
        confidence=Confidence.MEDIUM,
        location=Location(server="fs", kind="tool", tool="read", pointer="/description"),
        message="m",
        evidence="  +x\\u{200B}\n  -y",
        refs=("CWE-494",),
    )
    with SqliteStore(path) as store:
        scan_id = store.record_scan(ScanMeta(started_at="t0", static=True, summary={"servers": 1}))
        store.observe(scan_id, [tool("fs", "read", "Read.")], servers={"fs": '["stdio","node"]'})
        store.accept()
        store.finish_scan(scan_id, finished_at="t1", summary={"servers": 1, "findings": 1})
        store.record_findings(scan_id, [finding])
        pins = store.get_pins()
    with SqliteStore(path) as again:
        last = again.last_scan()
        assert last is not None
        assert (last.id, last.started_at, last.finished_at, last.static) == (scan_id, "t0", "t1", True)
        assert last.summary == {"servers": 1, "findings": 1}
        assert again.get_pins() == pins
        assert pins[0].identity == '["stdio","node"]'
        assert again.get_findings(scan_id) == [finding]


def test_fresh_database_has_no_scan(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "a.db") as store:
        assert store.last_scan() is None
        assert store.get_pins() == []


@pytest.mark.parametrize(
    "definition",
    [
        {"name": "t", "description": "zero\u200bwidth and tag \U000e0041"},
        {"name": "t", "description": "lone surrogate \ud800 from a hostile server"},
        {"name": "t", "inputSchema": {"type": "object", "properties": {"p/~": {"type": "string"}}}, "n": 1.0},
    ],
)
def test_definitions_round_trip_exactly(tmp_path: Path, definition: dict[str, Any]) -> None:
    d = ToolDef(server="s", kind="tool", name="t", definition=definition)
    with SqliteStore(tmp_path / "a.db") as store:
        scan_id = new_scan(store)
        store.observe(scan_id, [d])
        store.accept()
        (pin,) = store.get_pins()
        (seen,) = store.history("s", "tool", "t")
    assert pin.definition == definition and pin.hash == d.hash
    assert pin.as_tooldef().hash == d.hash
    assert seen.definition == definition and seen.hash == d.hash


def test_accept_takes_each_servers_latest_observation(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "a.db", clock=Clock()) as store:
        first = new_scan(store)
        store.observe(first, [tool("fs", "read", "v1"), tool("fs", "write"), tool("gh", "issue", "v1")])
        assert store.accept() == 3
        second = new_scan(store)
        # gh was not reachable in the second scan; fs changed read and dropped write.
        store.observe(second, [tool("fs", "read", "v2")], servers={"fs": "id"})
        pins = {(p.server, p.name): p for p in store.get_pins()}
        assert pins["fs", "read"].definition["description"] == "v1", "observing never changes a pin"
        assert store.accept("gh") == 0
        assert store.accept("fs", "read") == 1
        assert store.accept("fs") == 1, "only the removal of write was left to accept"
        pins = {(p.server, p.name): p for p in store.get_pins()}
        assert pins["fs", "read"].definition["description"] == "v2"
        assert pins["fs", "read"].first_seen < pins["fs", "read"].accepted_at
        assert pins["fs", "write"].status == "removed"
        assert pins["gh", "issue"].status == "active"
        assert store.accept() == 0


@pytest.mark.parametrize(
    ("server", "name", "kind", "expected"),
    [
        (None, None, None, {"fs/read", "fs/prompt", "gh/read"}),
        ("fs", None, None, {"fs/read", "fs/prompt"}),
        (None, "read", None, {"fs/read", "gh/read"}),
        ("fs", None, "prompt", {"fs/prompt"}),
        ("nope", None, None, set()),
    ],
)
def test_accept_current_pins_only_what_matches(
    tmp_path: Path, server: str | None, name: str | None, kind: Any, expected: set[str]
) -> None:
    current = [
        tool("fs", "read"),
        ToolDef(server="fs", kind="prompt", name="prompt", definition={"name": "prompt"}),
        tool("gh", "read"),
    ]
    with SqliteStore(tmp_path / "a.db") as store:
        assert store.accept(server, name, current, kind=kind) == len(expected)
        assert {f"{p.server}/{p.name}" for p in store.get_pins()} == expected
        assert store.accept(server, name, current, kind=kind) == 0, "accepting the same again changes nothing"


def test_accept_without_observation_retires_nothing(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "a.db") as store:
        store.accept(current=[tool("fs", "read")])
        assert store.accept("fs") == 0
        assert store.accept() == 0
        assert [p.status for p in store.get_pins()] == ["active"]


def test_observe_refreshes_last_seen_of_matching_pins_only(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "a.db", clock=Clock()) as store:
        store.observe(new_scan(store), [tool("fs", "same"), tool("fs", "changes", "v1")])
        store.accept()
        before = {p.name: p.last_seen for p in store.get_pins()}
        store.observe(new_scan(store), [tool("fs", "same"), tool("fs", "changes", "v2")])
        after = {p.name: p.last_seen for p in store.get_pins()}
    assert after["same"] > before["same"]
    assert after["changes"] == before["changes"]


def test_history_lists_every_observation_oldest_first(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "a.db") as store:
        scans = [new_scan(store, f"2025-01-0{i}T00:00:00Z") for i in (1, 2, 3)]
        for scan_id, text in zip(scans, ["a", "a", "b"], strict=True):
            store.observe(scan_id, [tool("fs", "read", text)])
        history = store.history("fs", "tool", "read")
        assert store.history("fs", "prompt", "read") == []
    assert [(h.scan_id, h.started_at[:10], h.definition["description"]) for h in history] == [
        (scans[0], "2025-01-01", "a"),
        (scans[1], "2025-01-02", "a"),
        (scans[2], "2025-01-03", "b"),
    ]
    assert history[0].hash == history[1].hash != history[2].hash


@pytest.mark.parametrize(
    "content",
    [
        b"this is not a database at all\n" * 200,
        b"SQLite format 3\x00" + b"\xff" * 4096,
    ],
)
def test_corrupt_file_is_a_clear_storage_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "mcpwarden.db"
    path.write_bytes(content)
    with pytest.raises(StorageError) as err:
        SqliteStore(path)
    assert err.value.where == str(path)
    assert "damaged" in (err.value.hint or "")
    assert str(path) in err.value.one_line() and "--db" in err.value.one_line()


def test_damaged_pages_are_a_clear_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "mcpwarden.db"
    with SqliteStore(path) as store:
        store.observe(new_scan(store), [tool("s", f"t{i}", "x" * 500) for i in range(50)])
        store.accept()
    data = bytearray(path.read_bytes())
    for offset in range(4096, len(data), 4096):  # keep the header page, scribble on every other page
        data[offset : offset + 100] = b"\xa5" * 100
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError) as err, SqliteStore(path) as store:
        store.get_pins()
    assert "malformed" in err.value.message
    assert "damaged" in (err.value.hint or "")


def test_empty_file_is_migrated_from_scratch(tmp_path: Path) -> None:
    path = tmp_path / "mcpwarden.db"
    path.touch()
    with SqliteStore(path) as store:
        assert store.schema_version >= 1
        assert new_scan(store) == 1


def test_parent_that_is_a_file_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError) as err:
        SqliteStore(blocker / "mcpwarden.db")
    assert err.value.where == str(blocker)


def test_closed_store_refuses_work(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "a.db")
    store.close()
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.get_pins()


@pytest.mark.parametrize("summary", [{"x": object()}, {"x": float("nan")}])
def test_unstorable_summary_is_a_storage_error(tmp_path: Path, summary: dict[str, Any]) -> None:
    with SqliteStore(tmp_path / "a.db") as store, pytest.raises(StorageError):
        store.record_scan(ScanMeta(started_at="t", summary=summary))


def test_finish_unknown_scan_is_a_storage_error(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "a.db") as store, pytest.raises(StorageError, match="no scan with id 7"):
        store.finish_scan(7, finished_at="t", summary={})


def test_usable_from_another_thread(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    with SqliteStore(tmp_path / "a.db") as store:

        def work() -> None:
            try:
                new_scan(store)
            except BaseException as exc:  # re-raised in the test thread
                errors.append(exc)

        workers = [threading.Thread(target=work) for _ in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=10)
        assert errors == []
        last = store.last_scan()
        assert last is not None and last.id == 4


# A second process that takes the write lock and keeps it until told (a line on stdin).
_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO scans (started_at) VALUES ('holder')")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
"""


@contextmanager
def write_lock_held_by_other_process(path: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        if proc.stdin and not proc.stdin.closed:
            proc.stdin.close()
        proc.wait(timeout=10)


def release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()


def test_writer_waits_for_another_process_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with SqliteStore(path, timeout_s=10) as store, write_lock_held_by_other_process(path) as holder:
        assert store.get_pins() == [], "WAL readers do not wait for the writer"
        timer = threading.Timer(0.3, release, args=(holder,))
        timer.start()
        started = time.monotonic()
        scan_id = new_scan(store)
        waited = time.monotonic() - started
        timer.join()
    assert waited >= 0.25
    assert scan_id == 2, "the other process's scan committed first"


def test_writer_gives_up_after_the_busy_timeout_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with SqliteStore(path, timeout_s=0.2) as store:
        with write_lock_held_by_other_process(path) as holder:
            with pytest.raises(StorageError) as err:
                new_scan(store)
            release(holder)
        assert "another process" in (err.value.hint or "")
        assert "locked" in err.value.message
        assert new_scan(store) == 2, "the store still works once the lock is gone"
