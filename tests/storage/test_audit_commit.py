"""Group commit: concurrent submitters share commits, every one returns after its own item is committed."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import anyio
import anyio.lowlevel
import pytest

from mcpwarden.errors import StorageError
from mcpwarden.storage.audit_commit import GroupCommitter

pytestmark = pytest.mark.anyio


class Store:
    """A commit function that records its batches and can be held shut to build up a queue."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.fail_on = fail_on

    def commit(self, items: list[int]) -> Sequence[str]:
        self.gate.wait(10)
        if self.fail_on in items:
            raise StorageError("disk full")
        self.batches.append(list(items))
        return [f"ok:{i}" for i in items]

    @property
    def committed(self) -> list[int]:
        return [i for batch in self.batches for i in batch]


async def test_a_lone_submitter_commits_alone() -> None:
    store = Store()
    committer = GroupCommitter(store.commit)
    assert [await committer.submit(i) for i in range(3)] == ["ok:0", "ok:1", "ok:2"]
    assert store.batches == [[0], [1], [2]]


async def test_submitters_arriving_during_a_commit_share_the_next_one() -> None:
    store = Store()
    store.gate.clear()
    committer = GroupCommitter(store.commit)
    results: dict[int, str] = {}

    async def submit(i: int) -> None:
        results[i] = await committer.submit(i)

    async with anyio.create_task_group() as tg:
        for i in range(10):
            tg.start_soon(submit, i)
            await anyio.lowlevel.checkpoint()
        await anyio.sleep(0.05)
        store.gate.set()
    assert results == {i: f"ok:{i}" for i in range(10)}
    assert store.batches == [[0], list(range(1, 10))]


@pytest.mark.parametrize(
    ("max_batch", "expected"), [(3, [[0], [1, 2, 3], [4, 5, 6], [7]]), (100, [[0], [1, 2, 3, 4, 5, 6, 7]])]
)
async def test_batches_never_exceed_max_batch(max_batch: int, expected: list[list[int]]) -> None:
    store = Store()
    store.gate.clear()
    committer = GroupCommitter(store.commit, max_batch=max_batch)
    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(committer.submit, i)
            await anyio.lowlevel.checkpoint()
        await anyio.sleep(0.05)
        store.gate.set()
    assert store.batches == expected


async def test_a_failed_commit_fails_every_caller_in_its_batch_only() -> None:
    store = Store(fail_on=2)
    store.gate.clear()
    committer = GroupCommitter(store.commit)
    outcomes: dict[int, str] = {}

    async def submit(i: int) -> None:
        try:
            outcomes[i] = await committer.submit(i)
        except StorageError as exc:
            outcomes[i] = f"error:{exc.message}"

    async with anyio.create_task_group() as tg:
        for i in range(4):
            tg.start_soon(submit, i)
            await anyio.lowlevel.checkpoint()
        await anyio.sleep(0.05)
        store.gate.set()
    assert outcomes == {0: "ok:0", 1: "error:disk full", 2: "error:disk full", 3: "error:disk full"}
    assert await committer.submit(9) == "ok:9"  # the committer recovers for later batches


async def test_a_cancelled_waiter_is_still_committed_and_does_not_stall_others() -> None:
    store = Store()
    store.gate.clear()
    committer = GroupCommitter(store.commit)
    results: dict[int, str] = {}

    async def submit(i: int) -> None:
        results[i] = await committer.submit(i)

    async with anyio.create_task_group() as tg:
        tg.start_soon(submit, 0)  # the leader, held in its commit
        await anyio.sleep(0.01)
        with anyio.CancelScope() as doomed:
            doomed.cancel()
            await committer.submit(1)  # queued, then cancelled while waiting
        tg.start_soon(submit, 2)
        await anyio.sleep(0.01)
        store.gate.set()
    assert results == {0: "ok:0", 2: "ok:2"}
    assert store.committed == [0, 1, 2]
    assert await committer.submit(3) == "ok:3"


async def test_a_cancelled_leader_still_finishes_its_commit() -> None:
    store = Store()
    store.gate.clear()
    committer = GroupCommitter(store.commit)
    opener = threading.Timer(0.2, store.gate.set)
    opener.start()
    try:
        with anyio.move_on_after(0.02):
            await committer.submit(0)
        # The commit was shielded: cancelling the leader waited for it instead of abandoning the batch.
        assert store.gate.is_set()
        assert store.committed == [0]
    finally:
        opener.cancel()
    assert await committer.submit(1) == "ok:1"


@pytest.mark.parametrize(("inline_result", "threaded"), [(None, 2), ("inline", 0)])
async def test_an_inline_attempt_runs_first_and_falls_back_to_the_thread(
    inline_result: str | None, threaded: int
) -> None:
    store = Store()
    loop_thread = threading.get_ident()
    seen: list[bool] = []

    def inline(items: list[int]) -> Sequence[str] | None:
        seen.append(threading.get_ident() == loop_thread)
        return None if inline_result is None else [f"{inline_result}:{i}" for i in items]

    committer = GroupCommitter(store.commit, inline=inline)
    results = [await committer.submit(i) for i in range(2)]
    assert seen == [True, True]
    assert committer.threaded == threaded
    assert results == ([f"ok:{i}" for i in range(2)] if inline_result is None else ["inline:0", "inline:1"])


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommitter(Store().commit, max_batch=0)
