"""What the registry needs to know about one MCP client: where its files are and how to read them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._parse import Document, ParseResult
from ._paths import Platform


def _no_user_paths(platform: Platform) -> Sequence[Path]:
    return ()


def _recognizes_nothing(path: Path) -> bool:
    return False


@dataclass(frozen=True)
class Client:
    """One client (or one of its file kinds) as discovery sees it.

    `user_paths` lists the per-user files for a platform (existing or not); `project_paths` are
    patterns relative to a project directory (`*` allowed in the last part); `recognizes` says whether
    an explicitly given file is this client's, so `--config` reads it with the client's conventions.
    """

    id: str
    parse: Callable[[Document], ParseResult]
    user_paths: Callable[[Platform], Sequence[Path]] = _no_user_paths
    project_paths: tuple[str, ...] = ()
    recognizes: Callable[[Path], bool] = _recognizes_nothing
    jsonc: bool = False


def parts_lower(path: Path) -> list[str]:
    """Path components, lower-cased, for case-insensitive recognition (Windows paths vary in case)."""
    return [p.lower() for p in path.parts]
