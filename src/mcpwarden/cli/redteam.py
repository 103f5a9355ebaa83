"""`mcpwarden redteam`: attack one live MCP server (URL or stdio command) and report what breaks."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from rich.console import Console
from typer.core import TyperGroup

from mcpwarden.cli.common import parse_fail_on
from mcpwarden.detect.secrets import mask_secrets
from mcpwarden.errors import UsageError
from mcpwarden.redteam import SUITES, RunOptions, Target, replay, run_redteam, validate_suites
from mcpwarden.redteam.runner import RedTeamReport
from mcpwarden.report import exit_code, findings_only, print_table, render

EPILOG = """[bold]Examples[/bold]

  mcpwarden redteam --url http://127.0.0.1:8000/mcp
  mcpwarden redteam --url https://mcp.example.com/mcp --token "$TOKEN" --format sarif -o redteam.sarif
  mcpwarden redteam --suite arguments --suite output -- python my_server.py
  mcpwarden redteam --url http://127.0.0.1:8000/mcp --signing-key test-idp.pem --issuer https://idp.test
  mcpwarden redteam --url http://127.0.0.1:8765/mcp --signing-key idp.pem --key-id k1 --scope mcp:tools
  mcpwarden redteam --record run.jsonl -- npx -y @modelcontextprotocol/server-everything
  mcpwarden redteam replay run.jsonl --token "$TOKEN"

Suites: transport, auth, session (HTTP only), arguments, output, protocol. Tools whose name, description
or annotations suggest writes, deletion, payment or messaging are never sent attack payloads unless
--allow-destructive is given: use it only against a disposable instance. Every run is bounded by
--max-requests and --time-limit; attacks only reach the server under test and a listener this run
starts on 127.0.0.1.

Exit codes: 0 no finding at or above --fail-on, 1 there is one (replay: an outcome changed), 2 error."""


class Format(StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"


class _Group(TyperGroup):
    """Everything after `--` is the stdio server's command line, never a subcommand or an option."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if "--" in args:
            at = args.index("--")
            ctx.meta["mcpwarden.server_command"] = args[at + 1 :]
            args = args[:at]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_Group,
    invoke_without_command=True,
    no_args_is_help=False,
    help="Attack a live MCP server with safe, bounded probes and report, with proof, what breaks.",
    epilog=EPILOG,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _headers(tokens: list[str] | None, headers: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in headers or []:
        name, sep, value = raw.partition(":")
        if not sep or not name.strip():
            raise UsageError("expected NAME:VALUE", where=f"--header {raw.split(':')[0]}")
        out[name.strip()] = value.strip()
    if tokens:
        if len(tokens) > 1:
            raise UsageError("give one --token; use --other-token for a second principal")
        out["Authorization"] = f"Bearer {tokens[0]}"
    return out


def _read_key(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror}", where=f"--signing-key {path}") from None


def _emit(report: RedTeamReport, fmt: Format, output: Path | None) -> None:
    result = findings_only(report.findings)
    if fmt is Format.table and output is None:
        print_table(result, Console(), redact=mask_secrets)
    else:
        text = render(result, fmt.value, redact=mask_secrets)
        if output is None:
            typer.echo(text, nl=False)
        else:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot write report: {exc.strerror}", where=str(output)) from None
    skipped = ", ".join(report.skipped_tools) or "none"
    typer.echo(
        f"redteam: {report.requests} requests in {report.duration_s:.1f}s; attacked tools: "
        f"{len(report.attacked_tools)}; not attacked (may change or send things): {skipped}",
        err=True,
    )
    if report.stopped:
        typer.echo(f"redteam: stopped early: {report.stopped}", err=True)
    for line in report.errors:
        typer.echo(f"redteam: attack failed: {line}", err=True)


@app.callback()
def redteam(
    ctx: typer.Context,
    url: Annotated[str | None, typer.Option("--url", "-u", help="Streamable-HTTP URL of the server.")] = None,
    token: Annotated[list[str] | None, typer.Option("--token", help="Bearer token sent with every request.")] = None,
    header: Annotated[list[str] | None, typer.Option("--header", "-H", help="Extra header NAME:VALUE.")] = None,
    suite: Annotated[
        list[str] | None, typer.Option("--suite", "-s", help=f"Suite to run: {', '.join(SUITES)}.")
    ] = None,
    allow_destructive: Annotated[
        bool, typer.Option("--allow-destructive", help="Also attack tools that may write, delete, pay or send.")
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
    fail_on: Annotated[str, typer.Option("--fail-on", help="Exit 1 at or above this severity (or 'none').")] = "high",
    record: Annotated[Path | None, typer.Option("--record", help="Write a JSONL transcript (secrets masked).")] = None,
    max_requests: Annotated[int, typer.Option(min=10, max=100_000, help="Stop after this many requests.")] = 800,
    time_limit: Annotated[float, typer.Option(min=5.0, help="Stop after this many seconds.")] = 180.0,
    timeout: Annotated[float, typer.Option(min=0.5, help="Seconds to wait for one answer.")] = 10.0,
    signing_key: Annotated[
        Path | None, typer.Option("--signing-key", help="PEM private key the server trusts (mints test tokens).")
    ] = None,
    issuer: Annotated[str | None, typer.Option("--issuer", help="`iss` of minted test tokens.")] = None,
    audience: Annotated[
        str | None, typer.Option("--audience", help="`aud` of minted tokens (default: the URL).")
    ] = None,
    key_id: Annotated[
        str | None, typer.Option("--key-id", help="`kid` header of minted tokens (the key's id in the JWKS).")
    ] = None,
    scope: Annotated[
        str | None, typer.Option("--scope", help="`scope` claim of minted tokens (space-separated).")
    ] = None,
    other_token: Annotated[
        str | None, typer.Option("--other-token", help="A valid token of another principal (session binding).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", hidden=True, help="Payload seed (for tests).")] = None,
) -> None:
    """Attack a live MCP server: `--url URL` for streamable HTTP, or `-- COMMAND ARGS…` for stdio."""
    command: list[str] = ctx.meta.get("mcpwarden.server_command", [])
    if ctx.invoked_subcommand is not None:
        return
    if bool(url) == bool(command):
        raise UsageError("give exactly one target: --url URL, or -- COMMAND ARGS… for a stdio server")
    headers = _headers(token, header)
    if command and (headers or signing_key or other_token):
        raise UsageError("--token, --header, --signing-key and --other-token apply to --url targets only")
    if signing_key is None and (key_id or scope or issuer or audience):
        raise UsageError("--issuer, --audience, --key-id and --scope describe minted tokens: give --signing-key too")
    try:
        suites = validate_suites(suite or SUITES)
    except ValueError as exc:
        raise UsageError(str(exc), where="--suite") from None
    threshold = parse_fail_on(fail_on)
    target = Target(url=url, headers=headers) if url else Target(command=tuple(command))
    options = RunOptions(
        suites=suites,
        allow_destructive=allow_destructive,
        max_requests=max_requests,
        time_limit=time_limit,
        request_timeout=timeout,
        seed=seed,
        other_token=other_token,
        signing_key=_read_key(signing_key),
        issuer=issuer,
        audience=audience,
        key_id=key_id,
        scope=scope,
        record=record,
    )
    report: Any = anyio.run(run_redteam, target, options)
    _emit(report, fmt, output)
    raise typer.Exit(exit_code(report.findings, threshold))


@app.command(name="replay", epilog='Examples:\n\n  mcpwarden redteam replay run.jsonl --token "$TOKEN"\n')
def replay_command(
    ctx: typer.Context,
    transcript: Annotated[Path, typer.Argument(help="A transcript written by --record.")],
    token: Annotated[list[str] | None, typer.Option("--token", help="Bearer token (the transcript masks it).")] = None,
    header: Annotated[list[str] | None, typer.Option("--header", "-H", help="Header NAME:VALUE.")] = None,
    signing_key: Annotated[Path | None, typer.Option("--signing-key", help="The key the recorded run used.")] = None,
    other_token: Annotated[str | None, typer.Option("--other-token", help="Another principal's token.")] = None,
    record: Annotated[Path | None, typer.Option("--record", help="Write the new run's transcript.")] = None,
) -> None:
    """Run a recorded red-team run again (same payloads) and exit 1 when any probe's outcome changed.

    Give `-- COMMAND ARGS…` to start a stdio server differently from the recorded command.
    """
    command = ctx.meta.get("mcpwarden.server_command") or None
    result = anyio.run(
        lambda: replay(
            transcript,
            headers=_headers(token, header),
            command=command,
            signing_key=_read_key(signing_key),
            other_token=other_token,
            record=record,
        )
    )
    for change in result.changes:
        typer.echo(f"changed  {change.key}: {change.before} → {change.after}")
    typer.echo(
        f"replay: {result.compared} recorded probes compared, {len(result.changes)} changed; "
        f"{len(result.report.findings)} findings now",
        err=True,
    )
    raise typer.Exit(1 if result.changes else 0)
