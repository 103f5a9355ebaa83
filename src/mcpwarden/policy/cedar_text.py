"""Writing Cedar source safely: string literals, `like` patterns, entity uids, name patterns.

Every value that reaches Cedar text from YAML or from a scan goes through `string()` or `like()`,
so a quote, backslash or invisible character in a tool name can never change a policy's meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}


def _escape_char(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    # Invisible and control characters are written as escapes so the Cedar text shows them.
    return ch if ch.isprintable() else f"\\u{{{ord(ch):x}}}"


def string(value: str) -> str:
    """A Cedar string literal for `value`."""
    return '"' + "".join(_escape_char(ch) for ch in value) + '"'


def like(glob: str) -> str:
    """A Cedar `like` pattern literal: `*` is the only wildcard (`**` means the same), all else literal."""
    parts = glob.replace("**", "*").split("*")
    return '"' + "*".join("".join(_escape_char(ch) for ch in part) for part in parts) + '"'


def string_set(values: Sequence[str]) -> str:
    """A Cedar set literal of strings."""
    return "[" + ", ".join(string(v) for v in values) + "]"


def server_key(server: str) -> str:
    """The server part of a definition's uid: `/` and `%` escaped, so `server/name` splits one way only."""
    return server.replace("%", "%25").replace("/", "%2F")


def uid(entity_type: str, entity_id: str) -> str:
    """A Cedar entity uid literal, e.g. `Tool::"files/read_file"`."""
    return f"{entity_type}::{string(entity_id)}"


def definition_id(server: str, name: str) -> str:
    """The entity id of a tool, resource or prompt: `server/name`."""
    return f"{server_key(server)}/{name}"


def attr(base: str, name: str) -> str:
    """Attribute access that works for any attribute name (`a.b` or `a["b-c"]`)."""
    if name.isidentifier() and name.isascii():
        return f"{base}.{name}"
    return f"{base}[{string(name)}]"


def has(base: str, name: str) -> str:
    """The `has` test matching `attr()`."""
    if name.isidentifier() and name.isascii():
        return f"{base} has {name}"
    return f"{base} has {string(name)}"


@dataclass(frozen=True)
class NamePattern:
    """A `SERVER/NAME` glob from a policy (`*` matches anything; `*` alone matches everything)."""

    text: str
    server: str  # "*" = any server
    name: str  # "*" = any name

    @property
    def matches_all(self) -> bool:
        return self.server == "*" and self.name == "*"

    @property
    def whole_server(self) -> str | None:
        """The server name when the pattern is `server/*` with a literal server."""
        return self.server if "*" not in self.server and self.name == "*" else None

    @property
    def exact(self) -> tuple[str, str] | None:
        """(server, name) when the pattern has no wildcard."""
        return (self.server, self.name) if "*" not in self.server + self.name else None

    def matches(self, server: str, name: str) -> bool:
        """Python-side matching with the same meaning as the compiled Cedar (used by `policy init`)."""
        return _glob_match(self.server, server) and _glob_match(self.name, name)


def parse_pattern(text: str) -> NamePattern:
    """Parse `SERVER/NAME` (split at the first `/`) or `*`; raises ValueError with the reason."""
    if text == "*":
        return NamePattern(text, "*", "*")
    server, sep, name = text.partition("/")
    if not sep or not server or not name:
        raise ValueError(f"pattern {text!r} must be SERVER/NAME (use * as a wildcard, e.g. 'github/*' or '*/read_*')")
    return NamePattern(text, server.replace("**", "*"), name.replace("**", "*"))


def _glob_match(glob: str, value: str) -> bool:
    parts = glob.split("*")
    if len(parts) == 1:
        return glob == value
    if not value.startswith(parts[0]) or not value.endswith(parts[-1]):
        return False
    pos = len(parts[0])
    end = len(value) - len(parts[-1])
    for part in parts[1:-1]:
        found = value.find(part, pos, end)
        if found < 0:
            return False
        pos = found + len(part)
    return pos <= end


def _segment(attribute: str, glob: str) -> str | None:
    if glob == "*":
        return None
    if "*" in glob:
        return f"{attribute} like {like(glob)}"
    return f"{attribute} == {string(glob)}"


def pattern_condition(pattern: NamePattern, entity_type: str | None) -> str:
    """A Cedar expression true when `resource` matches `pattern`.

    With `entity_type` (Tool, Resource, Prompt) an exact pattern compares the uid; without it
    (scope ceilings apply to every kind) it compares the `server` and `name` attributes.
    """
    if pattern.matches_all:
        return "true"
    server = pattern.whole_server
    if server is not None:
        return f"resource in {uid('Server', server)}"
    exact = pattern.exact
    if exact is not None and entity_type is not None:
        return f"resource == {uid(entity_type, definition_id(*exact))}"
    parts = [p for p in (_segment("resource.server", pattern.server), _segment("resource.name", pattern.name)) if p]
    return " && ".join(parts)


def any_of(expressions: Sequence[str]) -> str:
    """Disjunction of expressions, parenthesised as needed; `true` absorbs the rest."""
    if "true" in expressions:
        return "true"
    if len(expressions) == 1:
        return expressions[0]
    return " || ".join(f"({e})" if "&&" in e or "||" in e else e for e in expressions)


def all_of(expressions: Sequence[str]) -> str:
    """Conjunction of expressions, parenthesised as needed."""
    kept = [e for e in expressions if e != "true"]
    if not kept:
        return "true"
    if len(kept) == 1:
        return kept[0]
    return " && ".join(f"({e})" if "||" in e else e for e in kept)
