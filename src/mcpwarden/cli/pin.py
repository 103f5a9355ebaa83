"""`mcpwarden pin`: show pinned tool definitions and accept changed ones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mcpwarden.cli.common import open_store

app = typer.Typer(
    help="Pinned tool, prompt and resource definitions (rug-pull protection).",
    epilog="Examples:\n\n  mcpwarden pin list\n\n  mcpwarden pin accept github create_issue",
    no_args_is_help=True,
)

DbOption = Annotated[Path | None, typer.Option("--db", help="SQLite database (default: $MCPWARDEN_HOME).")]


@app.command(
    "list",
    epilog="Examples:\n\n  mcpwarden pin list\n\n  mcpwarden pin list --server github",
)
def list_pins(
    server: Annotated[str | None, typer.Option("--server", "-s", help="Only this server.")] = None,
    db: DbOption = None,
) -> None:
    """Show every pinned definition, its hash, and whether the last scan saw something else."""
    with open_store(db) as store:
        pins = store.get_pins(server)
    if not pins:
        typer.echo("no pins yet: run `mcpwarden scan` first", err=True)
        return
    table = Table("server", "kind", "name", "pinned hash", "status", "first seen", "accepted")
    for pin in pins:
        table.add_row(
            escape(pin.server),
            pin.kind,
            escape(pin.name),
            pin.hash[:12],
            pin.status,
            pin.first_seen,
            pin.accepted_at or "",
        )
    Console().print(table)


@app.command(
    "accept",
    epilog="Examples:\n\n  mcpwarden pin accept                 accept everything the last scan saw\n\n"
    "  mcpwarden pin accept github          one server\n\n  mcpwarden pin accept github create_issue",
)
def accept(
    server: Annotated[str | None, typer.Argument(help="Server name (default: all).")] = None,
    tool: Annotated[str | None, typer.Argument(help="Tool, prompt or resource name (default: all of SERVER).")] = None,
    db: DbOption = None,
) -> None:
    """Accept the definitions the last scan observed as the new pins."""
    with open_store(db) as store:
        changed = store.accept(server, tool)
    scope = f"{server}/{tool}" if tool else (server or "all servers")
    typer.echo(f"accepted {changed} changed definition(s) for {scope}")
