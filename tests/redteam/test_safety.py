"""Safe by default: which tools never receive attack payloads without --allow-destructive."""

from __future__ import annotations

from typing import Any

import pytest

from mcpwarden.redteam.params import arguments, role_of
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
        # Nouns that are verbs too count in a description only where a verb stands (reference servers:
        # mcp-server-git's read-only git_log/git_show/git_diff_staged, server-filesystem's read_media_file).
        (_tool("git_log", "Shows the commit logs"), False),
        (_tool("git_show", "Shows the contents of a commit, or of a file"), False),
        (_tool("git_diff_staged", "Shows changes that are staged for commit"), False),
        (_tool("read_media_file", "Read a file and return it as a base64-encoded content block."), False),
        (_tool("lookup", "Commit the staged changes."), True),
        (_tool("lookup", "Stage and commit the changes."), True),
        (_tool("lookup", "Used to post a message to the channel."), True),
        (_tool("lookup", "Read the inbox, then email a summary to the team."), True),
        # … and in a name that starts with a reading verb they name what is read (server-everything).
        (_tool("get-annotated-message", "Demonstrates how annotations can be used."), False),
        (_tool("get_order_status", "Get the status of an order."), False),
        (_tool("message_user", "Contact a user."), True),
        (_tool("get_and_send_message", "Get a draft."), True),
        (_tool("read_and_delete_note", "Read a note."), True),
        # A gateway's `upstream__tool` names: the upstream part is a name, not what the tool does
        # (`mcpwarden gateway --demo` lists `mail__list_inbox`), but a verb there still counts.
        (_tool("mail__list_inbox", "List the subjects of the most recent messages in the inbox."), False),
        (_tool("mail__send_email", "Send an e-mail to one recipient."), True),
        (_tool("mail__get_message", "Get one message."), False),
        (_tool("delete__files", "Files."), True),
        (_tool("notes__message_user", "Contact a user."), True),
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


def _schema_tool(tool_name: str, description: str, **properties: dict[str, Any]) -> ToolDef:
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    return _tool(tool_name, description, inputSchema=schema)


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        # A repository or directory gets "." (the server's working directory), so benign calls succeed and
        # attacks on the other parameters reach the tool's logic (mcp-server-git, server-filesystem).
        (_schema_tool("git_status", "Shows the working tree status", repo_path={"type": "string"}), {"repo_path": "."}),
        (_schema_tool("list_directory", "Get a listing.", path={"type": "string"}), {"path": "."}),
        (_schema_tool("search_files", "Search for files and directories.", path={"type": "string"}), {"path": "."}),
        (_schema_tool("read_file", "Read a file as text.", path={"type": "string"}), {"path": "README.md"}),
        (_schema_tool("read_note", "Read a note.", path={"type": "string"}), {"path": "README.md"}),
        (_schema_tool("lookup", "Look up a folder name.", name={"type": "string"}), {"name": "test"}),
    ],
)
def test_benign_path_values(tool: ToolDef, expected: dict[str, Any]) -> None:
    assert arguments(tool, lambda: "http://127.0.0.1:1/x") == expected
