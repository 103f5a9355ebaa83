"""Codex config.toml."""

from __future__ import annotations

from pathlib import Path

from mcpwarden.discovery import discover, parse_config_file

from .fakehome import FIXTURES, make_machine


def test_tables_inline_tables_env_and_http_headers(tmp_path: Path) -> None:
    path = tmp_path / ".codex" / "config.toml"
    path.parent.mkdir()
    path.write_text((FIXTURES / "codex_config.toml").read_text(), encoding="utf-8")
    specs, problems = parse_config_file(path)
    assert problems == []
    by_name = {s.name: s for s in specs}
    docs = by_name["docs"]
    assert (docs.command, docs.args, docs.env, docs.cwd) == (
        "npx",
        ("-y", "mcp-server-docs"),
        {"DOCS_TOKEN": "docs-example"},
        "/srv/docs",
    )
    figma = by_name["figma.remote"]
    assert (figma.transport, figma.headers) == ("http", {"X-Figma-Region": "us-east-1"})
    assert figma.raw["bearer_token_env_var"] == "FIGMA_TOKEN"
    text = path.read_text().splitlines()
    assert [text[s.sources[0].line - 1] for s in specs] == [
        'inline = { command = "mcp-inline", args = ["--fast"] }',
        "[mcp_servers.docs]",
        '[mcp_servers."figma.remote"]',
    ]


def test_headers_key_is_ignored_as_codex_ignores_it(tmp_path: Path) -> None:
    path = tmp_path / "codex" / "config.toml"
    path.parent.mkdir()
    path.write_text('[mcp_servers.r]\nurl = "https://r.example/mcp"\nheaders = { A = "b" }\n')
    (spec,), _ = parse_config_file(path)
    assert spec.headers == {}
    assert spec.raw["headers"] == {"A": "b"}


def test_codex_home_moves_the_config(tmp_path: Path) -> None:
    machine = make_machine(tmp_path, "linux")
    machine.write("{home}/ch/config.toml", '[mcp_servers.s]\ncommand = "x"\n')
    assert discover(home=machine.home, os_name="linux", env={}).servers == ()
    found = discover(home=machine.home, os_name="linux", env={"CODEX_HOME": str(machine.home / "ch")})
    assert [s.command for s in found.servers] == ["x"]


def test_mcp_servers_of_the_wrong_type_is_a_problem(tmp_path: Path) -> None:
    machine = make_machine(tmp_path, "linux")
    path = machine.write("{home}/.codex/config.toml", 'model = "o3"\nmcp_servers = ["a"]\n')
    found = discover(home=machine.home, os_name="linux", env={})
    assert [(p.client, p.path, p.line) for p in found.problems] == [("codex", str(path), 2)]
