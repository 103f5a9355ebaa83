"""Cedar literals and name patterns: what Python writes is what Cedar reads back."""

from __future__ import annotations

import cedarpy
import pytest

from mcpwarden.policy import cedar_text as ct

TRICKY = ["plain", 'quote"inside', "back\\slash", "new\nline", "tab\t", "zero\u200bwidth", "nul\0", "star*", "ünï"]


def cedar_equals(literal: str, value: str) -> bool:
    """Ask Cedar whether the literal equals `value` (passed as an entity attribute)."""
    policy = cedarpy.PolicySet.from_str(f"permit (principal, action, resource) when {{ resource.v == {literal} }};")
    entities = [{"uid": {"type": "R", "id": "r"}, "attrs": {"v": value}, "parents": []}]
    request = {"principal": 'P::"p"', "action": 'Action::"a"', "resource": 'R::"r"', "context": {}}
    return cedarpy.is_authorized(request, policy, entities).allowed


def cedar_like(pattern: str, value: str) -> bool:
    policy = cedarpy.PolicySet.from_str(f"permit (principal, action, resource) when {{ resource.v like {pattern} }};")
    entities = [{"uid": {"type": "R", "id": "r"}, "attrs": {"v": value}, "parents": []}]
    request = {"principal": 'P::"p"', "action": 'Action::"a"', "resource": 'R::"r"', "context": {}}
    return cedarpy.is_authorized(request, policy, entities).allowed


@pytest.mark.parametrize("value", TRICKY)
def test_string_literals_round_trip(value: str) -> None:
    assert cedar_equals(ct.string(value), value)
    assert not cedar_equals(ct.string(value), value + "x")


@pytest.mark.parametrize(
    ("glob", "value", "matches"),
    [
        ("read_*", "read_file", True),
        ("read_*", "xread_file", False),
        ("*_file", "read_file", True),
        ("a*b*c", "aXXbYYc", True),
        ("a*b*c", "acb", False),
        ("a**b", "aXb", True),
        ('q"*', 'q"x', True),
        ("back\\*", "back\\slash", True),
        ("exact", "exact", True),
        ("exact", "exactly", False),
    ],
)
def test_like_patterns_match_in_cedar_as_in_python(glob: str, value: str, matches: bool) -> None:
    assert cedar_like(ct.like(glob), value) is matches
    server_pattern = ct.parse_pattern(f"s/{glob}")
    assert server_pattern.matches("s", value) is matches


@pytest.mark.parametrize(
    ("text", "server", "name"),
    [
        ("*", "*", "*"),
        ("github/*", "github", "*"),
        ("*/read_*", "*", "read_*"),
        ("files/file:///a/b", "files", "file:///a/b"),
    ],
)
def test_parse_pattern(text: str, server: str, name: str) -> None:
    pattern = ct.parse_pattern(text)
    assert (pattern.server, pattern.name) == (server, name)


@pytest.mark.parametrize("text", ["read_file", "/x", "x/", ""])
def test_parse_pattern_rejects_half_patterns(text: str) -> None:
    with pytest.raises(ValueError, match="SERVER/NAME"):
        ct.parse_pattern(text)


def test_definition_ids_split_one_way_only() -> None:
    # Server "a/b" with tool "c" must not share an id with server "a" and tool "b/c".
    assert ct.definition_id("a/b", "c") != ct.definition_id("a", "b/c")
    assert ct.definition_id("a%2Fb", "c") != ct.definition_id("a/b", "c")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("path", "context.arguments.path"), ("my-key", 'context.arguments["my-key"]'), ("ü", 'context.arguments["ü"]')],
)
def test_attribute_access_quotes_names_that_are_not_identifiers(name: str, expected: str) -> None:
    assert ct.attr("context.arguments", name) == expected
    cedarpy.PolicySet.from_str(
        f"permit (principal, action, resource) when {{ {ct.has('context.arguments', name)} && {expected} == 1 }};"
    )
