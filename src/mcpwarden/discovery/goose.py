"""Goose: `config.yaml` in `~/.config/goose` (Linux and macOS) or `%APPDATA%\\Block\\goose\\config`
(Windows), servers under `extensions:` keyed by name.

`type: stdio` gives `cmd`/`args`/`envs`; `streamable_http` and the older `sse` give `uri` and
`headers`. Built-in and platform extensions run inside Goose, not as MCP servers, so they are
skipped rather than reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._client import Client, parts_lower
from ._entries import EntryError, Fields, parse_server_map
from ._parse import Document, ParseResult
from ._paths import Platform

_IN_PROCESS_TYPES = frozenset({"builtin", "platform", "frontend", "inline_python"})
_REMOTE_TYPES: dict[str, str] = {"sse": "sse", "streamable_http": "http", "streamablehttp": "http", "http": "http"}


def _user_paths(platform: Platform) -> Sequence[Path]:
    if platform.os_name == "windows":
        return [platform.appdata / "Block" / "goose" / "config" / "config.yaml"]
    if platform.os_name == "darwin":
        return [platform.home / ".config" / "goose" / "config.yaml"]
    return [platform.xdg_config / "goose" / "config.yaml"]


def goose_fields(entry: Mapping[str, Any]) -> Fields | None:
    """An `extensions` entry in client-neutral terms; None for one that runs inside Goose."""
    kind = entry.get("type")
    if isinstance(kind, str) and kind.lower() in _IN_PROCESS_TYPES:
        return None
    if kind is not None and not isinstance(kind, str):
        raise EntryError("`type` must be a string")
    if kind is None or kind.lower() == "stdio":
        command, args, envs = entry.get("cmd"), entry.get("args"), entry.get("envs")
        return Fields(command=command, args=args, env=envs, cwd=entry.get("cwd"), declared="stdio")
    transport = _REMOTE_TYPES.get(kind.lower())
    if transport is None:
        raise EntryError(f"unsupported extension type {kind!r}")
    return Fields(url=entry.get("uri"), headers=entry.get("headers"), declared=transport)


def parse_goose(doc: Document) -> ParseResult:
    """The `extensions` mapping of a Goose config."""
    return parse_server_map(doc, ("extensions",), doc.data.get("extensions"), goose_fields)


def _recognizes(path: Path) -> bool:
    parts = parts_lower(path)
    return parts[-1] in ("config.yaml", "config.yml") and "goose" in parts[:-1]


GOOSE = Client(
    id="goose",
    parse=parse_goose,
    user_paths=_user_paths,
    recognizes=_recognizes,
)
