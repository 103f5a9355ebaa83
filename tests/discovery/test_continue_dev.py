"""Continue: config.yaml list, legacy config.json, and mcpServers block files."""

from __future__ import annotations

from pathlib import Path

from mcpwarden.discovery import discover, parse_config_file

from .fakehome import FIXTURES, make_machine


def test_yaml_list_entries_with_request_option_headers(tmp_path: Path) -> None:
    path = tmp_path / ".continue" / "config.yaml"
    path.parent.mkdir()
    path.write_text((FIXTURES / "continue_config.yaml").read_text(), encoding="utf-8")
    specs, problems = parse_config_file(path)
    assert problems == []
    sqlite, remote = specs
    assert (sqlite.name, sqlite.args) == ("SQLite MCP", ("-y", "mcp-sqlite", "/home/me/data.db"))
    assert (remote.transport, remote.headers) == ("http", {"Authorization": "Bearer continue-example"})
    assert [s.sources[0].line for s in specs] == [9, 15]


def test_legacy_transport_must_be_an_object(tmp_path: Path) -> None:
    path = tmp_path / ".continue" / "config.json"
    path.parent.mkdir()
    path.write_text('{"experimental": {"modelContextProtocolServers": [{"transport": "stdio"}]}}')
    specs, problems = parse_config_file(path)
    assert specs == [] and "`transport` must be an object" in problems[0].reason


def test_block_files_in_project_and_global_dirs(tmp_path: Path) -> None:
    machine = make_machine(tmp_path, "linux")
    machine.write("{home}/.continue/mcpServers/global.yml", "mcpServers:\n  - name: g\n    command: global\n")
    repo = tmp_path / "repo"
    blocks = repo / ".continue" / "mcpServers"
    blocks.mkdir(parents=True)
    (blocks / "playwright-mcp.yaml").write_text((FIXTURES / "continue_block.yaml").read_text())
    (blocks / "from-claude.json").write_text((FIXTURES / "project_mcp.json").read_text())
    (blocks / "notes.txt").write_text("not a block")
    found = discover(home=machine.home, os_name="linux", env={}, project_dirs=[repo])
    got = [(s.name, [(src.client, src.scope) for src in s.sources]) for s in found.servers]
    assert got == [
        ("g", [("continue", "user")]),
        ("Browser search", [("continue", "project"), ("continue", "project")]),
        ("linear", [("continue", "project")]),
    ]


def test_continue_global_dir_moves_the_config(tmp_path: Path) -> None:
    machine = make_machine(tmp_path, "windows")
    machine.place("continue_config.yaml", "{home}/cg/config.yaml")
    env = {**machine.env, "CONTINUE_GLOBAL_DIR": str(machine.home / "cg")}
    assert len(discover(home=machine.home, os_name="windows", env=env).servers) == 2
