"""Platform directories and the bounded project walk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mcpwarden.discovery._paths import Platform, WalkLimits, expand_project_pattern, walk_project

HOME = Path("/h")


@pytest.mark.parametrize(
    ("os_name", "env", "expected"),
    [
        ("linux", {}, "/h/.config/App"),
        ("linux", {"XDG_CONFIG_HOME": "/xdg"}, "/xdg/App"),
        ("linux", {"XDG_CONFIG_HOME": "relative/xdg"}, "/h/.config/App"),
        ("darwin", {"XDG_CONFIG_HOME": "/xdg"}, "/h/Library/Application Support/App"),
        ("windows", {}, "/h/AppData/Roaming/App"),
        ("windows", {"APPDATA": "/roaming"}, "/roaming/App"),
    ],
)
def test_app_config_dir(os_name: str, env: dict[str, str], expected: str) -> None:
    platform = Platform(os_name, HOME, env)  # type: ignore[arg-type]
    assert platform.app_config_dir("App") == Path(expected)


@pytest.mark.parametrize(
    ("os_name", "env", "expected"),
    [
        ("windows", {"USERPROFILE": "/profile"}, "/profile"),
        ("windows", {"USERPROFILE": "  "}, "/h"),
        ("linux", {"USERPROFILE": "/profile"}, "/h"),
    ],
)
def test_user_home(os_name: str, env: dict[str, str], expected: str) -> None:
    assert Platform(os_name, HOME, env).user_home == Path(expected)  # type: ignore[arg-type]


def _tree(root: Path, dirs: list[str]) -> None:
    for d in dirs:
        (root / d).mkdir(parents=True, exist_ok=True)


def test_walk_is_breadth_first_bounded_in_depth_and_skips_vendored_dirs(tmp_path: Path) -> None:
    _tree(tmp_path, ["a/b/c/d/e", "node_modules/x", ".git/objects", "venv/lib", ".venv/lib", "src/__pycache__"])
    _tree(tmp_path, ["dist/x", "build/x", ".github/workflows"])
    found, truncated = walk_project(tmp_path, WalkLimits(max_depth=3))
    relative = [p.relative_to(tmp_path).as_posix() for p in found]
    assert relative == [".", ".github", "a", "src", ".github/workflows", "a/b", "a/b/c"]
    assert not truncated


def test_walk_stops_at_max_dirs(tmp_path: Path) -> None:
    _tree(tmp_path, [f"d{i}" for i in range(5)])
    found, truncated = walk_project(tmp_path, WalkLimits(max_dirs=3))
    assert len(found) == 3 and truncated


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_walk_does_not_follow_symlinked_dirs(tmp_path: Path) -> None:
    _tree(tmp_path, ["real"])
    (tmp_path / "real" / "loop").symlink_to(tmp_path, target_is_directory=True)
    found, _ = walk_project(tmp_path, WalkLimits())
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [".", "real"]


def test_expand_project_pattern(tmp_path: Path) -> None:
    blocks = tmp_path / ".continue" / "mcpServers"
    blocks.mkdir(parents=True)
    for name in ("b.yaml", "a.yaml", "c.json"):
        (blocks / name).write_text("")
    (blocks / "dir.yaml").mkdir()
    assert expand_project_pattern(tmp_path, ".continue/mcpServers/*.yaml") == [blocks / "a.yaml", blocks / "b.yaml"]
    assert expand_project_pattern(tmp_path, ".mcp.json") == [tmp_path / ".mcp.json"]
    assert expand_project_pattern(tmp_path / "absent", "x/*.json") == []
