"""`mcpwarden audit`: verify, show and export the gateway's hash-chained audit trail."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mcpwarden.detect.secrets import mask_secrets
from mcpwarden.errors import UsageError
from mcpwarden.settings import Settings
from mcpwarden.storage.audit import AuditEntry, AuditRecord, ChainHead
from mcpwarden.storage.audit_sqlite import SqliteAuditLog
from mcpwarden.types import escape_evidence

app = typer.Typer(
    help="The gateway's tamper-evident audit trail: every call and decision, hash-chained.",
    epilog="Examples:\n\n  mcpwarden audit verify\n\n  mcpwarden audit show --session 5f2c…\n\n"
    "  mcpwarden audit export --output audit.jsonl",
    no_args_is_help=True,
)

DbOption = Annotated[Path | None, typer.Option("--db", help="SQLite database (default: $MCPWARDEN_HOME).")]


class ExportFormat(StrEnum):
    jsonl = "jsonl"


def db_path(db: Path | None, *, must_exist: bool) -> Path:
    """The database the gateway uses; reading commands refuse to create an empty one by mistake."""
    path = Settings.build(db).db_path
    if must_exist and not path.exists():
        raise UsageError(
            "no mcpwarden database here", where=str(path), hint="the gateway creates it on first run; or pass --db PATH"
        )
    return path


def operator(by: str | None) -> str:
    """Who is acting from the CLI: `--by`, else the OS user name."""
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def record_operator_action(path: Path, entry: AuditEntry) -> AuditRecord:
    """Append what an operator did (approve, deny, quarantine, release) to the audit chain."""
    with SqliteAuditLog(path, redact=mask_secrets) as log:
        return anyio.run(log.append, entry)


def shown(text: str | None, limit: int = 80) -> str:
    """Text from the log made safe for a Rich table: hidden characters visible, no markup."""
    return escape(escape_evidence(text or "", limit))


def when(ts: str | float | None) -> str:
    """A stored time (ISO string or epoch seconds) as `YYYY-MM-DD HH:MM:SS` UTC."""
    if ts is None:
        return ""
    if isinstance(ts, (int, float)):
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return ts[:19].replace("T", " ")


@app.command(
    "verify",
    epilog="Examples:\n\n  mcpwarden audit verify\n\n  mcpwarden audit verify --anchor 1042:9f86d0…\n\n"
    "On success the head (SEQ:HASH) is printed: keep a copy somewhere else and pass it back with --anchor "
    "later; that also catches a rewritten chain or a removed tail.\n\n"
    "Exit codes: 0 the chain verifies, 1 it does not, 2 usage or storage error.",
)
def verify(
    anchor: Annotated[
        list[str] | None, typer.Option("--anchor", help="A head printed earlier, SEQ:HASH (repeatable).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Check every record's hash and link, the head checkpoint, and any anchors you kept."""
    try:
        anchors = [ChainHead.parse(a) for a in anchor or []]
    except ValueError as exc:
        raise UsageError(str(exc), where="--anchor") from None
    with SqliteAuditLog(db_path(db, must_exist=True), redact=mask_secrets) as log:
        report = log.verify_chain(anchors=anchors)
    if report.ok:
        typer.echo(f"audit chain ok: {report.records} records, head {report.head}")
        return
    typer.echo(f"audit chain BROKEN at record {report.first_bad_seq}: {report.problem}")
    typer.echo(f"{report.records} records verified before it")
    raise typer.Exit(1)


def _reasons(record: AuditRecord) -> str:
    parts = [f"{v.source}: {', '.join(v.reasons) or v.decision}" for v in record.verdicts if v.reasons or v.denies]
    if record.findings:
        parts.append("findings: " + ", ".join(dict.fromkeys(record.findings)))
    return "; ".join(parts)


@app.command(
    "show",
    epilog="Examples:\n\n  mcpwarden audit show --session 5f2c9a\n\n  mcpwarden audit show -s 5f2c9a --db gw.db",
)
def show(
    session: Annotated[str, typer.Option("--session", "-s", help="Session id (as in the gateway's logs).")],
    db: DbOption = None,
) -> None:
    """Replay one session: every call and decision in order, with reasons and latency."""
    with SqliteAuditLog(db_path(db, must_exist=True), redact=mask_secrets) as log:
        records = log.records(session=session)
    if not records:
        typer.echo(f"no audit records for session {session!r}", err=True)
        raise typer.Exit(1)
    first = records[0]
    title = f"session {shown(session)} · principal {shown(first.principal)} · client {shown(first.client) or '-'}"
    table = Table("seq", "time (UTC)", "event", "tool", "decision", "reasons", "ms", "outcome", title=title)
    for r in records:
        tool = "/".join(shown(p, 60) for p in (r.upstream, r.tool) if p)
        latency = "" if r.latency_ms is None else f"{r.latency_ms:.1f}"
        table.add_row(
            str(r.seq),
            when(r.ts),
            shown(r.event if r.event == "call" or not r.action else f"{r.event} {r.action}"),  # list tools/list
            tool,
            shown(r.decision),
            shown(_reasons(r), 200),
            latency,
            shown(r.outcome),
        )
    Console().print(table)
    typer.echo("(integrity: run `mcpwarden audit verify`)", err=True)


@app.command(
    "export",
    epilog="Examples:\n\n  mcpwarden audit export > audit.jsonl\n\n"
    "  mcpwarden audit export --format jsonl --output audit.jsonl --session 5f2c9a\n\n"
    "Each line is one record exactly as hashed, plus its hash, oldest first.",
)
def export(
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="Output format.")] = ExportFormat.jsonl,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")] = None,
    session: Annotated[str | None, typer.Option("--session", "-s", help="Only this session.")] = None,
    db: DbOption = None,
) -> None:
    """Write the audit trail as JSON lines for a SIEM or an offline copy."""
    with SqliteAuditLog(db_path(db, must_exist=True), redact=mask_secrets) as log:
        if output is None:
            log.export_jsonl(sys.stdout, session=session)
            return
        try:
            with output.open("w", encoding="utf-8") as fp:
                count = log.export_jsonl(fp, session=session)
        except OSError as exc:
            raise UsageError(f"cannot write the export: {exc.strerror or exc}", where=str(output)) from None
    typer.echo(f"{count} records written to {output} ({fmt.value})", err=True)
