"""Red-team fixtures: the deliberately vulnerable server and its hardened twin, over stdio and HTTP."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest

from mcpwarden.redteam import RunOptions, Target, run_redteam
from mcpwarden.redteam.runner import RedTeamReport

FIXTURES = Path(__file__).parent.parent / "fixtures" / "redteam"
VULNERABLE = FIXTURES / "vulnerable_server.py"
HARDENED = FIXTURES / "hardened_server.py"
ISSUER = "https://auth.example.com"  # the hardened fixture's issuer
START_TIMEOUT_S = 30.0


def stdio_target(script: Path) -> Target:
    return Target(command=(sys.executable, str(script)))


def run(target: Target, **options: object) -> RedTeamReport:
    """One red-team run, synchronously (module-scoped fixtures share the expensive ones)."""
    return anyio.run(run_redteam, target, RunOptions(**options))  # type: ignore[arg-type]


def _wait_for_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("URL "):
            return line.split()[1]
        if not line and process.poll() is not None:
            break
    raise RuntimeError(f"fixture server did not start (exit {process.poll()})")


@pytest.fixture(scope="module")
def http_fixture() -> Iterator[Callable[..., str]]:
    """Start a red-team fixture server over HTTP: `start(script, *args)` → its MCP URL."""
    processes: list[subprocess.Popen[str]] = []

    def start(script: Path, *args: str) -> str:
        process = subprocess.Popen(
            [sys.executable, str(script), "--http", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        processes.append(process)
        return _wait_for_url(process)

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """An RSA key made for this test run: (private PEM text, path of the public PEM)."""
    from joserfc.jwk import RSAKey

    key = RSAKey.generate_key(2048)
    public = tmp_path_factory.mktemp("keys") / "idp.pub.pem"
    public.write_bytes(key.as_pem(private=False))
    return key.as_pem(private=True).decode(), public
