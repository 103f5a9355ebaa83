"""Shared fixtures: real MCP test servers (tests/fixtures/servers/) as stdio specs or HTTP endpoints."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from mcpwarden.types import ServerSpec

FIXTURE_SERVERS = Path(__file__).parent / "fixtures" / "servers"
HTTP_START_TIMEOUT_S = 20.0


@pytest.fixture(scope="session", autouse=True)
def detection_cache() -> None:
    """Compile the default detection engine's Hyperscan databases once, before any test runs.

    On a fresh machine the first compile takes tens of seconds; paid inside a test it would eat that
    test's time budget (a gateway subprocess that must answer within 30 s). The cache directory is
    pinned in the environment so subprocesses started with a fake HOME still find the compiled
    databases.
    """
    from mcpwarden.detect.engine import default_engine

    default_dir = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mcpwarden")
    os.environ.setdefault("MCPWARDEN_CACHE_DIR", default_dir)
    default_engine().prepare()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Run `pytest.mark.anyio` tests on asyncio only.

    anyio's default parametrises over every installed backend, and the trio here (0.22) predates
    the `cancel(reason)` call anyio 4.16 makes, which breaks the MCP SDK under trio.
    """
    return "asyncio"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fixture_server() -> Callable[..., ServerSpec]:
    """Make a stdio `ServerSpec` that runs tests/fixtures/servers/<script> with this Python."""

    def make(
        script: str,
        *args: str,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> ServerSpec:
        return ServerSpec(
            name=name or Path(script).stem,
            transport="stdio",
            command=sys.executable,
            args=(str(FIXTURE_SERVERS / script), *args),
            env=dict(env or {}),
            cwd=cwd,
        )

    return make


def _wait_until_listening(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + HTTP_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"http_server.py exited with code {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"http_server.py did not listen on port {port} within {HTTP_START_TIMEOUT_S:g}s")


@pytest.fixture(scope="session")
def http_server() -> Iterator[Callable[..., str]]:
    """Start tests/fixtures/servers/http_server.py with the given arguments; returns its base URL.

    `http_server("--require-token", "t")` → "http://127.0.0.1:<port>". One server per distinct
    argument list for the whole session (tests only read from them), stopped at the end.
    """
    started: dict[tuple[str, ...], tuple[subprocess.Popen[bytes], str]] = {}

    def start(*args: str) -> str:
        if args not in started:
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, str(FIXTURE_SERVERS / "http_server.py"), "--port", str(port), *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                _wait_until_listening(process, port)
            except RuntimeError:
                process.kill()
                process.wait(timeout=10)
                raise
            started[args] = (process, f"http://127.0.0.1:{port}")
        return started[args][1]

    yield start
    for process, _url in started.values():
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
