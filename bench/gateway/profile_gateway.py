"""Where the gateway's time goes: the load bench's client against a gateway running under cProfile.

    python bench/gateway/profile_gateway.py [--calls 2000] [--concurrency 1] [--payload lorem] [--top 40]

Starts the echo upstream and `mcpwarden gateway` (default interceptor chain, SQLite audit log) as in
`load.py`, but the gateway runs under cProfile, switched on (by signal) only for the `--calls`
measured calls after a warm-up. The top functions by own and by cumulative time are printed, in CPU
time of the event loop's thread (time waiting in `epoll` does not count). cProfile slows Python
code several times over and C code not at all: read the shares, not the absolute times. Every
request goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import psutil
from load import HERE, PAYLOADS, RUN_CLI, Target, free_port, measure, started, wait_ready

# The gateway CLI with a profiler that SIGUSR1 starts and SIGUSR2 stops and writes: only the
# measured calls are profiled, not imports, start-up and warm-up.
_RUNNER = """
import cProfile, runpy, signal, sys, time
out = sys.argv.pop(1)
profiler = cProfile.Profile(time.thread_time)  # CPU time of the event loop's thread, not waiting
def stop(*_):
    profiler.disable()
    profiler.dump_stats(out)
signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
signal.signal(signal.SIGUSR2, stop)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--payload", choices=sorted(PAYLOADS), default="lorem")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--out", type=Path, help="keep the raw profile here (for snakeviz and the like)")
    opts = parser.parse_args()
    payload = PAYLOADS[opts.payload]()
    upstream_port, gateway_port = free_port(), free_port()
    workdir = Path(tempfile.mkdtemp(prefix="mcpwarden-profile-"))
    profile = opts.out or workdir / "gateway.prof"
    try:
        config = {
            "listen": {"port": gateway_port},
            "upstreams": {"echo": {"url": f"http://127.0.0.1:{upstream_port}/mcp"}},
            "logging": {"level": "warning"},
        }
        (workdir / "warden.yaml").write_text(json.dumps(config))
        env = {**os.environ, "MCPWARDEN_HOME": str(workdir)}
        upstream_cmd = [sys.executable, str(HERE / "echo_server.py"), "--port", str(upstream_port)]
        gateway_cmd = [sys.executable, "-c", _RUNNER, str(profile), str(RUN_CLI), "gateway"]
        gateway_cmd += ["--config", str(workdir / "warden.yaml")]
        with started(upstream_cmd, upstream_port):
            process = subprocess.Popen(gateway_cmd, env=env, stdin=subprocess.DEVNULL)
            try:
                wait_ready(f"http://127.0.0.1:{gateway_port}/healthz", process)
                target = Target(f"http://127.0.0.1:{gateway_port}/mcp", "echo__echo", psutil.Process(process.pid))
                anyio.run(measure, target, payload, 50, opts.concurrency)  # warm: listings, connections, caches
                process.send_signal(signal.SIGUSR1)
                time.sleep(0.2)
                result = anyio.run(measure, target, payload, opts.calls, opts.concurrency)
                process.send_signal(signal.SIGUSR2)
                time.sleep(0.5)
                print({k: round(v, 3) for k, v in result.items()}, file=sys.stderr)
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(str(profile), stream=out).sort_stats(order).print_stats(opts.top)
            print(out.getvalue())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
