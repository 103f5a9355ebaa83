"""Cursor user and project files."""

from __future__ import annotations

from pathlib import Path

from mcpwarden.discovery import discover

from .fakehome import make_machine


def test_user_and_project_cursor_files(tmp_path: Path) -> None:
    machine = make_machine(tmp_path, "windows")
    machine.write("{profile}/.cursor/mcp.json", '{"mcpServers": {"u": {"url": "https://u.example/sse/"}}}')
    repo = tmp_path / "repo"
    (repo / ".cursor").mkdir(parents=True)
    (repo / ".cursor" / "mcp.json").write_text('{"mcpServers": {"p": {"command": "p", "env": {"K": "v"}}}}')
    found = discover(home=machine.home, os_name="windows", env=machine.env, project_dirs=[repo])
    got = [(s.name, s.transport, s.sources[0].client, s.sources[0].scope) for s in found.servers]
    assert got == [("u", "sse", "cursor", "user"), ("p", "stdio", "cursor", "project")]


def test_strict_json_client_reports_comments(tmp_path: Path) -> None:
    machine = make_machine(tmp_path, "linux")
    machine.write("{home}/.cursor/mcp.json", '{\n  // Cursor reads plain JSON\n  "mcpServers": {}\n}')
    found = discover(home=machine.home, os_name="linux", env={})
    assert [(p.client, p.line) for p in found.problems] == [("cursor", 2)]
