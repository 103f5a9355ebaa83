"""Windsurf (Codeium): `~/.codeium/windsurf/mcp_config.json`, `mcpServers`; remote entries use `serverUrl`.

Windsurf Next keeps the same file under `windsurf-next`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ._client import Client, parts_lower
from ._paths import Platform
from .claude import parse_mcp_servers


def _user_paths(platform: Platform) -> Sequence[Path]:
    base = platform.user_home / ".codeium"
    return [base / "windsurf" / "mcp_config.json", base / "windsurf-next" / "mcp_config.json"]


def _recognizes(path: Path) -> bool:
    parts = parts_lower(path)
    return parts[-1] == "mcp_config.json" and any(p.startswith("windsurf") for p in parts[:-1])


WINDSURF = Client(
    id="windsurf",
    parse=parse_mcp_servers,
    user_paths=_user_paths,
    recognizes=_recognizes,
)
