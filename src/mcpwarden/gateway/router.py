"""One server out of many: listings aggregated from every upstream, and names routed back.

Tools and prompts are exposed as `<upstream><separator><name>` (`files__read_file`), so no upstream
can shadow another's tool. Resources keep their URIs and are routed by a map built from the
listings; when two upstreams list the same URI the first one in config order keeps it and the
later one is hidden (and logged). Listings are fetched page by page, cached per upstream and kind,
and dropped when the upstream reconnects or says `notifications/*/list_changed`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import anyio

from mcpwarden.gateway.jsonrpc import dumps
from mcpwarden.gateway.pool import UpstreamPool
from mcpwarden.gateway.upstream import Upstream, UpstreamError
from mcpwarden.types import DefinitionKind, ToolDef

log = logging.getLogger("mcpwarden.gateway.router")

ListKind = Literal["tools", "prompts", "resources", "resource_templates"]
MAX_PAGES = 100


@dataclass(frozen=True)
class _KindInfo:
    method: str
    key: str  # the result's list member
    capability: str
    definition: DefinitionKind


KINDS: Mapping[ListKind, _KindInfo] = {
    "tools": _KindInfo("tools/list", "tools", "tools", "tool"),
    "prompts": _KindInfo("prompts/list", "prompts", "prompts", "prompt"),
    "resources": _KindInfo("resources/list", "resources", "resources", "resource"),
    "resource_templates": _KindInfo("resources/templates/list", "resourceTemplates", "resources", "resource_template"),
}
LIST_CHANGED: Mapping[str, tuple[ListKind, ...]] = {
    "notifications/tools/list_changed": ("tools",),
    "notifications/prompts/list_changed": ("prompts",),
    "notifications/resources/list_changed": ("resources", "resource_templates"),
}


class RouteError(Exception):
    """A name or URI no upstream serves (or whose upstream cannot be reached to find out)."""


def template_regex(template: str) -> re.Pattern[str]:
    """A regex matching the URIs an RFC 6570 template (levels 1-3, as MCP servers use them) expands to."""
    out: list[str] = []
    pos = 0
    for m in re.finditer(r"\{([+#./;?&]?)([^}]*)\}", template):
        out.append(re.escape(template[pos : m.start()]))
        op = m.group(1)
        if op in ("+", "#"):
            out.append(".+")
        elif op in ("?", "&"):
            out.append(r"(?:[?&][^#]*)?")
        elif op in ("/", ".", ";"):
            out.append(r"(?:[/.;][^/?#]*)*")
        else:
            out.append(r"[^/?#]+")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out), re.DOTALL)


class Router:
    """Aggregated listings and name resolution over an `UpstreamPool`."""

    def __init__(self, pool: UpstreamPool, *, separator: str, namespaced: bool, timeout: float) -> None:
        self.pool = pool
        self.separator = separator
        self.namespaced = namespaced
        self.timeout = timeout
        self._cache: dict[tuple[str, ListKind], list[dict[str, Any]]] = {}
        self._defs: dict[tuple[str, DefinitionKind, str], ToolDef] = {}
        self._locks: dict[tuple[str, ListKind], anyio.Lock] = {}
        self._resources: dict[str, str] = {}  # uri → upstream, from the last aggregation
        self._templates: list[tuple[re.Pattern[str], str]] = []
        for upstream in pool:
            upstream.on_connect = self.invalidate

    # --- names

    def public_name(self, upstream: str, name: str) -> str:
        return f"{upstream}{self.separator}{name}" if self.namespaced else name

    def split_name(self, public: str) -> tuple[str, str] | None:
        """(upstream, name) for a public tool or prompt name, or None when no upstream has that prefix."""
        if not self.namespaced:
            only = next(iter(self.pool.upstreams), None)
            return (only, public) if only is not None else None
        upstream, sep, name = public.partition(self.separator)
        if not sep or not name or upstream not in self.pool.upstreams:
            return None
        return upstream, name

    # --- listings

    def invalidate(self, upstream: str, kinds: tuple[ListKind, ...] | None = None) -> None:
        for kind in kinds or tuple(KINDS):
            self._cache.pop((upstream, kind), None)

    async def listing(self, upstream: Upstream, kind: ListKind) -> list[dict[str, Any]]:
        """Every definition of `kind` that `upstream` lists (all pages), cached until invalidated."""
        key = (upstream.name, kind)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:  # one fetch at a time per listing: a burst of clients shares it
            cached = self._cache.get(key)
            if cached is not None:
                return cached
            items = await self._fetch(upstream, kind)
            self._cache[key] = items
            info = KINDS[kind]
            for stale in [k for k in self._defs if k[0] == upstream.name and k[1] == info.definition]:
                del self._defs[stale]
            id_key = "uriTemplate" if kind == "resource_templates" else "uri" if kind == "resources" else "name"
            for item in items:
                ident = item.get(id_key)
                if isinstance(ident, str):
                    self._defs[(upstream.name, info.definition, ident)] = ToolDef(
                        upstream.name, info.definition, ident, item
                    )
            return items

    async def _fetch(self, upstream: Upstream, kind: ListKind) -> list[dict[str, Any]]:
        info = KINDS[kind]
        await upstream.wait_ready(self.timeout)
        if info.capability not in upstream.capabilities:
            return []
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            params = dumps({"cursor": cursor}) if cursor is not None else None
            reply = await upstream.request(info.method, params, timeout=self.timeout)
            result = reply.members.get("result")
            if result is None or not isinstance(result.value, dict):
                raise UpstreamError(-32603, f"upstream {upstream.name} refused {info.method}")
            page = result.value.get(info.key)
            if isinstance(page, list):
                items.extend(item for item in page if isinstance(item, dict))
            cursor = result.value.get("nextCursor")
            if not isinstance(cursor, str) or not cursor or cursor in seen:
                break
            seen.add(cursor)
        return items

    async def aggregate(self, kind: ListKind) -> list[dict[str, Any]]:
        """The public listing of `kind` across every upstream; an unreachable upstream is left out (logged)."""
        upstreams = list(self.pool)
        results: list[list[dict[str, Any]] | None] = [None] * len(upstreams)

        async def one(index: int, upstream: Upstream) -> None:
            try:
                results[index] = await self.listing(upstream, kind)
            except UpstreamError as exc:
                log.warning("listing left out an upstream", extra={"fields": {"kind": kind, "reason": exc.message}})

        async with anyio.create_task_group() as tg:
            for index, upstream in enumerate(upstreams):
                tg.start_soon(one, index, upstream)
        out: list[dict[str, Any]] = []
        if kind == "resources":
            self._resources = {}
        if kind == "resource_templates":
            self._templates = []
        for upstream, items in zip(upstreams, results, strict=True):
            for item in items or ():
                exposed = self._expose(upstream.name, kind, item)
                if exposed is not None:
                    out.append(exposed)
        return out

    def _expose(self, upstream: str, kind: ListKind, item: dict[str, Any]) -> dict[str, Any] | None:
        if kind in ("tools", "prompts"):
            name = item.get("name")
            if not isinstance(name, str):
                return None
            return {**item, "name": self.public_name(upstream, name)}
        if kind == "resources":
            uri = item.get("uri")
            if not isinstance(uri, str):
                return None
            owner = self._resources.setdefault(uri, upstream)
            if owner != upstream:
                log.warning(
                    "resource URI listed by two upstreams; the later one is hidden",
                    extra={"fields": {"uri": uri, "kept": owner, "hidden": upstream}},
                )
                return None
            return item
        template = item.get("uriTemplate")
        if not isinstance(template, str):
            return None
        self._templates.append((template_regex(template), upstream))
        return item

    # --- resolution

    async def resolve(self, kind: Literal["tool", "prompt"], public: str) -> tuple[Upstream, ToolDef]:
        """The upstream and definition behind a public tool or prompt name; RouteError if none."""
        split = self.split_name(public)
        upstream = self.pool.get(split[0]) if split else None
        if split is None or upstream is None:
            raise RouteError(f"unknown {kind} {public!r}")
        await self.listing(upstream, "tools" if kind == "tool" else "prompts")
        definition = self._defs.get((upstream.name, kind, split[1]))
        if definition is None:
            raise RouteError(f"unknown {kind} {public!r}")
        return upstream, definition

    async def resolve_resource(self, uri: str) -> Upstream:
        """The upstream serving `uri`: listed resources first, then resource templates."""
        if uri not in self._resources:
            await self.aggregate("resources")
        owner = self._resources.get(uri)
        if owner is None:
            if not self._templates:
                await self.aggregate("resource_templates")
            owner = next((up for rx, up in self._templates if rx.fullmatch(uri)), None)
        if owner is None and len(self.pool.upstreams) == 1:
            owner = next(iter(self.pool.upstreams))
        upstream = self.pool.get(owner) if owner else None
        if upstream is None:
            raise RouteError(f"no upstream serves resource {uri!r}")
        return upstream

    def definition(self, upstream: str, kind: DefinitionKind, name: str) -> ToolDef | None:
        """The last listed definition (for interceptors: schemas, annotations)."""
        return self._defs.get((upstream, kind, name))
