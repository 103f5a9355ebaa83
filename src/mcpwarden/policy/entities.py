"""Turning a principal, a resource and call arguments into Cedar entities, request and context.

Argument values come from the agent, so conversion is defensive: Cedar reads a JSON object with
an `__entity` or `__extn` key as an entity reference or extension value, so such objects are
passed as their JSON text instead; values Cedar cannot hold (null, non-integral or huge numbers,
very deep nesting) are passed as text or left out, never as something that could satisfy a rule
the real value would not.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from mcpwarden.policy import cedar_text as ct
from mcpwarden.policy.model import PRINCIPAL_TYPES, RESOURCE_TYPES, ResourceInfo
from mcpwarden.types import Principal

MAX_DEPTH = 16
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_RESERVED_KEYS = frozenset({"__entity", "__extn", "__expr"})
_OMIT = object()

# MCP tool annotations and their defaults when the server does not say (from the MCP spec: a
# tool is assumed to write, to be destructive and to reach the open world unless it says not).
_HINTS = (
    ("read_only", "readOnlyHint", False),
    ("idempotent", "idempotentHint", False),
    ("open_world", "openWorldHint", True),
)


def principal_uid(principal: Principal) -> dict[str, str]:
    """The principal's uid in Cedar JSON form: `Agent::"id"`, `User::"id"` or `Anonymous::"id"`."""
    return {"type": PRINCIPAL_TYPES.get(principal.kind, "Anonymous"), "id": principal.id}


def resource_uid(resource: ResourceInfo) -> dict[str, str]:
    """`Tool::"server/name"` (or `Resource::`, `Prompt::`) in Cedar JSON form."""
    return {"type": RESOURCE_TYPES.get(resource.kind, "Tool"), "id": ct.definition_id(resource.server, resource.tool)}


def is_token_principal(principal: Principal) -> bool:
    """Whether the principal came from an OAuth token (claims or scopes), so scope ceilings apply."""
    return bool(principal.claims) or bool(principal.scopes)


def principal_entities(principal: Principal) -> list[dict[str, Any]]:
    """The principal entity (attributes: id, client_id, scopes, token, claims) and its groups."""
    groups = sorted(principal.groups)
    claims = to_cedar(principal.claims, 0) if isinstance(principal.claims, Mapping) else {}
    entity = {
        "uid": principal_uid(principal),
        "attrs": {
            "id": principal.id,
            "client_id": principal.client_id or "",
            "scopes": sorted(principal.scopes),
            "token": is_token_principal(principal),
            "claims": claims if isinstance(claims, dict) else {},
        },
        "parents": [{"type": "Group", "id": g} for g in groups],
    }
    return [entity, *({"uid": {"type": "Group", "id": g}, "attrs": {}, "parents": []} for g in groups)]


def resource_flags(annotations: Mapping[str, Any]) -> dict[str, bool]:
    """The MCP hints as booleans, with the spec's cautious defaults for anything missing or not a bool."""
    flags = {}
    for attr, hint, default in _HINTS:
        value = annotations.get(hint)
        flags[attr] = value if isinstance(value, bool) else default
    destructive = annotations.get("destructiveHint")
    # destructiveHint only means something for a tool that is not read-only; its default is true.
    flags["destructive"] = not flags["read_only"] and (destructive if isinstance(destructive, bool) else True)
    return flags


def resource_entities(resource: ResourceInfo) -> list[dict[str, Any]]:
    """The tool/resource/prompt entity (parent: its server) and the server entity."""
    annotations = resource.annotations if isinstance(resource.annotations, Mapping) else {}
    entity = {
        "uid": resource_uid(resource),
        "attrs": {
            "server": resource.server,
            "name": resource.tool,
            "labels": sorted(resource.labels),
            **resource_flags(annotations),
        },
        "parents": [{"type": "Server", "id": resource.server}],
    }
    return [entity, {"uid": {"type": "Server", "id": resource.server}, "attrs": {}, "parents": []}]


def to_cedar(value: Any, depth: int) -> Any:
    """A Cedar JSON value for a JSON value, or `_OMIT` when there is none (see the module docstring)."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if _LONG_MIN <= value <= _LONG_MAX else str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and _LONG_MIN <= value <= _LONG_MAX:
            return int(value)
        return repr(value)
    if value is None:
        return _OMIT
    if depth >= MAX_DEPTH:
        return _json_text(value)
    if isinstance(value, Mapping):
        if any(k in _RESERVED_KEYS for k in value):
            return _json_text(value)
        record = {}
        for key, item in value.items():
            converted = to_cedar(item, depth + 1)
            if converted is not _OMIT:
                record[str(key)] = converted
        return record
    if isinstance(value, list | tuple):
        items = (to_cedar(item, depth + 1) for item in value)
        return [item for item in items if item is not _OMIT]
    return _OMIT


def _json_text(value: Any) -> Any:
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=True, default=str)
    except (TypeError, ValueError):
        return _OMIT


def arguments_record(arguments: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `context.arguments` record for a call's arguments."""
    if not isinstance(arguments, Mapping):
        return {}
    converted = to_cedar(arguments, 0)
    return converted if isinstance(converted, dict) else {}


def build_context(
    principal: Principal, arguments: Mapping[str, Any] | None, keep: frozenset[str] | None = None
) -> dict[str, Any]:
    """The request context: the call's arguments (only those named in `keep`, if given) and the scopes."""
    if keep is not None and isinstance(arguments, Mapping):
        arguments = {name: arguments[name] for name in keep if name in arguments}
    return {"arguments": arguments_record(arguments), "scopes": sorted(principal.scopes)}
