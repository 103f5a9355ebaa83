"""Capability labels: realistic tools from the reference MCP servers and common ones, annotations, overrides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import FrozenInstanceError
from typing import Any

import pytest

from mcpwarden.detect.capabilities import (
    DESTRUCTIVE,
    EXFILTRATION_SINK,
    LABELS,
    PRIVATE_DATA,
    UNTRUSTED_CONTENT,
    annotation_conflicts,
    classify_tool,
    parse_override,
    validate_overrides,
)
from mcpwarden.errors import ConfigError
from mcpwarden.types import Severity, ToolDef

P, U, S, D = PRIVATE_DATA, UNTRUSTED_CONTENT, EXFILTRATION_SINK, DESTRUCTIVE
STRING = {"type": "string"}


def tool(
    server: str,
    name: str,
    description: str = "",
    params: Mapping[str, Any] | tuple[str, ...] = (),
    annotations: Mapping[str, Any] | None = None,
) -> ToolDef:
    properties = dict(params) if isinstance(params, Mapping) else {p: STRING for p in params}
    definition: dict[str, Any] = {
        "name": name,
        "description": description,
        "inputSchema": {"type": "object", "properties": properties},
    }
    if annotations is not None:
        definition["annotations"] = dict(annotations)
    return ToolDef(server, "tool", name, definition)


# (server, tool, description, parameters, annotations, expected labels). Descriptions paraphrase what
# the servers say about themselves; names and parameters are the servers' own.
CLASSIFICATION = [
    ("filesystem", "read_file", "Read a file's full contents from disk.", ("path",), None, {P}),
    ("filesystem", "write_file", "Create a file, or overwrite an existing file with the given content.",
     ("path", "content"), {"readOnlyHint": False, "destructiveHint": True}, {D}),
    ("filesystem", "edit_file", "Apply line-based edits to a text file and return a git-style diff.",
     ("path", "edits", "dryRun"), None, set()),
    ("filesystem", "list_directory", "List the files and subdirectories of a directory.", ("path",),
     {"readOnlyHint": True}, {P}),
    ("filesystem", "directory_tree", "Return a recursive JSON tree of files and directories.", ("path",), None, {P}),
    ("filesystem", "move_file", "Move or rename a file or directory.", ("source", "destination"),
     {"readOnlyHint": False, "destructiveHint": False}, set()),
    ("filesystem", "search_files", "Recursively find files whose names match a pattern.", ("path", "pattern"),
     None, {P}),
    ("filesystem", "get_file_info", "Return size, timestamps and permissions of a file.", ("path",), None, {P}),
    ("filesystem", "create_directory", "Create a directory, including missing parents.", ("path",), None, set()),
    ("git", "git_status", "Show the working tree status.", ("repo_path",), None, {P}),
    ("git", "git_log", "Show recent commits.", ("repo_path", "max_count"), None, {P}),
    ("git", "git_diff", "Show differences between the working tree and a target.", ("repo_path", "target"),
     None, {P}),
    ("git", "git_commit", "Record staged changes as a new commit.", ("repo_path", "message"), None, set()),
    ("git", "git_add", "Stage files for the next commit.", ("repo_path", "files"), None, set()),
    ("fetch", "fetch", "Retrieve a URL from the internet and return its content as markdown.",
     {"url": {"type": "string", "format": "uri"}, "max_length": {"type": "integer"}, "raw": {"type": "boolean"}},
     None, {U, S}),
    ("github", "create_issue", "Open a new issue in a GitHub repository.", ("owner", "repo", "title", "body"),
     None, {S}),
    ("github", "get_issue", "Get one issue of a GitHub repository.", ("owner", "repo", "issue_number"), None, {U, P}),
    ("github", "list_issues", "List and filter the issues of a GitHub repository.", ("owner", "repo", "state"),
     None, {U, P}),
    ("github", "create_pull_request", "Open a pull request from one branch into another.",
     ("owner", "repo", "title", "body", "head", "base"), None, {S}),
    ("github", "push_files", "Push several files to a repository branch in one commit.",
     ("owner", "repo", "branch", "files", "message"), None, {S}),
    ("github", "get_file_contents", "Get a file or directory listing from a GitHub repository.",
     ("owner", "repo", "path", "branch"), None, {P}),
    ("github", "add_issue_comment", "Comment on an existing issue.", ("owner", "repo", "issue_number", "body"),
     None, {S}),
    ("github", "create_or_update_file", "Create or update one file in a GitHub repository.",
     ("owner", "repo", "path", "content", "message", "branch"), None, {S}),
    ("slack", "slack_post_message", "Post a message to a channel.", ("channel_id", "text"), None, {S}),
    ("slack", "slack_get_channel_history", "Get the latest messages of a channel.", ("channel_id", "limit"),
     None, {U, P}),
    ("slack", "slack_reply_to_thread", "Reply in a message thread.", ("channel_id", "thread_ts", "text"), None, {S}),
    ("slack", "slack_add_reaction", "Add an emoji reaction to a message.", ("channel_id", "timestamp", "reaction"),
     None, set()),
    ("slack", "slack_list_channels", "List the public channels of the workspace.", ("limit", "cursor"), None, {U, P}),
    ("gmail", "send_email", "Send an email to the given recipients.",
     {"to": {"type": "array", "items": STRING}, "subject": STRING, "body": STRING, "cc": STRING, "bcc": STRING},
     None, {S}),
    ("gmail", "draft_email", "Save an email as a draft without sending it.", ("to", "subject", "body"), None, set()),
    ("gmail", "search_emails", "Search the mailbox with Gmail query syntax.", ("query", "maxResults"), None, {U, P}),
    ("gmail", "read_email", "Get the full content of one email by id.", ("messageId",), None, {U, P}),
    ("gmail", "delete_email", "Delete an email for good.", ("messageId",), None, {D}),
    ("postgres", "query", "Run a read-only SQL statement against the database.", ("sql",), None, {P}),
    ("puppeteer", "puppeteer_navigate", "Open a URL in the browser.", ("url", "launchOptions"), None, {U, S}),
    ("puppeteer", "puppeteer_screenshot", "Capture a screenshot of the page or of one element.",
     ("name", "selector", "width", "height"), None, {U}),
    ("puppeteer", "puppeteer_click", "Click an element on the page.", ("selector",), None, set()),
    ("puppeteer", "puppeteer_evaluate", "Run JavaScript in the page and return the result.", ("script",), None,
     {P, S, D}),
    ("brave-search", "brave_web_search", "Search the web with the Brave Search API.", ("query", "count", "offset"),
     None, {U}),
    ("brave-search", "brave_local_search", "Find local businesses and places near a location.", ("query", "count"),
     None, {U}),
    ("memory", "create_entities", "Add entities to the knowledge graph.", ("entities",), None, set()),
    ("memory", "read_graph", "Return the whole knowledge graph.", (), None, set()),
    ("memory", "search_nodes", "Find nodes whose names or observations match a query.", ("query",), None, set()),
    ("memory", "delete_entities", "Delete entities and their relations from the knowledge graph.", ("entityNames",),
     None, {D}),
    ("time", "get_current_time", "Current time in an IANA timezone.", ("timezone",), None, set()),
    ("time", "convert_time", "Convert a time from one timezone to another.",
     ("source_timezone", "time", "target_timezone"), None, set()),
    ("sqlite", "read_query", "Run a SELECT statement on the SQLite database.", ("query",), None, {P}),
    ("sqlite", "write_query", "Run an INSERT, UPDATE or DELETE statement on the SQLite database.", ("query",),
     None, {D}),
    ("sqlite", "list_tables", "List the tables of the SQLite database.", (), None, {P}),
    ("sqlite", "describe_table", "Show the schema of one table.", ("table_name",), None, {P}),
    ("sqlite", "create_table", "Create a table with a CREATE TABLE statement.", ("query",), None, set()),
    ("sqlite", "append_insight", "Add a business insight to the memo.", ("insight",), None, set()),
    ("everything", "echo", "Echo the input back.", ("message",), None, set()),
    ("everything", "add", "Add two numbers.", ("a", "b"), None, set()),
    ("everything", "printEnv", "Print every environment variable of the server process.", (), None, {P}),
    ("calculator", "calculate", "Evaluate an arithmetic expression.", ("expression",), None, set()),
    ("weather", "get_forecast", "Get the weather forecast for a location.", ("latitude", "longitude"), None, set()),
    ("shell", "execute_command", "Run a shell command on the host.", ("command",), None, {P, S, D}),
    ("bank", "transfer_funds", "Move money between two accounts.", ("from_account", "to_account", "amount"),
     None, {D}),
    ("http", "http_request", "Send an HTTP request to any URL and return the response.",
     ("method", "url", "headers", "body"), None, {U, S}),
    ("github", "create_gist", "Create a public gist with the given files.", ("description", "files", "public"),
     None, {S}),
    ("calendar", "create_event", "Create a calendar event.", ("summary", "start", "end", "attendees"), None, {S}),
    ("calendar", "list_events", "List upcoming events of a calendar.", ("calendarId",), None, {P}),
    ("notify", "notify", "Notify the team.", ("webhook_url", "text"), None, {S}),
    ("browser", "browser_file_upload", "Upload local files to the page's file chooser.", ("paths",), None, {S}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("server", "name", "description", "params", "annotations", "expected"),
    CLASSIFICATION,
    ids=[f"{row[0]}/{row[1]}" for row in CLASSIFICATION],
)
def test_classification(
    server: str,
    name: str,
    description: str,
    params: Any,
    annotations: Mapping[str, Any] | None,
    expected: set[str],
) -> None:
    capabilities = classify_tool(tool(server, name, description, params, annotations))
    assert capabilities.labels == expected, dict(capabilities.evidence)
    assert set(capabilities.evidence) == capabilities.labels
    for label in capabilities.labels:
        assert 1 <= len(capabilities.evidence[label]) <= 4
        assert all(item.split(":", 1)[0] in {"name", "title", "description", "parameter", "annotation"}
                   for item in capabilities.evidence[label])  # fmt: skip


@pytest.mark.parametrize(
    ("definition", "label", "evidence"),
    [
        (tool("fetch", "fetch", "Retrieve a URL.", ("url",)), S, "parameter:url"),
        (tool("fetch", "fetch", "Retrieve a URL.", ("url",)), U, "name:fetch"),
        (tool("fs", "read_file", "Read a file.", ("path",)), P, "name:file"),
        (
            tool("fs", "write_file", "Create a file, or overwrite an existing one.", ("path",)),
            D,
            "description:overwrite",
        ),
        (tool("mail", "send_email", "Send an email.", ("to", "body")), S, "name:send"),
        (tool("gh", "create_issue", "Open an issue.", ("owner", "repo")), S, "name:issue"),
        (tool("x", "cleanup", "Tidies up. This cannot be undone.", ()), D, "description:cannot be undone"),
    ],
)
def test_evidence_names_what_gave_the_label(definition: ToolDef, label: str, evidence: str) -> None:
    assert evidence in classify_tool(definition).evidence[label]


@pytest.mark.parametrize(
    ("description", "destructive"),
    [
        ("Delete the given file.", True),
        ("Permanently removes the file.", True),
        ("Lists deleted files in the trash.", False),  # participle: describes the files, not the action
        ("Lists files; it does not delete or modify anything.", False),
        ("Lists files. Use delete_file to remove them.", False),  # later sentence, another tool
        ("List branches that are safe to delete.", False),  # purpose, and the name already says `list`
    ],
)
def test_description_verbs(description: str, destructive: bool) -> None:
    name = "remove_file" if description.startswith(("Delete", "Permanently")) else "list_files"
    labels = classify_tool(tool("fs", name, description, ("path",))).labels
    assert (D in labels) is destructive


@pytest.mark.parametrize(
    ("name", "description", "params", "annotations", "expected"),
    [
        # Annotations add labels, never remove what the text says.
        ("delete_file", "Delete a file.", ("path",), {"readOnlyHint": True}, {D}),
        ("send_email", "Send an email.", ("to", "body"), {"readOnlyHint": True, "openWorldHint": False}, {S}),
        ("get_forecast", "Get the forecast.", ("city",), {"destructiveHint": True}, {D}),
        ("get_forecast", "Get the forecast.", ("city",), {"readOnlyHint": True, "destructiveHint": True}, set()),
        ("lookup_city", "Look up a city by name.", ("name",), {"readOnlyHint": True, "openWorldHint": True}, {U}),
        ("save_setting", "Save a setting.", ("key", "value"), {"readOnlyHint": False, "openWorldHint": True}, {S}),
        ("get_forecast", "Get the forecast.", ("city",), {"openWorldHint": "yes", "destructiveHint": 1}, set()),
        ("get_forecast", "Get the forecast.", ("city",), ["not", "a", "mapping"], set()),
    ],
)
def test_annotations_only_add(
    name: str, description: str, params: tuple[str, ...], annotations: Any, expected: set[str]
) -> None:
    definition = tool("srv", name, description, params)
    definition = ToolDef("srv", "tool", name, {**definition.definition, "annotations": annotations})
    assert classify_tool(definition).labels == expected


@pytest.mark.parametrize(
    ("name", "description", "params", "annotations", "expected"),
    [
        ("delete_file", "Delete a file.", ("path",), {"readOnlyHint": True}, [("readOnlyHint", Severity.HIGH)]),
        ("send_message", "Sends a message to a channel.", ("channel", "text"), {"readOnlyHint": True},
         [("readOnlyHint", Severity.HIGH)]),
        ("run_command", "Run a shell command.", ("command",), {"readOnlyHint": True},
         [("readOnlyHint", Severity.HIGH)]),
        ("cleanup", "Tidy the workspace. Irreversibly erases build outputs.", (), {"readOnlyHint": True},
         [("readOnlyHint", Severity.HIGH)]),
        ("write_note", "Write a note to disk.", ("text",), {"readOnlyHint": True}, [("readOnlyHint", Severity.MEDIUM)]),
        ("get_or_create_user", "Get a user, creating it when missing.", ("email",), {"readOnlyHint": True},
         [("readOnlyHint", Severity.MEDIUM)]),
        ("purge_cache", "Purge the cache.", (), {"destructiveHint": False}, [("destructiveHint", Severity.MEDIUM)]),
        ("drop_table", "Drop a table.", ("table",), {"readOnlyHint": False, "destructiveHint": False},
         [("destructiveHint", Severity.MEDIUM)]),
        ("delete_file", "Delete a file.", ("path",), {"readOnlyHint": True, "destructiveHint": False},
         [("readOnlyHint", Severity.HIGH)]),
        ("get_issue", "Get an issue; never modifies or deletes anything.", ("id",), {"readOnlyHint": True}, []),
        ("list_files", "List files. Use delete_file to remove them.", ("path",), {"readOnlyHint": True}, []),
        ("list_deleted_messages", "Lists deleted messages in the trash.", (), {"readOnlyHint": True}, []),
        ("list_branches", "List branches that are safe to delete.", (), {"readOnlyHint": True}, []),
        ("fetch", "Retrieve a URL.", ("url",), {"readOnlyHint": True, "openWorldHint": True}, []),
        ("create_directory", "Create a directory.", ("path",), {"destructiveHint": False}, []),
        ("delete_file", "Delete a file.", ("path",), {"destructiveHint": True}, []),
        ("delete_file", "Delete a file.", ("path",), None, []),
    ],
)  # fmt: skip
def test_annotation_conflicts(
    name: str,
    description: str,
    params: tuple[str, ...],
    annotations: Mapping[str, Any] | None,
    expected: list[tuple[str, Severity]],
) -> None:
    conflicts = annotation_conflicts(tool("srv", name, description, params, annotations))
    assert [(c.annotation, c.severity) for c in conflicts] == expected
    for conflict in conflicts:
        assert conflict.claim.startswith(conflict.annotation)
        assert conflict.behaviour, "a conflict names what the tool says it does"


def test_title_counts_like_the_name() -> None:
    plain = ToolDef("srv", "tool", "cleanup", {"name": "cleanup", "title": "Delete old files"})
    annotated = ToolDef("srv", "tool", "cleanup", {"name": "cleanup", "annotations": {"title": "Delete old files"}})
    assert classify_tool(plain).labels == {D}
    assert classify_tool(annotated).evidence[D] == ("title:delete",)


@pytest.mark.parametrize(
    "definition",
    [
        {"name": "x", "inputSchema": "not a schema"},
        {"name": "x", "inputSchema": {"properties": ["url"]}},
        {"name": "x", "inputSchema": {"properties": {"url": "no spec"}}, "description": 42},
        {"name": "x", "inputSchema": {"properties": {f"p{i}": STRING for i in range(5000)}}},
        {"name": "x", "description": "Read " * 100_000},
        {"name": "x" * 100_000},
    ],
)
def test_odd_definitions_do_not_raise(definition: dict[str, Any]) -> None:
    capabilities = classify_tool(ToolDef("srv", "tool", str(definition["name"]), definition))
    assert capabilities.labels <= set(LABELS)


def test_folded_unicode_name() -> None:
    # Fullwidth letters (NFKC folds them) must not hide a destructive name.
    assert D in classify_tool(tool("srv", "ｄｅｌｅｔｅ_file", "", ("path",))).labels


def test_deterministic_and_immutable() -> None:
    definition = tool("gh", "create_issue", "Open a new issue.", ("owner", "repo", "title", "body"))
    reordered = tool("gh", "create_issue", "Open a new issue.", ("body", "title", "repo", "owner"))
    first = classify_tool(definition)
    assert classify_tool(definition) == first
    assert classify_tool(reordered).labels == first.labels
    with pytest.raises(FrozenInstanceError):
        first.labels = frozenset()  # type: ignore[misc]
    with pytest.raises(TypeError):
        first.evidence[S] = ()  # type: ignore[index]
    assert S in first and P not in first


# ---------------------------------------------------------------- overrides

FETCH = tool("web", "fetch", "Retrieve a URL.", ("url",))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"web/fetch": [UNTRUSTED_CONTENT]}, {U}),
        ({"web/fetch": []}, set()),
        ({"web/fetch": ["-exfiltration_sink"]}, {U}),
        ({"web/fetch": ["+destructive", "-untrusted_content"]}, {S, D}),
        ({"web/*": [PRIVATE_DATA]}, {P}),
        ({"web/*": [PRIVATE_DATA], "web/fetch": ["+destructive"]}, {U, S, D}),  # the exact key wins
        ({"other/fetch": []}, {U, S}),
        ({}, {U, S}),
    ],
)
def test_overrides(overrides: dict[str, list[str]], expected: set[str]) -> None:
    capabilities = classify_tool(FETCH, overrides)
    assert capabilities.labels == expected
    for label in expected - classify_tool(FETCH).labels:
        assert capabilities.evidence[label][0].startswith("override:web/")


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (["secret"], "unknown labels"),
        (["+private_data", "destructive"], "either list labels"),
        (["+"], "unknown labels"),
        ("private_data", "must be a list"),
    ],
)
def test_bad_overrides(entries: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        classify_tool(FETCH, {"web/fetch": entries})
    assert caught.value.where == "web/fetch"
    with pytest.raises(ConfigError):
        validate_overrides({"web/fetch": entries})


@pytest.mark.parametrize("key", ["fetch", "/fetch", "web/", ""])
def test_override_keys(key: str) -> None:
    with pytest.raises(ConfigError, match="server/tool"):
        validate_overrides({key: [PRIVATE_DATA]})
    validate_overrides({"web/fetch": [PRIVATE_DATA], "web/*": ["-destructive"]})


def test_parse_override_forms() -> None:
    assert parse_override("k", [P, D]) == (frozenset({P, D}), frozenset(), frozenset())
    assert parse_override("k", ["+" + P, "-" + D]) == (None, frozenset({P}), frozenset({D}))
