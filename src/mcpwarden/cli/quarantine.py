"""`mcpwarden quarantine`: the kill switch. Block a server or one tool for every live session, or release it.

One command, not a group: `quarantine TARGET` blocks, `quarantine --release TARGET` unblocks and
`quarantine --list` (or no argument) shows what is blocked. Running gateways pick a change up
within a second, in every process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from mcpwarden.cli.audit import db_path, operator, record_operator_action, shown, when
from mcpwarden.detect.secrets import mask_secrets
from mcpwarden.errors import UsageError
from mcpwarden.storage.audit import AuditEntry
from mcpwarden.storage.state import parse_target
from mcpwarden.storage.state_sqlite import SqliteLiveState
from mcpwarden.types import escape_evidence


class _SingleCommand(TyperGroup):
    """A Typer sub-app that is one command: options may follow the argument, and no COMMAND in the usage.

    Registered with `add_typer` like the other sub-apps, its callback does the work.
    """

    allow_interspersed_args = True

    # `Any`: the context class is Typer's vendored click, which it does not export for annotations.
    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [p for p in super().collect_usage_pieces(ctx) if p != self.subcommand_metavar]

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # Skip TyperGroup's split into COMMAND + ARGS: there are no subcommands, leftovers are errors.
        rest: list[str] = super(TyperGroup, self).parse_args(ctx, args)
        if rest:
            ctx.fail(f"unexpected extra argument(s): {' '.join(rest)}")
        return []


app = typer.Typer(cls=_SingleCommand, help="Block a server or a tool for every live session (the kill switch).")

EPILOG = """Examples:

  mcpwarden quarantine github --reason "token leaked"      block every tool of a server

  mcpwarden quarantine github/delete_repo                  block one tool

  mcpwarden quarantine "*" --reason incident-42            block everything

  mcpwarden quarantine --release github/delete_repo

  mcpwarden quarantine --list

Running gateways apply a change within one second, in every process."""


def _show(entries: list[Any]) -> None:
    if not entries:
        typer.echo("nothing is quarantined", err=True)
        return
    table = Table("target", "reason", "by", "since (UTC)")
    for e in entries:
        table.add_row(shown(e.target, 80), shown(e.reason, 80), shown(e.by, 30), when(e.created))
    Console().print(table)


@app.callback(invoke_without_command=True, epilog=EPILOG)
def quarantine(
    target: Annotated[
        str | None, typer.Argument(metavar="SERVER[/TOOL]", help="What to block: SERVER, SERVER/TOOL or *.")
    ] = None,
    release: Annotated[bool, typer.Option("--release", help="Unblock TARGET instead.")] = False,
    list_: Annotated[bool, typer.Option("--list", "-l", help="Show what is quarantined.")] = False,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (shown to agents and audited).")] = "",
    by: Annotated[str | None, typer.Option("--by", help="Who acts (default: your user name).")] = None,
    db: Annotated[Path | None, typer.Option("--db", help="SQLite database (default: $MCPWARDEN_HOME).")] = None,
) -> None:
    """Block SERVER or SERVER/TOOL for every session, release it, or list what is blocked."""
    if target is None and release:
        raise UsageError("--release needs a TARGET", hint="mcpwarden quarantine --release SERVER[/TOOL]")
    if target is not None and list_:
        raise UsageError("--list takes no TARGET", hint="mcpwarden quarantine --list")
    path = db_path(db, must_exist=False)
    with SqliteLiveState(path, redact=mask_secrets) as state:
        if target is None:
            _show(anyio.run(state.quarantine_entries))
            return
        server, tool = parse_target(target)
        who = operator(by)
        if release:
            if not anyio.run(state.release, target):
                typer.echo(f"{escape_evidence(target)} was not quarantined", err=True)
                raise typer.Exit(1)
            action = "released"
        else:
            anyio.run(state.quarantine, target, reason, who)
            action = "quarantined"
    record_operator_action(
        path,
        AuditEntry(
            event="release" if release else "quarantine",
            principal=who,
            upstream=server,
            tool=tool,
            decision=None if release else "deny",
            outcome=action,
            detail=reason,
        ),
    )
    typer.echo(f"{action} {escape_evidence(target)}" + ("" if release else " (live sessions: within 1 s)"))
