"""`mcpwarden gateway` (the HTTP gateway) and `mcpwarden wrap` (one stdio server behind the gateway).

Register both on the main app with `register(app)`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import anyio
import typer

from mcpwarden.cli.common import current_os
from mcpwarden.detect.capabilities import classify_tool
from mcpwarden.errors import UsageError
from mcpwarden.gateway.audit import open_audit_sink
from mcpwarden.gateway.config import GatewayConfig, load_config
from mcpwarden.gateway.core import Gateway
from mcpwarden.gateway.demo import demo_config
from mcpwarden.gateway.deps import GatewayDeps
from mcpwarden.gateway.install import install, uninstall
from mcpwarden.gateway.logs import configure_logging
from mcpwarden.gateway.masking import SecretMasker
from mcpwarden.gateway.server import serve_http
from mcpwarden.gateway.stdio_front import serve_stdio
from mcpwarden.settings import Settings
from mcpwarden.types import ServerSpec

GATEWAY_EPILOG = """[bold]Examples[/bold]

  mcpwarden gateway --config warden.yaml              serve on 127.0.0.1:8765/mcp
  mcpwarden gateway --config warden.yaml --port 9000
  mcpwarden gateway --demo                            the bundled demo servers behind the gateway

Clients connect to http://127.0.0.1:8765/mcp (streamable HTTP, both the 2025 session protocol and
the 2026-07-28 stateless one). Tools appear as <server>__<tool>. Metrics: /metrics. Health: /healthz.
See docs/configuration.md for every config key."""

WRAP_EPILOG = """[bold]Examples[/bold]

  mcpwarden wrap -- npx -y @modelcontextprotocol/server-filesystem ~/projects
  mcpwarden wrap --config warden.yaml --name files -- python my_server.py
  mcpwarden wrap --install claude-desktop             route every stdio server of a client through mcpwarden
  mcpwarden wrap --uninstall claude-desktop           put the client's config back

`wrap` speaks MCP on stdin/stdout and runs COMMAND as its one upstream, so a client config entry is
protected by putting `mcpwarden wrap --` in front of its command. Tool names are kept as they are.
With --config, the file's mode, limits and interceptor settings apply (its upstreams are ignored).
--install keeps the original file as <file>.mcpwarden-backup."""


def gateway(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Gateway config file (YAML).")] = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (overrides the file).")] = None,
    port: Annotated[int | None, typer.Option("--port", "-p", help="Port to listen on (overrides the file).")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Run over the bundled demo servers.")] = False,
    insecure: Annotated[
        bool,
        typer.Option("--insecure", help="Allow listening beyond loopback without authentication (warns on start)."),
    ] = False,
) -> None:
    """Run the MCP security gateway: one streamable-HTTP endpoint in front of every configured server."""
    if demo == (config is not None):
        raise UsageError("give either --config FILE or --demo", where="mcpwarden gateway")
    if demo:
        workdir = Path(tempfile.mkdtemp(prefix="mcpwarden-demo-"))
        settings: GatewayConfig = demo_config(workdir)
    else:
        assert config is not None
        settings = load_config(config, insecure=insecure)
    settings = settings.with_listen(host, port, insecure=insecure or None)
    configure_logging(settings.log_level)
    # uvloop, when installed, takes about a sixth off the gateway's CPU per call (bench/gateway, docs/benchmarks.md).
    anyio.run(serve_http, settings, _deps(settings), backend_options={"use_uvloop": _has_uvloop()})


def _has_uvloop() -> bool:
    return importlib.util.find_spec("uvloop") is not None


def _deps(settings: GatewayConfig) -> GatewayDeps:
    """The parts built beside the gateway: the audit log (in the configured database), capability labels."""
    assert settings.db_path is not None  # load_config always sets it
    masker = SecretMasker()
    return GatewayDeps(
        audit=open_audit_sink(settings.db_path, masker), classify=classify_tool, services={"masker": masker}
    )


def _derive_name(command: list[str]) -> str:
    """A readable upstream name from the command: the package or script, not the launcher."""
    launchers = {"npx", "uvx", "node", "python", "python3", "deno", "bun", "docker", "pipx", "uv"}
    words = [w for w in command if not w.startswith("-")]
    pick = next((w for w in words if Path(w).name not in launchers), command[0])
    stem = Path(pick.split("@")[-1] if pick.startswith("@") else pick).stem or "server"
    cleaned = "".join(c if c.isalnum() or c in "_.-" else "-" for c in stem).strip("-.")
    return cleaned[:64] or "server"


def wrap(
    command: Annotated[list[str] | None, typer.Argument(help="The server command and its arguments, after --.")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Gateway config for mode, limits, interceptors.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Upstream name (for logs and audit).")] = None,
    install_client: Annotated[
        str | None, typer.Option("--install", help="Rewrite CLIENT's config to run its stdio servers through wrap.")
    ] = None,
    uninstall_client: Annotated[
        str | None, typer.Option("--uninstall", help="Restore CLIENT's config from the backup.")
    ] = None,
) -> None:
    """Run one stdio MCP server behind the gateway, speaking MCP on stdin/stdout."""
    if install_client or uninstall_client:
        if command:
            raise UsageError("--install/--uninstall take no command", where="mcpwarden wrap")
        _install(install_client, uninstall_client, config)
        return
    if not command:
        raise UsageError("no server command given", where="mcpwarden wrap", hint="mcpwarden wrap -- COMMAND ARGS…")
    if config is not None:
        base = load_config(config, require_upstreams=False)
    else:
        base = GatewayConfig(upstreams=(), db_path=Settings.build().db_path)
    spec = ServerSpec(
        name=name or _derive_name(command),
        transport="stdio",
        command=command[0],
        args=tuple(command[1:]),
        env=dict(os.environ),  # the client configured this server's environment for us
    )
    settings = dataclasses.replace(base, upstreams=(spec,), namespaced=False)
    configure_logging(settings.log_level, sys.stderr)
    anyio.run(serve_stdio, Gateway(settings, _deps(settings)))


def _install(install_client: str | None, uninstall_client: str | None, config: Path | None) -> None:
    home, os_name, env = Path.home(), current_os(), dict(os.environ)
    if uninstall_client:
        for path in uninstall(uninstall_client, home=home, os_name=os_name, env=env):
            typer.echo(f"restored {path}")
        return
    assert install_client is not None
    changes = install(install_client, home=home, os_name=os_name, env=env, config=config.resolve() if config else None)
    for change in changes:
        for server in change.wrapped:
            typer.echo(f"{change.path}: {server} now runs through mcpwarden")
        for server, why in change.skipped:
            typer.echo(f"{change.path}: {server} left as is ({why})")
        if change.wrapped:
            typer.echo(f"backup: {change.backup}")
    if not any(c.wrapped for c in changes):
        raise UsageError(f"no stdio server of {install_client} could be routed through mcpwarden")


def register(app: typer.Typer) -> None:
    """Add `gateway` and `wrap` to the main app."""
    app.command(name="gateway", epilog=GATEWAY_EPILOG)(gateway)
    app.command(
        name="wrap",
        epilog=WRAP_EPILOG,
        context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
    )(wrap)
