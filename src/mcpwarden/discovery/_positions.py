"""Line numbers of keys in JSON/JSONC, YAML and TOML text, for pointing a finding at a config line.

The parsers that build the data (json, json5, tomllib) do not keep positions, so each format gets a
small, tolerant locator. A wrong or missing line is harmless (findings fingerprint without lines);
a crash is not, so every locator returns None rather than raising.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from typing import Any

import yaml

Segment = str | int
KeyPath = tuple[Segment, ...]

# Strings (possibly unterminated), comments, punctuation, and bare words (numbers, literals,
# JSON5 identifiers). Unterminated forms keep a broken file from derailing every later token.
_JSON_TOKEN = re.compile(
    r"""
      "(?:[^"\\\n]|\\.)*"?
    | '(?:[^'\\\n]|\\.)*'?
    | //[^\n]*
    | /\*.*?(?:\*/|\Z)
    | [{}\[\]:,]
    | [^\s{}\[\]:,"'/]+
    | /
    """,
    re.VERBOSE | re.DOTALL,
)


class _Frame:
    __slots__ = ("expect_key", "index", "is_object", "key", "path")

    def __init__(self, path: KeyPath, is_object: bool) -> None:
        self.path = path
        self.is_object = is_object
        self.key: str | None = None
        self.expect_key = True
        self.index = 0


def _decode_key(token: str) -> str:
    if token[:1] in "\"'" and len(token) >= 2 and token[-1] == token[0]:
        if token[0] == '"':
            try:
                decoded = json.loads(token)
            except ValueError:
                return token[1:-1]
            return decoded if isinstance(decoded, str) else token[1:-1]
        return token[1:-1].replace("\\'", "'")
    return token


class _LineIndex:
    def __init__(self, text: str) -> None:
        self._newlines = [m.start() for m in re.finditer("\n", text)]

    def line_at(self, offset: int) -> int:
        return bisect.bisect_left(self._newlines, offset) + 1


def json_key_lines(text: str, max_depth: int) -> dict[KeyPath, int]:
    """Map each object key path (and each object inside an array) up to `max_depth` to its 1-based line.

    For duplicate keys the last one wins, as it does in the parsed data.
    """
    lines = _LineIndex(text)
    result: dict[KeyPath, int] = {}
    stack: list[_Frame] = []
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if token.startswith(("//", "/*")):
            continue
        top = stack[-1] if stack else None
        if first in "{[":
            if top is None:
                child: KeyPath = ()
            elif top.is_object:
                child = (*top.path, top.key if top.key is not None else "")
            else:
                child = (*top.path, top.index)
                if len(child) <= max_depth:
                    result[child] = lines.line_at(match.start())
            stack.append(_Frame(child, first == "{"))
        elif first in "}]":
            if stack:
                stack.pop()
        elif first == ":":
            if top is not None and top.is_object:
                top.expect_key = False
        elif first == ",":
            if top is not None:
                if top.is_object:
                    top.expect_key = True
                    top.key = None
                else:
                    top.index += 1
        elif top is not None and top.is_object and top.expect_key:
            top.key = _decode_key(token)
            path = (*top.path, top.key)
            if len(path) <= max_depth:
                result[path] = lines.line_at(match.start())
    return result


def yaml_node_line(root: Any, segments: Sequence[Segment]) -> int | None:
    """Line of the key (or list item) at `segments` in a composed YAML node tree."""
    node = root
    line: int | None = None
    for segment in segments:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in reversed(node.value):
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(segment):
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                return None
        elif isinstance(node, yaml.SequenceNode) and isinstance(segment, int) and 0 <= segment < len(node.value):
            node = node.value[segment]
            line = node.start_mark.line + 1
        else:
            return None
    return line


def _toml_key_pattern(segment: str) -> str:
    quoted = re.escape(json.dumps(segment))
    literal = re.escape(f"'{segment}'")
    bare = re.escape(segment) if re.fullmatch(r"[A-Za-z0-9_-]+", segment) else None
    options = [quoted, literal] + ([bare] if bare else [])
    return "(?:" + "|".join(options) + ")"


def toml_key_line(text: str, segments: Sequence[Segment]) -> int | None:
    """Line of a TOML table header `[a.b]`, else of a dotted key `a.b = …` / `a.b.c = …`, else of
    `b = …` under the `[a]` header."""
    keys = [_toml_key_pattern(str(s)) for s in segments]
    if not keys:
        return None
    dot = r"[ \t]*\.[ \t]*"
    for pattern in (r"^[ \t]*\[[ \t]*" + dot.join(keys) + r"[ \t]*\]", r"^[ \t]*" + dot.join(keys) + r"[ \t]*[=.]"):
        match = re.search(pattern, text, re.MULTILINE)
        if match:
            return text.count("\n", 0, match.start()) + 1
    # An inline table under its parent's header: `[mcp_servers]` then `name = { … }`.
    start = 0
    if len(keys) > 1:
        parent = re.search(r"^[ \t]*\[[ \t]*" + dot.join(keys[:-1]) + r"[ \t]*\]", text, re.MULTILINE)
        if parent is None:
            return None
        start = parent.end()
    match = re.compile(r"^[ \t]*" + keys[-1] + r"[ \t]*=", re.MULTILINE).search(text, start)
    return text.count("\n", 0, match.start()) + 1 if match else None
