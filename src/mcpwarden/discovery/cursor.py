"""Cursor: `~/.cursor/mcp.json` for the user, `.cursor/mcp.json` in a project; both use `mcpServers`.

Remote entries give `url` (and `headers`); Cursor picks streamable HTTP or SSE itself, so the
transport follows an explicit `type` or the URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ._client import Client, parts_lower
from ._paths import Platform
from .claude import parse_mcp_servers


def _user_paths(platform: Platform) -> Sequence[Path]:
    return [platform.user_home / ".cursor" / "mcp.json"]


def _recognizes(path: Path) -> bool:
    parts = parts_lower(path)
    return parts[-2:] == [".cursor", "mcp.json"]


CURSOR = Client(
    id="cursor",
    parse=parse_mcp_servers,
    user_paths=_user_paths,
    project_paths=(".cursor/mcp.json",),
    recognizes=_recognizes,
)
