"""Checking Cedar text before it is used: parse errors with a line, schema errors with a policy id.

The schema below describes the entities mcpwarden builds (see entities.py). Cedar cannot
describe an open record, so the validator cannot know which `context.arguments` or
`principal.claims` fields a call will carry: errors about unknown fields there are expected and
dropped (at run time a missing field makes its policy error, and an error denies).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import cedarpy

from mcpwarden.errors import ConfigError

_PRINCIPAL_ATTRS = "{ id: String, client_id: String, scopes: Set<String>, token: Bool, claims: {} }"
_DEFINITION_ATTRS = (
    "{ server: String, name: String, labels: Set<String>, "
    "read_only: Bool, destructive: Bool, idempotent: Bool, open_world: Bool }"
)
_WHO = "principal: [User, Agent, Anonymous]"
CEDAR_SCHEMA = f"""
entity Group;
entity Server;
entity User, Agent, Anonymous in [Group] {_PRINCIPAL_ATTRS};
entity Tool, Resource, Prompt in [Server] {_DEFINITION_ATTRS};
type Context = {{ arguments: {{}}, scopes: Set<String> }};
action call_tool appliesTo {{ {_WHO}, resource: [Tool], context: Context }};
action read_resource appliesTo {{ {_WHO}, resource: [Resource], context: Context }};
action get_prompt appliesTo {{ {_WHO}, resource: [Prompt], context: Context }};
action list appliesTo {{ {_WHO}, resource: [Tool, Resource, Prompt], context: Context }};
"""

_CONTEXT = re.compile(r"\bcontext\b")
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_QUOTED = r'"([^"\\]*)"'
_ARGUMENT_READ = re.compile(
    rf"\bcontext\s*\.\s*(?:scopes\b|arguments\s*(?:\.\s*({_IDENT})|\[\s*{_QUOTED}\s*\]|\s+has\s+(?:({_IDENT})|{_QUOTED})))"
)
_OPEN_RECORD_ERROR = re.compile(r"attribute `(arguments|claims)[.\[].* not found")


def statements(text: str) -> list[tuple[int, str]]:
    """Split Cedar text at `;` outside strings and comments: (first code line, statement) pairs."""
    out: list[tuple[int, str]] = []
    start, i, in_string = 0, 0, False
    while i < len(text):
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        elif ch == ";":
            out.append((_first_code_line(text, start), text[start : i + 1]))
            start = i + 1
        i += 1
    if _first_code_line(text, start, strict=True):
        out.append((_first_code_line(text, start), text[start:]))
    return out


def _first_code_line(text: str, start: int, *, strict: bool = False) -> int:
    """The 1-based line where code resumes after `start` (0 with `strict` when only comments follow)."""
    base = text.count("\n", 0, start) + 1
    for offset, segment in enumerate(text[start:].split("\n")):
        stripped = segment.strip()
        if stripped and not stripped.startswith("//"):
            return base + offset
    return 0 if strict else base


def parse(text: str, source: str) -> cedarpy.PolicySet:
    """Parse Cedar policies; a ConfigError names the line of the statement that does not parse."""
    try:
        return cedarpy.PolicySet.from_str(text)
    except ValueError as exc:
        reason = str(exc)
    for line, statement in statements(text):
        try:
            cedarpy.PolicySet.from_str(statement)
        except ValueError as exc:
            raise ConfigError(f"Cedar does not parse: {exc}", where=f"{source}:{line}") from None
    raise ConfigError(f"Cedar does not parse: {reason}", where=source)


def policy_ids(text: str) -> dict[str, str]:
    """Cedar's positional policy ids (`policy0`, …) mapped to the `@id` annotation, or to themselves."""
    document = json.loads(cedarpy.policies_to_json_str(text))
    ids: dict[str, str] = {}
    for positional, policy in document.get("staticPolicies", {}).items():
        annotation = (policy.get("annotations") or {}).get("id")
        ids[positional] = annotation if isinstance(annotation, str) and annotation else positional
    return ids


def annotated(text: str, key: str, value: str) -> frozenset[str]:
    """Positional ids of the policies that carry the annotation `@key("value")`."""
    document = json.loads(cedarpy.policies_to_json_str(text))
    return frozenset(
        positional
        for positional, policy in document.get("staticPolicies", {}).items()
        if (policy.get("annotations") or {}).get(key) == value
    )


def argument_names(text: str) -> frozenset[str] | None:
    """The argument names the policies can observe, or None when they may observe the whole record.

    Only `context.arguments.NAME`, `context.arguments["NAME"]` and `context.arguments has NAME`
    (and `context.scopes`) count as narrow reads; any other mention of `context`, even in a
    comment, means "all arguments". Passing fewer fields to Cedar is then invisible to the
    policies, and it halves the cost of a decision with large arguments.
    """
    reads = list(_ARGUMENT_READ.finditer(text))
    if len(reads) != len(_CONTEXT.findall(text)):
        return None
    return frozenset(name for m in reads for name in m.groups() if name is not None)


def schema_errors(text: str, ids: Mapping[str, str]) -> list[str]:
    """Validation errors against mcpwarden's entity schema (open-record field errors dropped)."""
    result = cedarpy.validate_policies(text, CEDAR_SCHEMA)
    out: list[str] = []
    for error in result.errors:
        if _OPEN_RECORD_ERROR.search(error.error):
            continue
        message = error.error
        if error.policy_id:
            name = ids.get(error.policy_id, error.policy_id)
            message = re.sub(r"^for policy `[^`]*`, ", "", message)
            message = f"policy `{name}`: {message}"
        if message not in out:
            out.append(message)
    return out
