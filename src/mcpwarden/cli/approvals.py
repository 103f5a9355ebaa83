"""`mcpwarden approvals`: list the calls waiting for a human, and approve or deny them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.console import Console
from rich.table import Table

from mcpwarden.cli.audit import db_path, operator, record_operator_action, shown, when
from mcpwarden.detect.secrets import mask_secrets
from mcpwarden.storage.audit import AuditEntry
from mcpwarden.storage.state import Approval
from mcpwarden.storage.state_sqlite import SqliteLiveState
from mcpwarden.types import canonical_json, escape_evidence

app = typer.Typer(
    help="Calls the gateway holds until a human approves or denies them.",
    epilog="Examples:\n\n  mcpwarden approvals list\n\n  mcpwarden approvals approve 3fa29c01d4e7\n\n"
    "  mcpwarden approvals deny 3fa29c01d4e7 --reason 'not during the freeze'",
    no_args_is_help=True,
)

DbOption = Annotated[Path | None, typer.Option("--db", help="SQLite database (default: $MCPWARDEN_HOME).")]
ByOption = Annotated[str | None, typer.Option("--by", help="Who decides (default: your user name).")]


@app.command(
    "list",
    epilog="Examples:\n\n  mcpwarden approvals list\n\n  mcpwarden approvals list --all",
)
def list_approvals(
    all_: Annotated[bool, typer.Option("--all", "-a", help="Also approved, denied and expired requests.")] = False,
    db: DbOption = None,
) -> None:
    """Show pending approval requests (or all of them) with the call each one would allow."""
    with SqliteLiveState(db_path(db, must_exist=False), redact=mask_secrets) as state:
        found = anyio.run(state.list_approvals, None if all_ else "pending")
    if not found:
        typer.echo("no pending approvals" if not all_ else "no approvals yet", err=True)
        return
    table = Table("id", "requested (UTC)", "call", "arguments", "principal", "session", "reason", "status")
    if all_:
        table.add_column("decided by")
    for a in found:
        row = [
            a.id,
            when(a.created),
            f"{shown(a.server, 40)}/{shown(a.tool, 40)}",
            shown(canonical_json(dict(a.arguments)), 60),
            shown(a.principal, 30),
            shown(a.session, 16),
            shown(a.reason, 60),
            a.status,
        ]
        if all_:
            row.append(shown(f"{a.decided_by or ''} {a.decision_reason or ''}".strip(), 40))
        table.add_row(*row)
    Console().print(table)


def _decide(approval_id: str, approve: bool, reason: str, by: str | None, db: Path | None) -> Approval:
    path = db_path(db, must_exist=False)
    who = operator(by)
    with SqliteLiveState(path, redact=mask_secrets) as state:
        decided = anyio.run(state.decide, approval_id, approve, who, reason)
    record_operator_action(
        path,
        AuditEntry(
            event="approval",
            principal=who,
            session=decided.session,
            upstream=decided.server,
            tool=decided.tool,
            call_id=decided.call_id,
            decision="allow" if approve else "deny",
            outcome=decided.status,
            detail=f"approval {decided.id}: {reason}" if reason else f"approval {decided.id}",
        ),
    )
    return decided


def _call(a: Approval) -> str:
    return escape_evidence(f"{a.server}/{a.tool} for {a.principal}", 200)


@app.command(
    "approve",
    epilog="Examples:\n\n  mcpwarden approvals approve 3fa29c01d4e7\n\n"
    "  mcpwarden approvals approve 3fa29c01d4e7 --reason 'ticket OPS-12'",
)
def approve(
    approval_id: Annotated[str, typer.Argument(metavar="ID", help="The id shown by `approvals list`.")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (recorded in the audit trail).")] = "",
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Let one held call go through."""
    decided = _decide(approval_id, True, reason, by, db)
    typer.echo(f"approved {decided.id}: {_call(decided)}")


@app.command(
    "deny",
    epilog="Examples:\n\n  mcpwarden approvals deny 3fa29c01d4e7 --reason 'unexpected recipient'",
)
def deny(
    approval_id: Annotated[str, typer.Argument(metavar="ID", help="The id shown by `approvals list`.")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (shown to the agent and audited).")],
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Refuse one held call."""
    decided = _decide(approval_id, False, reason, by, db)
    typer.echo(f"denied {decided.id}: {_call(decided)}")
