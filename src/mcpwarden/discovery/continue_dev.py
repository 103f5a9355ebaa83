"""Continue: `~/.continue/config.yaml` (`mcpServers`, a list of named entries), the older
`~/.continue/config.json` (`experimental.modelContextProtocolServers`, a list of `{transport: …}`),
and block files in `.continue/mcpServers/` (YAML blocks with an `mcpServers` list, or JSON files
copied from other clients with an `mcpServers` object). `$CONTINUE_GLOBAL_DIR` moves `~/.continue`.

Entries take `type` stdio/sse/streamable-http; remote headers sit under `requestOptions.headers`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ._client import Client, parts_lower
from ._entries import EntryError, Fields, merge_results, parse_server_list, parse_server_map, standard_fields
from ._parse import Document, ParseResult, type_name
from ._paths import Platform

_BLOCK_PATTERNS = ("mcpServers/*.yaml", "mcpServers/*.yml", "mcpServers/*.json")


def _global_dir(platform: Platform) -> Path:
    configured = platform.env.get("CONTINUE_GLOBAL_DIR", "").strip()
    return Path(configured) if configured else platform.user_home / ".continue"


def _user_paths(platform: Platform) -> Sequence[Path]:
    base = _global_dir(platform)
    paths = [base / "config.yaml", base / "config.json"]
    for pattern in _BLOCK_PATTERNS:
        try:
            paths += sorted(p for p in base.glob(pattern) if not p.is_dir())
        except OSError:
            continue
    return paths


def continue_fields(entry: Mapping[str, Any]) -> Fields:
    """A config.yaml entry: standard fields, headers under `requestOptions` when not given directly."""
    fields = standard_fields(entry, url_keys=(("url", None),))
    if fields.headers is None:
        options = entry.get("requestOptions")
        if isinstance(options, Mapping):
            return replace(fields, headers=options.get("headers"))
    return fields


def _legacy_fields(entry: Mapping[str, Any]) -> Fields:
    transport = entry.get("transport")
    if not isinstance(transport, Mapping):
        raise EntryError(f"`transport` must be an object, found {type_name(transport)}")
    return standard_fields(transport, url_keys=(("url", None),))


def parse_continue(doc: Document) -> ParseResult:
    """`mcpServers` as a list (YAML config and blocks) or an object (copied JSON), and the legacy list."""
    results: list[ParseResult] = []
    servers = doc.data.get("mcpServers")
    if isinstance(servers, Mapping):
        results.append(parse_server_map(doc, ("mcpServers",), servers))
    else:
        results.append(parse_server_list(doc, ("mcpServers",), servers, continue_fields))
    experimental = doc.data.get("experimental")
    if isinstance(experimental, Mapping):
        prefix = ("experimental", "modelContextProtocolServers")
        results.append(parse_server_list(doc, prefix, experimental.get("modelContextProtocolServers"), _legacy_fields))
    return merge_results(*results)


def _recognizes(path: Path) -> bool:
    parts = parts_lower(path)
    if len(parts) > 1 and parts[-2] == ".continue" and parts[-1] in ("config.yaml", "config.json"):
        return True
    return len(parts) > 2 and parts[-3] == ".continue" and parts[-2] == "mcpservers"


CONTINUE = Client(
    id="continue",
    parse=parse_continue,
    user_paths=_user_paths,
    project_paths=tuple(f".continue/{p}" for p in _BLOCK_PATTERNS),
    recognizes=_recognizes,
    jsonc=True,
)
