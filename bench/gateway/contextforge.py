"""ContextForge (`mcp-contextforge-gateway`) as a third target of `load.py`: installed, started, given the upstream.

It lives in its own virtual environment (`~/.cache/mcpwarden-bench/contextforge`, or
`$MCPWARDEN_BENCH_CACHE/contextforge`), created on first use with `python -m venv` and
`pip install mcp-contextforge-gateway==PINNED` (the package index the machine's pip uses must
serve it: offline, a local mirror). It runs as its own `mcpgateway` CLI starts it (uvicorn, one
worker, SQLite) with its defaults except what an offline single-machine benchmark needs:

- `JWT_SECRET_KEY`, `AUTH_ENCRYPTION_SECRET`, `PLATFORM_ADMIN_PASSWORD`, `BASIC_AUTH_PASSWORD`: fresh
  random values (it refuses to start with its placeholders);
- `DATABASE_URL`: a SQLite file in the run's scratch directory;
- `SSRF_ALLOW_LOCALHOST=true`: its SSRF guard refuses to register a 127.0.0.1 upstream otherwise;
- `RATE_LIMITING_ENABLED=false`: its default of 100 MCP requests a minute would measure the limiter.

Authentication stays on: the client presents a JWT minted with its own tool
(`python -m mcpgateway.utils.create_jwt_token --admin`), which also registers the upstream
(`POST /gateways`, transport STREAMABLEHTTP). The upstream's `echo` tool is then served at
`/mcp` as `echo-echo`; its streamable HTTP is stateless by default (no `Mcp-Session-Id`).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx2

PACKAGE = "mcp-contextforge-gateway"
VERSION = "1.0.7.post20260921"
TOOL = "echo-echo"


class Unavailable(Exception):
    """ContextForge could not be installed, started or configured; the message says why."""


def venv_dir() -> Path:
    base = os.environ.get("MCPWARDEN_BENCH_CACHE") or str(Path.home() / ".cache" / "mcpwarden-bench")
    return Path(base) / "contextforge"


def install(log: Path) -> Path:
    """The venv's bin directory, creating the venv and installing the pinned release if needed."""
    venv = venv_dir()
    bin_dir = venv / "bin"
    marker = venv / f".installed-{VERSION}"
    if marker.exists() and (bin_dir / "mcpgateway").exists():
        return bin_dir
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(bin_dir / "python"), "-m", "pip", "install", "--disable-pip-version-check", f"{PACKAGE}=={VERSION}"],
    ]
    with log.open("a") as out:
        for command in steps:
            try:
                done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=1200, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise Unavailable(f"`{' '.join(command[:4])} …` failed: {exc}") from None
            if done.returncode != 0:
                raise Unavailable(f"`{' '.join(command[:4])} …` exited with {done.returncode} (see {log})")
    marker.write_text(VERSION)
    return bin_dir


def environment(workdir: Path, port: int) -> dict[str, str]:
    """Its settings: defaults, plus fresh secrets, a SQLite file, loopback upstreams, no rate limiter."""
    return {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "AUTH_ENCRYPTION_SECRET": secrets.token_urlsafe(48),
        "PLATFORM_ADMIN_EMAIL": "admin@example.com",
        "PLATFORM_ADMIN_PASSWORD": secrets.token_urlsafe(24),
        "BASIC_AUTH_PASSWORD": secrets.token_urlsafe(24),
        "DATABASE_URL": f"sqlite:///{workdir / 'contextforge.db'}",
        "SSRF_ALLOW_LOCALHOST": "true",
        "RATE_LIMITING_ENABLED": "false",
    }


def command(bin_dir: Path, port: int) -> list[str]:
    return [str(bin_dir / "mcpgateway"), "--host", "127.0.0.1", "--port", str(port)]


def wait_healthy(port: int, process: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Unavailable(f"mcpgateway exited with {process.returncode} while starting")
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.5)
    raise Unavailable(f"mcpgateway was not healthy within {timeout:.0f} s")


def token(bin_dir: Path, env: dict[str, str]) -> str:
    """An admin JWT minted with ContextForge's own tool and the run's secret."""
    mint = [str(bin_dir / "python"), "-m", "mcpgateway.utils.create_jwt_token", "--username", "admin@example.com"]
    mint += ["--exp", "120", "--secret", env["JWT_SECRET_KEY"], "--admin"]
    done = subprocess.run(mint, env=env, capture_output=True, text=True, timeout=120, check=False)
    minted = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if done.returncode != 0 or minted.count(".") != 2:
        raise Unavailable(f"could not mint a token: {done.stderr.strip()[-300:]}")
    return minted


def register(port: int, bearer: str, upstream_url: str) -> None:
    """Register the echo upstream (`POST /gateways`) and check its tool is listed."""
    headers = {"authorization": f"Bearer {bearer}", "content-type": "application/json"}
    body = {"name": "echo", "url": upstream_url, "transport": "STREAMABLEHTTP"}
    reply = httpx2.post(f"http://127.0.0.1:{port}/gateways", json=body, headers=headers, timeout=60)
    if reply.status_code >= 300:
        raise Unavailable(f"registering the upstream answered HTTP {reply.status_code}: {reply.text[:300]}")
    tools = httpx2.get(f"http://127.0.0.1:{port}/tools", headers=headers, timeout=60).json()
    if TOOL not in {t.get("name") for t in tools}:
        raise Unavailable(f"the upstream's tool is not listed as {TOOL}: {[t.get('name') for t in tools]}")
