"""From an entry to a ServerSpec: transport choice, type checks, entry-level problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mcpwarden.discovery._entries import (
    EntryError,
    parse_server_list,
    parse_server_map,
    spec_from_fields,
    standard_fields,
)
from mcpwarden.discovery._parse import Document, load_document


@pytest.mark.parametrize(
    ("entry", "transport", "target"),
    [
        ({"command": "npx", "args": ["-y", "pkg"]}, "stdio", "npx"),
        ({"type": "stdio", "command": "uvx"}, "stdio", "uvx"),
        ({"url": "https://e.example/mcp"}, "http", "https://e.example/mcp"),
        ({"url": "https://e.example/sse"}, "sse", "https://e.example/sse"),
        ({"url": "https://e.example/v1/sse/?k=1"}, "sse", "https://e.example/v1/sse/?k=1"),
        ({"url": "https://e.example/ssex"}, "http", "https://e.example/ssex"),
        ({"url": "https://e.example/mcp", "type": "sse"}, "sse", "https://e.example/mcp"),
        ({"url": "https://e.example/sse", "type": "http"}, "http", "https://e.example/sse"),
        ({"url": "https://e.example/mcp", "transport": "SSE"}, "sse", "https://e.example/mcp"),
        ({"url": "https://e.example/mcp", "type": "streamable-http"}, "http", "https://e.example/mcp"),
        ({"url": "https://e.example/mcp", "type": "streamableHttp"}, "http", "https://e.example/mcp"),
        ({"url": "https://e.example/mcp", "transportType": "sse"}, "sse", "https://e.example/mcp"),
        ({"serverUrl": "https://e.example/mcp"}, "http", "https://e.example/mcp"),
        ({"httpUrl": "https://e.example/sse"}, "http", "https://e.example/sse"),
        ({"command": "", "url": "https://e.example/mcp"}, "http", "https://e.example/mcp"),
    ],
)
def test_transport_mapping(entry: dict[str, Any], transport: str, target: str) -> None:
    spec = spec_from_fields("s", standard_fields(entry))
    assert spec.transport == transport
    assert (spec.command if transport == "stdio" else spec.url) == target


def test_stdio_fields_are_normalised() -> None:
    entry = {"command": "srv", "args": ["--port", 8080, True], "env": {"N": 1, "B": False, "E": None}, "cwd": "/w"}
    spec = spec_from_fields("s", standard_fields(entry))
    assert spec.args == ("--port", "8080", "true")
    assert spec.env == {"N": "1", "B": "false", "E": ""}
    assert spec.cwd == "/w"
    assert spec.url is None and spec.headers == {}


def test_remote_fields_keep_headers() -> None:
    spec = spec_from_fields("s", standard_fields({"url": "https://e.example/mcp", "headers": {"Authorization": "x"}}))
    assert spec.headers == {"Authorization": "x"}
    assert spec.command is None and spec.args == ()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({}, "neither"),
        ({"disabled": True}, "neither"),
        ({"type": "stdio"}, "no `command`"),
        ({"command": ["npx", "-y"]}, "`command` must be a string"),
        ({"command": "x", "args": "--flag"}, "`args` must be a list"),
        ({"command": "x", "args": [["nested"]]}, "must be a string"),
        ({"command": "x", "env": ["A=1"]}, "`env` must be an object"),
        ({"command": "x", "env": {"A": {"nested": 1}}}, "`env.A` must be a string"),
        ({"command": "x", "cwd": 3}, "`cwd` must be a string"),
        ({"url": 42}, "`url` must be a string"),
        ({"url": "https://e.example", "headers": "Authorization: x"}, "`headers` must be an object"),
        ({"url": "https://e.example", "type": "websocket"}, "unsupported transport type 'websocket'"),
        ({"url": "https://e.example", "type": 3}, "transport type must be a string"),
    ],
)
def test_bad_entries_raise_entry_error(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(EntryError, match=message if message.startswith("`") else None) as caught:
        spec_from_fields("s", standard_fields(entry))
    assert message in str(caught.value)


def _doc(tmp_path: Path, data: object) -> Document:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    outcome = load_document(path, "cursor", "user", "json")
    assert outcome is not None and outcome.document is not None
    return outcome.document


BAD_ENTRIES = """{
  "mcpServers": {
    "good": {"command": "a"},
    "bad": {
      "args": ["x"]
    },
    "text": "npx",
    "also": {"command": "b"}
  }
}
"""


def test_a_bad_entry_skips_only_itself(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(BAD_ENTRIES, encoding="utf-8")
    outcome = load_document(path, "cursor", "user", "json")
    assert outcome is not None and outcome.document is not None
    doc = outcome.document
    specs, problems = parse_server_map(doc, ("mcpServers",), doc.data["mcpServers"])
    assert [s.name for s in specs] == ["good", "also"]
    assert [(p.reason, p.line) for p in problems] == [
        ("server 'bad': has neither a `command` nor a `url`", 4),
        ("server 'text': entry must be an object, found a string", 7),
    ]


def test_a_section_of_the_wrong_type_is_one_problem(tmp_path: Path) -> None:
    doc = _doc(tmp_path, {"mcpServers": [{"command": "a"}]})
    specs, problems = parse_server_map(doc, ("mcpServers",), doc.data["mcpServers"])
    assert specs == []
    assert [(p.reason, p.line) for p in problems] == [("`/mcpServers` must be an object of servers, found a list", 2)]


def test_sources_carry_pointer_line_scope_and_raw(tmp_path: Path) -> None:
    entry = {"command": "a", "args": ["b"], "extra": {"kept": True}}
    doc = _doc(tmp_path, {"x": 1, "mcpServers": {"we/ird~": entry}})
    (spec,), _ = parse_server_map(doc, ("mcpServers",), doc.data["mcpServers"])
    (source,) = spec.sources
    assert (source.client, source.key, source.scope, source.path) == (
        "cursor",
        "/mcpServers/we~1ird~0",
        "user",
        str(doc.path),
    )
    assert source.line == 4
    assert spec.raw == entry


def test_list_entries_are_named_by_their_name_or_position(tmp_path: Path) -> None:
    doc = _doc(tmp_path, {"servers": [{"name": "n", "command": "a"}, {"command": "b"}, "junk"]})
    specs, problems = parse_server_list(doc, ("servers",), doc.data["servers"])
    assert [(s.name, s.sources[0].key) for s in specs] == [("n", "/servers/0"), ("servers[1]", "/servers/1")]
    assert len(problems) == 1 and "servers[2]" in problems[0].reason
