"""The fast schema check may only ever say "valid" where jsonschema agrees, and must say it for the common case."""

from __future__ import annotations

import itertools
from typing import Any

import jsonschema
import jsonschema.validators
import pytest

from mcpwarden.gateway.interceptors.schema_fast import compile_fast

TEXT = {"type": "object", "properties": {"text": {"type": "string", "description": "d"}}, "required": ["text"]}
SCHEMAS: list[dict[str, Any]] = [
    TEXT,
    {"type": "object"},
    {"type": "object", "properties": {"n": {"type": "integer"}, "x": {"type": "number"}}, "required": ["n"]},
    {"type": "object", "properties": {"flag": {"type": "boolean"}}, "additionalProperties": False},
    {"type": "object", "additionalProperties": {"type": "string"}},
    {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}},
    {"type": "object", "properties": {"mode": {"enum": ["a", "b", 1, None]}}},
    {"type": "object", "properties": {"v": {"type": ["string", "null"]}, "o": {"type": "object"}}},
    {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {"p": {}}},
    {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "properties": {"i": {"type": "integer"}}},
]
VALUES: list[Any] = [
    {},
    {"text": "hello"},
    {"text": 5},
    {"text": None},
    {"text": "x", "extra": 1},
    {"n": 1},
    {"n": 1.0},
    {"n": True},
    {"n": 1, "x": 2.5},
    {"n": 1, "x": False},
    {"x": float("nan"), "n": 3},
    {"flag": True},
    {"flag": 1},
    {"other": "s"},
    {"other": 1},
    {"tags": ["a", "b"]},
    {"tags": ["a", 1]},
    {"tags": "a"},
    {"mode": "a"},
    {"mode": 1},
    {"mode": 1.0},
    {"mode": True},
    {"mode": None},
    {"mode": "c"},
    {"v": None},
    {"v": "s"},
    {"v": 0},
    {"o": {}},
    {"o": []},
    {"p": [1, {"q": None}]},
    {"i": 2},
    {"i": 2.0},
    [],
    "text",
    None,
]


@pytest.mark.parametrize(("schema", "value"), list(itertools.product(SCHEMAS, VALUES)))
def test_the_fast_check_never_accepts_what_jsonschema_refuses(schema: dict[str, Any], value: Any) -> None:
    fast = compile_fast(schema)
    assert fast is not None
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)(schema)
    if fast(value):
        assert validator.is_valid(value), (schema, value)


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        (TEXT, {"text": "hello"}),
        (SCHEMAS[2], {"n": 1, "x": 2.5}),
        (SCHEMAS[4], {"a": "b"}),
        (SCHEMAS[5], {"tags": ["a", "b"]}),
        (SCHEMAS[6], {"mode": None}),
    ],
)
def test_the_fast_check_accepts_the_common_valid_calls(schema: dict[str, Any], value: Any) -> None:
    fast = compile_fast(schema)
    assert fast is not None and fast(value)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"s": {"type": "string", "minLength": 3}}},
        {"type": "object", "properties": {"s": {"$ref": "#/$defs/s"}}, "$defs": {"s": {"type": "string"}}},
        {"type": "object", "patternProperties": {"^x": {"type": "string"}}},
        {"anyOf": [{"type": "string"}, {"type": "object"}]},
        {"type": "object", "properties": {"t": {"type": "array", "items": [{"type": "string"}]}}},
        {"type": "object", "properties": {"e": {"enum": [{"a": 1}]}}},
        {"type": "any"},
        {"type": "object", "properties": {"s": {"type": "string", "$id": "x"}}},
        {"type": "object", "properties": {"s": False}},
    ],
)
def test_schemas_with_other_keywords_are_left_to_jsonschema(schema: dict[str, Any]) -> None:
    assert compile_fast(schema) is None
