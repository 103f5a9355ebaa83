"""The client registry: ids, lookup, recognition of explicit paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpwarden.discovery.registry import CLIENTS, client_by_id, client_for_path


@pytest.mark.parametrize(
    ("path", "client"),
    [
        ("/x/Claude/claude_desktop_config.json", "claude-desktop"),
        ("/home/me/.claude.json", "claude-code"),
        ("/repo/.mcp.json", "claude-code"),
        ("/repo/.cursor/mcp.json", "cursor"),
        ("/repo/.vscode/mcp.json", "vscode"),
        ("/repo/.vscode/settings.json", "vscode"),
        ("C:/Users/me/AppData/Roaming/Code/User/settings.json", "vscode"),
        ("/h/Library/Application Support/Code - Insiders/User/mcp.json", "vscode"),
        ("/h/.codeium/windsurf/mcp_config.json", "windsurf"),
        ("/repo/.gemini/settings.json", "gemini-cli"),
        ("/h/.codex/config.toml", "codex"),
        ("/h/.config/zed/settings.json", "zed"),
        ("/repo/.zed/settings.json", "zed"),
        ("/x/saoudrizwan.claude-dev/settings/cline_mcp_settings.json", "cline"),
        ("/h/.continue/config.yaml", "continue"),
        ("/repo/.continue/mcpServers/block.json", "continue"),
        ("/h/.config/goose/config.yaml", "goose"),
        ("/repo/mcp.json", "explicit"),
        ("/repo/settings.json", "explicit"),
        ("/repo/config.toml", "explicit"),
        ("/h/.cursor/settings.json", "explicit"),
    ],
)
def test_client_for_path(path: str, client: str) -> None:
    assert client_for_path(Path(path)).id == client


def test_ids_are_unique_and_resolvable() -> None:
    ids = [c.id for c in CLIENTS]
    assert len(ids) == len(set(ids))
    assert all(client_by_id(i) is c for i, c in zip(ids, CLIENTS, strict=True))
    assert client_by_id("explicit").id == "explicit"
    with pytest.raises(KeyError):
        client_by_id("nope")


@pytest.mark.parametrize("client", CLIENTS, ids=lambda c: c.id)
def test_every_project_pattern_is_relative(client: object) -> None:
    for pattern in getattr(client, "project_paths", ()):
        assert not pattern.startswith("/") and ".." not in pattern
