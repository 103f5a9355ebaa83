"""Which tools a token's scopes open, from the `scope_tools` mapping (scope -> fnmatch patterns).

An empty mapping means scopes do not restrict tools at all (only `required_scopes` apply). Once the
mapping names any scope, a tool is reachable only through a scope whose patterns match its public
name: a tool no pattern mentions is closed to every token (fail closed).

Patterns are matched case-sensitively (`fnmatchcase`) because tool names are case-sensitive; a
platform-dependent `fnmatch` would open `Deploy` to a pattern written for `deploy` on Windows only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

ScopeTools = Mapping[str, Iterable[str]]


def _patterns(value: Iterable[str] | str) -> tuple[str, ...]:
    # A lone string is one pattern, not a sequence of one-character patterns.
    return (value,) if isinstance(value, str) else tuple(value)


def tools_allowed_by_scopes(scopes: Iterable[str], scope_tools: ScopeTools) -> list[str]:
    """The tool-name patterns the given scopes open, in mapping order without repeats.

    `["*"]` when the mapping is empty, since scopes then restrict nothing.
    """
    if not scope_tools:
        return ["*"]
    held = set(scopes)
    patterns: dict[str, None] = {}
    for scope, scope_patterns in scope_tools.items():
        if scope in held:
            patterns.update(dict.fromkeys(_patterns(scope_patterns)))
    return list(patterns)


def scope_permits_tool(token_scopes: Iterable[str], scope_tools: ScopeTools, tool_name: str) -> bool:
    """Whether a token holding `token_scopes` may reach `tool_name` as far as scopes decide."""
    if not scope_tools:
        return True
    return any(fnmatchcase(tool_name, pattern) for pattern in tools_allowed_by_scopes(token_scopes, scope_tools))


def scopes_for_tool(scope_tools: ScopeTools, tool_name: str) -> list[str]:
    """The scopes that would open `tool_name`, in mapping order: the `scope=` of a 403 step-up challenge.

    Empty when no scope opens the tool (or the mapping is empty): no token can be stepped up for it.
    """
    return [
        scope
        for scope, patterns in scope_tools.items()
        if any(fnmatchcase(tool_name, pattern) for pattern in _patterns(patterns))
    ]
