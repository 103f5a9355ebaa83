"""Real processes for gateway tests: upstream fixture servers and the gateway itself on free ports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from tests.conftest import free_port

FIXTURES = Path(__file__).parent.parent / "fixtures" / "gateway"
UPSTREAM = FIXTURES / "upstream_server.py"
RUN_CLI = FIXTURES / "run_cli.py"
START_TIMEOUT_S = 30.0


def cli_command(*args: str) -> list[str]:
    """The `mcpwarden` command line (this Python, the gateway commands registered)."""
    return [sys.executable, str(RUN_CLI), *args]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_healthy(base: str, process: subprocess.Popen[bytes], *, upstreams: int, key: str | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    headers = {"x-api-key": key} if key else {}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gateway exited with {process.returncode}")
        try:
            state = httpx2.get(f"{base}/healthz", timeout=1, headers=headers).json()["upstreams"]
            if sum(1 for s in state.values() if s["ready"]) >= upstreams:
                return
        except (httpx2.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise RuntimeError("gateway did not become healthy in time")


@pytest.fixture(scope="session")
def http_upstream() -> Iterator[str]:
    """The fixture server over streamable HTTP; yields its MCP URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(UPSTREAM), "--name", "web", "--http", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    url = f"http://127.0.0.1:{port}/mcp"
    while time.monotonic() < deadline:
        try:
            httpx2.get(url, timeout=1)
            break
        except httpx2.HTTPError:
            time.sleep(0.1)
    yield url
    _stop(process)


def upstream_entry(name: str) -> dict[str, object]:
    return {"command": sys.executable, "args": [str(UPSTREAM), "--name", name]}


GatewayStarter = Callable[..., tuple[str, subprocess.Popen[bytes]]]


@pytest.fixture(scope="session")
def start_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayStarter]:
    """Start `mcpwarden gateway` with a config (a dict) on a free port; returns (base URL, process)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(
        config: dict[str, object], *, env: dict[str, str] | None = None, key: str | None = None
    ) -> tuple[str, subprocess.Popen[bytes]]:
        workdir = tmp_path_factory.mktemp("gateway")
        port = free_port()
        config = {**config, "listen": {**dict(config.get("listen") or {}), "port": port}}  # type: ignore[arg-type]
        path = workdir / "warden.yaml"
        path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
        log = (workdir / "gateway.log").open("wb")
        process = subprocess.Popen(
            cli_command("gateway", "--config", str(path)),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env={**os.environ, **(env or {}), "MCPWARDEN_HOME": str(workdir)},
        )
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process, upstreams=len(config["upstreams"]), key=key)  # type: ignore[arg-type]
        return base, process

    yield start
    for process in started:
        _stop(process)


@pytest.fixture(scope="session")
def gateway_url(start_gateway: GatewayStarter, http_upstream: str) -> str:
    """The main test gateway: two stdio upstreams and one HTTP upstream, default chain, path rules."""
    config = {
        "upstreams": {"fx": upstream_entry("fx"), "other": upstream_entry("other"), "web": {"url": http_upstream}},
        "limits": {"max_message_bytes": 65536, "max_json_depth": 32, "call_timeout": 20},
        "interceptors": {"constraints": {"tools": {"fx__read_file": {"path": {"paths": ["/srv/data/*"]}}}}},
    }
    base, _ = start_gateway(config)
    return base
