"""Zed: `settings.json` (JSONC) under `context_servers`, in `~/.config/zed` on Linux and macOS and
`%APPDATA%\\Zed` on Windows; a project may add `.zed/settings.json`.

An entry is `{"command": "x", "args": [...], "env": {...}}`, the older nested
`{"command": {"path": "x", "args": [...], "env": {...}}}`, or a remote `{"url": ..., "headers": ...}`.
Servers provided by a Zed extension carry only `settings` (Zed starts them from the extension), so
there is nothing here to describe and they are skipped, not reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._client import Client, parts_lower
from ._entries import EntryError, Fields, parse_server_map, standard_fields
from ._parse import Document, ParseResult, type_name
from ._paths import Platform


def _user_paths(platform: Platform) -> Sequence[Path]:
    if platform.os_name == "windows":
        return [platform.appdata / "Zed" / "settings.json"]
    if platform.os_name == "darwin":
        return [platform.home / ".config" / "zed" / "settings.json"]
    return [platform.xdg_config / "zed" / "settings.json"]


def zed_fields(entry: Mapping[str, Any]) -> Fields | None:
    """A `context_servers` entry in client-neutral terms; None for an extension-provided server."""
    command = entry.get("command")
    if isinstance(command, Mapping):
        path = command.get("path")
        if not isinstance(path, str) or not path:
            raise EntryError(f"`command.path` must be a non-empty string, found {type_name(path)}")
        return Fields(command=path, args=command.get("args"), env=command.get("env"), cwd=entry.get("cwd"))
    from_extension = entry.get("source") == "extension" or "settings" in entry
    if command is None and entry.get("url") in (None, "") and from_extension:
        return None
    return standard_fields(entry, url_keys=(("url", None),))


def parse_zed(doc: Document) -> ParseResult:
    """The `context_servers` object of a Zed settings file."""
    return parse_server_map(doc, ("context_servers",), doc.data.get("context_servers"), zed_fields)


def _recognizes(path: Path) -> bool:
    parts = parts_lower(path)
    return parts[-1] == "settings.json" and len(parts) > 1 and parts[-2] in ("zed", ".zed")


ZED = Client(
    id="zed",
    parse=parse_zed,
    user_paths=_user_paths,
    project_paths=(".zed/settings.json",),
    recognizes=_recognizes,
    jsonc=True,
)
