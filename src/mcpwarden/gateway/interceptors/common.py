"""What the built-in interceptors share: option checks, tool globs, capability labels, the live state.

The live state (`SqliteLiveState` on the configured database) is opened once per chain and kept in
`InterceptorContext.shared`, so the kill switch, rate limits and approvals use one connection. A
test or an embedding may hand its own in `services["live_state"]`. Without a database (a config
built in code with no `db_path`) there is no live state, and the interceptors that need it say so.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mcpwarden.detect.capabilities import LABELS, classify_tool
from mcpwarden.detect.secrets import mask_secrets
from mcpwarden.errors import ConfigError
from mcpwarden.gateway.pipeline import InterceptorContext, ToolCatalog
from mcpwarden.storage.state import LiveState
from mcpwarden.storage.state_sqlite import SqliteLiveState
from mcpwarden.types import DefinitionKind, ToolCall, ToolDef

Fail = Callable[[str, str], ConfigError]
_KIND: Mapping[str, DefinitionKind] = {"call_tool": "tool", "get_prompt": "prompt", "read_resource": "resource"}


def failer(context: InterceptorContext, interceptor: str) -> Fail:
    """`fail(key, message)`: a ConfigError naming `interceptors.<interceptor>.<key>`."""
    return lambda key, message: context.option_error(interceptor, key, message)


def only_keys(options: Mapping[str, Any], allowed: Iterable[str], fail: Fail) -> None:
    """Refuse an unknown option, naming it and the allowed ones."""
    allowed = sorted(allowed)
    unknown = sorted(str(k) for k in options if k not in allowed)
    if unknown:
        raise fail(unknown[0], f"unknown option (allowed: {', '.join(allowed) or 'none'})")


def string_list(value: Any, key: str, fail: Fail) -> tuple[str, ...]:
    """A list of non-empty strings (None is empty)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise fail(key, f"must be a list of non-empty strings, found {value!r}")
    return tuple(value)


def label_list(value: Any, key: str, fail: Fail) -> frozenset[str]:
    """A list of capability labels, each one of `LABELS`."""
    labels = string_list(value, key, fail)
    for label in labels:
        if label not in LABELS:
            raise fail(key, f"unknown label {label!r} (labels: {', '.join(LABELS)})")
    return frozenset(labels)


def number(value: Any, key: str, fail: Fail, *, minimum: float, integer: bool = False) -> float:
    """A number (an integer when asked) at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
        raise fail(key, f"must be {'an integer' if integer else 'a number'}, found {value!r}")
    if value < minimum:
        raise fail(key, f"must be at least {minimum:g}, found {value!r}")
    return float(value)


def choice(value: Any, key: str, fail: Fail, allowed: tuple[str, ...]) -> str:
    """One of `allowed`."""
    if value not in allowed:
        raise fail(key, f"must be one of {', '.join(allowed)}, found {value!r}")
    return str(value)


def matches(call: ToolCall, globs: tuple[str, ...]) -> bool:
    """Whether the call's public name (`server__tool`) or `server/tool` matches one of the globs."""
    slash = f"{call.upstream}/{call.upstream_tool}"
    return any(fnmatch.fnmatchcase(call.tool, g) or fnmatch.fnmatchcase(slash, g) for g in globs)


def definition_of(catalog: ToolCatalog, call: ToolCall) -> ToolDef | None:
    """The listed definition a call targets (None for resources and unknown names)."""
    kind = _KIND.get(call.action, "tool")
    if kind == "resource":
        return None
    return catalog.definition(call.upstream, kind, call.upstream_tool)


class Labels:
    """Capability labels of the tool a call targets, classified once per listed definition.

    With `overrides` (`server/tool` or `server/*` → labels, as `classify_tool` takes them) the
    labels are this cache's own; without, the labels the core already put on the call are used.
    """

    def __init__(self, catalog: ToolCatalog, overrides: Mapping[str, Iterable[str]] | None = None) -> None:
        self.catalog = catalog
        self.overrides = dict(overrides or {})
        self._cache: dict[tuple[str, str, str], tuple[ToolDef, frozenset[str]]] = {}

    def of(self, call: ToolCall) -> frozenset[str]:
        if call.labels and not self.overrides:
            return call.labels
        definition = definition_of(self.catalog, call)
        if definition is None:
            return call.labels
        return self.of_definition(definition)

    def of_definition(self, definition: ToolDef) -> frozenset[str]:
        key = (definition.server, definition.kind, definition.name)
        cached = self._cache.get(key)
        if cached is not None and cached[0] is definition:
            return cached[1]
        labels = classify_tool(definition, self.overrides or None).labels
        self._cache[key] = (definition, labels)
        return labels


def live_state(context: InterceptorContext) -> LiveState | None:
    """The chain's live state: injected, or opened once on the configured database, or None."""
    injected = context.services.get("live_state")
    if injected is not None:
        return injected  # type: ignore[no-any-return]
    cached = context.shared.get("live_state")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    config = context.config
    if config is None or config.db_path is None:
        return None
    state = SqliteLiveState(config.db_path, redact=mask_secrets)
    context.shared["live_state"] = state
    return state
