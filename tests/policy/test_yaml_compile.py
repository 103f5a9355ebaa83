"""The YAML policy language: each construct compiled and run through Cedar, and every error's key path."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from mcpwarden.errors import ConfigError
from mcpwarden.policy import PolicyEngine, ResourceInfo, compile_yaml_policy
from mcpwarden.types import Principal
from tests.policy.builders import tool, who


def engine_for(rule_body: str, effect: str = "allow") -> PolicyEngine:
    return PolicyEngine.from_yaml_text(f"version: 1\nrules:\n  - id: r\n    {effect}: {rule_body}\n")


ALICE, BOB_AGENT = who("alice", groups=("ops", "dev"), client_id="cli-1"), who("bob", "agent", scopes=("s1",))
ANON = who("anonymous", "anonymous")


@pytest.mark.parametrize(
    ("body", "principal", "resource", "action", "allowed"),
    [
        # Name patterns.
        ("{tools: ['*']}", ALICE, tool("any/thing"), "call_tool", True),
        ("{tools: ['github/*']}", ALICE, tool("github/create_issue"), "call_tool", True),
        ("{tools: ['github/*']}", ALICE, tool("gitlab/create_issue"), "call_tool", False),
        ("{tools: ['*/read_*']}", ALICE, tool("files/read_file"), "call_tool", True),
        ("{tools: ['*/read_*']}", ALICE, tool("files/write_file"), "call_tool", False),
        ("{tools: ['git*/push']}", ALICE, tool("gitlab/push"), "call_tool", True),
        ("{tools: ['git*/push']}", ALICE, tool("gitlab/pushx"), "call_tool", False),
        ("{tools: ['files/read_file']}", ALICE, tool("files/read_file"), "call_tool", True),
        ("{tools: ['files/read_file']}", ALICE, tool("files/read_file2"), "call_tool", False),
        ("{tools: ['a/x', 'b/*']}", ALICE, tool("b/y"), "call_tool", True),
        ("{tools: ['a/x', 'b/*']}", ALICE, tool("a/y"), "call_tool", False),
        # A tools rule does not reach resources or prompts, and vice versa.
        ("{tools: ['*']}", ALICE, tool("files/file:///a", kind="resource"), "read_resource", False),
        (
            "{resources: ['files/file:///home/*']}",
            ALICE,
            tool("files/file:///home/a", kind="resource"),
            "read_resource",
            True,
        ),
        (
            "{resources: ['files/file:///home/*']}",
            ALICE,
            tool("files/file:///etc/a", kind="resource"),
            "read_resource",
            False,
        ),
        ("{prompts: ['*']}", ALICE, tool("p/summarise", kind="prompt"), "get_prompt", True),
        ("{tools: ['*'], prompts: ['p/*']}", ALICE, tool("p/summarise", kind="prompt"), "get_prompt", True),
        ("{tools: ['*'], prompts: ['p/*']}", ALICE, tool("q/summarise", kind="prompt"), "get_prompt", False),
        # Actions: the default covers use and listing; an explicit list narrows it.
        ("{tools: ['*']}", ALICE, tool("a/b"), "list", True),
        ("{tools: ['*'], actions: [list]}", ALICE, tool("a/b"), "call_tool", False),
        ("{tools: ['*'], actions: [list]}", ALICE, tool("a/b"), "list", True),
        ("{}", ALICE, tool("a/b", kind="prompt"), "get_prompt", True),
        # Principals.
        ("{principals: {groups: [ops]}}", ALICE, tool("a/b"), "call_tool", True),
        ("{principals: {groups: [ops]}}", BOB_AGENT, tool("a/b"), "call_tool", False),
        ("{principals: {groups: [x, dev]}}", ALICE, tool("a/b"), "call_tool", True),
        ("{principals: {kinds: [agent]}}", BOB_AGENT, tool("a/b"), "call_tool", True),
        ("{principals: {kinds: [agent]}}", ALICE, tool("a/b"), "call_tool", False),
        ("{principals: {kinds: [agent, anonymous]}}", ANON, tool("a/b"), "call_tool", True),
        ("{principals: {ids: [bob]}}", BOB_AGENT, tool("a/b"), "call_tool", True),
        ("{principals: {ids: [bob]}}", ALICE, tool("a/b"), "call_tool", False),
        ("{principals: {client_ids: [cli-1]}}", ALICE, tool("a/b"), "call_tool", True),
        ("{principals: {client_ids: [cli-1]}}", BOB_AGENT, tool("a/b"), "call_tool", False),
        ("{principals: {scopes: [s1, s2]}}", BOB_AGENT, tool("a/b"), "call_tool", True),
        ("{principals: {scopes: [s2]}}", BOB_AGENT, tool("a/b"), "call_tool", False),
        ("{principals: {kinds: [user], groups: [ops]}}", ALICE, tool("a/b"), "call_tool", True),
        ("{principals: {kinds: [agent], groups: [ops]}}", ALICE, tool("a/b"), "call_tool", False),
        # Labels and hints.
        ("{when: {labels_any: [a, b]}}", ALICE, tool("s/t", "b"), "call_tool", True),
        ("{when: {labels_any: [a, b]}}", ALICE, tool("s/t", "c"), "call_tool", False),
        ("{when: {labels_all: [a, b]}}", ALICE, tool("s/t", "a"), "call_tool", False),
        ("{when: {labels_all: [a, b]}}", ALICE, tool("s/t", "a", "b", "c"), "call_tool", True),
        ("{when: {labels_none: [a]}}", ALICE, tool("s/t", "b"), "call_tool", True),
        ("{when: {labels_none: [a]}}", ALICE, tool("s/t", "a"), "call_tool", False),
        ("{when: {read_only: true}}", ALICE, tool("s/t", readOnlyHint=True), "call_tool", True),
        ("{when: {read_only: true}}", ALICE, tool("s/t"), "call_tool", False),
        ("{when: {destructive: false}}", ALICE, tool("s/t", destructiveHint=False), "call_tool", True),
        ("{when: {open_world: false}}", ALICE, tool("s/t"), "call_tool", False),
        # Principal conditions inside unless.
        ("{unless: {principals: {groups: [ops]}}}", ALICE, tool("s/t"), "call_tool", False),
        ("{unless: {principals: {groups: [ops]}}}", BOB_AGENT, tool("s/t"), "call_tool", True),
    ],
)
def test_rule_constructs_decide_as_written(
    body: str, principal: Principal, resource: ResourceInfo, action: str, allowed: bool
) -> None:
    verdict = engine_for(body).decide(principal, action, resource)
    assert verdict.decision == ("allow" if allowed else "deny"), verdict


@pytest.mark.parametrize(
    ("test", "args", "matches"),
    [
        ("{arg: mode, equals: fast}", {"mode": "fast"}, True),
        ("{arg: mode, equals: fast}", {"mode": "slow"}, False),
        ("{arg: mode, equals: fast}", {}, False),
        ("{arg: n, equals: 3}", {"n": 3}, True),
        ("{arg: n, equals: 3}", {"n": 3.0}, True),
        ("{arg: n, equals: 3}", {"n": "3"}, False),
        ("{arg: force, equals: true}", {"force": True}, True),
        ("{arg: mode, one_of: [a, b]}", {"mode": "b"}, True),
        ("{arg: mode, one_of: [a, b]}", {"mode": "c"}, False),
        ("{arg: url, glob: 'https://*.example.com/*'}", {"url": "https://api.example.com/x"}, True),
        ("{arg: url, glob: 'https://*.example.com/*'}", {"url": "http://api.example.com/x"}, False),
        ("{arg: p, glob: 'a?b'}", {"p": "a?b"}, True),  # only `*` is special
        ("{arg: p, glob: 'a?b'}", {"p": "axb"}, False),
        ("{arg: path, path: '/srv/**'}", {"path": "/srv/a/b"}, True),
        ("{arg: path, path: '/srv/**'}", {"path": "/srv/../etc"}, False),
        ("{arg: opts.mode, equals: x}", {"opts": {"mode": "x"}}, True),
        ("{arg: opts.mode, equals: x}", {"opts": {}}, False),
        ("{arg: opts.mode, equals: x}", {"opts": "mode"}, False),
        ("{arg: my-key, present: true}", {"my-key": 1}, True),
        ("{arg: my-key, present: true}", {}, False),
        ("{arg: my-key, present: false}", {}, True),
        ("{args: [{arg: a, equals: 1}, {arg: b, equals: 2}]}", {"a": 1, "b": 2}, True),
        ("{args: [{arg: a, equals: 1}, {arg: b, equals: 2}]}", {"a": 1, "b": 3}, False),
    ],
)
def test_argument_tests(test: str, args: dict[str, Any], matches: bool) -> None:
    allow = engine_for(f"{{tools: ['*'], when: {test}}}").decide(who(), "call_tool", tool("s/t"), args)
    assert (allow.decision == "allow") is matches
    # The same test under `unless` of a deny flips: the deny applies when the test fails.
    guard = PolicyEngine.from_yaml_text(
        f"version: 1\nrules:\n  - id: all\n    allow: {{}}\n  - id: d\n    deny: {{tools: ['*'], unless: {test}}}\n"
    )
    assert (guard.decide(who(), "call_tool", tool("s/t"), args).decision == "allow") is matches


def test_argument_rules_leave_listing_alone() -> None:
    engine = engine_for("{tools: ['*'], unless: {arg: path, glob: '/tmp/*'}}", effect="deny")
    assert "r" not in engine.decide(who(), "list", tool("s/t")).reasons
    assert engine.decide(who(), "call_tool", tool("s/t")).reasons == ("r",)


def test_names_with_quotes_and_invisible_characters_stay_literal() -> None:
    hostile = 'x" || true || "\u200b'
    engine = engine_for(f"{{tools: [{yaml.safe_dump('srv/' + hostile).strip()}]}}".replace("\n...", ""))
    assert engine.decide(who(), "call_tool", tool("srv/" + hostile)).decision == "allow"
    assert engine.decide(who(), "call_tool", tool("srv/x")).decision == "deny"
    assert "\\u{200b}" in engine.cedar_text


def test_default_allow_needs_acknowledgement_and_warns() -> None:
    with pytest.raises(ConfigError) as caught:
        compile_yaml_policy({"version": 1, "default": "allow"})
    assert "allow_unsafe_default" in caught.value.one_line()
    engine = PolicyEngine.from_yaml_text("version: 1\ndefault: allow\nallow_unsafe_default: true\n")
    assert engine.warnings
    assert engine.decide(who(), "call_tool", tool("a/b")).reasons == ("default-allow",)


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("- 1\n", "p.yaml", "mapping"),
        ("version: 1\nrulez: []\n", "p.yaml:2 rulez", "unknown key"),
        ("version: 1\nrules: {}\n", "p.yaml:2 rules", "list"),
        ("rules: []\n", "p.yaml", "version"),
        ("version: 1\ndefault: maybe\n", "p.yaml:2 default", "deny or allow"),
        ("version: 1\nrules:\n  - allow: {}\n", "p.yaml:3 rules[0].id", "id"),
        ("version: 1\nrules:\n  - id: a\n", "p.yaml:3 rules[0]", "exactly one"),
        ("version: 1\nrules:\n  - {id: a, allow: {}, deny: {}}\n", "p.yaml:3 rules[0]", "exactly one"),
        ("version: 1\nrules:\n  - {id: a, allow: {}}\n  - {id: a, deny: {}}\n", "p.yaml:4 rules[1].id", "twice"),
        ("version: 1\nrules:\n  - {id: default-deny, deny: {}}\n", "rules[0].id", "reserved"),
        ("version: 1\nrules:\n  - id: a\n    allow:\n      tool: ['*']\n", "p.yaml:5 rules[0].allow.tool", "unknown"),
        (
            "version: 1\nrules:\n  - id: a\n    allow:\n      tools: [read_file]\n",
            "rules[0].allow.tools[0]",
            "SERVER/NAME",
        ),
        ("version: 1\nrules:\n  - id: a\n    allow:\n      tools: []\n", "rules[0].allow.tools", "empty"),
        ("version: 1\nrules:\n  - id: a\n    allow: {actions: [delete]}\n", "rules[0].allow.actions", "delete"),
        (
            "version: 1\nrules:\n  - id: a\n    allow: {tools: ['*'], actions: [get_prompt]}\n",
            "rules[0].allow.actions",
            "never applies",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    allow: {principals: {kinds: [robot]}}\n",
            "rules[0].allow.principals.kinds",
            "robot",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    allow: {when: {labels_any: x, read_only: yes please}}\n",
            "rules[0].allow.when.read_only",
            "true or false",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    allow: {when: {lables_any: [x]}}\n",
            "rules[0].allow.when.lables_any",
            "labels_any",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    deny: {unless: {arg: p, glob: '/a', equals: x}}\n",
            "rules[0].deny.unless",
            "exactly one test",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    deny: {when: {arg: p, equals: 1.5}}\n",
            "rules[0].deny.when.equals",
            "float",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    deny: {when: {args: [{arg: p, equals: 1, x: 2}]}}\n",
            "rules[0].deny.when.args[0].x",
            "unknown",
        ),
        ("version: 1\nscopes: {'mcp:read': [nope]}\n", "scopes.mcp:read[0]", "SERVER/NAME"),
        ("version: 1\nscopes: []\n", "p.yaml:2 scopes", "map"),
        ("version: 1\nrules: []\nrules: []\n", "p.yaml:3 rules", "twice"),
        ("version: 1\nrules: [\n", "p.yaml", "invalid YAML"),
        ("", "p.yaml", "empty"),
    ],
)
def test_bad_policies_name_the_key(text: str, where: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        PolicyEngine.from_yaml_text(text, source="p.yaml")
    assert where in (caught.value.where or "")
    assert message in caught.value.one_line()


def test_unknown_key_suggests_the_closest() -> None:
    with pytest.raises(ConfigError) as caught:
        compile_yaml_policy({"version": 1, "rules": [{"id": "a", "allow": {"tols": ["*"]}}]})
    assert caught.value.hint is not None and "tools" in caught.value.hint


def test_compiled_rules_carry_their_ids_and_approval() -> None:
    text = compile_yaml_policy(
        {"version": 1, "rules": [{"id": "s", "ask": {"tools": ["*"]}}, {"id": "d", "deny": {"tools": ["x/*"]}}]}
    )
    assert '@id("s")\n@approval("required")\npermit' in text
    assert '@id("d")\nforbid' in text


def test_descriptions_cannot_break_out_of_their_comment() -> None:
    body = {"id": "r", "description": 'x\n@id("evil") permit (principal, action, resource);', "deny": {}}
    engine = PolicyEngine(compile_yaml_policy({"version": 1, "rules": [body]}))
    assert engine.policy_count == 1
    assert engine.decide(who(), "call_tool", tool("a/b")).reasons == ("r",)
