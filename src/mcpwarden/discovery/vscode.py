"""VS Code (and its Insiders and VSCodium builds), and Cline, which lives in VS Code's storage.

VS Code: user `settings.json` under `mcp.servers` (nested or as the dotted key), user `mcp.json`
(also per profile) and workspace `.vscode/mcp.json` under `servers`. All VS Code files are JSONC.
Cline: `globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json` in the user data of
each VS Code-based editor it can be installed in, and `~/.cline/data/settings/` for the Cline CLI;
`mcpServers`, where a bare `url` means SSE (Cline's default) unless `type` says `streamableHttp`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._client import Client, parts_lower
from ._entries import Fields, merge_results, parse_server_map, standard_fields
from ._parse import Document, ParseResult
from ._paths import Platform

VSCODE_FLAVOURS = ("Code", "Code - Insiders", "VSCodium")
# VS Code forks whose user data has the same layout, so Cline's storage sits at the same place.
CLINE_EDITORS = (*VSCODE_FLAVOURS, "Cursor", "Windsurf")
CLINE_STORAGE = ("globalStorage", "saoudrizwan.claude-dev", "settings", "cline_mcp_settings.json")


def _vscode_user_paths(platform: Platform) -> Sequence[Path]:
    paths: list[Path] = []
    for flavour in VSCODE_FLAVOURS:
        user_dir = platform.app_config_dir(flavour) / "User"
        paths += [user_dir / "settings.json", user_dir / "mcp.json"]
        try:
            paths += sorted((user_dir / "profiles").glob("*/mcp.json"))
        except OSError:
            continue
    return paths


def parse_vscode_servers(doc: Document) -> ParseResult:
    """`servers` of an `mcp.json` (the `inputs` beside it only name prompts, not servers)."""
    return parse_server_map(doc, ("servers",), doc.data.get("servers"))


def parse_vscode_settings(doc: Document) -> ParseResult:
    """`mcp.servers` in a settings file: `{"mcp": {"servers": …}}` or `{"mcp.servers": …}`."""
    results = [parse_server_map(doc, ("mcp.servers",), doc.data.get("mcp.servers"))]
    nested: Any = doc.data.get("mcp")
    if isinstance(nested, Mapping):
        results.append(parse_server_map(doc, ("mcp", "servers"), nested.get("servers")))
    return merge_results(*results)


def parse_vscode(doc: Document) -> ParseResult:
    """Dispatch on the file: settings files nest servers under `mcp`, `mcp.json` files do not."""
    if doc.path.name.lower() == "settings.json":
        return parse_vscode_settings(doc)
    return parse_vscode_servers(doc)


def _vscode_recognizes(path: Path) -> bool:
    parts = parts_lower(path)
    if parts[-2:] in ([".vscode", "mcp.json"], [".vscode", "settings.json"]):
        return True
    flavours = {f.lower() for f in VSCODE_FLAVOURS}
    return parts[-1] in ("mcp.json", "settings.json") and "user" in parts and bool(flavours & set(parts))


def _cline_user_paths(platform: Platform) -> Sequence[Path]:
    paths = [platform.app_config_dir(editor) / "User" / Path(*CLINE_STORAGE) for editor in CLINE_EDITORS]
    paths.append(platform.user_home / ".cline" / "data" / "settings" / "cline_mcp_settings.json")
    return paths


def cline_fields(entry: Mapping[str, Any]) -> Fields:
    """Standard fields, but a `url` with no declared type is SSE, as Cline reads it."""
    return standard_fields(entry, url_keys=(("url", "sse"),))


def parse_cline(doc: Document) -> ParseResult:
    """The `mcpServers` object of Cline's settings file."""
    return parse_server_map(doc, ("mcpServers",), doc.data.get("mcpServers"), cline_fields)


def _cline_recognizes(path: Path) -> bool:
    return path.name.lower() == "cline_mcp_settings.json"


VSCODE = Client(
    id="vscode",
    parse=parse_vscode,
    user_paths=_vscode_user_paths,
    project_paths=(".vscode/mcp.json", ".vscode/settings.json"),
    recognizes=_vscode_recognizes,
    jsonc=True,
)

CLINE = Client(
    id="cline",
    parse=parse_cline,
    user_paths=_cline_user_paths,
    recognizes=_cline_recognizes,
)
