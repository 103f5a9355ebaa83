"""Reading a tool's input schema: which parameters to attack, and benign values for the others.

Each string parameter gets a *role* from its name, format and description (a path, a URL, a host or
command, a query, or free text); attacks pick the parameters whose role fits. Benign values come
from the schema (const, enum, default, examples) or its type; a URL-shaped parameter always gets a
URL of the run's own canary listener, so even a benign call never reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mcpwarden.types import ToolDef

Role = Literal["path", "url", "host", "query", "text"]
MAX_PARAMS = 12

_ROLE_WORDS: tuple[tuple[Role, re.Pattern[str]], ...] = (
    ("url", re.compile(r"\b(?:url|uri|link|href|endpoint|webhook|website|site|feed)s?\b")),
    ("path", re.compile(r"\b(?:path|file|filename|dir|directory|folder|document|doc|note|repo|repository)s?\b")),
    ("host", re.compile(r"\b(?:host|hostname|ip|address|domain|server|command|cmd|args?|target|ping)s?\b")),
    ("query", re.compile(r"\b(?:query|sql|search|filter|where|id|key|customer|user|name|term|q|table)s?\b")),
)
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# A path parameter of a tool about directories or repositories gets "." (the server's working directory)
# as its benign value, not a file name: otherwise every benign call of `list_directory(path)` or
# `git_status(repo_path)` fails, and the attacks on the tool's other parameters never reach its logic.
_DIRECTORY = re.compile(r"\b(?:dir|directory|directories|folders?|repo|repos|repository|repositories|workspace|cwd)\b")


@dataclass(frozen=True)
class Param:
    """One top-level parameter of a tool's input schema."""

    name: str
    schema: Mapping[str, Any]
    required: bool
    role: Role | None  # None: not a free-form string (number, enum, object …), so not attacked
    directory: bool = False  # a path role that names a directory or repository

    @property
    def pointer(self) -> str:
        return f"/arguments/{self.name}"


def _words(text: str) -> str:
    return " ".join(w.lower() for w in _WORDS.findall(text))


def _type(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None:
        for option in schema.get("anyOf") or schema.get("oneOf") or []:
            if isinstance(option, Mapping) and option.get("type") not in (None, "null"):
                return _type(option)
    return kind if isinstance(kind, str) else None


def role_of(name: str, schema: Mapping[str, Any]) -> Role | None:
    """The role of a string parameter, or None for non-strings and closed choices."""
    if _type(schema) != "string" or "enum" in schema or "const" in schema:
        return None
    fmt = str(schema.get("format", ""))
    if fmt in {"uri", "url", "iri", "uri-reference"}:
        return "url"
    if fmt in {"date", "date-time", "time", "email", "uuid", "ipv4", "ipv6"}:
        return "host" if fmt.startswith("ipv") else None
    named = _words(name)
    for role, words in _ROLE_WORDS:
        if words.search(named):
            return role
    described = _words(str(schema.get("description", "")))[:200]
    for role, words in _ROLE_WORDS[:2]:  # only strong roles from prose: it mentions many things
        if words.search(described):
            return role
    return "text"


def parameters(tool: ToolDef) -> list[Param]:
    """The tool's top-level parameters in schema order (at most MAX_PARAMS)."""
    schema = tool.definition.get("inputSchema")
    if not isinstance(schema, Mapping):
        return []
    properties = schema.get("properties")
    listed = schema.get("required")
    required: list[Any] = listed if isinstance(listed, list) else []
    if not isinstance(properties, Mapping):
        return []
    about = f"{tool.name} {tool.description[:200]}"
    out = []
    for name, sub in list(properties.items())[:MAX_PARAMS]:
        sub = sub if isinstance(sub, Mapping) else {}
        role = role_of(str(name), sub)
        directory = role == "path" and bool(_DIRECTORY.search(_words(f"{name} {sub.get('description', '')} {about}")))
        out.append(Param(str(name), sub, name in required, role, directory))
    return out


def benign_value(param: Param, canary_url: Callable[[], str]) -> Any:
    """A harmless value the schema accepts (best effort)."""
    schema = param.schema
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if param.role == "url":
        return canary_url()
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    kind = _type(schema)
    if kind == "string":
        if param.directory:
            return "."
        return {"path": "README.md", "host": "127.0.0.1", "query": "test"}.get(param.role or "", "test")
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1) or 1))
    if kind == "number":
        return float(schema.get("minimum", 1) or 1)
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    return {}


def arguments(tool: ToolDef, canary_url: Callable[[], str], **overrides: Any) -> dict[str, Any]:
    """Benign values for every required parameter (and any overridden one), then the overrides."""
    args: dict[str, Any] = {}
    for param in parameters(tool):
        if param.required or param.name in overrides:
            args[param.name] = benign_value(param, canary_url)
    args.update(overrides)
    return args
