"""Group commit: concurrent `await submit(item)` calls share few transactions; each returns after its commit.

There is no background task to start or stop. A caller that finds no commit running first tries
the backend's non-blocking `inline` commit on the spot (the uncontended case: one caller, one
commit, nothing else). Otherwise the first caller that finds no commit running becomes the
leader: it takes every queued item (up to `max_batch`) and commits them, in a worker thread or,
when the backend's non-blocking `inline` attempt succeeds, right away on the event loop (skipping
the thread hop). Callers arriving meanwhile queue up; when the leader finishes it wakes
them and hands leadership to the first one still waiting, which commits everything queued since.
With one caller this is one commit per item; under load, batches grow by themselves and the cost
of a commit (and of an fsync with `synchronous=FULL`) is shared.

One instance serves one event loop. A caller cancelled while waiting still has its item
committed (over-recording is harmless; a silently lost audit record is not).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio

T = TypeVar("T")
R = TypeVar("R")


@dataclass(eq=False)
class _Slot(Generic[T, R]):
    item: T
    wake: anyio.Event = field(default_factory=anyio.Event)
    done: bool = False
    promoted: bool = False
    abandoned: bool = False
    result: R | None = None
    error: Exception | None = None

    def outcome(self) -> R:
        if self.error is not None:
            raise copy.copy(self.error) from self.error  # one object per caller: tracebacks must not mix
        return self.result  # type: ignore[return-value]


class GroupCommitter(Generic[T, R]):
    """Batch concurrent submissions into calls of `commit(items) -> results` (same length, same order).

    `inline`, if given, is tried first on the event loop: it must never block (return None instead,
    e.g. when the database is locked) and is then followed by `commit` in a worker thread. If either
    raises, every caller in that batch gets the exception (fail closed).
    """

    def __init__(
        self,
        commit: Callable[[list[T]], Sequence[R]],
        *,
        inline: Callable[[list[T]], Sequence[R] | None] | None = None,
        max_batch: int = 256,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._commit = commit
        self._inline = inline
        self._max_batch = max_batch
        self._queue: list[_Slot[T, R]] = []
        self._busy = False
        self.batches = 0
        self.committed = 0
        self.threaded = 0

    async def submit(self, item: T) -> R:
        """Queue `item`, wait until the batch holding it is committed, return its result."""
        inline_tried = False
        if not self._busy and self._inline is not None:
            # Nobody is committing: try the inline commit right here. It never awaits, so no other
            # submitter can slip in between; this skips the slot, its event and the shielded scope.
            inline_tried = True
            try:
                results = self._inline([item])
            except Exception:
                self.batches += 1
                self.committed += 1
                raise
            if results is not None:
                self.batches += 1
                self.committed += 1
                if len(results) != 1:
                    raise RuntimeError(f"commit returned {len(results)} results for 1 item")
                return results[0]
        slot: _Slot[T, R] = _Slot(item)
        self._queue.append(slot)
        if self._busy:
            try:
                await slot.wake.wait()
            except BaseException:
                if slot.promoted and not slot.done:
                    await self._lead(slot)  # others wait on us: lead (shielded) before giving up
                elif not slot.done:
                    slot.abandoned = True
                raise
            if slot.done:
                return slot.outcome()
        else:
            # Invariant: a non-empty queue always has a leader, so an idle committer means we are first.
            self._busy = True
        await self._lead(slot, inline_tried=inline_tried)
        return slot.outcome()

    async def _lead(self, me: _Slot[T, R], *, inline_tried: bool = False) -> None:
        with anyio.CancelScope(shield=True):
            handed_off = False
            try:
                while self._queue:
                    batch = self._queue[: self._max_batch]
                    del self._queue[: self._max_batch]
                    await self._flush(batch, try_inline=not inline_tried)  # the lock was busy a moment ago
                    inline_tried = False
                    successor = next((s for s in self._queue if not s.abandoned), None)
                    if me.done and successor is not None:
                        successor.promoted = True
                        successor.wake.set()
                        handed_off = True
                        return
                    # Otherwise our own item is still queued, or only abandoned items remain: keep leading.
            finally:
                if not handed_off:
                    self._busy = False

    async def _flush(self, batch: list[_Slot[T, R]], *, try_inline: bool = True) -> None:
        items = [s.item for s in batch]
        try:
            results = self._inline(items) if self._inline is not None and try_inline else None
            if results is None:
                self.threaded += 1
                results = await anyio.to_thread.run_sync(self._commit, items)
            if len(results) != len(batch):
                raise RuntimeError(f"commit returned {len(results)} results for {len(batch)} items")
            for slot, result in zip(batch, results, strict=True):
                slot.result = result
        except Exception as exc:
            for slot in batch:
                slot.error = exc
        finally:
            self.batches += 1
            self.committed += len(batch)
            for slot in batch:
                slot.done = True
                slot.wake.set()
