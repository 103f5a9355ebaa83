"""`mcpwarden scan`: find every MCP server configured on this machine or in a repository and report risks."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mcpwarden.cli.common import current_os, open_store, parse_fail_on
from mcpwarden.demo import DEMO_SERVERS, write_demo_config
from mcpwarden.detect.secrets import mask_secrets
from mcpwarden.discovery import Discovery
from mcpwarden.errors import UsageError
from mcpwarden.report import exit_code, print_table, render
from mcpwarden.scanner.pipeline import ScanOptions, run_scan
from mcpwarden.storage.sqlite import SqliteStore
from mcpwarden.types import ScanResult, ServerInventory

EPILOG = """[bold]Examples[/bold]

  mcpwarden scan                              scan every client config on this machine
  mcpwarden scan --static                     read configs only: start and contact nothing
  mcpwarden scan --project . --format sarif --output mcp.sarif
  mcpwarden scan --config ./my-mcp.json --fail-on medium
  mcpwarden scan --demo                       scan the bundled example servers

Connecting starts every configured stdio server (it runs the configured commands) and contacts every
configured URL. Use --static to avoid that.

Exit codes: 0 no finding at or above --fail-on, 1 there is one, 2 usage or runtime error."""


class Format(StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    progress = Progress(
        TextColumn("[bold]scanning[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        yield progress


def _scan_once(options: ScanOptions, store: SqliteStore, show_progress: bool) -> ScanResult:
    with _progress(show_progress) as progress:
        task = None

        def discovered(found: Discovery) -> None:
            nonlocal task
            if progress is not None and not options.static:
                task = progress.add_task(f"{len(found.servers)} servers", total=len(found.servers))

        def done(inv: ServerInventory) -> None:
            if progress is not None and task is not None:
                progress.update(task, advance=1, description=inv.spec.name)

        return anyio.run(lambda: run_scan(options, store, on_discovered=discovered, on_server_done=done))


def _emit(result: ScanResult, fmt: Format, output: Path | None) -> None:
    if fmt is Format.table and output is None:
        print_table(result, Console(), redact=mask_secrets)
        return
    text = render(result, fmt.value, redact=mask_secrets, base_dir=str(Path.cwd()))
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write report: {exc.strerror}", where=str(output)) from None
    typer.echo(f"report written to {output}", err=True)


def scan(
    config: Annotated[
        list[Path] | None, typer.Option("--config", "-c", help="Extra config file to scan (repeatable).")
    ] = None,
    project: Annotated[
        list[Path] | None, typer.Option("--project", "-p", help="Find project-level configs under DIR (repeatable).")
    ] = None,
    static: Annotated[bool, typer.Option("--static", help="Read configs only; start and contact nothing.")] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on", help="Exit 1 when a finding at or above this severity exists (or 'none'). [default: high]"
        ),
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Servers scanned at once.")] = 8,
    timeout: Annotated[float, typer.Option(min=1.0, help="Seconds allowed per server.")] = 30.0,
    no_user_configs: Annotated[
        bool, typer.Option("--no-user-configs", help="Skip the user-level client configs in the home directory.")
    ] = False,
    db: Annotated[Path | None, typer.Option("--db", help="SQLite database (default: $MCPWARDEN_HOME).")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Scan the bundled example servers twice.")] = False,
    home: Annotated[Path | None, typer.Option("--home", hidden=True, help="Home directory to discover in.")] = None,
) -> None:
    """Find every MCP server configured here, connect to each, and report risks."""
    threshold = parse_fail_on(fail_on if fail_on is not None else ("none" if demo else "high"))
    for directory in project or []:
        if not directory.is_dir():
            raise UsageError("not a directory", where=f"--project {directory}")
    for path in config or []:
        if not path.exists():
            raise UsageError("no such file", where=f"--config {path}")
    show_progress = sys.stderr.isatty()
    if demo:
        result = _run_demo(db, concurrency, timeout, show_progress, quiet=fmt is not Format.table or output is not None)
    else:
        options = ScanOptions(
            home=home or Path.home(),
            os_name=current_os(),
            env=dict(os.environ),
            project_dirs=tuple(project or ()),
            extra_configs=tuple(config or ()),
            include_user=not no_user_configs,
            static=static,
            concurrency=concurrency,
            timeout=timeout,
        )
        with open_store(db) as store:
            result = _scan_once(options, store, show_progress)
    _emit(result, fmt, output)
    raise typer.Exit(exit_code(result.findings, threshold))


def _run_demo(db: Path | None, concurrency: int, timeout: float, show_progress: bool, quiet: bool) -> ScanResult:
    err = Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="mcpwarden-demo-") as tmp:
        workdir = Path(tmp)
        config = write_demo_config(workdir)
        options = ScanOptions(
            home=workdir / "home",
            os_name=current_os(),
            extra_configs=(config,),
            include_user=False,
            concurrency=concurrency,
            timeout=timeout,
        )
        with SqliteStore(db or workdir / "demo.db") as store:
            if not quiet:
                err.print(f"[bold]Demo:[/bold] {len(DEMO_SERVERS)} example servers from {config}")
                err.print("Scan 1 of 2 pins every tool definition (trust on first use)…")
            first = _scan_once(options, store, show_progress)
            if not quiet:
                pinned = sum(len(s.definitions) for s in first.servers)
                err.print(
                    f"Pinned {pinned} definitions. The 'facts' server changes its tool on its next start.\nScan 2 of 2:"
                )
            return _scan_once(options, store, show_progress)
