"""Gemini CLI: `~/.gemini/settings.json` and a project's `.gemini/settings.json`, `mcpServers`.

Gemini's convention differs from the others: `httpUrl` is streamable HTTP and `url` is SSE, unless
the entry declares a `type`. The settings file tolerates comments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._client import Client, parts_lower
from ._entries import Fields, parse_server_map, standard_fields
from ._parse import Document, ParseResult
from ._paths import Platform


def _user_paths(platform: Platform) -> Sequence[Path]:
    return [platform.user_home / ".gemini" / "settings.json"]


def gemini_fields(entry: Mapping[str, Any]) -> Fields:
    """Standard fields with Gemini's URL keys: `httpUrl` → http first, then `url` → sse."""
    return standard_fields(entry, url_keys=(("httpUrl", "http"), ("url", "sse")))


def parse_gemini(doc: Document) -> ParseResult:
    """The `mcpServers` object of a Gemini settings file."""
    return parse_server_map(doc, ("mcpServers",), doc.data.get("mcpServers"), gemini_fields)


def _recognizes(path: Path) -> bool:
    return parts_lower(path)[-2:] == [".gemini", "settings.json"]


GEMINI = Client(
    id="gemini-cli",
    parse=parse_gemini,
    user_paths=_user_paths,
    project_paths=(".gemini/settings.json",),
    recognizes=_recognizes,
    jsonc=True,
)
