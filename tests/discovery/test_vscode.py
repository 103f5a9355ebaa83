"""VS Code (settings, mcp.json, profiles, workspace) and Cline."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpwarden.discovery import discover, parse_config_file

from .fakehome import make_machine

SETTINGS_BOTH_FORMS = """{
  // both spellings of the setting, as VS Code accepts either
  "mcp.servers": {
    "dotted": { "command": "a", },
  },
  "mcp": {
    "servers": {
      "nested": { "url": "https://v.example/sse", },
    },
  },
}
"""


def test_settings_accept_dotted_and_nested_forms(tmp_path: Path) -> None:
    path = tmp_path / ".vscode" / "settings.json"
    path.parent.mkdir()
    path.write_text(SETTINGS_BOTH_FORMS, encoding="utf-8")
    specs, problems = parse_config_file(path)
    assert problems == []
    assert [(s.name, s.transport, s.sources[0].key, s.sources[0].line) for s in specs] == [
        ("dotted", "stdio", "/mcp.servers/dotted", 4),
        ("nested", "sse", "/mcp/servers/nested", 8),
    ]
    assert {s.sources[0].client for s in specs} == {"vscode"}


@pytest.mark.parametrize("flavour", ["Code", "Code - Insiders", "VSCodium"])
def test_every_flavour_and_profile_is_read(tmp_path: Path, flavour: str) -> None:
    machine = make_machine(tmp_path, "darwin")
    base = "{home}/Library/Application Support/" + flavour + "/User"
    machine.write(base + "/mcp.json", '{"servers": {"main": {"command": "main"}}}')
    machine.write(base + "/profiles/1a2b3c/mcp.json", '{"servers": {"prof": {"command": "prof"}}}')
    found = discover(home=machine.home, os_name="darwin", env={})
    assert [s.command for s in found.servers] == ["main", "prof"]


def test_jsonc_error_is_reported_with_its_line(tmp_path: Path) -> None:
    machine = make_machine(tmp_path, "linux")
    path = machine.write(
        "{home}/.config/Code/User/mcp.json", '{\n  // ok\n  "servers": {\n    "a": {"command" "x"}\n  }\n}'
    )
    found = discover(home=machine.home, os_name="linux", env={})
    assert [(p.client, p.path, p.line) for p in found.problems] == [("vscode", str(path), 4)]


@pytest.mark.parametrize("editor", ["Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf"])
def test_cline_is_found_in_each_editor_storage(tmp_path: Path, editor: str) -> None:
    machine = make_machine(tmp_path, "windows")
    storage = "{appdata}/" + editor + "/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"
    machine.write(storage, '{"mcpServers": {"w": {"command": "weather"}}}')
    found = discover(home=machine.home, os_name="windows", env=machine.env)
    assert [(s.command, s.sources[0].client) for s in found.servers] == [("weather", "cline")]


def test_cline_cli_settings_are_read(tmp_path: Path) -> None:
    machine = make_machine(tmp_path, "linux")
    machine.write(
        "{home}/.cline/data/settings/cline_mcp_settings.json", '{"mcpServers": {"c": {"url": "https://c.x/"}}}'
    )
    found = discover(home=machine.home, os_name="linux", env={})
    assert [(s.transport, s.sources[0].client) for s in found.servers] == [("sse", "cline")]


def test_workspace_mcp_json_inputs_are_not_servers(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".vscode").mkdir(parents=True)
    (repo / ".vscode" / "mcp.json").write_text(
        '{"inputs": [{"id": "t", "type": "promptString"}], "servers": {"s": {"command": "x"}}}', encoding="utf-8"
    )
    found = discover(home=tmp_path / "home", os_name="linux", project_dirs=[repo])
    assert [(s.name, s.sources[0].scope) for s in found.servers] == [("s", "project")]
    assert found.problems == ()
