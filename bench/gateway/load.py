"""Gateway overhead: a 4 KB echo tool called directly, through mcpwarden and (optionally) through ContextForge.

    python bench/gateway/load.py [--calls 400] [--rounds 3] [--sessions 500] [--repeat 1] [--contextforge] [--json FILE]

Starts the echo upstream (streamable HTTP), then `mcpwarden gateway` in front of it with the
default interceptor chain (kill switch, authz, argument constraints, rate limit, flow control,
approval, pin check, result scanning) and the SQLite audit log. The same client drives every
target: raw httpx2 POSTs speaking the 2025 protocol (initialize, then tools/call). Direct and
mcpwarden take turns, `--rounds` times at each concurrency, so drift in the machine's load hits
both alike; figures are the medians of the rounds. Then mcpwarden's RSS with N more open
sessions (psutil). With `--contextforge`, once mcpwarden has stopped, ContextForge is started in
front of the same upstream (see `contextforge.py`; skipped with the reason when it cannot be
installed or started) and takes turns with direct in the same way ("cf phase"), so neither
gateway runs in the other's background. Reports median and p99 latency at concurrency 1, calls/s
at 1 and 16, added latency and throughput ratios, CPU time per call of each serving process, and
the load average while measuring. Every request goes to 127.0.0.1; loops are bounded by --calls.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import contextforge  # the sibling module: a script's own directory is on sys.path
import httpx2
import psutil

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
RUN_CLI = ROOT / "tests" / "fixtures" / "gateway" / "run_cli.py"
HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
TARGETS = {"added_median_ms": 1.5, "added_p99_ms": 5.0, "throughput_ratio": 0.6, "rss_mb": 150.0}


def _words(vocabulary: str) -> str:
    rng = random.Random(7)
    words = vocabulary.split()
    text = ""
    while len(text) < 4096:
        text += rng.choice(words) + (". " if rng.random() < 0.08 else " ")
    return text[:4096]


PAYLOADS = {
    # Neutral prose: the common case for detection (few rule keywords).
    "lorem": lambda: _words(
        "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et "
        "dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea"
    ),
    # Technical English full of words detection rules key on (file, user, server, send, data, …).
    "technical": lambda: _words(
        "the of and to in is for on that with as are this be by from at or an it not was which can have has "
        "more data file value result user server request time system each when will send read all new into"
    ),
    # Random alphanumerics: looks like base64 everywhere, the detector's decoding worst case.
    "random": lambda: "".join(
        random.Random(7).choice(string.ascii_letters + string.digits + "     ") for _ in range(4096)
    ),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@contextmanager
def started(
    command: list[str],
    port: int,
    env: dict[str, str] | None = None,
    *,
    log: Path | None = None,
    cwd: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    out = log.open("ab") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, cwd=cwd)
    try:
        wait_listening(port, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        if log is not None:
            out.close()  # type: ignore[union-attr]


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 600.0) -> None:
    """Wait until `url` answers 200 and, for mcpwarden's `/healthz`, its detection engine's databases
    are loaded (compiling them, after a rule change, takes minutes here; calls would wait for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        with contextlib.suppress(httpx2.HTTPError, ValueError):
            reply = httpx2.get(url, timeout=5)
            loading = url.endswith("/healthz") and reply.json().get("detection") == "loading"
            if reply.status_code == 200 and not loading:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


class McpHttpClient:
    """The load client: one session (none for a stateless server), tools/call as raw JSON POSTs."""

    def __init__(self, http: httpx2.AsyncClient, url: str, headers: dict[str, str] | None = None) -> None:
        self.http = http
        self.url = url
        self.base = {**HEADERS, **(headers or {})}
        self.session = ""
        self.next_id = 0

    async def initialize(self) -> None:
        body = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "load", "version": "1"},
            },
        }
        reply = await self.http.post(self.url, content=json.dumps(body), headers=self.base)
        reply.raise_for_status()
        self.session = reply.headers.get("mcp-session-id", "")
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        await self.http.post(self.url, content=json.dumps(note), headers=self._headers())

    def _headers(self) -> dict[str, str]:
        session = {"mcp-session-id": self.session} if self.session else {}  # stateless servers send none
        return {**self.base, **session, "mcp-protocol-version": "2025-11-25"}

    async def call(self, tool: str, arguments: dict[str, object]) -> str:
        self.next_id += 1
        body = {
            "jsonrpc": "2.0",
            "id": self.next_id,
            "method": "tools/call",
            "params": {"name": tool, "arguments": arguments},
        }
        reply = await self.http.post(self.url, content=json.dumps(body), headers=self._headers())
        text = reply.text
        if reply.headers.get("content-type", "").startswith("text/event-stream"):
            text = next(line[5:].strip() for line in text.splitlines() if line.startswith("data:"))
        result = json.loads(text)
        if "result" not in result or result["result"].get("isError"):
            raise RuntimeError(f"call failed: {text[:300]}")
        return str(result["result"]["content"][0]["text"])


def unique(payload: str, number: int) -> str:
    return payload[:-10] + f"{number:>10}"


class Target:
    """One endpoint under test: where it listens, its tool's name, its headers, the process serving it."""

    def __init__(self, url: str, tool: str, process: psutil.Process, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.tool = tool
        self.process = process
        self.headers = headers or {}

    def cpu_seconds(self) -> float:
        """User + system CPU of the serving process and its children."""
        total = 0.0
        for proc in (self.process, *self.process.children(recursive=True)):
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total


async def measure(target: Target, payload: str, calls: int, concurrency: int) -> dict[str, float]:
    limits = httpx2.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx2.AsyncClient(timeout=60, limits=limits) as http:
        client = McpHttpClient(http, target.url, target.headers)
        await client.initialize()
        for number in range(30):  # warm-up: connections, listings
            text = unique(payload, -number)
            assert await client.call(target.tool, {"text": text}) == text
        latencies: list[float] = []
        remaining = calls

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                text = unique(payload, remaining)  # no two calls alike: no cache anywhere can help
                started = time.perf_counter()
                echoed = await client.call(target.tool, {"text": text})
                latencies.append(time.perf_counter() - started)
                assert echoed == text

        cpu0 = target.cpu_seconds()
        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(concurrency):
                tg.start_soon(worker)
        elapsed = time.perf_counter() - started
        cpu = target.cpu_seconds() - cpu0
    latencies.sort()
    return {
        "median_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "calls_per_s": len(latencies) / elapsed,
        "cpu_ms_per_call": cpu * 1000 / len(latencies),
    }


async def open_sessions(url: str, count: int, payload: str) -> None:
    limits = httpx2.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx2.AsyncClient(timeout=60, limits=limits) as http:
        semaphore = anyio.Semaphore(16)

        async def one() -> None:
            async with semaphore:
                client = McpHttpClient(http, url)
                await client.initialize()
                await client.call("echo__echo", {"text": payload[:256]})

        async with anyio.create_task_group() as tg:
            for _ in range(count):
                tg.start_soon(one)


def contextforge_target(stack: contextlib.ExitStack, workdir: Path, upstream_url: str) -> Target | None:
    """ContextForge in front of the upstream (stopped with `stack`), or None with the reason printed."""
    port = free_port()
    log = workdir / "contextforge.log"
    try:
        bin_dir = contextforge.install(log)
        env = contextforge.environment(workdir, port)
        process = stack.enter_context(started(contextforge.command(bin_dir, port), port, env, log=log, cwd=workdir))
        contextforge.wait_healthy(port, process)
        bearer = contextforge.token(bin_dir, env)
        contextforge.register(port, bearer, upstream_url)
    except (contextforge.Unavailable, RuntimeError, httpx2.HTTPError, OSError, subprocess.SubprocessError) as exc:
        tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
        print(f"ContextForge skipped: {exc}", *tail, sep="\n    ", file=sys.stderr)
        return None
    headers = {"authorization": f"Bearer {bearer}"}
    return Target(f"http://127.0.0.1:{port}/mcp", contextforge.TOOL, psutil.Process(process.pid), headers)


def run(opts: argparse.Namespace) -> dict[str, Any]:
    payload = PAYLOADS[opts.payload]()
    upstream_port, gateway_port = free_port(), free_port()
    workdir = Path(tempfile.mkdtemp(prefix="mcpwarden-bench-"))
    try:
        return _run(opts, payload, upstream_port, gateway_port, workdir)
    finally:
        if opts.keep:
            print(f"scratch directory kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(
    opts: argparse.Namespace, payload: str, upstream_port: int, gateway_port: int, workdir: Path
) -> dict[str, Any]:
    config = {
        "listen": {"port": gateway_port},
        "upstreams": {"echo": {"url": f"http://127.0.0.1:{upstream_port}/mcp"}},
        "logging": {"level": "warning"},
    }
    (workdir / "warden.yaml").write_text(json.dumps(config))
    env = {**os.environ, "MCPWARDEN_HOME": str(workdir)}
    upstream_url = f"http://127.0.0.1:{upstream_port}/mcp"
    upstream_cmd = [sys.executable, str(HERE / "echo_server.py"), "--port", str(upstream_port)]
    gateway_cmd = [sys.executable, str(RUN_CLI), "gateway", "--config", str(workdir / "warden.yaml")]
    results: dict[str, dict[str, float]] = {}
    loads: list[float] = []

    def compare(targets: dict[str, Target], suffix: str = "") -> None:
        for concurrency in (1, 16):
            samples: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
            for _ in range(opts.rounds):
                for name, target in targets.items():
                    loads.append(os.getloadavg()[0])
                    samples[name].append(anyio.run(measure, target, payload, opts.calls // opts.rounds, concurrency))
            for name, runs in samples.items():
                results[f"{name}{suffix} c{concurrency}"] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}

    forge_rss = None
    with started(upstream_cmd, upstream_port) as upstream:
        direct = Target(upstream_url, "echo", psutil.Process(upstream.pid))
        with started(gateway_cmd, gateway_port, env, log=workdir / "gateway.log") as gateway:
            wait_ready(f"http://127.0.0.1:{gateway_port}/healthz", gateway)
            warden = Target(f"http://127.0.0.1:{gateway_port}/mcp", "echo__echo", psutil.Process(gateway.pid))
            compare({"direct": direct, "mcpwarden": warden})
            rss_before = warden.process.memory_info().rss / 2**20
            anyio.run(open_sessions, warden.url, opts.sessions, payload)
            rss_after = warden.process.memory_info().rss / 2**20
        if opts.contextforge:  # after mcpwarden has stopped: neither runs in the other's background
            with contextlib.ExitStack() as stack:
                forge = contextforge_target(stack, workdir, upstream_url)
                if forge is not None:
                    compare({"direct": direct, "contextforge": forge}, suffix=" (cf phase)")
                    forge_rss = forge.process.memory_info().rss / 2**20
    return {
        "results": results,
        "rss_mb": {"mcpwarden_before": rss_before, "mcpwarden_with_sessions": rss_after, "contextforge": forge_rss},
        "sessions": opts.sessions,
        "load_average": {"min": min(loads), "median": statistics.median(loads), "max": max(loads)},
        "cpus": os.cpu_count(),
    }


def figures(report: dict[str, Any]) -> dict[str, float]:
    """The figures the targets are about, plus the comparison with ContextForge when it ran."""
    r = report["results"]
    out = {
        "added_median_ms": r["mcpwarden c1"]["median_ms"] - r["direct c1"]["median_ms"],
        "added_p99_ms": r["mcpwarden c1"]["p99_ms"] - r["direct c1"]["p99_ms"],
        "throughput_ratio": r["mcpwarden c16"]["calls_per_s"] / r["direct c16"]["calls_per_s"],
        "rss_mb": report["rss_mb"]["mcpwarden_with_sessions"],
    }
    if "contextforge (cf phase) c1" in r:
        forge = {c: r[f"contextforge (cf phase) c{c}"] for c in (1, 16)}
        base = {c: r[f"direct (cf phase) c{c}"] for c in (1, 16)}
        out["contextforge_added_median_ms"] = forge[1]["median_ms"] - base[1]["median_ms"]
        out["contextforge_added_p99_ms"] = forge[1]["p99_ms"] - base[1]["p99_ms"]
        out["contextforge_throughput_ratio"] = forge[16]["calls_per_s"] / base[16]["calls_per_s"]
        out["mcpwarden_vs_contextforge_calls_per_s_c16"] = r["mcpwarden c16"]["calls_per_s"] / forge[16]["calls_per_s"]
        out["contextforge_vs_mcpwarden_added_median"] = out["contextforge_added_median_ms"] / max(
            out["added_median_ms"], 1e-9
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=400, help="calls per target and concurrency, over all rounds")
    parser.add_argument("--rounds", type=int, default=3, help="turns each target takes at each concurrency")
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--payload", choices=sorted(PAYLOADS), default="lorem")
    parser.add_argument("--contextforge", action="store_true", help="also measure ContextForge (own venv)")
    parser.add_argument("--json", type=Path, help="also write the report and figures as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (databases, logs)")
    parser.add_argument("--repeat", type=int, default=1, help="whole runs (fresh processes); figures: their medians")
    opts = parser.parse_args()
    reports = []
    for number in range(opts.repeat):
        reports.append(run(opts))
        if opts.repeat > 1:
            line = ", ".join(f"{k} {v:.2f}" for k, v in figures(reports[-1]).items())
            print(f"run {number + 1}/{opts.repeat}: {line}", file=sys.stderr)
    report = reports[len(reports) // 2] if opts.repeat > 1 else reports[0]
    found = figures(report)
    if opts.repeat > 1:  # each figure's median over the runs (the table shows the middle run)
        found = {k: statistics.median(figures(r)[k] for r in reports) for k in found}
    print(f"{'target':<28} {'median ms':>10} {'p99 ms':>8} {'calls/s':>9} {'CPU ms/call':>12}")
    for name, r in report["results"].items():
        cpu = r["cpu_ms_per_call"]
        print(f"{name:<28} {r['median_ms']:>10.2f} {r['p99_ms']:>8.2f} {r['calls_per_s']:>9.1f} {cpu:>12.2f}")
    rss = report["rss_mb"]
    load = report["load_average"]
    print(f"\nload average (1 min) while measuring: {load['min']:.1f}–{load['max']:.1f}, median {load['median']:.1f}")
    print(
        f"mcpwarden RSS: {rss['mcpwarden_before']:.1f} MB before, {rss['mcpwarden_with_sessions']:.1f} MB "
        f"with {report['sessions']} more sessions"
        + (f"; ContextForge RSS {rss['contextforge']:.1f} MB" if rss["contextforge"] is not None else "")
    )
    for key, value in found.items():
        target = TARGETS.get(key)
        if target is None:
            print(f"{key:<42} {value:>8.2f}")
            continue
        at_least = key == "throughput_ratio"
        ok = value >= target if at_least else value <= target
        print(f"{key:<42} {value:>8.2f}  target {'>=' if at_least else '<='} {target:<5} {'ok' if ok else 'MISSED'}")
    if opts.json is not None:
        runs = [{**r, "figures": figures(r)} for r in reports]
        opts.json.write_text(json.dumps({**report, "figures": found, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
