"""enumerate_all: input order, progress callbacks, real concurrency, and no stalls on bad servers."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from mcpwarden.scanner.enumerate import enumerate_all
from mcpwarden.types import ServerInventory, ServerSpec

pytestmark = pytest.mark.anyio

SpecMaker = Callable[..., ServerSpec]


async def test_results_keep_input_order_and_each_server_reports_once(fixture_server: SpecMaker) -> None:
    specs = [
        fixture_server("raw_server.py", "--startup-delay", "1.0", name="slow"),
        ServerSpec(name="missing", transport="stdio", command="mcpwarden-no-such-binary"),
        fixture_server("raw_server.py", "--tools", "3", name="quick"),
    ]
    done: list[ServerInventory] = []

    results = await enumerate_all(specs, concurrency=3, timeout=10.0, on_done=done.append)

    assert [r.spec.name for r in results] == ["slow", "missing", "quick"]
    assert [r.ok for r in results] == [True, False, True]
    assert [len(r.definitions) for r in results] == [2, 0, 3]
    assert sorted(r.spec.name for r in done) == ["missing", "quick", "slow"]
    assert done[-1].spec.name == "slow"  # callbacks come in completion order


async def test_servers_are_enumerated_concurrently(fixture_server: SpecMaker) -> None:
    delay, count = 0.5, 10
    specs = [fixture_server("raw_server.py", "--startup-delay", str(delay), name=f"s{i}") for i in range(count)]

    started = time.monotonic()
    results = await enumerate_all(specs, concurrency=count, timeout=20.0)
    elapsed = time.monotonic() - started

    assert all(r.ok for r in results), [r.error for r in results]
    # One after another they cannot take less than the sum of their start-up sleeps.
    assert elapsed < 0.6 * delay * count


async def test_concurrency_is_bounded(fixture_server: SpecMaker) -> None:
    delay = 0.5
    specs = [fixture_server("raw_server.py", "--startup-delay", str(delay), name=f"s{i}") for i in range(4)]

    started = time.monotonic()
    results = await enumerate_all(specs, concurrency=2, timeout=20.0)
    elapsed = time.monotonic() - started

    assert all(r.ok for r in results)
    assert elapsed >= 2 * delay  # two waves of two


async def test_a_hanging_server_does_not_stall_the_others(fixture_server: SpecMaker) -> None:
    specs = [fixture_server("hang_server.py", "--ignore-term", name="hang")] + [
        fixture_server("raw_server.py", name=f"ok{i}") for i in range(4)
    ]
    finished_at: dict[str, float] = {}
    started = time.monotonic()

    results = await enumerate_all(
        specs, concurrency=2, timeout=2.0, on_done=lambda inv: finished_at.update({inv.spec.name: time.monotonic()})
    )

    assert [r.ok for r in results] == [False, True, True, True, True]
    assert "no answer to the MCP handshake within 2s" in (results[0].error or "")
    # The healthy servers all finished while the hanging one was still being waited for.
    assert max(finished_at[f"ok{i}"] for i in range(4)) < finished_at["hang"]
    assert finished_at["hang"] - started < 2.0 + 3.5
