"""Reading one config file safely: size and type checks, decoding, parsing, and line lookup.

Nothing here raises for file content: a file that cannot be read or understood becomes a
`ConfigProblem`.
"""

from __future__ import annotations

import codecs
import json
import re
import stat
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import json5
import yaml

from mcpwarden.types import ConfigProblem, ServerSource, ServerSpec

from ._positions import KeyPath, Segment, json_key_lines, toml_key_line, yaml_node_line

Format = Literal["json", "jsonc", "toml", "yaml"]
Scope = Literal["user", "project"]
ParseResult = tuple[list[ServerSpec], list[ConfigProblem]]

MAX_FILE_BYTES = 5 * 1024 * 1024
# Deep enough for `/projects/<dir>/mcpServers/<name>`, the deepest entry any client uses.
_LINE_DEPTH = 5


def json_pointer(segments: Sequence[Segment]) -> str:
    """RFC 6901 pointer for a key path: `~` becomes `~0` and `/` becomes `~1`."""
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in segments)


def type_name(value: object) -> str:
    """How a JSON/YAML/TOML value's type reads in a problem message."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__


@dataclass
class Document:
    """A config file that was read and parsed, with what is needed to point back into it."""

    path: Path
    client: str
    scope: Scope
    fmt: Format
    text: str
    data: Any
    yaml_root: Any = None
    _json_lines: dict[KeyPath, int] | None = field(default=None, repr=False)

    def line(self, segments: Sequence[Segment]) -> int | None:
        """1-based line of the key at `segments`, best effort; None when it cannot be found."""
        try:
            if self.fmt == "yaml":
                return yaml_node_line(self.yaml_root, segments)
            if self.fmt == "toml":
                return toml_key_line(self.text, segments)
            if self._json_lines is None:
                self._json_lines = json_key_lines(self.text, _LINE_DEPTH)
            return self._json_lines.get(tuple(segments))
        except (RecursionError, ValueError):
            return None

    def with_scope(self, scope: Scope) -> Document:
        """The same file read as another scope (Claude Code's per-project entries in a user file)."""
        if self.fmt in ("json", "jsonc") and self._json_lines is None:
            self._json_lines = json_key_lines(self.text, _LINE_DEPTH)
        return replace(self, scope=scope)

    def problem(self, reason: str, segments: Sequence[Segment] = ()) -> ConfigProblem:
        """A problem in this file, at the line of `segments` when given."""
        line = self.line(segments) if segments else None
        return ConfigProblem(client=self.client, path=str(self.path), reason=reason, line=line)

    def source(self, segments: Sequence[Segment]) -> ServerSource:
        """Where the entry at `segments` is configured."""
        return ServerSource(
            client=self.client,
            path=str(self.path),
            key=json_pointer(segments),
            line=self.line(segments),
            scope=self.scope,
        )


@dataclass(frozen=True)
class LoadOutcome:
    """A document, or the problem that kept it from being one; `read` when the bytes were read."""

    document: Document | None
    problem: ConfigProblem | None
    read: bool


def format_for(path: Path, *, jsonc: bool) -> Format:
    """The parser a file needs, from its extension (JSON unless it says TOML or YAML)."""
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return "toml"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    return "jsonc" if jsonc else "json"


def load_document(path: Path, client: str, scope: Scope, fmt: Format) -> LoadOutcome | None:
    """Read and parse one config file. None when it does not exist; never raises for content."""

    def fail(reason: str, line: int | None = None, *, read: bool = False) -> LoadOutcome:
        return LoadOutcome(None, ConfigProblem(client, str(path), reason, line), read)

    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return fail(f"cannot access file: {exc.strerror or exc}")
    if stat.S_ISDIR(info.st_mode):
        return fail("is a directory, not a config file")
    if not stat.S_ISREG(info.st_mode):
        # A FIFO or device would block or never end; config files are regular files.
        return fail("is not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        return fail(f"file is {info.st_size} bytes, over the {MAX_FILE_BYTES} byte limit; not read")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return fail(f"cannot read file: {exc.strerror or exc}")
    if len(raw) > MAX_FILE_BYTES:
        return fail(f"file is over the {MAX_FILE_BYTES} byte limit; not read", read=True)
    text, reason = _decode(raw)
    if text is None:
        return fail(reason, read=True)
    data, yaml_root, reason, line = _parse_text(text, fmt)
    if reason:
        return fail(reason, line, read=True)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        return fail(f"top level is {type_name(data)}, expected an object", 1, read=True)
    return LoadOutcome(Document(path, client, scope, fmt, text, data, yaml_root), None, True)


def _decode(raw: bytes) -> tuple[str | None, str]:
    # Windows PowerShell writes UTF-16 with a BOM; honour it before calling NUL bytes binary.
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), ""
        except UnicodeDecodeError:
            return None, "not valid UTF-16 text"
    if b"\x00" in raw:
        return None, "binary content (NUL bytes), not a text config file"
    try:
        return raw.decode("utf-8-sig"), ""
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (invalid byte at offset {exc.start})"


# Strings are matched first so that `//` or `,]` inside a string is left alone.
_JSONC_COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|/\*.*?\*/', re.DOTALL)
_JSONC_TRAILING_COMMA = re.compile(r'"(?:[^"\\\n]|\\.)*"|,(?=\s*[}\]])')
# json5 is pure Python and slow (seconds for a few hundred kB); it only gets small files.
_JSON5_MAX_CHARS = 64 * 1024


def _blank(match: re.Match[str]) -> str:
    token = match.group()
    if token.startswith('"'):
        return token
    # Keep newlines so that line numbers in errors and in the line index still match the file.
    return re.sub(r"[^\n]", " ", token)


def _blank_trailing_comma(match: re.Match[str]) -> str:
    token = match.group()
    if token.startswith('"'):
        return token
    text, at = match.string, match.start() - 1
    while at >= 0 and text[at].isspace():
        at -= 1
    # Only a comma after a value trails; `{,}` or `[1,,]` stay invalid, as in JSONC.
    return token if at < 0 or text[at] in "{[," else " "


def strip_jsonc(text: str) -> str:
    """JSONC (comments, trailing commas) as plain JSON with the same line layout."""
    return _JSONC_TRAILING_COMMA.sub(_blank_trailing_comma, _JSONC_COMMENT.sub(_blank, text))


def _json_problem(exc: json.JSONDecodeError, kind: str) -> tuple[Any, Any, str, int | None]:
    return None, None, f"invalid {kind}: {exc.msg} (line {exc.lineno}, column {exc.colno})", exc.lineno


def _parse_json(text: str, jsonc: bool) -> tuple[Any, Any, str, int | None]:
    if not text.strip():
        return {}, None, "", None
    try:
        return json.loads(text), None, "", None
    except json.JSONDecodeError as exc:
        if not jsonc:
            return _json_problem(exc, "JSON")
    except RecursionError:
        return None, None, "invalid JSON: nested too deeply", None
    try:
        return json.loads(strip_jsonc(text)), None, "", None
    except json.JSONDecodeError as exc:
        stripped_error = exc
    except RecursionError:
        return None, None, "invalid JSONC: nested too deeply", None
    if len(text) <= _JSON5_MAX_CHARS:
        # Some hand-written files go beyond JSONC (unquoted keys, single quotes); json5 reads those.
        try:
            return json5.loads(text), None, "", None
        except (ValueError, RecursionError):
            pass
    return _json_problem(stripped_error, "JSONC")


def _parse_text(text: str, fmt: Format) -> tuple[Any, Any, str, int | None]:
    """(data, yaml_root, reason, line); reason is empty on success."""
    if fmt in ("json", "jsonc"):
        return _parse_json(text, fmt == "jsonc")
    if fmt == "toml":
        try:
            return tomllib.loads(text), None, "", None
        except tomllib.TOMLDecodeError as exc:
            match = re.search(r"line (\d+)", str(exc))
            if match:
                line: int | None = int(match.group(1))
            else:
                line = text.count("\n") + 1 if "end of document" in str(exc) else None
            return None, None, f"invalid TOML: {exc}", line
    try:
        # The reader checks characters as soon as it is built, so building it can fail too.
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        return None, None, f"invalid YAML: {' '.join(str(exc).split())}", line
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        summary = " ".join(str(exc).split())
        return None, None, f"invalid YAML: {summary}", line
    except (RecursionError, ValueError, TypeError) as exc:
        return None, None, f"invalid YAML: {exc}", None
    finally:
        loader.dispose()
    return data, root, "", None
