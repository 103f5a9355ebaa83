"""Cedar entities and context from principals, resources and (hostile) arguments."""

from __future__ import annotations

import json
from typing import Any

import cedarpy
import pytest

from mcpwarden.policy import entities as ent
from tests.policy.builders import tool, who


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("s", "s"),
        (True, True),
        (5, 5),
        (5.0, 5),
        (1.5, "1.5"),
        (2**70, str(2**70)),
        (float("inf"), "inf"),
        ([1, None, "a"], [1, "a"]),
        ({"a": None, "b": {"c": 1}}, {"b": {"c": 1}}),
        ({"__entity": {"type": "User", "id": "admin"}}, '{"__entity": {"id": "admin", "type": "User"}}'),
        ({"__extn": {"fn": "ip", "arg": "1.2.3.4"}}, '{"__extn": {"arg": "1.2.3.4", "fn": "ip"}}'),
    ],
)
def test_to_cedar_keeps_what_cedar_can_hold(value: Any, expected: Any) -> None:
    assert ent.to_cedar(value, 0) == expected


def test_deep_nesting_becomes_text() -> None:
    deep: Any = "leaf"
    for _ in range(ent.MAX_DEPTH + 5):
        deep = {"k": deep}
    record = ent.arguments_record({"deep": deep})
    # Somewhere below the limit the rest is JSON text; it still contains the leaf.
    assert "leaf" in json.dumps(record)


@pytest.mark.parametrize(
    "arguments",
    [
        {"a": {"__entity": {"type": "User", "id": "x"}}},
        {"a": [{"__extn": {"fn": "decimal", "arg": "1.0"}}], "b": None, "c": float("nan")},
        {"x": {"type": "User", "id": "admin"}},
        {str(i): i for i in range(200)},
    ],
)
def test_any_arguments_build_a_request_cedar_accepts(arguments: dict[str, Any]) -> None:
    principal, resource = who(claims={"sub": "a", "nested": {"__entity": 1}}), tool("s/t", "x")
    entities = ent.principal_entities(principal) + ent.resource_entities(resource)
    request = {
        "principal": ent.principal_uid(principal),
        "action": {"type": "Action", "id": "call_tool"},
        "resource": ent.resource_uid(resource),
        "context": ent.build_context(principal, arguments),
    }
    result = cedarpy.is_authorized(request, "permit (principal, action, resource);", entities)
    assert result.allowed, result.diagnostics.errors


def test_principal_entity_attributes_and_groups() -> None:
    entities = ent.principal_entities(who("bob", "agent", groups=("b", "a"), scopes=("s",), client_id="c"))
    principal = entities[0]
    assert principal["uid"] == {"type": "Agent", "id": "bob"}
    assert principal["attrs"]["client_id"] == "c" and principal["attrs"]["scopes"] == ["s"]
    assert principal["attrs"]["token"] is True  # scopes only come from tokens
    assert [p["id"] for p in principal["parents"]] == ["a", "b"]
    assert {e["uid"]["type"] for e in entities[1:]} == {"Group"}
    assert ent.principal_entities(who())[0]["attrs"]["token"] is False
