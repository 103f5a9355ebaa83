"""Live state on real SQLite files, including the parts that must cross processes."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from mcpwarden.errors import StorageError, UsageError
from mcpwarden.storage.state import ApprovalRequest, LiveState
from mcpwarden.storage.state_sqlite import SqliteLiveState
from tests.storage.test_audit_sqlite import assert_nowhere_on_disk

pytestmark = pytest.mark.anyio

SECRET = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"


def redact(text: str) -> str:
    return text.replace(SECRET, "ghp_…******…89")


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def state(path: Path, clock: Clock | None = None, **options: float) -> SqliteLiveState:
    return SqliteLiveState(path, redact=redact, clock=clock or time.time, **options)


def run_python(code: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


# -- sessions ----------------------------------------------------------------------------------


async def test_sessions_open_resume_and_end(tmp_path: Path) -> None:
    clock = Clock()
    with state(tmp_path / "s.db", clock) as s:
        assert isinstance(s, LiveState)
        opened = await s.open_session("s1", "alice", client="cursor")
        clock.now += 5
        resumed = await s.open_session("s1", "alice")
        with pytest.raises(UsageError, match="another principal"):
            await s.open_session("s1", "mallory")
        await s.end_session("s1")
        with pytest.raises(UsageError, match="ended"):
            await s.open_session("s1", "alice")
        ended = await s.get_session("s1")
        assert await s.sessions() == []
        assert [x.id for x in await s.sessions(active_only=False)] == ["s1"]
        assert await s.get_session("nope") is None
    assert (opened.created, opened.client, opened.active) == (clock.now - 5, "cursor", True)
    assert resumed.last_seen == clock.now and resumed.created == opened.created
    assert ended is not None and ended.ended == clock.now and not ended.active


@pytest.mark.parametrize(("advance", "written"), [(0.5, False), (1.5, True)])
async def test_touch_writes_at_most_once_a_second(tmp_path: Path, advance: float, written: bool) -> None:
    clock = Clock()
    with state(tmp_path / "s.db", clock) as s:
        await s.open_session("s1", "alice")
        clock.now += advance
        await s.touch_session("s1")
        info = await s.get_session("s1")
    assert info is not None
    assert (info.last_seen == clock.now) is written


# -- rate limits -------------------------------------------------------------------------------

# (seconds since start, expected allowed, remaining, reset_s) for a limit of 3 per 10 s.
SLIDING = [
    (0.0, True, 2, 10.0),
    (1.0, True, 1, 9.0),
    (2.0, True, 0, 8.0),
    (3.0, False, 0, 7.0),
    (9.9, False, 0, 0.1),
    (10.5, True, 0, 0.5),  # the hit at 0 left the window: one slot, taken; the hit at 1 leaves next
    (10.8, False, 0, 0.2),
    (25.0, True, 2, 10.0),
]


async def test_rate_limit_is_a_sliding_window(tmp_path: Path) -> None:
    clock = Clock()
    start = clock.now
    with state(tmp_path / "s.db", clock) as s:
        for at, allowed, remaining, reset in SLIDING:
            clock.now = start + at
            got = await s.hit("alice:fs", 3, 10.0)
            assert (got.allowed, got.remaining, round(got.reset_s, 6)) == (allowed, remaining, reset), at


async def test_rate_limit_keys_are_independent_and_refusals_are_not_counted(tmp_path: Path) -> None:
    clock = Clock()
    with state(tmp_path / "s.db", clock) as s:
        assert [(await s.hit("a", 1, 60)).allowed for _ in range(5)] == [True, False, False, False, False]
        assert (await s.hit("b", 1, 60)).allowed
        clock.now += 60.01
        assert (await s.hit("a", 1, 60)).allowed  # the four refusals did not extend the block
        assert not (await s.hit("zero", 0, 60)).allowed
        assert await s.purge_rate_limits(0) == 2


@pytest.mark.parametrize(("limit", "window"), [(-1, 1.0), (1, 0.0), (1, -5.0), (1, float("nan"))])
async def test_rate_limit_refuses_nonsense(tmp_path: Path, limit: int, window: float) -> None:
    with state(tmp_path / "s.db") as s, pytest.raises(UsageError, match="rate limit"):
        await s.hit("k", limit, window)


HITTER = """
import sys, anyio
from mcpwarden.storage.state_sqlite import SqliteLiveState
from tests.storage.test_audit_sqlite import assert_nowhere_on_disk
async def main():
    with SqliteLiveState(sys.argv[1], redact=str) as s:
        print(sum([(await s.hit("shared", 50, 3600)).allowed for _ in range(40)]))
anyio.run(main)
"""


def test_rate_limit_holds_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    state(path).close()
    procs = [
        subprocess.Popen([sys.executable, "-c", HITTER, str(path)], stdout=subprocess.PIPE, text=True) for _ in range(3)
    ]
    allowed = [int(p.communicate(timeout=60)[0]) for p in procs]
    assert sum(allowed) == 50  # 120 hits on one key from three processes: exactly the limit got through


# -- approvals ---------------------------------------------------------------------------------

REQUEST = ApprovalRequest(
    server="mail",
    tool="send",
    principal="agent-1",
    session="s1",
    arguments={"to": "x@example.com", "auth": SECRET},
    reason=f"sends mail with {SECRET}",
    call_id="c1",
)


async def test_approval_lifecycle_and_masking(tmp_path: Path) -> None:
    clock = Clock()
    with state(tmp_path / "s.db", clock) as s:
        pending = await s.request_approval(REQUEST, ttl_s=60)
        assert [a.id for a in await s.list_approvals()] == [pending.id]
        clock.now += 1
        approved = await s.decide(pending.id, True, "bob", "ok")
        with pytest.raises(UsageError, match="already approved"):
            await s.decide(pending.id, False, "eve", "no")
        with pytest.raises(UsageError, match="no approval"):
            await s.decide("feedfeedfeed", True, "bob")
        assert await s.list_approvals() == []
        assert [a.status for a in await s.list_approvals(None)] == ["approved"]
    assert pending.status == "pending" and pending.expires_at == pending.created + 60
    assert (approved.status, approved.decided_by, approved.decision_reason) == ("approved", "bob", "ok")
    assert approved.decided_at == clock.now and approved.approved
    assert SECRET not in json.dumps(dict(pending.arguments)) + pending.reason
    assert_nowhere_on_disk(tmp_path, SECRET)


async def test_a_request_past_its_ttl_is_expired_and_cannot_be_decided(tmp_path: Path) -> None:
    clock = Clock()
    with state(tmp_path / "s.db", clock) as s:
        pending = await s.request_approval(REQUEST, ttl_s=30)
        clock.now += 31
        assert await s.list_approvals() == []
        with pytest.raises(UsageError, match="already expired"):
            await s.decide(pending.id, True, "bob")
        found = await s.get_approval(pending.id)
    assert found is not None and found.status == "expired"


async def test_wait_times_out_into_expired(tmp_path: Path) -> None:
    with state(tmp_path / "s.db", poll_s=0.02) as s:
        pending = await s.request_approval(REQUEST)
        start = time.monotonic()
        waited = await s.wait_for_decision(pending.id, 0.2)
        elapsed = time.monotonic() - start
        with pytest.raises(UsageError, match="already expired"):
            await s.decide(pending.id, True, "late")
        with pytest.raises(UsageError, match="no approval"):
            await s.wait_for_decision("unknown", 1)
    assert waited.status == "expired"
    assert 0.2 <= elapsed < 2


DECIDER = """
import sys, time, anyio
from mcpwarden.storage.state_sqlite import SqliteLiveState
from tests.storage.test_audit_sqlite import assert_nowhere_on_disk
path, approval_id, verdict, delay = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
time.sleep(delay)
async def main():
    with SqliteLiveState(path, redact=str) as s:
        try:
            a = await s.decide(approval_id, verdict == "approve", "ops-bob", "from another process")
            print(a.status)
        except Exception as exc:
            print("refused:", exc)
anyio.run(main)
"""


@pytest.mark.parametrize(("verdict", "status"), [("approve", "approved"), ("deny", "denied")])
async def test_a_decision_from_another_process_reaches_the_waiter(tmp_path: Path, verdict: str, status: str) -> None:
    path = tmp_path / "s.db"
    out: dict[str, str] = {}

    async def decide_elsewhere(approval_id: str) -> None:
        done = await anyio.run_process(
            [sys.executable, "-c", DECIDER, str(path), approval_id, verdict, "0.3"], check=False
        )
        out["stdout"] = done.stdout.decode()

    with state(path, poll_s=0.05) as s:
        pending = await s.request_approval(REQUEST)
        async with anyio.create_task_group() as tg:
            tg.start_soon(decide_elsewhere, pending.id)
            decided = await s.wait_for_decision(pending.id, 20)
    assert out["stdout"].strip() == status
    assert (decided.status, decided.decided_by, decided.decision_reason) == (status, "ops-bob", "from another process")


async def test_another_process_cannot_approve_after_the_waiter_gave_up(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with state(path, poll_s=0.02) as s:
        pending = await s.request_approval(REQUEST)
        waited = await s.wait_for_decision(pending.id, 0.1)
    result = run_python(DECIDER, str(path), pending.id, "approve", "0")
    assert waited.status == "expired"
    assert result.stdout.startswith("refused:") and "already expired" in result.stdout


# -- quarantine --------------------------------------------------------------------------------


async def test_quarantine_blocks_release_unblocks_in_the_same_process_at_once(tmp_path: Path) -> None:
    with state(tmp_path / "s.db", refresh_s=60) as s:
        assert s.blocked("fs", "write") is None
        version = s.quarantine_version()
        entry = await s.quarantine("fs/write", "exfiltration", "ops")
        hit = s.blocked("fs", "write")
        assert hit == entry and hit.reason == "exfiltration" and hit.by == "ops"
        assert s.blocked("fs", "read") is None
        assert s.quarantine_version() != version
        await s.quarantine("github", "token leak", "ops")
        assert s.blocked("github", "anything") is not None
        assert s.quarantined() == {"fs/write", "github"}
        assert await s.release("fs/write") and not await s.release("fs/write")
        assert s.blocked("fs", "write") is None
        await s.quarantine("*", "incident", "ops")
        assert [e.target for e in await s.quarantine_entries()] == ["*", "github"]
        assert s.blocked("mail", "send") is not None


async def test_the_common_check_does_no_io(tmp_path: Path) -> None:
    with state(tmp_path / "s.db", refresh_s=60) as s:
        await s.quarantine("fs", "x", "ops")
        s.blocked("fs")
        s.close()  # any read now would raise "the database is closed"
        assert s.blocked("fs") is not None and s.blocked("mail") is None


WATCHER = """
import sys, time
from mcpwarden.storage.state_sqlite import SqliteLiveState
from tests.storage.test_audit_sqlite import assert_nowhere_on_disk
path, changes = sys.argv[1], int(sys.argv[2])
with SqliteLiveState(path, redact=str) as s:
    last = s.blocked("fs", "write") is not None
    print("ready", flush=True)
    deadline = time.time() + 30
    while changes and time.time() < deadline:
        now = s.blocked("fs", "write") is not None
        if now != last:
            print(time.time(), flush=True)
            last, changes = now, changes - 1
        time.sleep(0.001)
"""


def test_quarantine_reaches_another_process_within_one_second(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    toggles = 8
    proc = subprocess.Popen([sys.executable, "-c", WATCHER, str(path), str(toggles)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "ready"
        lags = []
        with state(path) as s:
            for n in range(toggles):
                time.sleep(0.3 + (n * 0.083) % 0.25)  # varied, so changes do not phase-lock with the refresh
                if n % 2 == 0:
                    anyio.run(s.quarantine, "fs", "incident", "ops")
                else:
                    anyio.run(s.release, "fs")
                committed = time.time()
                seen = float(proc.stdout.readline())
                lags.append(seen - committed)
    finally:
        proc.kill()
        proc.communicate(timeout=10)
    print(f"quarantine propagation: median {statistics.median(lags) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms")
    assert max(lags) < 1.0


@pytest.mark.parametrize("content", [b"garbage " * 1000, b"SQLite format 3\x00" + b"\xff" * 4096])
def test_a_damaged_file_is_a_clear_storage_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "s.db"
    path.write_bytes(content)
    with pytest.raises(StorageError) as err:
        state(path)
    assert "damaged" in (err.value.hint or "") and err.value.where == str(path)
