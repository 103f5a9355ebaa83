"""How much concurrent enumeration saves over enumerating the same stdio servers one by one.

Starts N stdio MCP servers with T tools each (tests/fixtures/servers/many_tools_server.py, built on the
SDK), and per repeat times `enumerate_all(..., concurrency=C)` against the sum of `enumerate_server` run
on each server alone, in the same process on the same specs (the order of the two alternates between
repeats). Prints medians, the ratio, the CPU the servers and this process used per server, how much
of a server's time alone is spent waiting rather than computing, and from those the best ratio this
machine allows: a scan cannot beat its CPU spread over every core, nor the serial time split C ways.

    python bench/scan_concurrency.py --servers 50 --tools 20 --repeat 3
    python bench/scan_concurrency.py --light   # stdlib-only servers: what start-up cost does to the ratio
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import anyio

from mcpwarden.protocol.enumerate import enumerate_server
from mcpwarden.scanner.enumerate import enumerate_all
from mcpwarden.types import ServerInventory, ServerSpec

SERVERS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "servers"
TARGET_RATIO = 0.25


@dataclass
class Run:
    wall_s: float
    client_cpu_s: float  # this process (mcpwarden + the SDK client)
    server_cpu_s: float  # every server process reaped during the run


def cpu_seconds() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def finish(started: float, cpu: tuple[float, float], wall_s: float | None = None) -> Run:
    client, server = cpu_seconds()
    wall = time.perf_counter() - started if wall_s is None else wall_s
    return Run(wall, client - cpu[0], server - cpu[1])


def make_specs(count: int, tools: int, light: bool, startup_delay: float) -> list[ServerSpec]:
    script = "raw_server.py" if light else "many_tools_server.py"
    return [
        ServerSpec(
            name=f"bench{i:03d}",
            transport="stdio",
            command=sys.executable,
            args=(str(SERVERS / script), "--tools", str(tools), "--startup-delay", str(startup_delay)),
        )
        for i in range(count)
    ]


def check(results: list[ServerInventory], tools: int) -> None:
    bad = [r for r in results if not r.ok or len(r.definitions) != tools]
    if bad:
        raise SystemExit(f"{len(bad)} servers failed, e.g. {bad[0].spec.name}: {bad[0].error}")


async def concurrent(specs: list[ServerSpec], tools: int, concurrency: int) -> Run:
    cpu, started = cpu_seconds(), time.perf_counter()
    results = await enumerate_all(specs, concurrency=concurrency, timeout=120.0)
    run = finish(started, cpu)
    check(results, tools)
    return run


async def sequential(specs: list[ServerSpec], tools: int) -> Run:
    """The sum of each server enumerated alone (timed one by one, so nothing else runs beside it)."""
    cpu, total, results = cpu_seconds(), 0.0, []
    for spec in specs:
        started = time.perf_counter()
        results.append(await enumerate_server(spec, timeout=120.0, startup_timeout=120.0))
        total += time.perf_counter() - started
    run = finish(0.0, cpu, wall_s=total)
    check(results, tools)
    return run


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=50)
    parser.add_argument("--tools", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--light", action="store_true", help="stdlib-only fixture servers instead of SDK ones")
    parser.add_argument("--startup-delay", type=float, default=0.0, help="servers sleep this long before serving")
    opts = parser.parse_args()

    specs = make_specs(opts.servers, opts.tools, opts.light, opts.startup_delay)
    cores = len(os.sched_getaffinity(0))
    kind = "stdlib raw_server.py" if opts.light else "SDK many_tools_server.py"
    if opts.startup_delay:
        kind += f", sleeping {opts.startup_delay:g} s at start-up"
    print(f"{opts.servers} stdio servers ({kind}), {opts.tools} tools each;", end=" ")
    print(f"concurrency {opts.concurrency}, {cores} cores")
    load_before = os.getloadavg()[0]
    together: list[Run] = []
    alone: list[Run] = []
    for repeat in range(opts.repeat):
        # Alternate which goes first, so neither always meets a cold page cache.
        if repeat % 2 == 0:
            together.append(await concurrent(specs, opts.tools, opts.concurrency))
            alone.append(await sequential(specs, opts.tools))
        else:
            alone.append(await sequential(specs, opts.tools))
            together.append(await concurrent(specs, opts.tools, opts.concurrency))
        print(
            f"  repeat {repeat + 1}: concurrent {together[-1].wall_s:7.2f} s   sequential sum {alone[-1].wall_s:7.2f} s"
            f"   ratio {together[-1].wall_s / alone[-1].wall_s:.3f}"
        )

    report(together, alone, opts.servers, opts.concurrency, cores)
    print(
        f"load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}: other work on the box skews it"
    )


def report(together: list[Run], alone: list[Run], servers: int, concurrency: int, cores: int) -> None:
    def per_server_ms(seconds: float) -> float:
        return seconds / servers * 1000

    wall_together = statistics.median(r.wall_s for r in together)
    wall_alone = statistics.median(r.wall_s for r in alone)
    print(f"median concurrent wall      {wall_together:8.2f} s")
    print(f"median sequential sum       {wall_alone:8.2f} s   ({per_server_ms(wall_alone):.0f} ms per server)")
    print(f"ratio                       {wall_together / wall_alone:8.3f}   (target <= {TARGET_RATIO})")
    for label, runs in (("concurrent", together), ("one by one", alone)):
        server = statistics.median(r.server_cpu_s for r in runs)
        client = statistics.median(r.client_cpu_s for r in runs)
        print(
            f"CPU per server, {label:10s}  {per_server_ms(server + client):6.1f} ms"
            f" = {per_server_ms(server):.1f} in the server + {per_server_ms(client):.1f} in mcpwarden"
        )
    cpu_alone = statistics.median(r.server_cpu_s + r.client_cpu_s for r in alone)
    waiting = max(0.0, wall_alone - cpu_alone)
    print(
        f"one server alone: {per_server_ms(wall_alone):.1f} ms wall = {per_server_ms(cpu_alone):.1f} ms CPU"
        f" + {per_server_ms(waiting):.1f} ms waiting (only the waiting overlaps on a busy machine)"
    )
    cpu_together = statistics.median(r.server_cpu_s + r.client_cpu_s for r in together)
    cpu_floor, slot_floor = cpu_together / cores, wall_alone / concurrency
    print(f"floor: CPU on {cores} cores {cpu_floor:.2f} s (ratio {cpu_floor / wall_alone:.3f}),", end=" ")
    print(f"{concurrency} at a time {slot_floor:.2f} s (ratio {slot_floor / wall_alone:.3f})", end=" ")
    print(f"-> best possible ratio {max(cpu_floor, slot_floor) / wall_alone:.3f}")


if __name__ == "__main__":
    anyio.run(main)
