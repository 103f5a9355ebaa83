"""Line lookup in JSON/JSONC, YAML and TOML text."""

from __future__ import annotations

import pytest
import yaml

from mcpwarden.discovery._positions import json_key_lines, toml_key_line, yaml_node_line

# Line numbers are the 1-based lines of this text as written.
TRICKY_JSONC = """{
  // "github": a key named in a comment must not count
  /* "servers": { "github": {} } */
  "note": "a string with \\"github\\": {braces} and [brackets]",
  "servers": {
    "env-first": {
      "command": "x",
      "env": { "github": "also not a server" }
    },
    unquoted: { "command": "y", },
    'single': { "command": "z" },
    "github": {
      "url": "https://e.example/mcp"
    },
    "sla\\/sh": { "command": "w" },
  },
  "list": [
    { "a": 1 },
    2,
    {
      "b": 2
    }
  ]
}
"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("servers",), 5),
        (("servers", "env-first"), 6),
        (("servers", "env-first", "env", "github"), 8),
        (("servers", "unquoted"), 10),
        (("servers", "single"), 11),
        (("servers", "github"), 12),
        (("servers", "github", "url"), 13),
        (("servers", "sla/sh"), 15),
        (("list", 0), 18),
        (("list", 2), 20),
        (("list", 2, "b"), 21),
    ],
)
def test_json_key_lines_follow_structure_not_text(path: tuple[str | int, ...], line: int) -> None:
    assert json_key_lines(TRICKY_JSONC, max_depth=5)[path] == line


def test_json_key_lines_respects_depth_and_last_duplicate_wins() -> None:
    text = '{"a": {"b": {"c": 1}},\n "a": {"b": 2}}'
    lines = json_key_lines(text, max_depth=2)
    assert lines[("a",)] == 2
    assert lines[("a", "b")] == 2
    assert ("a", "b", "c") not in lines


@pytest.mark.parametrize("text", ['{"a": [1, {"b": "unterminated', "}}]]{{", "", '"just a string"', "{,,:}"])
def test_json_key_lines_never_raises_on_broken_text(text: str) -> None:
    assert isinstance(json_key_lines(text, max_depth=4), dict)


YAML_TEXT = """\
extensions:
  developer:
    type: builtin
  "quoted name":
    cmd: npx
mcpServers:
  - name: first
    command: a
  -   name: second
      command: b
"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("extensions",), 1),
        (("extensions", "developer"), 2),
        (("extensions", "quoted name"), 4),
        (("extensions", "quoted name", "cmd"), 5),
        (("mcpServers", 0), 7),
        (("mcpServers", 1), 9),
        (("mcpServers", 1, "command"), 10),
    ],
)
def test_yaml_node_line(path: tuple[str | int, ...], line: int) -> None:
    assert yaml_node_line(yaml.compose(YAML_TEXT), path) == line


@pytest.mark.parametrize("path", [("absent",), ("extensions", 0), ("mcpServers", 9), ("mcpServers", "x")])
def test_yaml_node_line_is_none_when_absent(path: tuple[str | int, ...]) -> None:
    assert yaml_node_line(yaml.compose(YAML_TEXT), path) is None


TOML_TEXT = """\
model = "o3"
inline = "a top-level key with a server's name"

[mcp_servers]
inline = { command = "x" }

[mcp_servers.docs]
command = "npx"

[ mcp_servers . "dotted.name" ]
url = "https://e.example/mcp"

[mcp_servers.'literal']
command = "y"

mcp_servers.flat.command = "dotted keys, located too"
"""


@pytest.mark.parametrize(
    ("name", "line"),
    [("inline", 5), ("docs", 7), ("dotted.name", 10), ("literal", 13), ("flat", 16), ("absent", None)],
)
def test_toml_key_line(name: str, line: int | None) -> None:
    assert toml_key_line(TOML_TEXT, ("mcp_servers", name)) == line


def test_toml_inline_server_without_parent_header_is_not_guessed() -> None:
    assert toml_key_line('inline = { command = "x" }\n', ("mcp_servers", "inline")) is None
