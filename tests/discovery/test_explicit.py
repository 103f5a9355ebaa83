"""Shape detection for explicit files, and robustness of every reader against mangled files."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from mcpwarden.discovery import parse_config_file

from .fakehome import FIXTURES, USER_LOCATIONS


def test_every_present_section_is_read(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text(
        '{"mcpServers": {"a": {"command": "a"}}, "servers": {"b": {"command": "b"}},'
        ' "context_servers": {"c": {"command": {"path": "c"}}}, "extensions": {"d": {"type": "stdio", "cmd": "d"}}}'
    )
    specs, problems = parse_config_file(path)
    assert problems == []
    assert [(s.command, s.sources[0].key) for s in specs] == [
        ("a", "/mcpServers/a"),
        ("b", "/servers/b"),
        ("c", "/context_servers/c"),
        ("d", "/extensions/d"),
    ]
    assert {s.sources[0].client for s in specs} == {"explicit"}


def test_claude_code_shape_with_only_projects(tmp_path: Path) -> None:
    path = tmp_path / "backup.json"
    path.write_text('{"projects": {"/r": {"mcpServers": {"p": {"command": "p"}}}}}')
    specs, problems = parse_config_file(path)
    assert problems == []
    assert [(s.name, s.sources[0].key, s.sources[0].scope) for s in specs] == [
        ("p", "/projects/~1r/mcpServers/p", "project")
    ]


def test_recognised_file_in_another_shape_falls_back_to_shape(tmp_path: Path) -> None:
    path = tmp_path / ".cursor" / "mcp.json"
    path.parent.mkdir()
    path.write_text('{"servers": {"s": {"command": "x"}}}')
    specs, problems = parse_config_file(path)
    assert problems == [] and [s.command for s in specs] == ["x"]


def _mangle(data: bytes, rng: random.Random) -> bytes:
    choice = rng.randrange(4)
    cut = rng.randrange(len(data) + 1)
    if choice == 0:
        return data[:cut]
    if choice == 1:
        return data[:cut] + bytes([rng.randrange(256)]) + data[cut + 1 :]
    if choice == 2:
        return data[:cut] + rng.choice([b"{", b"}", b"[", b"]", b'"', b":", b",", b"\n- ", b"= ["]) + data[cut:]
    return data[:cut] + data[cut:][::-1]


@pytest.mark.parametrize("fixture", sorted(USER_LOCATIONS))
def test_mangled_files_never_raise(tmp_path: Path, fixture: str) -> None:
    original = (FIXTURES / fixture).read_bytes()
    rng = random.Random(fixture)  # fixed seed per fixture: failures reproduce
    target = tmp_path / Path(USER_LOCATIONS[fixture]["linux"].format(home="h")).relative_to("h")
    target.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(40):
        target.write_bytes(_mangle(original, rng))
        specs, problems = parse_config_file(target)
        assert all(p.path == str(target) for p in problems)
        assert all(s.sources and s.sources[0].path == str(target) for s in specs)
        assert not any("could not be interpreted" in p.reason for p in problems), problems
