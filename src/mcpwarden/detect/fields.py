"""Every text a model can read in a server's definitions, with its JSON pointer and detection kind.

Definitions are raw JSON from a server we do not trust, so the walk is bounded (depth, number of
texts, total size) and tolerates anything: non-string keys, numbers where text was expected, cycles
of nothing but nesting. What was cut short is returned so it can be reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mcpwarden.types import ServerInventory, ToolDef

MAX_DEPTH = 32
MAX_FIELDS = 4096  # texts per definition
MAX_TOTAL_CHARS = 4 * 1024 * 1024  # characters per definition, summed over its texts

# Keys whose members are named sub-schemas: the names are text the model reads too.
_NAMED_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
# Not shown to the model (transport metadata) or not text (icon data).
_SKIPPED = frozenset({"_meta", "icons"})
# JSON-Schema plumbing: short values here are identifiers, not prose. Long ones are still read.
_STRUCTURAL = frozenset(
    {
        "type",
        "$schema",
        "$ref",
        "$id",
        "$anchor",
        "$dynamicRef",
        "$dynamicAnchor",
        "format",
        "contentEncoding",
        "contentMediaType",
        "mimeType",
        "required",
    }
)
_SHORT = 64


@dataclass(frozen=True, slots=True)
class TextField:
    """One string in a definition: where it is (RFC 6901 pointer), how to analyse it, and the text."""

    pointer: str
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Walk:
    """The texts of one definition and the places the walk stopped early (pointer, reason)."""

    fields: tuple[TextField, ...]
    limits: tuple[tuple[str, str], ...] = ()


def pointer_token(key: object) -> str:
    """Escape one key for a JSON pointer (RFC 6901: `~` → `~0`, `/` → `~1`)."""
    text = str(key)
    return text.replace("~", "~0").replace("/", "~1") if ("~" in text or "/" in text) else text


@dataclass
class _State:
    fields: list[TextField] = field(default_factory=list)
    limits: list[tuple[str, str]] = field(default_factory=list)
    chars: int = 0
    stopped: bool = False

    def add(self, pointer: str, kind: str, text: str) -> None:
        if self.stopped:
            return
        if len(self.fields) >= MAX_FIELDS or self.chars + len(text) > MAX_TOTAL_CHARS:
            self.stopped = True
            reason = f"more than {MAX_FIELDS} texts" if len(self.fields) >= MAX_FIELDS else "over the size limit"
            self.limits.append((pointer, f"the rest of the definition was not analysed ({reason})"))
            return
        self.chars += len(text)
        self.fields.append(TextField(pointer, kind, text))


def _walk(value: Any, pointer: str, kind: str, parent_key: str, depth: int, state: _State) -> None:
    if state.stopped:
        return
    if type(value) is str:
        if not (parent_key in _STRUCTURAL and len(value) <= _SHORT):
            state.add(pointer, kind, value)
        return
    container = type(value) in (list, tuple) or _is_mapping(value)
    if container and depth >= MAX_DEPTH:
        state.limits.append((pointer, f"nested deeper than {MAX_DEPTH} levels; not analysed below"))
        return
    if _is_mapping(value):
        named = parent_key in _NAMED_MAPS
        for key, child in value.items():
            key_text = key if type(key) is str else str(key)
            child_pointer = f"{pointer}/{pointer_token(key_text)}"
            if named:  # member names are text; their schemas are always read
                state.add(child_pointer, kind, key_text)
                _walk(child, child_pointer, kind, "", depth + 1, state)
            elif key_text not in _SKIPPED:
                _walk(child, child_pointer, kind, key_text, depth + 1, state)
    elif container:
        for index, child in enumerate(value):
            _walk(child, f"{pointer}/{index}", kind, parent_key, depth + 1, state)


def _is_mapping(value: Any) -> bool:
    return type(value) is dict or (type(value) not in (str, list, int, float, bool) and isinstance(value, Mapping))


_SCALARS = frozenset({int, float, bool, type(None)})  # never containers: no Mapping check needed


def _collect(value: Any, parent_key: str, depth: int, out: list[str]) -> bool:
    """`_walk` without pointers or kinds, for the cheap first pass; False when a limit was reached.

    Written for speed (it sees every definition): strings are handled inline rather than by recursion,
    and exact type checks come before the slower abstract ones.
    """
    if depth >= MAX_DEPTH or len(out) >= MAX_FIELDS:
        return False
    append = out.append
    if type(value) is dict or _is_mapping(value):
        named = parent_key in _NAMED_MAPS
        for key, child in value.items():
            key_text = key if type(key) is str else str(key)
            if named:
                append(key_text)
                key_text = ""
            elif key_text in _SKIPPED:
                continue
            kind = type(child)
            if kind is str:
                if not (key_text in _STRUCTURAL and len(child) <= _SHORT):
                    append(child)
            elif kind in _SCALARS:
                continue
            elif (kind is dict or kind is list or kind is tuple or _is_mapping(child)) and not _collect(
                child, key_text, depth + 1, out
            ):
                return False
    else:
        structural = parent_key in _STRUCTURAL
        for child in value:
            kind = type(child)
            if kind is str:
                if not (structural and len(child) <= _SHORT):
                    append(child)
            elif kind in _SCALARS:
                continue
            elif (kind is dict or kind is list or kind is tuple or _is_mapping(child)) and not _collect(
                child, parent_key, depth + 1, out
            ):
                return False
    return True


def definition_texts(definition: ToolDef) -> list[str] | None:
    """The strings `definition_fields` finds, in the same order, without locating them (a cheap first pass).

    None when the definition is not an object or hits a walk limit: use `definition_fields` then.
    """
    raw = definition.definition
    if not isinstance(raw, Mapping):
        return None
    out: list[str] = []
    if not _collect(raw, "", 0, out):
        return None
    if len(out) >= MAX_FIELDS or sum(map(len, out)) > MAX_TOTAL_CHARS:
        return None
    return out


class _Locator:
    """Replays `_collect`'s walk, building pointers only for the texts at the wanted positions."""

    def __init__(self, wanted: Sequence[int], definition_kind: str) -> None:
        self.wanted = wanted
        self.next = 0
        self.count = 0
        self.path: list[str] = []
        self.kind = ""
        self.definition_kind = definition_kind
        self.found: list[TextField] = []

    def text(self, key: str, value: str) -> bool:
        """Record one text; False once every wanted text is found (the walk may stop)."""
        if self.count == self.wanted[self.next]:
            pointer = "/" + "/".join(pointer_token(p) for p in (*self.path, key))
            self.found.append(TextField(pointer, self.kind, value))
            self.next += 1
        self.count += 1
        return self.next < len(self.wanted)

    def walk(self, value: Any, parent_key: str) -> bool:
        if _is_mapping(value):
            named = parent_key in _NAMED_MAPS
            for key, child in value.items():
                key_text = key if type(key) is str else str(key)
                if not self.path:
                    self.kind = _kind_for(self.definition_kind, key_text)
                if named:
                    if not self.text(key_text, key_text):
                        return False
                    inner = ""
                elif key_text in _SKIPPED:
                    continue
                else:
                    inner = key_text
                if type(child) is str:
                    if not (inner in _STRUCTURAL and len(child) <= _SHORT) and not self.text(key_text, child):
                        return False
                elif type(child) in (list, tuple) or _is_mapping(child):
                    self.path.append(key_text)
                    going = self.walk(child, inner)
                    self.path.pop()
                    if not going:
                        return False
        else:
            structural = parent_key in _STRUCTURAL
            for index, child in enumerate(value):
                if type(child) is str:
                    if not (structural and len(child) <= _SHORT) and not self.text(str(index), child):
                        return False
                elif type(child) in (list, tuple) or _is_mapping(child):
                    self.path.append(str(index))
                    going = self.walk(child, parent_key)
                    self.path.pop()
                    if not going:
                        return False
        return True


def locate(definition: ToolDef, positions: Iterable[int]) -> list[TextField]:
    """The texts at `positions` of `definition_texts(definition)`, located (pointer and kind).

    Cheaper than `definition_fields` when few texts are wanted: pointers are built only for those.
    Only valid for definitions `definition_texts` accepted (no walk limit reached).
    """
    wanted = sorted(set(positions))
    if not wanted or not _is_mapping(definition.definition):
        return []
    locator = _Locator(wanted, definition.kind)
    locator.walk(definition.definition, "")
    return locator.found


def _kind_for(definition_kind: str, top_key: str) -> str:
    if definition_kind == "tool":
        return "parameter_description" if top_key in ("inputSchema", "outputSchema") else "tool_description"
    if definition_kind == "prompt":
        return "prompt"
    return "resource"


def definition_fields(definition: ToolDef) -> Walk:
    """Every readable text of a tool, prompt or resource definition (names, descriptions, schemas …)."""
    state = _State()
    raw = definition.definition
    if not isinstance(raw, Mapping):
        return Walk((), (("", "definition is not a JSON object; not analysed"),))
    for key, value in raw.items():
        key_text = str(key)
        if key_text in _SKIPPED:
            continue
        _walk(value, f"/{pointer_token(key)}", _kind_for(definition.kind, key_text), key_text, 1, state)
    return Walk(tuple(state.fields), tuple(state.limits))


def server_fields(inventory: ServerInventory) -> Walk:
    """Server-level texts the model reads: `instructions` (straight into its context) and server info."""
    state = _State()
    if isinstance(inventory.instructions, str):
        state.add("/instructions", "tool_description", inventory.instructions)
    info = inventory.server_info
    if isinstance(info, Mapping):
        for key, value in info.items():
            if str(key) not in _SKIPPED and str(key) != "version":
                _walk(value, f"/serverInfo/{pointer_token(key)}", "tool_description", str(key), 1, state)
    return Walk(tuple(state.fields), tuple(state.limits))
