"""Enumerate many configured servers at once, bounded, so one dead or hanging server never stalls a scan."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import anyio

from mcpwarden.protocol.enumerate import enumerate_server
from mcpwarden.types import ServerInventory, ServerSpec

DEFAULT_STARTUP_TIMEOUT_S = 15.0
# enumerate_server keeps its own deadline but then still ends a stdio server's process group
# (TERM, then KILL after a grace period); this backstop only fires if that somehow does not return.
_BACKSTOP_EXTRA_S = 10.0


async def _one(spec: ServerSpec, budget: float) -> ServerInventory:
    started = anyio.current_time()
    with anyio.move_on_after(budget + _BACKSTOP_EXTRA_S):
        return await enumerate_server(spec, timeout=budget, startup_timeout=min(DEFAULT_STARTUP_TIMEOUT_S, budget))
    return ServerInventory(
        spec=spec,
        ok=False,
        error=f"did not finish within {budget + _BACKSTOP_EXTRA_S:g}s",
        duration_s=anyio.current_time() - started,
    )


async def enumerate_all(
    specs: Sequence[ServerSpec],
    *,
    concurrency: int = 8,
    timeout: float = 30.0,  # noqa: ASYNC109 - each server's deadline is applied inside enumerate_server
    on_done: Callable[[ServerInventory], None] | None = None,
) -> list[ServerInventory]:
    """Enumerate every server in `specs`, at most `concurrency` at a time, each within `timeout` seconds.

    Returns one `ServerInventory` per spec, in input order; failures are `ok=False` entries, never
    exceptions. `on_done` is called (from the event loop) as each server finishes, in completion
    order, e.g. to advance a progress bar; an exception it raises aborts the scan.
    """
    results: list[ServerInventory | None] = [None] * len(specs)
    limiter = anyio.CapacityLimiter(max(1, concurrency))

    async def run(index: int, spec: ServerSpec) -> None:
        async with limiter:
            inventory = await _one(spec, timeout)
        results[index] = inventory
        if on_done is not None:
            on_done(inventory)

    async with anyio.create_task_group() as tg:
        for index, spec in enumerate(specs):
            tg.start_soon(run, index, spec)
    return [inventory for inventory in results if inventory is not None]
