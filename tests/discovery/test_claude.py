"""Claude Desktop and Claude Code."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpwarden.discovery import discover, parse_config_file

from .fakehome import FIXTURES, make_machine

CLAUDE_JSON = """{
  "numStartups": 3,
  "projects": {
    "/home/me/repo": {
      "history": [{"display": "add \\"db\\": {\\"command\\": \\"evil\\"}"}],
      "mcpServers": {
        "db": {"command": "uvx", "args": ["mcp-server-postgres"]}
      }
    },
    "C:\\\\Users\\\\me\\\\win~repo": {
      "mcpServers": {
        "db": {"type": "http", "url": "https://db.example/mcp"}
      }
    },
    "/home/me/no-servers": {"allowedTools": []}
  },
  "mcpServers": {
    "db": {"command": "uvx", "args": ["mcp-server-postgres"]}
  }
}
"""


def test_per_project_servers_have_escaped_pointers_lines_and_project_scope(tmp_path: Path) -> None:
    path = tmp_path / ".claude.json"
    path.write_text(CLAUDE_JSON, encoding="utf-8")
    specs, problems = parse_config_file(path)
    assert problems == []
    got = [(s.sources[0].key, s.sources[0].line, s.sources[0].scope, s.transport) for s in specs]
    assert got == [
        ("/mcpServers/db", 18, "user", "stdio"),
        ("/projects/~1home~1me~1repo/mcpServers/db", 7, "project", "stdio"),
        ("/projects/C:\\Users\\me\\win~0repo/mcpServers/db", 12, "project", "http"),
    ]
    assert {s.sources[0].client for s in specs} == {"claude-code"}


def test_same_server_in_user_and_project_scope_merges(tmp_path: Path) -> None:
    machine = make_machine(tmp_path, "linux")
    machine.write("{home}/.claude.json", CLAUDE_JSON)
    found = discover(home=machine.home, os_name="linux", env={})
    assert [len(s.sources) for s in found.servers] == [2, 1]
    assert [s.scope for s in found.servers[0].sources] == ["user", "project"]


@pytest.mark.parametrize("os_name", ["linux", "darwin", "windows"])
def test_claude_config_dir_moves_claude_json(tmp_path: Path, os_name: str) -> None:
    machine = make_machine(tmp_path, os_name)
    machine.place("claude.json", "{home}/elsewhere/.claude.json")
    env = {**machine.env, "CLAUDE_CONFIG_DIR": str(machine.home / "elsewhere")}
    assert len(discover(home=machine.home, os_name=os_name, env=env).servers) == 2  # type: ignore[arg-type]
    assert discover(home=machine.home, os_name=os_name, env=machine.env).servers == ()  # type: ignore[arg-type]


def test_projects_of_the_wrong_type_is_a_problem_but_user_servers_survive(tmp_path: Path) -> None:
    path = tmp_path / ".claude.json"
    path.write_text('{"projects": ["/a"],\n "mcpServers": {"s": {"command": "x"}}}', encoding="utf-8")
    specs, problems = parse_config_file(path)
    assert [s.name for s in specs] == ["s"]
    assert [(p.reason, p.line) for p in problems] == [("`/projects` must be an object, found a list", 1)]


def test_project_mcp_json_is_claude_code_project_scope(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".mcp.json").write_text((FIXTURES / "project_mcp.json").read_text(), encoding="utf-8")
    found = discover(home=tmp_path / "home", os_name="linux", project_dirs=[repo])
    assert [(s.name, s.transport, s.sources[0].client, s.sources[0].scope) for s in found.servers] == [
        ("playwright", "stdio", "claude-code", "project"),
        ("linear", "sse", "claude-code", "project"),
    ]


def test_desktop_config_on_linux_lives_in_xdg_config(tmp_path: Path) -> None:
    machine = make_machine(tmp_path, "linux")
    machine.place("claude_desktop_config.json", "{home}/xdg/Claude/claude_desktop_config.json")
    found = discover(home=machine.home, os_name="linux", env={"XDG_CONFIG_HOME": str(machine.home / "xdg")})
    assert {s.sources[0].client for s in found.servers} == {"claude-desktop"}
