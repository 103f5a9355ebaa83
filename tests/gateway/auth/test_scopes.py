"""Scope-to-tool mapping: which tools a token's scopes open, and which scopes a 403 should ask for."""

from __future__ import annotations

import pytest

from mcpwarden.gateway.auth.scopes import scope_permits_tool, scopes_for_tool, tools_allowed_by_scopes

MAPPING = {
    "mcp:read": ("github/get_*", "files/read_*"),
    "mcp:write": ("github/create_*", "files/*"),
    "mcp:deploy": "deploy/run",  # a lone string is one pattern
}


@pytest.mark.parametrize(
    ("scopes", "mapping", "expected"),
    [
        ({"mcp:read"}, MAPPING, ["github/get_*", "files/read_*"]),
        ({"mcp:read", "mcp:write"}, MAPPING, ["github/get_*", "files/read_*", "github/create_*", "files/*"]),
        ({"mcp:deploy"}, MAPPING, ["deploy/run"]),
        ({"other"}, MAPPING, []),
        (set(), {}, ["*"]),
    ],
)
def test_tools_allowed_by_scopes(scopes: set[str], mapping: dict[str, object], expected: list[str]) -> None:
    assert tools_allowed_by_scopes(scopes, mapping) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("scopes", "tool", "permitted"),
    [
        ({"mcp:read"}, "github/get_issue", True),
        ({"mcp:read"}, "github/create_issue", False),
        ({"mcp:write"}, "files/delete", True),
        ({"mcp:read"}, "GitHub/get_issue", False),  # case-sensitive on every platform
        ({"mcp:deploy"}, "deploy/run", True),
        ({"mcp:deploy"}, "deploy/runner", False),
        ({"mcp:read", "mcp:write", "mcp:deploy"}, "shell/exec", False),  # named by no scope: closed
        (set(), "github/get_issue", False),
    ],
)
def test_scope_permits_tool(scopes: set[str], tool: str, permitted: bool) -> None:
    assert scope_permits_tool(scopes, MAPPING, tool) is permitted  # type: ignore[arg-type]


def test_an_empty_mapping_permits_every_tool() -> None:
    assert scope_permits_tool(set(), {}, "anything/at_all")


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        ("files/read_file", ["mcp:read", "mcp:write"]),
        ("github/create_pr", ["mcp:write"]),
        ("deploy/run", ["mcp:deploy"]),
        ("shell/exec", []),
    ],
)
def test_scopes_for_tool(tool: str, expected: list[str]) -> None:
    assert scopes_for_tool(MAPPING, tool) == expected  # type: ignore[arg-type]
