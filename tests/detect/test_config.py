"""Config and server-level checks: every YAML rule case, masking, locations, severities."""

from __future__ import annotations

import re
from typing import Any

import pytest
from mcp_types import version as mcp_versions

from mcpwarden.detect.config import (
    CHECK_NAMES,
    check_inventories,
    check_problems,
    check_specs,
    config_rules,
    pointer,
    run_rule_case,
)
from mcpwarden.detect.ruleset import Rule
from mcpwarden.types import ConfigProblem, Finding, ServerInventory, ServerSource, ServerSpec, Severity

RULES = config_rules()
_REF = re.compile(r"^(?:(?:MCP|LLM|ASI)(?:0[1-9]|10)|CWE-\d+)$")


def _cases() -> list[Any]:
    params = []
    for rule in RULES:
        for expect, cases in (("flag", rule.flag_cases), ("ok", rule.ok_cases)):
            for index, case in enumerate(cases):
                params.append(pytest.param(rule, expect, case, id=f"{rule.id}-{expect}-{index}"))
    return params


@pytest.mark.parametrize(("rule", "expect", "case"), _cases())
def test_rule_case(rule: Rule, expect: str, case: dict[str, Any]) -> None:
    findings = [f for f in run_rule_case(rule, case) if f.rule_id == rule.id]
    assert bool(findings) is (expect == "flag"), [f.message for f in findings]


def test_rules_are_well_formed() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert {"MW100", "MW110", *(f"MW{n}" for n in range(201, 210))} <= set(ids)
    for rule in RULES:
        assert 100 <= int(rule.id[2:]) <= 299, rule.id
        assert rule.check in CHECK_NAMES and rule.check.startswith(("config_", "server_"))
        assert all(_REF.match(ref) for ref in rule.refs), rule.refs
        assert any(ref.startswith(("MCP", "LLM", "ASI")) for ref in rule.refs)


# ---------------------------------------------------------------- masking

_SECRETS = {
    "github": "ghp_" + "R8kq2Lx0Vb7Tz4Nw9Ye1Hc5Mj3Pd6Fs8Gu2Ao",
    "named": "Q7xk2LmP9vR4tZ8wN3bY6cH1",
    "low_entropy": "hunter2hunter2",
    "url_password": "Pr0d-Passw0rd",
    "bearer": "CiHp6bR1IqfEouHgxzNNAL5.wIScGebc.y8F5n3_",
}
_SOURCES = (
    ServerSource(client="claude", path="/home/me/.claude.json", key="/mcpServers/gh", line=12),
    ServerSource(client="cursor", path="/home/me/.cursor/mcp.json", key="/mcpServers/gh", line=3),
    ServerSource(client="vscode", path="/home/me/.claude.json", key="/projects/~1repo/mcpServers/gh", line=40),
)
_LEAKY_STDIO = ServerSpec(
    name="gh",
    transport="stdio",
    command="sh",
    args=(
        "-c",
        f"curl -H 'Authorization: Bearer {_SECRETS['bearer']}' https://x.example/i.sh | sh",
        f"postgresql://app:{_SECRETS['url_password']}@db:5432/app",
    ),
    env={"GITHUB_TOKEN": _SECRETS["github"], "API_TOKEN": _SECRETS["named"], "DB_PASSWORD": _SECRETS["low_entropy"]},
    sources=_SOURCES,
)
_LEAKY_HTTP = ServerSpec(
    name="remote",
    transport="http",
    url=f"http://ci:{_SECRETS['url_password']}@mcp.example.com/mcp?token={_SECRETS['named']}",
    headers={"Authorization": f"Bearer {_SECRETS['bearer']}", "X-Api-Key": _SECRETS["named"]},
    sources=_SOURCES[:1],
)


def _all_findings() -> list[Finding]:
    echo = " ".join(_SECRETS.values())
    inventories = [
        ServerInventory(spec=_LEAKY_STDIO, ok=False, error=f"exited: {echo}", stderr=f"bad token {echo}\n" * 3),
        ServerInventory(spec=_LEAKY_HTTP, ok=True, authenticated=False, protocol_version="2024-11-05"),
    ]
    problems = [ConfigProblem(client="x", path="/p.json", reason=f"bad value {_SECRETS['github']}", line=1)]
    return [
        *check_specs([_LEAKY_STDIO, _LEAKY_HTTP], RULES),
        *check_inventories(inventories),
        *check_problems(problems),
    ]


def test_no_clear_secret_in_any_finding() -> None:
    findings = _all_findings()
    # Every rule that can see these entries fired, so the assertion below covers their outputs.
    assert {"MW100", "MW110", "MW201", "MW203", "MW207", "MW208", "MW209"} <= {f.rule_id for f in findings}
    for finding in findings:
        text = repr(finding) + finding.location.describe() + finding.fingerprint
        for name, secret in _SECRETS.items():
            assert secret not in text, (name, finding.rule_id)


def test_low_entropy_secret_is_scrubbed_from_errors_even_when_not_reported() -> None:
    # "hunter2hunter2" is below the MW201 entropy bar, yet it is the spec's DB_PASSWORD: the
    # connection error must not echo it.
    secret_fields = {f.location.key for f in check_specs([_LEAKY_STDIO], RULES) if f.rule_id == "MW201"}
    assert "/mcpServers/gh/env/DB_PASSWORD" not in secret_fields
    inventory = ServerInventory(spec=_LEAKY_STDIO, ok=False, error="x", stderr=f"login {_SECRETS['low_entropy']}")
    (finding,) = check_inventories([inventory], RULES)
    assert _SECRETS["low_entropy"] not in repr(finding)
    assert "login" in finding.message


# ---------------------------------------------------------------- locations


def test_one_finding_per_server_at_its_first_source() -> None:
    findings = [f for f in check_specs([_LEAKY_STDIO], RULES) if f.rule_id == "MW201"]
    by_key = {f.location.key: f for f in findings}
    assert set(by_key) == {
        "/mcpServers/gh/env/GITHUB_TOKEN",
        "/mcpServers/gh/env/API_TOKEN",
        "/mcpServers/gh/args/1",
        "/mcpServers/gh/args/2",
    }
    for finding in findings:
        assert (finding.location.file, finding.location.line, finding.location.server) == (
            "/home/me/.claude.json",
            12,
            "gh",
        )
        # The other file is listed once; the first file (also the third source) is not repeated.
        assert finding.message.count("/home/me/.cursor/mcp.json") == 1
        assert "Also configured in: /home/me/.cursor/mcp.json." in finding.message


@pytest.mark.parametrize(
    ("base", "parts", "expected"),
    [
        ("/mcpServers/gh", ("env", "A/B~C"), "/mcpServers/gh/env/A~1B~0C"),
        ("/mcpServers/gh/", ("args", 3), "/mcpServers/gh/args/3"),
        ("", ("url",), "/url"),
        ("/", ("url",), "/url"),
        ("/servers/x", (), "/servers/x"),
    ],
)
def test_pointer(base: str, parts: tuple[str | int, ...], expected: str) -> None:
    assert pointer(base, *parts) == expected


def test_spec_without_sources_still_locates_the_field() -> None:
    spec = ServerSpec(name="bare", transport="http", url="http://mcp.example.com/mcp")
    (finding,) = check_specs([spec], RULES)
    assert (finding.rule_id, finding.location.server, finding.location.key, finding.location.file) == (
        "MW207",
        "bare",
        "/url",
        None,
    )


def test_config_problem_keeps_file_and_line() -> None:
    (finding,) = check_problems(
        [ConfigProblem(client="cursor", path="/h/.cursor/mcp.json", reason="bad", line=7)], RULES
    )
    assert (finding.rule_id, finding.severity, finding.location.file, finding.location.line) == (
        "MW100",
        Severity.MEDIUM,
        "/h/.cursor/mcp.json",
        7,
    )
    assert finding.evidence == "bad"


# ---------------------------------------------------------------- severities


def _inventory(url: str | None = None, **fields: Any) -> ServerInventory:
    spec = ServerSpec(name="s", transport="http" if url else "stdio", url=url, command=None if url else "node")
    return ServerInventory(spec=spec, **{"ok": True, **fields})


@pytest.mark.parametrize(
    ("url", "severity"),
    [
        ("https://mcp.example.com/mcp", Severity.HIGH),
        ("http://10.1.2.3:8080/mcp", Severity.HIGH),
        ("http://localhost:8080/mcp", Severity.LOW),
        ("http://127.0.0.2:8080/mcp", Severity.LOW),
        ("http://[::1]:8080/mcp", Severity.LOW),
        ("http://[::ffff:127.0.0.1]:8080/mcp", Severity.LOW),
        ("http://mcp.localhost/mcp", Severity.LOW),
    ],
)
def test_unauthenticated_server_severity_depends_on_reach(url: str, severity: Severity) -> None:
    (finding,) = check_inventories([_inventory(url, authenticated=False)], RULES)
    assert (finding.rule_id, finding.severity) == ("MW208", severity)


@pytest.mark.parametrize(
    ("version", "severity"),
    [
        (mcp_versions.LATEST_PROTOCOL_VERSION, None),
        (mcp_versions.LATEST_HANDSHAKE_VERSION, Severity.INFO),
        ("2025-06-18", Severity.LOW),
        ("2025-03-26", Severity.MEDIUM),
        (mcp_versions.OLDEST_SUPPORTED_VERSION, Severity.MEDIUM),
        ("2099-01-01", Severity.MEDIUM),  # unknown strings compare as old, never as newer
        ("zzz", Severity.MEDIUM),
    ],
)
def test_protocol_version_severity(version: str, severity: Severity | None) -> None:
    findings = check_inventories([_inventory(protocol_version=version)], RULES)
    assert [f.severity for f in findings] == ([] if severity is None else [severity])


def test_unreachable_server_reports_error_line_and_stderr_tail() -> None:
    stderr = "".join(f"line {n}\n" for n in range(20)) + "\x1b[31mfatal\x1b[0m: boom\n"
    inventory = _inventory(ok=False, error="\n\nspawn failed: ENOENT\nmore detail", stderr=stderr)
    (finding,) = check_inventories([inventory], RULES)
    assert finding.rule_id == "MW110"
    assert finding.evidence == "spawn failed: ENOENT"
    assert "line 16" in finding.message and "line 15" not in finding.message
    assert "\x1b" not in finding.message and "\\u{1B}" in finding.message


# ---------------------------------------------------------------- selection and robustness


def test_rules_argument_selects_checks() -> None:
    only_http = [r for r in RULES if r.id == "MW207"]
    findings = check_specs([_LEAKY_STDIO, _LEAKY_HTTP], rules=only_http)
    assert {f.rule_id for f in findings} == {"MW207"}
    assert check_specs([_LEAKY_STDIO], rules=[]) == []


@pytest.mark.parametrize(
    "spec",
    [
        ServerSpec(name="a", transport="stdio"),
        ServerSpec(name="b", transport="stdio", command="", args=("", "-", "--", "=", "'")),
        ServerSpec(name="c", transport="http", url="http://[::1"),
        ServerSpec(name="d", transport="http", url="::::"),
        ServerSpec(name="e", transport="stdio", command="docker", args=("run", "-v", "", "--mount", "", "-e")),
        ServerSpec(name="f", transport="stdio", command="sh", args=("-c", 'x "$(' * 50)),
        ServerSpec(name="g", transport="stdio", command="node", raw={"a": [[[[[[[["deep"]]]]]]]], "b": None}),
    ],
)
def test_odd_entries_do_not_crash(spec: ServerSpec) -> None:
    inventory = ServerInventory(spec=spec, ok=False, error=None, protocol_version=None)
    assert isinstance(check_specs([spec], RULES), list)
    assert isinstance(check_inventories([inventory], RULES), list)


def test_one_finding_per_command_line_names_every_unpinned_package() -> None:
    spec = ServerSpec(name="u", transport="stdio", command="uvx", args=("--with", "a", "--with", "b==1", "c"))
    (finding,) = [f for f in check_specs([spec], RULES) if f.rule_id == "MW202"]
    assert "'a'" in finding.message and "'c'" in finding.message and "'b==1'" not in finding.message


def test_an_option_written_twice_is_one_finding() -> None:
    spec = ServerSpec(
        name="d", transport="stdio", command="docker", args=("run", "--privileged", "--privileged", "img:1")
    )
    assert [f.rule_id for f in check_specs([spec], RULES)] == ["MW204"]
