"""OpenAI Codex CLI: `$CODEX_HOME/config.toml` (default `~/.codex/config.toml`) and, in a trusted
project, `.codex/config.toml`; one `[mcp_servers.<name>]` table per server.

Stdio tables give `command`/`args`/`env`/`cwd`; remote tables give `url` (streamable HTTP, the only
remote transport Codex speaks) with literal headers in `http_headers`. Codex ignores a `headers`
key, so it is not taken as headers here either (it stays visible in `raw`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._client import Client, parts_lower
from ._entries import Fields, parse_server_map
from ._parse import Document, ParseResult
from ._paths import Platform


def _user_paths(platform: Platform) -> Sequence[Path]:
    codex_home = platform.env.get("CODEX_HOME", "").strip()
    base = Path(codex_home) if codex_home else platform.user_home / ".codex"
    return [base / "config.toml"]


def codex_fields(entry: Mapping[str, Any]) -> Fields:
    """A Codex server table in client-neutral terms."""
    return Fields(
        command=entry.get("command"),
        args=entry.get("args"),
        env=entry.get("env"),
        cwd=entry.get("cwd"),
        url=entry.get("url"),
        headers=entry.get("http_headers"),
        declared=entry.get("type") if entry.get("type") is not None else entry.get("transport"),
        url_transport="http",
    )


def parse_codex(doc: Document) -> ParseResult:
    """Every `[mcp_servers.<name>]` table."""
    return parse_server_map(doc, ("mcp_servers",), doc.data.get("mcp_servers"), codex_fields)


def _recognizes(path: Path) -> bool:
    parts = parts_lower(path)
    return parts[-1] == "config.toml" and len(parts) > 1 and parts[-2] in (".codex", "codex")


CODEX = Client(
    id="codex",
    parse=parse_codex,
    user_paths=_user_paths,
    project_paths=(".codex/config.toml",),
    recognizes=_recognizes,
)
