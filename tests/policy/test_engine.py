"""PolicyEngine: decisions, their reasons, fail-closed errors, ask, scopes, raw Cedar, explain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mcpwarden.errors import ConfigError
from mcpwarden.policy import PolicyEngine, ResourceInfo
from mcpwarden.types import Principal
from tests.policy.builders import EXAMPLE_POLICY, tool, who


@pytest.fixture(scope="module")
def example() -> PolicyEngine:
    return PolicyEngine.from_yaml_text(EXAMPLE_POLICY, source="example.yaml")


@pytest.mark.parametrize(
    ("principal", "action", "resource", "args", "decision", "reasons"),
    [
        # Labels decide between plain allow and approval.
        (who(), "call_tool", tool("files/read_file", "private_data"), None, "allow", ("readonly-everyone",)),
        (who(), "call_tool", tool("mail/send", "exfiltration_sink"), None, "ask", ("approval-for-sinks",)),
        (who(), "call_tool", tool("db/drop", "destructive"), None, "ask", ("approval-for-sinks",)),
        # For `list`, a tool that needs approval is still shown.
        (who(), "list", tool("mail/send", "exfiltration_sink"), None, "allow", ("approval-for-sinks",)),
        # Forbid beats permit, whichever permits match.
        (who(), "call_tool", tool("shell/ls"), None, "deny", ("no-shell",)),
        (who(), "call_tool", tool("ci/run_command"), None, "deny", ("no-shell",)),
        (who(), "list", tool("shell/ls"), None, "deny", ("no-shell",)),
        (
            who(groups=("ops",)),
            "call_tool",
            tool("deploy/release"),
            None,
            "allow",
            ("ops-can-deploy", "readonly-everyone"),
        ),
        # Ask beats allow: ops may deploy, but a destructive deploy still asks.
        (who(groups=("ops",)), "call_tool", tool("deploy/wipe", "destructive"), None, "ask", ("approval-for-sinks",)),
        # Argument conditions.
        (who(), "call_tool", tool("files/write_file"), {"path": "/tmp/a/b"}, "allow", ("readonly-everyone",)),
        (who(), "call_tool", tool("files/write_file"), {"path": "/etc/passwd"}, "deny", ("tmp-only",)),
        (who(), "call_tool", tool("files/write_file"), {"path": "/tmp/../etc/passwd"}, "deny", ("tmp-only",)),
        (who(), "call_tool", tool("files/write_file"), {}, "deny", ("tmp-only",)),
        # The argument rule leaves listing alone.
        (who(), "list", tool("files/write_file"), None, "allow", ("readonly-everyone",)),
        # Principal kinds.
        (who("anon", "anonymous"), "call_tool", tool("files/read_file"), None, "deny", ("no-anonymous",)),
        # Nothing permits resources or prompts here.
        (who(), "read_resource", tool("files/file:///a", kind="resource"), None, "deny", ("default-deny",)),
        (who(), "get_prompt", tool("files/summary", kind="prompt"), None, "deny", ("default-deny",)),
    ],
)
def test_example_policy_decisions(
    example: PolicyEngine,
    principal: Principal,
    action: str,
    resource: ResourceInfo,
    args: dict[str, Any] | None,
    decision: str,
    reasons: tuple[str, ...],
) -> None:
    verdict = example.decide(principal, action, resource, args)
    assert verdict.decision == decision
    assert sorted(verdict.reasons) == sorted(reasons)
    assert verdict.source == "authz"
    assert not verdict.errors


@pytest.mark.parametrize(
    ("scopes", "claims", "resource", "decision", "reasons"),
    [
        # Token principals reach only what their scopes map to (a ceiling; rules still grant).
        (("mcp:read",), {"sub": "a"}, tool("files/read_file"), "allow", ("readonly-everyone",)),
        (("mcp:read",), {"sub": "a"}, tool("files/stat"), "deny", ("scope-ceiling",)),
        (("mcp:read",), {"sub": "a"}, tool("deploy/status"), "deny", ("scope-ceiling",)),
        (("mcp:deploy",), {"sub": "a"}, tool("deploy/status"), "allow", ("readonly-everyone",)),
        ((), {"sub": "a"}, tool("files/read_file"), "deny", ("scope-ceiling",)),
        # Without a token (no claims, no scopes) the ceiling does not apply.
        ((), {}, tool("files/stat"), "allow", ("readonly-everyone",)),
    ],
)
def test_scopes_are_a_ceiling_for_token_principals(
    example: PolicyEngine,
    scopes: tuple[str, ...],
    claims: dict[str, Any],
    resource: ResourceInfo,
    decision: str,
    reasons: tuple[str, ...],
) -> None:
    verdict = example.decide(who(scopes=scopes, claims=claims), "call_tool", resource)
    assert (verdict.decision, verdict.reasons) == (decision, reasons)


def test_argument_of_the_wrong_type_is_an_error_and_denies(example: PolicyEngine) -> None:
    verdict = example.decide(who(), "call_tool", tool("files/write_file"), {"path": 7})
    assert (verdict.decision, verdict.reasons) == ("deny", ("tmp-only",))
    assert verdict.errors and "tmp-only" in verdict.errors[0]


def test_deny_by_default_when_no_rule_matches() -> None:
    engine = PolicyEngine.from_yaml_text("version: 1\nrules:\n  - id: a\n    allow: {tools: ['github/*']}\n")
    verdict = engine.decide(who(), "call_tool", tool("files/read"))
    assert verdict.decision == "deny"
    assert verdict.reasons == ("default-deny",)
    assert engine.decide(who(), "call_tool", tool("github/read")).decision == "allow"


def test_empty_rule_list_denies_everything_and_warns() -> None:
    engine = PolicyEngine.from_yaml_text("version: 1\nrules: []\n")
    assert engine.policy_count == 0
    assert any("denied" in w for w in engine.warnings)
    assert engine.decide(who(), "call_tool", tool("a/b")).reasons == ("default-deny",)


RAW_CEDAR = """
@id("allow-all")
permit (principal, action, resource);

@id("guarded")
forbid (principal, action == Action::"call_tool", resource)
when { context.arguments has path && context.arguments.path like "/etc/*" };

permit (principal is User, action, resource is Tool in Server::"files")
when { context.arguments.mode == "fast" };
"""


@pytest.mark.parametrize(
    ("principal", "args", "decision", "reasons", "has_error"),
    [
        # The unguarded third policy errors when `mode` is missing: Cedar would skip it, we deny.
        (who(), {"path": "/tmp/x"}, "deny", ("policy2",), True),
        (who(), {"path": "/tmp/x", "mode": "fast"}, "allow", ("allow-all", "policy2"), False),
        # Comparing a number with a string is false in Cedar, not an error.
        (who(), {"mode": 3}, "allow", ("allow-all",), False),
        (who(), {"path": "/etc/passwd", "mode": "fast"}, "deny", ("guarded",), False),
        # The erroring policy is User-only: an agent never reaches it.
        (who("bot", "agent"), {}, "allow", ("allow-all",), False),
    ],
)
def test_raw_cedar_errors_fail_closed(
    principal: Principal, args: dict[str, Any], decision: str, reasons: tuple[str, ...], has_error: bool
) -> None:
    engine = PolicyEngine.from_cedar_text(RAW_CEDAR, source="raw.cedar")
    verdict = engine.decide(principal, "call_tool", tool("files/read"), args)
    assert verdict.decision == decision
    assert sorted(verdict.reasons) == sorted(reasons)
    assert bool(verdict.errors) == has_error
    if has_error:
        assert verdict.denies
        assert "policy2" in verdict.errors[0] and "mode" in verdict.errors[0]


def test_raw_cedar_approval_annotation_asks() -> None:
    text = '@id("sinks") @approval("required") permit (principal, action, resource) when { resource.open_world };'
    engine = PolicyEngine.from_cedar_text(text)
    verdict = engine.decide(who(), "call_tool", tool("web/fetch", openWorldHint=True))
    assert (verdict.decision, verdict.reasons) == ("ask", ("sinks",))
    closed = engine.decide(who(), "call_tool", tool("calc/add", openWorldHint=False))
    assert (closed.decision, closed.reasons) == ("deny", ("default-deny",))


@pytest.mark.parametrize(
    ("annotations", "attribute", "expected"),
    [
        ({}, "destructive", True),  # MCP's defaults are the cautious ones
        ({"readOnlyHint": True}, "destructive", False),
        ({"destructiveHint": False}, "destructive", False),
        ({"destructiveHint": "no"}, "destructive", True),  # not a bool: the default
        ({}, "read_only", False),
        ({"readOnlyHint": True}, "read_only", True),
        ({}, "open_world", True),
        ({"openWorldHint": False}, "open_world", False),
    ],
)
def test_annotations_become_boolean_attributes(annotations: dict[str, Any], attribute: str, expected: bool) -> None:
    engine = PolicyEngine.from_cedar_text(f"permit (principal, action, resource) when {{ resource.{attribute} }};")
    verdict = engine.decide(who(), "call_tool", tool("s/t", **annotations))
    assert (verdict.decision == "allow") is expected


def test_unknown_action_is_denied_with_an_error(example: PolicyEngine) -> None:
    verdict = example.decide(who(), "delete_everything", tool("files/read_file"))
    assert verdict.decision == "deny"
    assert verdict.errors and "delete_everything" in verdict.errors[0]


@pytest.mark.parametrize(
    "args",
    [
        {"path": {"__entity": {"type": "User", "id": "admin"}}},
        {"path": {"__extn": {"fn": "ip", "arg": "10.0.0.1"}}},
        {"path": None, "n": float("nan"), "big": 2**80},
        {"deep": json.loads("[" * 60 + "]" * 60)},
    ],
)
def test_hostile_arguments_never_allow_what_a_plain_value_would_not(
    example: PolicyEngine, args: dict[str, Any]
) -> None:
    verdict = example.decide(who(), "call_tool", tool("files/write_file"), args)
    assert verdict.decision == "deny"


def test_explain_shows_the_request_and_entities(example: PolicyEngine) -> None:
    result = example.explain(who(groups=("ops",)), "call_tool", tool("files/write_file"), {"path": "/etc/x"})
    data = result.to_dict()
    assert data["decision"] == "deny" and data["policy_ids"] == ["tmp-only"]
    assert data["cedar_decision"] == "Deny"
    assert data["request"]["context"]["arguments"] == {"path": "/etc/x"}
    uids = {(e["uid"]["type"], e["uid"]["id"]) for e in data["entities"]}
    assert {("User", "alice"), ("Group", "ops"), ("Tool", "files/write_file"), ("Server", "files")} <= uids
    json.dumps(data)  # JSON-ready


def test_decisions_do_not_leak_between_cached_principals(example: PolicyEngine) -> None:
    ops, plain = who("x", groups=("ops",)), who("x")
    resource = tool("deploy/release")
    for _ in range(3):
        assert "ops-can-deploy" in example.decide(ops, "call_tool", resource).reasons
        assert "ops-can-deploy" not in example.decide(plain, "call_tool", resource).reasons


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("p.yaml", "version: 1\nrules:\n  - id: x\n    allow: {tool: ['*']}\n", "rules[0].allow.tool"),
        ("p.yml", "version: 2\n", "version"),
        (
            "p.cedar",
            "permit (principal, action, resource);\nforbid (principal, action, resource) when { 1 + };\n",
            ":2",
        ),
        ("p.cedar", 'permit (principal, action == Action::"call_tol", resource);', "call_tol"),
        ("p.cedar", 'permit (principal, action, resource) when { resource.nmae == "x" };', "nmae"),
        ("p.txt", "version: 1\n", ".txt"),
    ],
)
def test_from_file_errors_name_the_file_and_the_problem(tmp_path: Path, name: str, text: str, fragment: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        PolicyEngine.from_file(path)
    line = caught.value.one_line()
    assert str(path) in line
    assert fragment in line


def test_from_file_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        PolicyEngine.from_file(tmp_path / "absent.yaml")


def test_open_record_fields_pass_validation() -> None:
    # Fields of arguments and claims cannot be declared in a Cedar schema; they must not fail the check.
    text = (
        'permit (principal, action, resource) when { context.arguments.mode == "x" && principal.claims.email '
        'like "*@corp.example" };'
    )
    assert PolicyEngine.from_cedar_text(text).policy_count == 1


@pytest.mark.parametrize(
    ("condition", "args", "forbidden"),
    [
        # Policies read arguments by name only, so the others need not reach Cedar.
        ("context.arguments has a && context.arguments.a == 1", {"a": 1, "b": 2}, True),
        ('context.arguments has "x-y" && context.arguments["x-y"] == 1', {"x-y": 1, "b": 2}, True),
        ("context.arguments has b", {"a": 1}, False),
        ("context.arguments has a && context.arguments.a.b == 1", {"a": {"b": 1, "c": 2}, "d": 3}, True),
    ],
)
def test_argument_narrowing_is_invisible_to_policies(condition: str, args: dict[str, Any], forbidden: bool) -> None:
    text = f"permit (principal, action, resource);\nforbid (principal, action, resource) when {{ {condition} }};"
    verdict = PolicyEngine.from_cedar_text(text).decide(who(), "call_tool", tool("s/t"), args)
    assert (verdict.decision == "deny") is forbidden
