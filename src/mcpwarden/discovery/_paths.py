"""Where config files live on each OS, and a bounded walk of project directories.

Every path is computed from an explicit home directory and environment, never from the running
process, so each client's Windows and macOS layout can be exercised on Linux with a fake home.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

OsName = Literal["linux", "darwin", "windows"]

# Directories that never hold a project's own MCP config but can hold thousands of files.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        "dist",
        "build",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)


@dataclass(frozen=True)
class Platform:
    """The OS conventions and environment that decide where clients keep their config."""

    os_name: OsName
    home: Path
    env: Mapping[str, str] = field(default_factory=dict)

    def _env_path(self, name: str) -> Path | None:
        value = self.env.get(name, "").strip()
        return Path(value) if value else None

    @property
    def user_home(self) -> Path:
        """The user's home; on Windows `%USERPROFILE%` when set (that is where dot-directories live)."""
        if self.os_name == "windows":
            return self._env_path("USERPROFILE") or self.home
        return self.home

    @property
    def appdata(self) -> Path:
        """Windows roaming application data (`%APPDATA%`)."""
        return self._env_path("APPDATA") or self.home / "AppData" / "Roaming"

    @property
    def xdg_config(self) -> Path:
        """`$XDG_CONFIG_HOME` when it is an absolute path (as the spec requires), else `~/.config`."""
        value = self._env_path("XDG_CONFIG_HOME")
        if value is not None and value.is_absolute():
            return value
        return self.home / ".config"

    def app_config_dir(self, name: str) -> Path:
        """An Electron-style per-application directory: Application Support, %APPDATA% or ~/.config."""
        if self.os_name == "darwin":
            return self.home / "Library" / "Application Support" / name
        if self.os_name == "windows":
            return self.appdata / name
        return self.xdg_config / name


@dataclass(frozen=True)
class WalkLimits:
    """Bounds on a project search so a huge monorepo cannot stall a scan."""

    max_depth: int = 4
    max_dirs: int = 5000


def walk_project(root: Path, limits: WalkLimits) -> tuple[list[Path], bool]:
    """Directories under `root` (itself first) up to `max_depth`, breadth first, skipping `SKIP_DIRS`.

    Returns the directories and whether the walk stopped early at `max_dirs`. Symlinked
    directories are not followed: they can loop, or lead out of the project.
    """
    found: list[Path] = []
    level = [root]
    depth = 0
    while level:
        next_level: list[Path] = []
        for directory in level:
            if len(found) >= limits.max_dirs:
                return found, True
            found.append(directory)
            if depth < limits.max_depth:
                next_level.extend(_subdirectories(directory))
        level = next_level
        depth += 1
    return found, False


def _subdirectories(directory: Path) -> Iterator[Path]:
    try:
        with os.scandir(directory) as entries:
            names = sorted(e.name for e in entries if e.name not in SKIP_DIRS and e.is_dir(follow_symlinks=False))
    except OSError:
        # An unreadable subdirectory is not a config problem: nothing in it was meant for us.
        return
    for name in names:
        yield directory / name


def expand_project_pattern(directory: Path, pattern: str) -> list[Path]:
    """Files matching a project-relative pattern (one `*` allowed in the last part only)."""
    if "*" not in pattern:
        return [directory / pattern]
    parent, _, last = pattern.rpartition("/")
    base = directory / parent if parent else directory
    try:
        return sorted(p for p in base.glob(last) if not p.is_dir())
    except OSError:
        return []
