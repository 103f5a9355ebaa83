"""Gateway overhead: a 4 KB echo tool called directly and through the gateway (full default chain).

    python bench/gateway/load.py [--calls 400] [--sessions 500]

Starts the echo upstream (streamable HTTP), then `mcpwarden gateway` in front of it with the
default interceptor chain (argument constraints, result scanning) and the SQLite audit log, and
drives both with the same client: raw httpx2 POSTs speaking the 2025 session protocol
(initialize, then tools/call). Reports median and p99 latency at concurrency 1, calls/s at
concurrency 16, the added latency and the throughput ratio, and the gateway's RSS with N open
sessions (psutil). Every request goes to 127.0.0.1; loops are bounded by --calls.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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

import anyio
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
def started(command: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    try:
        wait_listening(port, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


class McpHttpClient:
    """The load client: one session, tools/call as raw JSON POSTs."""

    def __init__(self, http: httpx2.AsyncClient, url: str) -> None:
        self.http = http
        self.url = url
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
        reply = await self.http.post(self.url, content=json.dumps(body), headers=HEADERS)
        reply.raise_for_status()
        self.session = reply.headers["mcp-session-id"]
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        await self.http.post(self.url, content=json.dumps(note), headers=self._headers())

    def _headers(self) -> dict[str, str]:
        return {**HEADERS, "mcp-session-id": self.session, "mcp-protocol-version": "2025-11-25"}

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
        return result["result"]["content"][0]["text"]


def unique(payload: str, number: int) -> str:
    return payload[:-10] + f"{number:>10}"


async def measure(url: str, tool: str, payload: str, calls: int, concurrency: int) -> dict[str, float]:
    limits = httpx2.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx2.AsyncClient(timeout=30, limits=limits) as http:
        client = McpHttpClient(http, url)
        await client.initialize()
        for number in range(30):  # warm-up: connections, listings
            text = unique(payload, -number)
            assert await client.call(tool, {"text": text}) == text
        latencies: list[float] = []
        remaining = calls

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                text = unique(payload, remaining)  # no two calls alike: no cache anywhere can help
                started = time.perf_counter()
                echoed = await client.call(tool, {"text": text})
                latencies.append(time.perf_counter() - started)
                assert echoed == text

        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(concurrency):
                tg.start_soon(worker)
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "median_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "calls_per_s": len(latencies) / elapsed,
    }


async def open_sessions(url: str, count: int, payload: str) -> None:
    limits = httpx2.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx2.AsyncClient(timeout=30, limits=limits) as http:
        semaphore = anyio.Semaphore(16)

        async def one() -> None:
            async with semaphore:
                client = McpHttpClient(http, url)
                await client.initialize()
                await client.call("echo__echo", {"text": payload[:256]})

        async with anyio.create_task_group() as tg:
            for _ in range(count):
                tg.start_soon(one)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--payload", choices=sorted(PAYLOADS), default="lorem")
    opts = parser.parse_args()
    payload = PAYLOADS[opts.payload]()
    upstream_port, gateway_port = free_port(), free_port()
    workdir = Path(tempfile.mkdtemp(prefix="mcpwarden-bench-"))
    config = {
        "listen": {"port": gateway_port},
        "upstreams": {"echo": {"url": f"http://127.0.0.1:{upstream_port}/mcp"}},
        "logging": {"level": "warning"},
    }
    (workdir / "warden.yaml").write_text(json.dumps(config))
    env = {**os.environ, "MCPWARDEN_HOME": str(workdir)}
    upstream_cmd = [sys.executable, str(HERE / "echo_server.py"), "--port", str(upstream_port)]
    gateway_cmd = [sys.executable, str(RUN_CLI), "gateway", "--config", str(workdir / "warden.yaml")]
    results: dict[str, dict[str, float]] = {}
    rounds = 3  # direct and gateway alternate, so drift in machine load hits both alike
    with started(upstream_cmd, upstream_port) as upstream, started(gateway_cmd, gateway_port, env) as gateway:
        urls = {
            "direct": (f"http://127.0.0.1:{upstream_port}/mcp", "echo"),
            "gateway": (f"http://127.0.0.1:{gateway_port}/mcp", "echo__echo"),
        }
        gw_process, up_process = psutil.Process(gateway.pid), psutil.Process(upstream.pid)
        cpu = {"gateway": 0.0, "upstream_direct": 0.0, "upstream_via": 0.0}
        for concurrency in (1, 16):
            samples: dict[str, list[dict[str, float]]] = {"direct": [], "gateway": []}
            for _ in range(rounds):
                for target, (url, tool) in urls.items():
                    gw0, up0 = sum(gw_process.cpu_times()[:2]), sum(up_process.cpu_times()[:2])
                    samples[target].append(anyio.run(measure, url, tool, payload, opts.calls // rounds, concurrency))
                    if concurrency == 1:
                        if target == "gateway":
                            cpu["gateway"] += sum(gw_process.cpu_times()[:2]) - gw0
                            cpu["upstream_via"] += sum(up_process.cpu_times()[:2]) - up0
                        else:
                            cpu["upstream_direct"] += sum(up_process.cpu_times()[:2]) - up0
            for target, runs in samples.items():
                results[f"{target} c{concurrency}"] = {
                    key: statistics.median(run[key] for run in runs) for key in ("median_ms", "p99_ms", "calls_per_s")
                }
        calls_c1 = (opts.calls // rounds) * rounds + 30 * rounds
        rss_before = gw_process.memory_info().rss / 2**20
        gateway_url = urls["gateway"][0]
        anyio.run(open_sessions, gateway_url, opts.sessions, payload)
        rss_after = gw_process.memory_info().rss / 2**20
    print(f"{'target':<12} {'median ms':>10} {'p99 ms':>8} {'calls/s':>9}")
    for name, r in results.items():
        print(f"{name:<12} {r['median_ms']:>10.2f} {r['p99_ms']:>8.2f} {r['calls_per_s']:>9.1f}")
    added_median = results["gateway c1"]["median_ms"] - results["direct c1"]["median_ms"]
    added_p99 = results["gateway c1"]["p99_ms"] - results["direct c1"]["p99_ms"]
    ratio = results["gateway c16"]["calls_per_s"] / results["direct c16"]["calls_per_s"]
    figures = {
        "added_median_ms": added_median,
        "added_p99_ms": added_p99,
        "throughput_ratio": ratio,
        "rss_mb": rss_after,
    }
    print(f"\ngateway RSS: {rss_before:.1f} MB before, {rss_after:.1f} MB with {opts.sessions} more sessions")
    per_call = {k: v * 1000 / calls_c1 for k, v in cpu.items()}
    print(
        f"CPU per call at c1: gateway {per_call['gateway']:.2f} ms; upstream {per_call['upstream_direct']:.2f} ms "
        f"direct, {per_call['upstream_via']:.2f} ms via the gateway"
    )
    for key, value in figures.items():
        target = TARGETS[key]
        at_least = key == "throughput_ratio"
        ok = value >= target if at_least else value <= target
        print(f"{key:<18} {value:>8.2f}  target {'>=' if at_least else '<='} {target:<5} {'ok' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
