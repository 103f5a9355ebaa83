"""Zed context_servers: three entry forms; extension-provided servers are not reported."""

from __future__ import annotations

from pathlib import Path

from mcpwarden.discovery import discover, parse_config_file

from .fakehome import FIXTURES, make_machine


def test_all_entry_forms(tmp_path: Path) -> None:
    path = tmp_path / "zed" / "settings.json"
    path.parent.mkdir()
    path.write_text((FIXTURES / "zed_settings.json").read_text(), encoding="utf-8")
    specs, problems = parse_config_file(path)
    assert problems == []
    by_name = {s.name: s for s in specs}
    assert set(by_name) == {"new-style", "old-style", "remote"}
    old = by_name["old-style"]
    assert (old.command, old.args, old.env) == ("/usr/local/bin/mcp-old", ("--stdio",), {"OLD_TOKEN": "old-example"})
    assert by_name["new-style"].args == ("/opt/mcp/server.js",)
    assert by_name["remote"].headers == {"Authorization": "Bearer zed-example"}


def test_nested_command_without_path_is_an_entry_problem(tmp_path: Path) -> None:
    path = tmp_path / ".zed" / "settings.json"
    path.parent.mkdir()
    path.write_text('{"context_servers": {"bad": {"command": {"args": []}}, "ok": {"command": "x"}}}')
    specs, problems = parse_config_file(path)
    assert [s.name for s in specs] == ["ok"]
    assert len(problems) == 1 and "command.path" in problems[0].reason


def test_project_settings_are_read(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".zed").mkdir(parents=True)
    (repo / ".zed" / "settings.json").write_text('{"context_servers": {"p": {"command": "proj"},},}')
    found = discover(home=tmp_path / "home", os_name="linux", project_dirs=[repo])
    assert [(s.command, s.sources[0].client, s.sources[0].scope) for s in found.servers] == [("proj", "zed", "project")]


def test_linux_zed_honours_xdg_config_home(tmp_path: Path) -> None:
    machine = make_machine(tmp_path, "linux")
    machine.place("zed_settings.json", "{home}/cfg/zed/settings.json")
    found = discover(home=machine.home, os_name="linux", env={"XDG_CONFIG_HOME": str(machine.home / "cfg")})
    assert len(found.servers) == 3
