"""Toxic flows: every YAML rule case, grouping by real client config files, bounded listings, locations."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from mcpwarden.detect.flows import (
    FLOW_CHECKS,
    analyze_flows,
    flow_rules,
    inventories_from_case,
    reach_groups,
    run_rule_case,
)
from mcpwarden.detect.ruleset import Rule, builtin_rules
from mcpwarden.discovery import discover
from mcpwarden.types import Finding, ServerInventory, ServerSpec, Severity, ToolDef

RULES = {rule.id: rule for rule in flow_rules()}
_REF = re.compile(r"^(?:(?:MCP|LLM|ASI)(?:0[1-9]|10)|CWE-[1-9][0-9]*)$")


def _cases() -> list[Any]:
    params = []
    for rule in RULES.values():
        for expect, cases in (("flag", rule.flag_cases), ("ok", rule.ok_cases)):
            for index, case in enumerate(cases):
                params.append(pytest.param(rule, expect, case, id=f"{rule.id}-{expect}-{index}"))
    return params


@pytest.mark.parametrize(("rule", "expect", "case"), _cases())
def test_rule_case(rule: Rule, expect: str, case: dict[str, Any]) -> None:
    findings = [f for f in run_rule_case(rule, case) if f.rule_id == rule.id]
    assert bool(findings) is (expect == "flag"), [f.evidence for f in findings]
    for fragment in case.get("evidence", []):
        assert any(fragment in f.evidence for f in findings), (fragment, [f.evidence for f in findings])


def test_rules_are_well_formed() -> None:
    assert set(RULES) == {"MW500", "MW501", "MW502", "MW510"}
    assert {r.check for r in RULES.values()} == FLOW_CHECKS
    shipped = {r.id: r for r in builtin_rules()}
    for rule in RULES.values():
        assert 500 <= int(rule.id[2:]) <= 549
        assert shipped[rule.id] == rule, "loaded with every other rule, ids unique"
        assert all(_REF.match(ref) for ref in rule.refs), rule.refs
        assert any(ref.startswith("MCP") for ref in rule.refs)
    assert RULES["MW500"].severity == RULES["MW501"].severity == Severity.HIGH
    assert RULES["MW502"].severity == Severity.MEDIUM


# ---------------------------------------------------------------- realistic configs, read by discovery

TOOLS: dict[str, dict[str, Any]] = {
    "fetch": {"fetch": {"description": "Retrieve a URL and return its content as markdown.",
                        "inputSchema": {"type": "object", "properties": {"url": {"type": "string", "format": "uri"}}}}},
    "filesystem": {
        "read_file": "Read a file's full contents from disk.",
        "list_directory": "List the files and subdirectories of a directory.",
        "write_file": "Create a file, or overwrite an existing file with the given content.",
    },
    "gmail": {"send_email": {"description": "Send an email to the given recipients.",
                             "inputSchema": {"type": "object", "properties": {"to": {}, "subject": {}, "body": {}}}}},
    "time": {"get_current_time": "Current time in an IANA timezone."},
    "calculator": {"calculate": "Evaluate an arithmetic expression."},
    "memory": {"create_entities": "Add entities to the knowledge graph.", "read_graph": "Return the whole graph."},
    "brave-search": {"brave_web_search": "Search the web with the Brave Search API."},
    "slack": {"slack_post_message": "Post a message to a channel."},
    "mailbox": {"search_emails": "Search the mailbox.", "send_email": "Send an email to the given recipients."},
}  # fmt: skip


def _entry(name: str) -> dict[str, Any]:
    return {"command": "npx", "args": ["-y", f"@example/server-{name}@1.0.0"]}


def _machine(tmp_path: Path, files: Mapping[str, Any]) -> list[ServerInventory]:
    """Write client config files under a fake home, discover them, and give each server its tools."""
    for relative, document in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    found = discover(home=tmp_path, os_name="linux", env={})
    assert found.problems == ()
    return [_inventory(spec) for spec in found.servers]


def _inventory(spec: ServerSpec) -> ServerInventory:
    tools = TOOLS[spec.name]
    definitions = tuple(
        ToolDef(spec.name, "tool", name, {"name": name, **({"description": v} if isinstance(v, str) else v)})
        for name, v in tools.items()
    )
    return ServerInventory(spec=spec, ok=True, definitions=definitions)


def _servers(*names: str) -> dict[str, Any]:
    return {"mcpServers": {name: _entry(name) for name in names}}


DESKTOP = ".config/Claude/claude_desktop_config.json"
CURSOR = ".cursor/mcp.json"
CODE = ".claude.json"


def _ids(findings: Sequence[Finding]) -> list[str]:
    return sorted(f.rule_id for f in findings)


def test_trifecta_across_three_servers_in_one_desktop_config(tmp_path: Path) -> None:
    inventories = _machine(tmp_path, {DESKTOP: _servers("time", "fetch", "filesystem", "gmail")})
    findings = analyze_flows(inventories)
    trifecta = [f for f in findings if f.rule_id == "MW500"]
    assert len(trifecta) == 1
    finding = trifecta[0]
    config = str(tmp_path / DESKTOP)
    assert (finding.location.file, finding.location.server, finding.location.key) == (config, None, "/mcpServers")
    assert finding.location.line == 3, "the line of the first server in the file"
    assert finding.evidence == (
        "untrusted: fetch/fetch → private: filesystem/list_directory, filesystem/read_file"
        " → sink: fetch/fetch, gmail/send_email"
    )
    assert "claude-desktop" in finding.message and "time, fetch, filesystem, gmail" in finding.message
    assert finding.severity == Severity.HIGH
    assert _ids(findings) == ["MW500", "MW502"], "fetch can also reach write_file"


def test_benign_combination_gives_nothing(tmp_path: Path) -> None:
    inventories = _machine(tmp_path, {DESKTOP: _servers("time", "calculator", "memory")})
    assert analyze_flows(inventories) == []


def test_servers_in_different_client_configs_do_not_combine(tmp_path: Path) -> None:
    apart = _machine(tmp_path / "a", {DESKTOP: _servers("brave-search", "filesystem"), CURSOR: _servers("gmail")})
    assert [g.client for g in reach_groups(apart)] == ["claude-desktop", "cursor"]
    assert [f.rule_id for f in analyze_flows(apart)] == ["MW502"], "search beside write_file, nothing else"
    together = _machine(tmp_path / "b", {DESKTOP: _servers("brave-search", "filesystem", "gmail")})
    assert _ids(analyze_flows(together)) == ["MW500", "MW502"]


def test_same_server_in_two_configs_joins_both(tmp_path: Path) -> None:
    inventories = _machine(
        tmp_path, {DESKTOP: _servers("fetch", "filesystem", "gmail"), CURSOR: _servers("fetch", "filesystem", "gmail")}
    )
    assert len(inventories) == 3, "merged by identity, one spec with two sources each"
    trifecta = [f for f in analyze_flows(inventories) if f.rule_id == "MW500"]
    assert sorted(f.location.file or "" for f in trifecta) == sorted([str(tmp_path / DESKTOP), str(tmp_path / CURSOR)])


def test_claude_code_projects_see_user_level_servers(tmp_path: Path) -> None:
    document = {
        "mcpServers": {"filesystem": _entry("filesystem")},
        "projects": {
            "/home/me/web~app": {"mcpServers": {"fetch": _entry("fetch"), "slack": _entry("slack")}},
            "/home/me/notes": {"mcpServers": {"memory": _entry("memory"), "slack": _entry("slack")}},
        },
    }
    inventories = _machine(tmp_path, {CODE: document})
    groups = {g.project: g for g in reach_groups(inventories)}
    assert set(groups) == {None, "/home/me/web~app", "/home/me/notes"}
    assert [i.spec.name for i in groups["/home/me/web~app"].servers] == ["filesystem", "fetch", "slack"]
    trifecta = [f for f in analyze_flows(inventories) if f.rule_id == "MW500"]
    assert len(trifecta) == 1
    assert trifecta[0].location.key == "/projects/~1home~1me~1web~0app/mcpServers"
    assert trifecta[0].location.line == groups["/home/me/web~app"].line
    assert "project /home/me/web~app" in trifecta[0].message


def test_project_groups_are_not_repeated_when_the_user_servers_already_form_it(tmp_path: Path) -> None:
    document = {
        "mcpServers": {name: _entry(name) for name in ("fetch", "filesystem", "gmail")},
        "projects": {"/home/me/a": {"mcpServers": {"slack": _entry("slack")}}},
    }
    trifecta = [f for f in analyze_flows(_machine(tmp_path, {CODE: document})) if f.rule_id == "MW500"]
    assert [f.location.key for f in trifecta] == ["/mcpServers"]


def test_a_project_adding_paths_to_a_single_server_trifecta_is_reported(tmp_path: Path) -> None:
    document = {
        "mcpServers": {"mailbox": _entry("mailbox")},
        "projects": {"/home/me/a": {"mcpServers": {"fetch": _entry("fetch")}}},
    }
    findings = analyze_flows(_machine(tmp_path, {CODE: document}))
    assert [(f.rule_id, f.location.key) for f in findings] == [
        ("MW501", "/mcpServers/mailbox"),
        ("MW500", "/projects/~1home~1me~1a/mcpServers"),
    ]


def test_fingerprint_ignores_line_moves(tmp_path: Path) -> None:
    first = analyze_flows(_machine(tmp_path / "a", {DESKTOP: {"mcpServers": {n: _entry(n) for n in TOOLS}}}))
    moved = {"globalShortcut": "", "mcpServers": {n: _entry(n) for n in TOOLS}}
    second = analyze_flows(_machine(tmp_path / "b", {DESKTOP: moved}))
    key = [(f.rule_id, f.location.line) for f in first if f.location.file]
    assert key != [(f.rule_id, f.location.line) for f in second if f.location.file]
    strip = [dataclasses.replace(f, location=dataclasses.replace(f.location, file="x", line=None)) for f in first]
    again = [dataclasses.replace(f, location=dataclasses.replace(f.location, file="x", line=None)) for f in second]
    assert [f.fingerprint for f in strip] == [f.fingerprint for f in again]


# ---------------------------------------------------------------- listings, single servers, overrides


def _flow(servers: Mapping[str, Any], **extra: Any) -> list[ServerInventory]:
    return inventories_from_case({"servers": servers, **extra})


def test_legs_are_bounded_and_breadth_first() -> None:
    readers = {f"read_file_{i}": "Read a file." for i in range(7)}
    servers = {
        "fs_a": readers,
        "fs_b": {f"list_files_{i}": "List files." for i in range(3)},
        "web": {"fetch": {"description": "Retrieve a URL.", "inputSchema": {"properties": {"url": {}}}}},
    }
    finding = next(f for f in analyze_flows(_flow(servers)) if f.rule_id == "MW500")
    private = finding.evidence.split(" → ")[1]
    assert private == (
        "private: fs_a/read_file_0, fs_b/list_files_0, fs_a/read_file_1, fs_b/list_files_1, fs_a/read_file_2 (+5 more)"
    )
    narrow = dataclasses.replace(RULES["MW500"], options={"leg_limit": 2})
    (short,) = analyze_flows(_flow(servers), rules=[narrow])
    assert short.evidence.split(" → ")[1] == "private: fs_a/read_file_0, fs_b/list_files_0 (+8 more)"


def test_single_server_trifecta_is_reported_once_per_server() -> None:
    gmail = {"search_emails": "Search the mailbox.", "send_email": "Send an email to the given recipients."}
    findings = analyze_flows(_flow({"gmail": gmail, "time": {"get_current_time": "Current time."}}))
    assert _ids(findings) == ["MW501"], "the group adds nothing beyond the one server"
    (single,) = findings
    assert single.location.server == "gmail" and single.location.line == 3
    assert single.evidence == "untrusted: gmail/search_emails → private: gmail/search_emails → sink: gmail/send_email"
    with_fetch = analyze_flows(_flow({"gmail": gmail, "web": TOOLS["fetch"]}))
    assert _ids(with_fetch) == ["MW500", "MW501"], "a second server adds paths of its own"


def test_servers_without_config_sources_form_one_group() -> None:
    servers = {"fetch": TOOLS["fetch"], "filesystem": TOOLS["filesystem"], "gmail": TOOLS["gmail"]}
    inventories = _flow(servers, sources={name: [] for name in servers})
    trifecta = next(f for f in analyze_flows(inventories) if f.rule_id == "MW500")
    assert trifecta.location.file is None and trifecta.location.server is None
    assert "outside any client config" in trifecta.message


def test_annotation_mismatch_locations() -> None:
    tools = {
        "purge": {"description": "Purge all records.", "annotations": {"readOnlyHint": True}},
        "tidy": {"description": "Delete stale files.", "annotations": {"destructiveHint": False}},
        "list": {"description": "List records.", "annotations": {"readOnlyHint": True}},
    }
    findings = [f for f in analyze_flows(_flow({"db": tools})) if f.rule_id == "MW510"]
    got = {(f.location.tool, f.location.pointer, f.severity) for f in findings}
    assert got == {("purge", "/annotations/readOnlyHint", Severity.HIGH),
                   ("tidy", "/annotations/destructiveHint", Severity.MEDIUM)}  # fmt: skip
    assert all(f.location.server == "db" and f.location.kind == "tool" for f in findings)
    assert "readOnlyHint: true; the tool says: name:purge" in next(
        f.evidence for f in findings if f.location.tool == "purge"
    )


def test_overrides_reach_classification() -> None:
    servers = {"fetch": TOOLS["fetch"], "filesystem": TOOLS["filesystem"]}
    assert "MW500" in _ids(analyze_flows(_flow(servers)))
    quiet = analyze_flows(
        _flow(servers), overrides={"fetch/fetch": ["-exfiltration_sink"], "filesystem/*": ["-destructive"]}
    )
    assert quiet == []


def test_rule_selection_and_empty_input() -> None:
    servers = {"fetch": TOOLS["fetch"], "filesystem": TOOLS["filesystem"], "gmail": TOOLS["gmail"]}
    assert _ids(analyze_flows(_flow(servers), rules=[RULES["MW502"]])) == ["MW502"]
    assert analyze_flows(_flow(servers), rules=[]) == []
    assert analyze_flows([]) == []
    failed = [dataclasses.replace(i, ok=False, definitions=()) for i in _flow(servers)]
    assert analyze_flows(failed) == []


def test_hostile_names_are_escaped_in_messages_and_evidence() -> None:
    servers = {"web\x1b[2J": TOOLS["fetch"], "fs": {"read_file\u202e": "Read a file."}, "mail": TOOLS["gmail"]}
    findings = analyze_flows(_flow(servers))
    assert findings, "the trifecta is still found"
    for finding in findings:
        assert "\x1b" not in finding.message + finding.evidence
        assert "\u202e" not in finding.evidence
    assert any("\\u{1B}" in f.message for f in findings) and any("\\u{202E}" in f.evidence for f in findings)
