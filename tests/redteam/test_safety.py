"""Safe by default: which tools never receive attack payloads without --allow-destructive."""

from __future__ import annotations

from typing import Any

import pytest

from mcpwarden.redteam.params import role_of
from mcpwarden.redteam.safety import unsafe_reasons
from mcpwarden.types import ToolDef


def _tool(name: str, description: str = "", **extra: Any) -> ToolDef:
    return ToolDef("s", "tool", name, {"name": name, "description": description, **extra})


@pytest.mark.parametrize(
    ("tool", "unsafe"),
    [
        (_tool("delete_file", "Delete a file."), True),
        (_tool("delete_file", "Delete a file.", annotations={"readOnlyHint": True}), True),  # the name wins
        (_tool("purgeCache", "Clear the cache."), True),
        (_tool("send_email", "Send an email."), True),
        (_tool("transfer_funds", "Move money between accounts."), True),
        (_tool("lookup", "Look up a word.", annotations={"destructiveHint": True}), True),
        (_tool("lookup", "Look up a word.", annotations={"readOnlyHint": False}), True),
        (_tool("git_commit", "Records changes to the repository."), True),
        (_tool("read_file", "Read a file from the workspace.", annotations={"readOnlyHint": True}), False),
        (_tool("get_current_time", "Get the current time in a timezone."), False),
        (_tool("fetch", "Fetches a URL from the internet and extracts its contents as markdown."), False),
        (_tool("search_notes", "Search notes by keyword."), False),
    ],
)
def test_unsafe_tools(tool: ToolDef, unsafe: bool) -> None:
    assert bool(unsafe_reasons(tool)) is unsafe, unsafe_reasons(tool)


@pytest.mark.parametrize(
    ("name", "schema", "role"),
    [
        ("path", {"type": "string"}, "path"),
        ("repo_path", {"type": "string"}, "path"),
        ("url", {"type": "string"}, "url"),
        ("target", {"type": "string", "format": "uri"}, "url"),
        ("host", {"type": "string"}, "host"),
        ("query", {"type": "string"}, "query"),
        ("message", {"type": "string"}, "text"),
        ("where", {"type": "string", "description": "The folder to list"}, "query"),
        ("x", {"type": "string", "description": "URL of the page"}, "url"),
        ("mode", {"type": "string", "enum": ["a", "b"]}, None),
        ("count", {"type": "integer"}, None),
        ("timezone", {"type": ["string", "null"]}, "text"),
    ],
)
def test_parameter_roles(name: str, schema: dict[str, Any], role: str | None) -> None:
    assert role_of(name, schema) == role
