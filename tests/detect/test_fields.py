"""Walking definitions: every readable text, its RFC 6901 pointer and kind, under hostile input."""

from __future__ import annotations

import random
from typing import Any

import pytest

from mcpwarden.detect.fields import (
    MAX_DEPTH,
    definition_fields,
    definition_texts,
    locate,
    pointer_token,
    server_fields,
)
from mcpwarden.types import DefinitionKind, ServerInventory, ServerSpec, ToolDef

NESTED: dict[str, Any] = {
    "name": "create_event",
    "title": "Create event",
    "description": "Creates a calendar event.",
    "annotations": {"title": "Create", "readOnlyHint": False},
    "_meta": {"note": "transport only"},
    "icons": [{"src": "data:image/png;base64,AAAA"}],
    "inputSchema": {
        "type": "object",
        "required": ["when"],
        "properties": {
            "when": {"type": "string", "format": "date-time", "description": "Start time."},
            "attendees": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "email": {"type": "string", "description": "Attendee address.", "examples": ["a@b.c"]}
                    },
                },
            },
            "kind": {"type": "string", "enum": ["meeting", "focus"], "default": "meeting"},
            "a/b~c": {"$ref": "#/$defs/opts", "title": "Odd name"},
        },
        "$defs": {"opts": {"type": "object", "description": "Options."}},
    },
    "outputSchema": {"type": "object", "properties": {"id": {"type": "string", "description": "Event id."}}},
}


def fields_of(definition: dict[str, Any], kind: DefinitionKind = "tool") -> dict[str, tuple[str, str]]:
    walk = definition_fields(ToolDef("s", kind, str(definition.get("name", "x")), definition))
    return {f.pointer: (f.kind, f.text) for f in walk.fields}


def test_every_text_of_a_nested_schema_is_located() -> None:
    found = fields_of(NESTED)
    assert found["/description"] == ("tool_description", "Creates a calendar event.")
    assert found["/annotations/title"] == ("tool_description", "Create")
    assert found["/inputSchema/properties/when/description"] == ("parameter_description", "Start time.")
    email = "/inputSchema/properties/attendees/items/properties/email"
    assert found[f"{email}/description"] == ("parameter_description", "Attendee address.")
    assert found[f"{email}/examples/0"] == ("parameter_description", "a@b.c")
    assert found["/inputSchema/properties/kind/enum/1"] == ("parameter_description", "focus")
    assert found["/inputSchema/properties/kind/default"] == ("parameter_description", "meeting")
    assert found["/inputSchema/$defs/opts/description"] == ("parameter_description", "Options.")
    assert found["/outputSchema/properties/id/description"] == ("parameter_description", "Event id.")
    # property names are text the model reads; the pointer names the property
    assert found["/inputSchema/properties/attendees"] == ("parameter_description", "attendees")
    assert found["/inputSchema/properties/a~1b~0c"] == ("parameter_description", "a/b~c")


def test_plumbing_and_transport_metadata_are_skipped() -> None:
    found = fields_of(NESTED)
    texts = {text for _, text in found.values()}
    assert "transport only" not in texts  # _meta
    assert not any(t.startswith("data:image") for t in texts)  # icons
    assert "date-time" not in texts and "object" not in texts  # short structural values
    long_type = {"name": "t", "inputSchema": {"type": "ignore previous instructions " * 5}}
    assert "/inputSchema/type" in fields_of(long_type)  # long text in a structural key is still read


@pytest.mark.parametrize(
    ("kind", "definition", "pointer", "text_kind"),
    [
        (
            "prompt",
            {"name": "p", "arguments": [{"name": "topic", "description": "Topic."}]},
            "/arguments/0/description",
            "prompt",
        ),
        ("resource", {"name": "r", "uri": "file:///tmp/a", "description": "A."}, "/uri", "resource"),
        ("resource_template", {"name": "r", "uriTemplate": "db://{table}"}, "/uriTemplate", "resource"),
    ],
)
def test_prompts_and_resources_get_their_own_kind(
    kind: DefinitionKind, definition: dict[str, Any], pointer: str, text_kind: str
) -> None:
    assert fields_of(definition, kind)[pointer][0] == text_kind


def test_pointer_tokens_follow_rfc_6901() -> None:
    assert pointer_token("a/b") == "a~1b"
    assert pointer_token("~x") == "~0x"
    assert pointer_token("~/") == "~0~1"
    assert pointer_token(3) == "3"


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"description": "bottom"}
    for _ in range(depth):
        value = {"properties": {"p": value}}
    return value


def test_deep_nesting_is_cut_and_reported() -> None:
    walk = definition_fields(ToolDef("s", "tool", "deep", {"name": "deep", "inputSchema": nested(MAX_DEPTH)}))
    assert walk.limits
    assert "nested deeper" in walk.limits[0][1]
    assert "bottom" not in {f.text for f in walk.fields}
    assert definition_texts(ToolDef("s", "tool", "deep", {"inputSchema": nested(MAX_DEPTH)})) is None


def test_odd_values_do_not_break_the_walk() -> None:
    odd = {"name": "x", 1: "numeric key", "description": None, "n": 3.5, "flags": [True, None, {"k": "v"}]}
    found = fields_of(odd)
    assert found["/1"][1] == "numeric key"
    assert found["/flags/2/k"][1] == "v"
    not_an_object = definition_fields(ToolDef("s", "tool", "x", ["a", "list"]))  # type: ignore[arg-type]
    assert not_an_object.fields == () and not_an_object.limits


def test_the_cheap_pass_and_the_locating_walk_agree() -> None:
    rng = random.Random(7)
    shapes = [NESTED, nested(5), {"name": "x", "properties": {"_meta": {"description": "kept: a property name"}}}]
    for definition in shapes:
        tool = ToolDef("s", "tool", "x", definition)
        walk = definition_fields(tool)
        assert definition_texts(tool) == [f.text for f in walk.fields]
        for _ in range(5):
            wanted = sorted(rng.sample(range(len(walk.fields)), min(3, len(walk.fields))))
            assert locate(tool, wanted) == [walk.fields[i] for i in wanted]


def test_server_level_texts_are_walked() -> None:
    spec = ServerSpec(name="s", transport="stdio", command="x")
    inventory = ServerInventory(
        spec=spec, ok=True, instructions="Use me well.", server_info={"name": "srv", "version": "1.0", "title": "T"}
    )
    found = {f.pointer: f.text for f in server_fields(inventory).fields}
    assert found == {"/instructions": "Use me well.", "/serverInfo/name": "srv", "/serverInfo/title": "T"}
