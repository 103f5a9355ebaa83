"""Toxic flows: what the tools one agent can reach at once let an injected instruction do.

An agent that reads content others control (a web page, an issue, an inbound email), can read the user's
private data and can send data out, can be steered by instructions hidden in that content into sending
the private data to whoever wrote them (the "lethal trifecta"). Untrusted content beside a destructive
tool is the same hijack aimed at deleting or paying instead.

Servers are reachable together when one client config loads them: the same client and file. Claude
Code's per-project servers (`/projects/<dir>/mcpServers/…`) are reachable with that project's other
servers and the file's user-level servers. Servers without any config source (gateway upstreams,
explicit targets) form one group. Tools are labelled by `capabilities.classify_tool`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from mcpwarden.detect.capabilities import (
    DESTRUCTIVE,
    EXFILTRATION_SINK,
    PRIVATE_DATA,
    UNTRUSTED_CONTENT,
    Capabilities,
    annotation_conflicts,
    classify_tool,
)
from mcpwarden.detect.ruleset import Rule, load_rule_file, make_finding
from mcpwarden.errors import RuleError
from mcpwarden.types import Finding, Location, ServerInventory, ServerSource, ServerSpec, ToolDef, escape_evidence

RULE_FILE = "toxic_flows.yaml"
TRIFECTA_CHECK = "flow_trifecta"
SINGLE_SERVER_CHECK = "flow_single_server"
DESTRUCTIVE_CHECK = "flow_destructive"
ANNOTATION_CHECK = "capability_annotation_mismatch"
FLOW_CHECKS = frozenset({TRIFECTA_CHECK, SINGLE_SERVER_CHECK, DESTRUCTIVE_CHECK, ANNOTATION_CHECK})
DEFAULT_LEG_LIMIT = 5
_TRIFECTA = ((UNTRUSTED_CONTENT, "untrusted"), (PRIVATE_DATA, "private"), (EXFILTRATION_SINK, "sink"))
_HIJACK = ((UNTRUSTED_CONTENT, "untrusted"), (DESTRUCTIVE, "destructive"))
_PROJECTS = "/projects/"


@dataclass(frozen=True)
class ReachGroup:
    """Servers one agent reaches at once, and the config that loads them together.

    `project` is the Claude Code project directory for per-project servers (None otherwise); `line` is
    the first line where one of the group's own servers is configured in the file.
    """

    client: str | None
    path: str | None
    project: str | None
    servers: tuple[ServerInventory, ...]
    line: int | None = None
    key: str | None = None

    @property
    def location(self) -> Location:
        return Location(file=self.path, line=self.line, key=self.key)

    def describe(self) -> str:
        if self.path is None:
            return "Servers configured outside any client config file"
        where = f"The {self.client} config {self.path}"
        return f"{where} (project {self.project})" if self.project is not None else where


@dataclass(frozen=True)
class _Tool:
    server: str
    name: str
    capabilities: Capabilities

    @property
    def label(self) -> str:
        return f"{self.server}/{self.name}"


def _project_of(key: str) -> str | None:
    """The project directory of a Claude Code per-project entry key, unescaped (RFC 6901)."""
    if not key.startswith(_PROJECTS):
        return None
    segment, _, rest = key[len(_PROJECTS) :].partition("/")
    if not rest.startswith("mcpServers"):
        return None
    return segment.replace("~1", "/").replace("~0", "~")


def _parent_key(key: str) -> str | None:
    parent = key.rpartition("/")[0]
    return parent or None


def reach_groups(inventories: Sequence[ServerInventory]) -> list[ReachGroup]:
    """Group servers by the client config that loads them together (one server may be in several groups)."""
    files: dict[tuple[str, str], dict[str | None, list[tuple[int, ServerSource]]]] = {}
    unsourced: list[ServerInventory] = []
    for index, inventory in enumerate(inventories):
        if not inventory.spec.sources:
            unsourced.append(inventory)
        for source in inventory.spec.sources:
            projects = files.setdefault((source.client, source.path), {})
            projects.setdefault(_project_of(source.key), []).append((index, source))
    groups: list[ReachGroup] = []
    for (client, path), projects in files.items():
        user = projects.get(None, [])
        for project, entries in sorted(projects.items(), key=lambda item: (item[0] is not None, item[0] or "")):
            members = sorted({i for i, _ in (entries if project is None else [*user, *entries])})
            lines = [s.line for _, s in entries if s.line is not None]
            key = _parent_key(entries[0][1].key)
            if project is not None:
                key = entries[0][1].key.rpartition("/mcpServers")[0] + "/mcpServers"
            servers = tuple(inventories[i] for i in members)
            groups.append(ReachGroup(client, path, project, servers, min(lines, default=None), key))
    if unsourced:
        groups.append(ReachGroup(None, None, None, tuple(unsourced)))
    return groups


def flow_rules() -> list[Rule]:
    """The rules implemented here, from the package's `detect/rules/toxic_flows.yaml`.

    Raises RuleError when a rule names a check this module does not have.
    """
    rules = load_rule_file(Path(str(resources.files("mcpwarden.detect") / "rules" / RULE_FILE)))
    for rule in rules:
        if rule.check not in FLOW_CHECKS:
            raise RuleError(f"unknown check {rule.check!r}", where=f"{rule.source}:{rule.id}")
    return rules


def _tools(inventory: ServerInventory, overrides: Mapping[str, Iterable[str]] | None) -> list[_Tool]:
    server = inventory.spec.name
    tools = [_Tool(server, d.name, classify_tool(d, overrides)) for d in inventory.definitions if d.kind == "tool"]
    return sorted((t for t in tools if t.capabilities.labels), key=lambda t: t.name)


def _leg(tools: Iterable[_Tool], label: str) -> list[_Tool]:
    return [t for t in tools if label in t.capabilities.labels]


def _listing(tools: list[_Tool], limit: int) -> str:
    """Up to `limit` tools, one server at a time in turn (breadth first), then how many more."""
    by_server: dict[str, list[_Tool]] = {}
    for tool in tools:
        by_server.setdefault(tool.server, []).append(tool)
    ordered: list[_Tool] = []
    depth = 0
    while len(ordered) < min(limit, len(tools)):
        ordered += [items[depth] for items in by_server.values() if depth < len(items)]
        depth += 1
    shown = ", ".join(t.label for t in ordered[:limit])
    return f"{shown} (+{len(tools) - limit} more)" if len(tools) > limit else shown


def _path(legs: Sequence[tuple[str, list[_Tool]]], limit: int) -> str:
    return " → ".join(f"{name}: {_listing(tools, limit)}" for name, tools in legs)


def _legs(tools: list[_Tool], wanted: Sequence[tuple[str, str]]) -> list[tuple[str, list[_Tool]]] | None:
    legs = [(name, _leg(tools, label)) for label, name in wanted]
    return legs if all(found for _, found in legs) else None


def _first_source_location(spec: ServerSpec) -> Location:
    if not spec.sources:
        return Location(server=spec.name)
    source = spec.sources[0]
    return Location(server=spec.name, file=source.path, line=source.line, key=source.key)


def _annotation_findings(inventory: ServerInventory, rule: Rule) -> list[Finding]:
    findings = []
    for definition in inventory.of_kind("tool"):
        for conflict in annotation_conflicts(definition):
            location = Location(inventory.spec.name, "tool", definition.name, f"/annotations/{conflict.annotation}")
            evidence = f"{conflict.claim}; the tool says: {', '.join(conflict.behaviour)}"
            findings.append(make_finding(rule, location, evidence, severity=conflict.severity))
    return findings


def analyze_flows(
    inventories: Sequence[ServerInventory],
    rules: Iterable[Rule] | None = None,
    overrides: Mapping[str, Iterable[str]] | None = None,
) -> list[Finding]:
    """Toxic-flow findings over servers reachable together, and annotation claims tools contradict.

    MW500: a client config whose servers, together, offer untrusted content, private data and an
    exfiltration sink (one finding per config, or per Claude Code project when the user-level servers
    alone do not already form it; legs list up to `options.leg_limit` tools each). MW501: one server
    that has all three by itself. MW502: untrusted content beside a destructive tool. MW510: an
    annotation the tool's own name or description contradicts. `rules` defaults to `flow_rules()`;
    `overrides` is passed to `classify_tool` (`server/tool` → labels).
    """
    chosen: dict[str | None, Rule] = {
        r.check: r for r in (flow_rules() if rules is None else rules) if r.check in FLOW_CHECKS
    }
    if not chosen or not inventories:
        return []
    tools = {id(inv): _tools(inv, overrides) for inv in inventories}
    findings: list[Finding] = []
    if ANNOTATION_CHECK in chosen:
        for inventory in inventories:
            findings += _annotation_findings(inventory, chosen[ANNOTATION_CHECK])
    if SINGLE_SERVER_CHECK in chosen:
        rule = chosen[SINGLE_SERVER_CHECK]
        limit = int(rule.options.get("leg_limit", DEFAULT_LEG_LIMIT))
        for inventory in inventories:
            legs = _legs(tools[id(inventory)], _TRIFECTA)
            if legs is not None:
                detail = escape_evidence(f"Server {inventory.spec.name} offers all three by itself.")
                location = _first_source_location(inventory.spec)
                findings.append(make_finding(rule, location, _path(legs, limit), detail=detail))
    findings += _group_findings(reach_groups(inventories), tools, chosen)
    return findings


def _group_findings(
    groups: list[ReachGroup], tools: Mapping[int, list[_Tool]], chosen: Mapping[str | None, Rule]
) -> list[Finding]:
    findings: list[Finding] = []
    for check, wanted in ((TRIFECTA_CHECK, _TRIFECTA), (DESTRUCTIVE_CHECK, _HIJACK)):
        rule = chosen.get(check)
        if rule is None:
            continue
        limit = int(rule.options.get("leg_limit", DEFAULT_LEG_LIMIT))
        covered: set[tuple[str | None, str | None]] = set()  # files whose user-level servers already form it
        for group in groups:
            reachable = [tool for inventory in group.servers for tool in tools[id(inventory)]]
            legs = _legs(reachable, wanted)
            if legs is None or (group.project is not None and (group.client, group.path) in covered):
                continue
            if check == TRIFECTA_CHECK and len({t.server for _, leg in legs for t in leg}) < 2:
                continue  # one server alone: MW501 says it, per server
            if group.project is None:
                covered.add((group.client, group.path))
            names = ", ".join(inventory.spec.name for inventory in group.servers)
            # Names and paths come from config files a cloned repository can supply: never print them raw.
            detail = escape_evidence(f"{group.describe()} loads these servers together: {names}.", limit=600)
            findings.append(make_finding(rule, group.location, _path(legs, limit), detail=detail))
    return findings


# -- rule cases (the YAML `cases:` contract)

CASE_CONFIG = "claude-desktop:/home/me/.config/Claude/claude_desktop_config.json"


def _case_source(text: str, server: str, index: int) -> ServerSource:
    """`client:path` or `client:path#key` (the key defaults to `/mcpServers/<server>`)."""
    client, _, rest = text.partition(":")
    path, _, key = rest.partition("#")
    key = key or f"/mcpServers/{server}"
    scope = "project" if key.startswith(_PROJECTS) else "user"
    return ServerSource(client, path, key, line=3 + 4 * index, scope=scope)


def inventories_from_case(case: Mapping[str, Any]) -> list[ServerInventory]:
    """Inventories from a flow case: `servers` (server → tool → description or definition) and optional
    `sources` (server → list of `client:path[#key]`; `[]` for none). By default every server is in one
    Claude Desktop config."""
    sources: Mapping[str, Any] = case.get("sources") or {}
    inventories = []
    for index, (server, declared) in enumerate((case.get("servers") or {}).items()):
        definitions = tuple(
            ToolDef(
                server,
                "tool",
                str(tool),
                {"name": str(tool), **({"description": body} if isinstance(body, str) else body)},
            )
            for tool, body in (declared or {}).items()
        )
        where = tuple(_case_source(s, server, index) for s in sources.get(server, [CASE_CONFIG]))
        spec = ServerSpec(name=server, transport="stdio", command=f"{server}-server", sources=where)
        inventories.append(ServerInventory(spec=spec, ok=True, definitions=definitions))
    return inventories


def run_rule_case(rule: Rule, case: Mapping[str, Any]) -> list[Finding]:
    """Run one of `rule`'s YAML cases through `analyze_flows` and return every finding it produced.

    Annotation cases are one tool definition (`name`, `description`, `annotations`…); flow cases are
    described in `inventories_from_case`.
    """
    if rule.check == ANNOTATION_CHECK:
        case = {"servers": {"case": {str(case["name"]): dict(case)}}}
    return analyze_flows(inventories_from_case(case), rules=[rule])
