"""`mcpwarden policy`: check a policy file, explain one decision, write a starter policy."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import typer

from mcpwarden.detect.capabilities import annotation_conflicts, classify_tool
from mcpwarden.errors import UsageError
from mcpwarden.policy import PolicyEngine, ResourceInfo, starter_policy
from mcpwarden.policy.model import ACTIONS, PRINCIPAL_TYPES
from mcpwarden.policy.starter import ANNOTATION_CONFLICT, READ_ONLY_LABEL
from mcpwarden.settings import Settings
from mcpwarden.storage.base import Pin
from mcpwarden.storage.sqlite import SqliteStore
from mcpwarden.types import Principal, ServerInventory, ServerSpec, ToolDef, Transport, escape_evidence

app = typer.Typer(
    help="Authorization policies (YAML compiled to Cedar, or raw Cedar): check, explain, start one.",
    epilog="Examples:\n\n  mcpwarden policy init --output policy.yaml\n\n  mcpwarden policy check policy.yaml\n\n"
    "  mcpwarden policy explain policy.yaml --principal user:alice --tool github/create_issue",
    no_args_is_help=True,
)

FileArgument = Annotated[Path, typer.Argument(help="Policy file: .yaml/.yml (mcpwarden format) or .cedar.")]


@app.command(
    "check",
    epilog="Examples:\n\n  mcpwarden policy check policy.yaml\n\n  mcpwarden policy check policy.yaml --show-cedar\n\n"
    "  mcpwarden policy check raw.cedar",
)
def check(
    file: FileArgument,
    show_cedar: Annotated[bool, typer.Option("--show-cedar", help="Print the Cedar the policy compiles to.")] = False,
) -> None:
    """Validate a policy file (YAML schema, Cedar syntax and types); exit 2 with the reason if it is wrong."""
    engine = PolicyEngine.from_file(file)
    for warning in engine.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if show_cedar:
        typer.echo(engine.cedar_text.rstrip("\n"))
    typer.echo(f"ok: {engine.policy_count} policies")


def _principal(spec: str, groups: Sequence[str], scopes: Sequence[str], client_id: str | None) -> Principal:
    kind, sep, ident = spec.partition(":")
    if not sep or kind not in PRINCIPAL_TYPES:
        kind, ident = "agent", spec
    if kind == "anonymous" and not ident:
        ident = "anonymous"
    if not ident:
        raise UsageError("the principal needs an id", where="--principal", hint="e.g. user:alice or agent:ci-bot")
    return Principal(
        id=ident,
        kind=cast(Literal["user", "agent", "anonymous"], kind),
        client_id=client_id,
        scopes=frozenset(scopes),
        groups=frozenset(groups),
    )


def _annotations(values: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep or raw.lower() not in ("true", "false") or not name:
            raise UsageError(f"expected NAME=true|false, got {item!r}", where="--annotation")
        out[name] = raw.lower() == "true"
    return out


def _arguments(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"not valid JSON: {exc.msg} at character {exc.pos}", where="--args") from None
    if not isinstance(value, dict):
        raise UsageError("the arguments must be a JSON object", where="--args", hint='e.g. \'{"path": "/tmp/x"}\'')
    return value


@app.command(
    "explain",
    epilog="Examples:\n\n"
    "  mcpwarden policy explain policy.yaml --principal user:alice --group ops --tool deploy/release\n\n"
    "  mcpwarden policy explain policy.yaml --principal agent:ci --scope mcp:read --tool files/read_file "
    '--args \'{"path": "/tmp/a"}\' --json\n\n'
    "  mcpwarden policy explain policy.cedar --principal anonymous: --tool mail/send --label exfiltration_sink",
)
def explain(
    file: FileArgument,
    principal: Annotated[str, typer.Option("--principal", help="KIND:ID with KIND user, agent or anonymous.")],
    tool: Annotated[str, typer.Option("--tool", help="SERVER/NAME of the tool (or resource URI, prompt name).")],
    group: Annotated[list[str] | None, typer.Option("--group", help="A group of the principal (repeat).")] = None,
    scope: Annotated[list[str] | None, typer.Option("--scope", help="An OAuth scope of the token (repeat).")] = None,
    client_id: Annotated[str | None, typer.Option("--client-id", help="The OAuth client id.")] = None,
    action: Annotated[str, typer.Option("--action", help=f"One of: {', '.join(ACTIONS)}.")] = "call_tool",
    kind: Annotated[
        str | None, typer.Option("--kind", help="tool, resource or prompt (default: from --action).")
    ] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="A capability label (repeat).")] = None,
    annotation: Annotated[
        list[str] | None, typer.Option("--annotation", help="An MCP hint, e.g. readOnlyHint=true (repeat).")
    ] = None,
    args: Annotated[str | None, typer.Option("--args", help="The call's arguments as a JSON object.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision, request and entities as JSON.")] = False,
) -> None:
    """Show what the policy decides for one request, and which policies decided it."""
    if action not in ACTIONS:
        raise UsageError(f"unknown action {action!r}", where="--action", hint=f"one of: {', '.join(ACTIONS)}")
    default_kind = {"read_resource": "resource", "get_prompt": "prompt"}.get(action, "tool")
    resource_kind = kind or default_kind
    if resource_kind not in ("tool", "resource", "prompt"):
        raise UsageError(f"unknown kind {resource_kind!r}", where="--kind", hint="tool, resource or prompt")
    server, sep, name = tool.partition("/")
    if not sep or not server or not name:
        raise UsageError(f"expected SERVER/NAME, got {tool!r}", where="--tool")
    engine = PolicyEngine.from_file(file)
    resource = ResourceInfo(
        server=server,
        tool=name,
        kind=cast(Literal["tool", "resource", "prompt"], resource_kind),
        labels=frozenset(label or ()),
        annotations=_annotations(annotation or ()),
    )
    who = _principal(principal, group or (), scope or (), client_id)
    result = engine.explain(who, action, resource, _arguments(args))
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    typer.echo(f"decision: {result.decision}")
    typer.echo(f"policies: {escape_evidence(', '.join(result.policy_ids))}")
    typer.echo(f"message:  {escape_evidence(result.verdict.message)}")
    for error in result.errors:
        typer.echo(f"error:    {escape_evidence(error)}")


# -- init

_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# A tool whose name starts with one of these reads (the classifier's labels still decide if it is risky).
_READ_VERBS = frozenset(
    {
        "get",
        "list",
        "read",
        "search",
        "find",
        "query",
        "describe",
        "show",
        "view",
        "count",
        "lookup",
        "check",
        "inspect",
    }
)


def starter_labels(tool: ToolDef) -> frozenset[str]:
    """Labels for `policy init`: the detector's capability labels, plus `read_only` for a read-verb name
    and `annotation_conflict` when the tool's own text contradicts its hints (so a hint cannot make it safe).
    """
    labels = set(classify_tool(tool).labels)
    if annotation_conflicts(tool):
        labels.add(ANNOTATION_CONFLICT)
    words = [w.lower() for w in _WORDS.findall(tool.name)]
    if words and words[0] in _READ_VERBS:
        labels.add(READ_ONLY_LABEL)
    return frozenset(labels)


def _transport(identity: str) -> Transport:
    # The pin's identity is JSON like ["stdio", command, …] or ["http", url]; only display depends on it.
    try:
        first = json.loads(identity)[0]
    except (ValueError, IndexError, KeyError, TypeError):
        return "stdio"
    return cast(Transport, first) if first in ("stdio", "http", "sse") else "stdio"


def inventories_from_pins(pins: Sequence[Pin]) -> list[ServerInventory]:
    """Active pins grouped into one inventory per server (what `starter_policy` reads)."""
    by_server: dict[str, list[Pin]] = {}
    for pin in pins:
        if pin.status == "active":
            by_server.setdefault(pin.server, []).append(pin)
    return [
        ServerInventory(
            spec=ServerSpec(name=server, transport=_transport(group[0].identity)),
            ok=True,
            definitions=tuple(p.as_tooldef() for p in group),
        )
        for server, group in sorted(by_server.items())
    ]


@app.command(
    "init",
    epilog="Examples:\n\n  mcpwarden policy init                       print to standard output\n\n"
    "  mcpwarden policy init --output policy.yaml\n\n  mcpwarden policy init --db ./state/mcpwarden.db -o p.yaml",
)
def init(
    db: Annotated[Path | None, typer.Option("--db", help="SQLite database (default: $MCPWARDEN_HOME).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of printing.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --output if it exists.")] = False,
) -> None:
    """Write a least-privilege starter policy from the tools pinned by the last scans."""
    db_path = Settings.build(db).db_path
    if not db_path.exists():
        raise UsageError("no mcpwarden database yet", where=str(db_path), hint="run `mcpwarden scan` first")
    with SqliteStore(db_path) as store:
        inventories = inventories_from_pins(store.get_pins())
    if not any(inv.definitions for inv in inventories):
        raise UsageError("the database holds no pinned tools", where=str(db_path), hint="run `mcpwarden scan` first")
    text = starter_policy(inventories, starter_labels)
    # The starter must load as it is; a failure here is a bug, and better found now than at gateway start.
    PolicyEngine.from_yaml_text(text, source="starter policy")
    if output is None:
        typer.echo(text, nl=False)
        return
    if output.exists() and not force:
        raise UsageError("the output file exists", where=str(output), hint="pass --force to overwrite it")
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the policy: {exc.strerror or exc}", where=str(output)) from None
    typer.echo(f"wrote {output}: review it, then `mcpwarden policy check {output}`", err=True)
