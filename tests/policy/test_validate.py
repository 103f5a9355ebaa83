"""Cedar checks before use: statement splitting for error lines, schema errors by policy id."""

from __future__ import annotations

import pytest

from mcpwarden.errors import ConfigError
from mcpwarden.policy import validate


def test_statements_split_outside_strings_and_comments() -> None:
    text = (
        "// a comment; with a semicolon\n"
        'permit (principal, action, resource) when { resource.name == "a;b" };\n'
        "\n"
        "// second\n"
        "forbid (principal, action, resource);\n"
        "// trailing comment only\n"
    )
    found = validate.statements(text)
    assert [line for line, _ in found] == [2, 5]
    assert '"a;b"' in found[0][1]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("permit (principal, action, resource);\n\nforbid (principal, action, resource) when { 1 + };\n", 3),
        ("permit (principal, action, resource)\n", 1),
        ('permit (principal, action, resource) when { resource.name == "x;" };\npermit (principal);\n', 2),
    ],
)
def test_parse_errors_carry_the_statement_line(text: str, line: int) -> None:
    with pytest.raises(ConfigError) as caught:
        validate.parse(text, "raw.cedar")
    assert caught.value.where == f"raw.cedar:{line}"


def test_schema_errors_are_named_by_policy_id() -> None:
    text = '@id("typo") permit (principal is Usr, action, resource);\npermit (principal, action, resource);'
    errors = validate.schema_errors(text, validate.policy_ids(text))
    assert errors and all(e.startswith("policy `typo`") for e in errors)


def test_policy_ids_prefer_the_id_annotation() -> None:
    text = '@id("first") permit (principal, action, resource);\npermit (principal, action, resource);'
    assert validate.policy_ids(text) == {"policy0": "first", "policy1": "policy1"}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('context.arguments has path && context.arguments.path like "x"', frozenset({"path"})),
        ('context.arguments has "my-key" && context.arguments["my-key"] == 1', frozenset({"my-key"})),
        ('context.scopes.contains("s")', frozenset()),
        ("permit (principal, action, resource);", frozenset()),
        # Anything else that mentions the context may read the whole record: pass everything.
        ('context.arguments == {"a": 1}', None),
        ("context has arguments", None),
        ("// context\ncontext.arguments.a == 1", None),
    ],
)
def test_argument_names_narrow_only_on_named_reads(text: str, names: frozenset[str] | None) -> None:
    assert validate.argument_names(text) == names
