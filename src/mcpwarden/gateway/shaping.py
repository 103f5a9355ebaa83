"""Result envelopes per protocol era, applied by splicing so forwarded results keep their bytes.

The gateway is the server its clients see, so reserved `_meta` keys (`io.modelcontextprotocol/…`,
such as an upstream's `serverInfo`) are replaced by the gateway's own values, never passed on.
2026-07-28 results also need `resultType` and, for cacheable results, `ttlMs` and `cacheScope`;
the gateway adds them when the upstream (a handshake-era server) did not.
"""

from __future__ import annotations

from typing import Any

from mcp_types import SERVER_INFO_META_KEY

from mcpwarden.gateway.jsonrpc import Member, dumps, scan_object, splice
from mcpwarden.gateway.session import Era

RESERVED_PREFIX = "io.modelcontextprotocol/"
CACHEABLE = frozenset(
    {"server/discover", "tools/list", "prompts/list", "resources/list", "resources/templates/list", "resources/read"}
)


def _has_reserved(meta: Any) -> bool:
    return isinstance(meta, dict) and any(isinstance(k, str) and k.startswith(RESERVED_PREFIX) for k in meta)


class Shaper:
    """Finishes results for one era: the gateway's serverInfo stamp, envelope fields, reserved keys."""

    def __init__(self, server_info: dict[str, Any]) -> None:
        self.server_info = server_info

    def _meta(self, era: Era, meta: Any) -> dict[str, Any] | None:
        """The `_meta` to send, or None to leave the member out."""
        own = {k: v for k, v in meta.items() if not k.startswith(RESERVED_PREFIX)} if isinstance(meta, dict) else {}
        if era == "modern":
            own[SERVER_INFO_META_KEY] = self.server_info
        return own if own or isinstance(meta, dict) else None

    def from_dict(self, era: Era, method: str, result: dict[str, Any]) -> str:
        """Serialise a result the gateway built or modified."""
        out = dict(result)
        meta = self._meta(era, out.pop("_meta", None))
        if era == "modern":
            out.setdefault("resultType", "complete")
            if method in CACHEABLE:
                out.setdefault("ttlMs", 0)
                out.setdefault("cacheScope", "private")
        if meta is not None:
            out["_meta"] = meta
        return dumps(out)

    def from_text(self, era: Era, method: str, text: str, value: dict[str, Any]) -> str:
        """Finish a forwarded result given as its exact text (`value` is its parsed view)."""
        edits: list[tuple[int, int, str]] = []
        meta_present = "_meta" in value
        if meta_present and (era == "modern" or _has_reserved(value["_meta"])):
            members = scan_object(text, 0)[0]
            m: Member = members["_meta"]
            new_meta = self._meta(era, value["_meta"])
            edits.append((m.start, m.end, dumps(new_meta if new_meta is not None else {})))
        additions: list[str] = []
        if era == "modern":
            if not meta_present:
                additions.append(f'"_meta":{dumps({SERVER_INFO_META_KEY: self.server_info})}')
            if "resultType" not in value:
                additions.append('"resultType":"complete"')
            if method in CACHEABLE:
                if "ttlMs" not in value:
                    additions.append('"ttlMs":0')
                if "cacheScope" not in value:
                    additions.append('"cacheScope":"private"')
        if additions:
            edits.append((1, 1, ",".join(additions) + ("," if value else "")))
        return splice(text, edits)
