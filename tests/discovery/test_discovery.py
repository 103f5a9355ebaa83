"""discover(), merging, project search, explicit files, parse_config_file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcpwarden.discovery import WalkLimits, client_names, discover, merge_servers, parse_config_file
from mcpwarden.errors import UsageError
from mcpwarden.types import ServerSource, ServerSpec

from .fakehome import ENTRIES_BY_FIXTURE, FIXTURES, OS_NAMES, USER_ENTRIES, USER_LOCATIONS, full_machine, make_machine


def _flat(servers: tuple[ServerSpec, ...]) -> set[tuple[str, str, str, str, str]]:
    return {
        (s.client, s.key, spec.transport, spec.command or spec.url or "", s.scope)
        for spec in servers
        for s in spec.sources
    }


@pytest.mark.parametrize("os_name", OS_NAMES)
def test_every_client_is_found_at_its_os_location(tmp_path: Path, os_name: str) -> None:
    machine = full_machine(tmp_path, os_name)
    found = discover(home=machine.home, os_name=os_name, env=machine.env)
    expected = {(c, k, t, target, scope) for c, k, _, t, target, scope in USER_ENTRIES}
    assert _flat(found.servers) == expected
    assert found.problems == ()
    placed = {str(machine.location(by_os[os_name])) for by_os in USER_LOCATIONS.values()}
    assert set(found.files) == placed


@pytest.mark.parametrize("fixture", sorted(USER_LOCATIONS))
def test_each_user_file_alone_gives_its_entries_with_names(tmp_path: Path, fixture: str) -> None:
    machine = make_machine(tmp_path, "linux")
    path = machine.place(fixture, USER_LOCATIONS[fixture]["linux"])
    specs, problems = parse_config_file(path)
    assert problems == []
    got = {
        (s.sources[0].client, s.sources[0].key, s.name, s.transport, s.command or s.url, s.sources[0].scope)
        for s in specs
    }
    assert got == ENTRIES_BY_FIXTURE[fixture]
    assert len(specs) == len(got)


@pytest.mark.parametrize("os_name", ["darwin", "windows"])
def test_other_os_layouts_are_not_read_as_linux(tmp_path: Path, os_name: str) -> None:
    machine = full_machine(tmp_path, os_name)
    found = discover(home=machine.home, os_name="linux", env={})
    clients = {s.client for spec in found.servers for s in spec.sources}
    # Only clients whose file sits in the same home-relative place on every OS may be found.
    assert "claude-desktop" not in clients
    assert "vscode" not in clients
    assert "cline" not in clients


def test_same_server_in_two_clients_is_one_spec_with_both_sources(tmp_path: Path) -> None:
    machine = full_machine(tmp_path, "linux")
    found = discover(home=machine.home, os_name="linux", env=machine.env)
    github = [s for s in found.servers if s.command == "npx" and "@modelcontextprotocol/server-github" in s.args]
    assert len(github) == 1
    assert [(src.client, src.key) for src in github[0].sources] == [
        ("claude-desktop", "/mcpServers/github"),
        ("cursor", "/mcpServers/github"),
    ]
    assert len({spec.identity for spec in found.servers}) == len(found.servers)


def test_merge_keeps_first_name_and_unites_sources_in_order() -> None:
    def spec(name: str, client: str) -> ServerSpec:
        source = ServerSource(client=client, path=f"/{client}.json", key=f"/mcpServers/{name}")
        return ServerSpec(name=name, transport="http", url="https://x.example/mcp", sources=(source,))

    other = ServerSpec(name="other", transport="http", url="https://y.example/mcp")
    merged = merge_servers([spec("first", "a"), other, spec("second", "b"), spec("first", "a")])
    assert [m.name for m in merged] == ["first", "other"]
    assert [s.client for s in merged[0].sources] == ["a", "b"]


def test_line_of_every_source_points_at_its_key(tmp_path: Path) -> None:
    machine = full_machine(tmp_path, "linux")
    found = discover(home=machine.home, os_name="linux", env=machine.env)
    for spec in found.servers:
        for src in spec.sources:
            assert src.line is not None, src
            line = Path(src.path).read_text(encoding="utf-8").splitlines()[src.line - 1]
            last = src.key.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
            if last.isdigit():  # a list item: its line holds the item's first field
                assert line.lstrip().startswith(("-", "{")), (src, line)
            else:
                assert last in line, (src, line)


def test_raw_is_the_entry_as_written(tmp_path: Path) -> None:
    machine = full_machine(tmp_path, "linux")
    found = discover(home=machine.home, os_name="linux", env=machine.env)
    cline = next(s for s in found.servers if s.sources[0].client == "cline" and s.name == "weather")
    written = json.loads((FIXTURES / "cline_mcp_settings.json").read_text())["mcpServers"]["weather"]
    assert dict(cline.raw) == written
    assert cline.env == {"OPENWEATHER_API_KEY": "weather-example"}


def test_broken_files_become_problems_and_the_rest_is_still_found(tmp_path: Path) -> None:
    machine = full_machine(tmp_path, "linux")
    cursor = machine.write("{home}/.cursor/mcp.json", '{"mcpServers": {"a": {"command": "x",}}}')
    windsurf = machine.write("{home}/.codeium/windsurf/mcp_config.json", b"\x89PNG\r\n\x1a\n\x00\x00garbage")
    codex = machine.write("{home}/.codex/config.toml", "[mcp_servers.docs]\ncommand = \n")
    gemini = machine.write("{home}/.gemini/settings.json", '{"mcpServers": ["not", "an", "object"]}')
    found = discover(home=machine.home, os_name="linux", env=machine.env)
    problem_paths = {p.path for p in found.problems}
    assert problem_paths == {str(cursor), str(windsurf), str(codex), str(gemini)}
    clients = {s.client for spec in found.servers for s in spec.sources}
    assert clients == {"claude-desktop", "claude-code", "vscode", "zed", "cline", "continue", "goose"}


def test_directory_in_place_of_a_config_file_is_a_problem(tmp_path: Path) -> None:
    machine = make_machine(tmp_path, "linux")
    (machine.home / ".cursor" / "mcp.json").mkdir(parents=True)
    found = discover(home=machine.home, os_name="linux", env={})
    assert [(p.client, p.reason) for p in found.problems] == [("cursor", "is a directory, not a config file")]
    assert found.servers == ()


def test_include_user_false_reads_no_user_file(tmp_path: Path) -> None:
    machine = full_machine(tmp_path, "linux")
    found = discover(home=machine.home, os_name="linux", env={}, include_user=False)
    assert found == discover(home=tmp_path / "nothing", os_name="linux", env={}, include_user=False)
    assert found.servers == () and found.files == ()


def _project(root: Path, layout: dict[str, str]) -> Path:
    for relative, text in layout.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def _server(command: str) -> str:
    return json.dumps({"mcpServers": {command: {"command": command}}})


def test_project_search_finds_nested_configs_within_depth_and_skips_vendored_dirs(tmp_path: Path) -> None:
    repo = _project(
        tmp_path / "repo",
        {
            ".mcp.json": _server("root-claude"),
            ".cursor/mcp.json": _server("root-cursor"),
            ".vscode/mcp.json": '{"servers": {"v": {"command": "root-vscode",},},}',
            ".gemini/settings.json": _server("root-gemini"),
            ".codex/config.toml": '[mcp_servers.c]\ncommand = "root-codex"\n',
            ".zed/settings.json": '{"context_servers": {"z": {"command": "root-zed"}}}',
            ".continue/mcpServers/block.yaml": "mcpServers:\n  - name: b\n    command: root-continue\n",
            ".continue/mcpServers/copied.json": _server("root-continue-json"),
            "a/b/c/d/.mcp.json": _server("depth-4"),
            "a/b/c/d/e/.mcp.json": _server("depth-5"),
            "node_modules/pkg/.mcp.json": _server("in-node-modules"),
            ".venv/lib/.cursor/mcp.json": _server("in-venv"),
            "services/api/.git/.mcp.json": _server("in-git"),
            "services/api/.mcp.json": _server("service"),
            "build/.mcp.json": _server("in-build"),
        },
    )
    found = discover(home=tmp_path / "home", os_name="linux", env={}, project_dirs=[repo])
    commands = {spec.command for spec in found.servers}
    assert commands == {
        "root-claude", "root-cursor", "root-vscode", "root-gemini", "root-codex", "root-zed",
        "root-continue", "root-continue-json", "depth-4", "service",
    }  # fmt: skip
    assert all(s.scope == "project" for spec in found.servers for s in spec.sources)
    assert found.problems == ()
    by_command = {spec.command: spec.sources[0].client for spec in found.servers}
    assert by_command["root-vscode"] == "vscode"
    assert by_command["root-codex"] == "codex"
    assert by_command["root-continue-json"] == "continue"


def test_project_search_depth_is_configurable(tmp_path: Path) -> None:
    repo = _project(tmp_path / "repo", {"a/.mcp.json": _server("one"), "a/b/.mcp.json": _server("two")})
    found = discover(home=tmp_path, os_name="linux", project_dirs=[repo], walk_limits=WalkLimits(max_depth=1))
    assert [s.command for s in found.servers] == ["one"]


def test_project_search_stops_at_the_directory_bound_and_says_so(tmp_path: Path) -> None:
    repo = _project(tmp_path / "repo", {f"d{i:02}/.mcp.json": _server(f"s{i:02}") for i in range(10)})
    found = discover(home=tmp_path, os_name="linux", project_dirs=[repo], walk_limits=WalkLimits(max_dirs=4))
    assert len(found.servers) == 3  # the root plus three subdirectories were visited
    assert [p.client for p in found.problems] == ["project"]
    assert "stopped" in found.problems[0].reason


def test_missing_project_dir_is_a_problem(tmp_path: Path) -> None:
    found = discover(home=tmp_path, os_name="linux", project_dirs=[tmp_path / "absent"])
    assert [(p.client, p.path) for p in found.problems] == [("project", str(tmp_path / "absent"))]


def test_a_file_seen_as_user_and_project_config_is_read_once(tmp_path: Path) -> None:
    machine = full_machine(tmp_path, "linux")
    found = discover(home=machine.home, os_name="linux", env={}, project_dirs=[machine.home])
    assert len(found.files) == len(set(found.files))
    cursor = [s for spec in found.servers for s in spec.sources if s.client == "cursor"]
    assert {s.scope for s in cursor} == {"user"}


@pytest.mark.parametrize(
    ("relative", "text", "client", "transport"),
    [
        ("anything.json", '{"mcpServers": {"s": {"url": "https://e.example/mcp"}}}', "explicit", "http"),
        ("x/.gemini/settings.json", '{"mcpServers": {"s": {"url": "https://e.example/mcp"}}}', "gemini-cli", "sse"),
        ("cline_mcp_settings.json", '{"mcpServers": {"s": {"url": "https://e.example/mcp"}}}', "cline", "sse"),
        ("servers.jsonc", '{"servers": {"s": {"type": "sse", "url": "https://e.example/mcp",},}}', "explicit", "sse"),
        ("zed-ish.json", '{"context_servers": {"s": {"command": {"path": "srv"}}}}', "explicit", "stdio"),
        ("tools.toml", '[mcp_servers.s]\nurl = "https://e.example/mcp"\n', "explicit", "http"),
        ("goose.yaml", "extensions:\n  s:\n    type: stdio\n    cmd: srv\n", "explicit", "stdio"),
        ("settings.json", '{"mcp": {"servers": {"s": {"command": "srv"}}}}', "explicit", "stdio"),
        ("list.yaml", "mcpServers:\n  - name: s\n    command: srv\n", "explicit", "stdio"),
    ],
)
def test_explicit_configs_are_read_by_path_or_shape(
    tmp_path: Path, relative: str, text: str, client: str, transport: str
) -> None:
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    found = discover(home=tmp_path / "home", os_name="linux", extra_configs=[path])
    assert found.problems == ()
    assert [(s.name, s.transport, s.sources[0].client) for s in found.servers] == [("s", transport, client)]
    specs, problems = parse_config_file(path)
    assert (specs, problems) == (list(found.servers), [])


def test_parse_config_file_reports_missing_and_shapeless_files(tmp_path: Path) -> None:
    specs, problems = parse_config_file(tmp_path / "nope.json")
    assert specs == [] and [p.reason for p in problems] == ["file does not exist"]
    shapeless = tmp_path / "other.json"
    shapeless.write_text('{"hello": "world"}', encoding="utf-8")
    specs, problems = parse_config_file(shapeless)
    assert specs == [] and len(problems) == 1 and "no MCP server section" in problems[0].reason


def test_parse_config_file_with_a_named_client_uses_its_conventions(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text('{"mcpServers": {"s": {"url": "https://e.example/mcp"}}}', encoding="utf-8")
    assert [s.transport for s in parse_config_file(path, "gemini-cli")[0]] == ["sse"]
    assert [s.transport for s in parse_config_file(path, "cursor")[0]] == ["http"]
    with pytest.raises(UsageError):
        parse_config_file(path, "no-such-client")


def test_client_names_cover_every_client_once() -> None:
    names = client_names()
    assert len(names) == len(set(names))
    assert set(names) == {
        "claude-desktop", "claude-code", "cursor", "vscode", "windsurf", "gemini-cli",
        "codex", "zed", "cline", "continue", "goose",
    }  # fmt: skip
