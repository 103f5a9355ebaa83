"""Pin enforcement: a tool or prompt whose definition is not the pinned one is hidden and refused.

Pins live in the inventory database (`SqliteStore.get_pins`), written by `mcpwarden scan` and
`mcpwarden pin accept`. A definition whose hash differs from its active pin (a rug pull) leaves
the listings and its calls are refused with rule MW401 until the change is accepted (`mcpwarden
scan` records what the server now serves, then `mcpwarden pin accept SERVER TOOL`). A definition
with no active pin is pinned on first sight (`unknown: pin`, trust on first use, the default) or
hidden and refused with rule MW402 (`unknown: deny`).

    interceptors:
      pin_check:
        unknown: pin          # pin | deny
        refresh_s: 5          # how old the in-memory copy of the pins may get on the call path

Pins are read per server on every listing and otherwise at most every `refresh_s` seconds, off
the event loop; a call's check is a dictionary lookup and a cached hash.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread

from mcpwarden.gateway.interceptors.common import choice, definition_of, failer, number, only_keys
from mcpwarden.gateway.pipeline import DefinitionKey, InterceptorContext, ToolCatalog
from mcpwarden.storage.sqlite import SqliteStore
from mcpwarden.types import Principal, ToolCall, ToolDef, Verdict

NAME = "pin_check"
CHANGED = "MW401"
UNPINNED = "MW402"
DEFAULT_REFRESH_S = 5.0
_PinMap = dict[tuple[str, str], str]  # (kind, name) → pinned hash, active pins of one server


class PinCheck:
    """Compares listed definitions with their pins; pins unknown ones (or refuses them)."""

    name = NAME

    def __init__(
        self, catalog: ToolCatalog, store: SqliteStore | None, *, unknown: str = "pin", refresh_s: float = 5.0
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.unknown = unknown
        self.refresh_s = refresh_s
        self._pins: dict[str, _PinMap] = {}
        self._loaded: dict[str, float] = {}
        self._hashes: dict[DefinitionKey, tuple[ToolDef, str]] = {}

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: InterceptorContext) -> PinCheck:
        fail = failer(context, NAME)
        only_keys(options, ("unknown", "refresh_s"), fail)
        unknown = choice(options.get("unknown", "pin"), "unknown", fail, ("pin", "deny"))
        refresh = number(options.get("refresh_s", DEFAULT_REFRESH_S), "refresh_s", fail, minimum=0)
        store = context.services.get("inventory")
        if store is None and context.config is not None and context.config.db_path is not None:
            store = SqliteStore(Path(context.config.db_path))
        return cls(context.catalog, store, unknown=unknown, refresh_s=refresh)

    # -- pins

    async def _server_pins(self, server: str, *, fresh: bool = False) -> _PinMap:
        cached = self._pins.get(server)
        if cached is not None and not fresh and time.monotonic() - self._loaded[server] < self.refresh_s:
            return cached
        assert self.store is not None
        pins = await anyio.to_thread.run_sync(self.store.get_pins, server)
        current = {(p.kind, p.name): p.hash for p in pins if p.status == "active"}
        self._pins[server], self._loaded[server] = current, time.monotonic()
        return current

    def _hash(self, definition: ToolDef) -> str:
        key = (definition.server, definition.kind, definition.name)
        cached = self._hashes.get(key)
        if cached is not None and cached[0] is definition:
            return cached[1]
        digest = definition.hash
        self._hashes[key] = (definition, digest)
        return digest

    async def _judge(self, definitions: Sequence[ToolDef], *, fresh: bool) -> dict[DefinitionKey, tuple[str, str]]:
        """(rule, message) for every definition that must be hidden and refused; pins the unknown ones."""
        out: dict[DefinitionKey, tuple[str, str]] = {}
        to_pin: list[ToolDef] = []
        for server in dict.fromkeys(d.server for d in definitions):
            pins = await self._server_pins(server, fresh=fresh)
            for d in (d for d in definitions if d.server == server):
                pinned = pins.get((d.kind, d.name))
                digest = self._hash(d)
                if pinned is None and self.unknown == "pin":
                    to_pin.append(d)
                elif pinned is None:
                    out[(d.server, d.kind, d.name)] = (UNPINNED, _unpinned(d))
                elif pinned != digest:
                    out[(d.server, d.kind, d.name)] = (CHANGED, _changed(d, pinned, digest))
        if to_pin:
            await self._pin(to_pin)
        return out

    async def _pin(self, definitions: list[ToolDef]) -> None:
        assert self.store is not None
        store = self.store

        def write() -> None:
            for server in dict.fromkeys(d.server for d in definitions):
                store.accept(server, current=[d for d in definitions if d.server == server])

        await anyio.to_thread.run_sync(write)
        for d in definitions:
            self._pins.setdefault(d.server, {})[(d.kind, d.name)] = self._hash(d)

    # -- hooks

    async def request(self, call: ToolCall) -> Verdict | None:
        if self.store is None or call.action not in ("call_tool", "get_prompt"):
            return None
        definition = definition_of(self.catalog, call)
        if definition is None:
            return None
        found = (await self._judge([definition], fresh=False)).get(
            (definition.server, definition.kind, definition.name)
        )
        if found is None:
            return None
        return Verdict("deny", source=NAME, reasons=(found[0],), message=found[1])

    async def response(self, call: ToolCall) -> Verdict | None:
        return None

    async def hide(self, definitions: Sequence[ToolDef], principal: Principal) -> set[DefinitionKey]:
        if self.store is None:
            return set()
        return set(await self._judge(definitions, fresh=True))


def _changed(d: ToolDef, pinned: str, digest: str) -> str:
    return (
        f"the definition of {d.kind} {d.server}/{d.name} changed since it was pinned "
        f"(pinned {pinned[:12]}, now {digest[:12]}); review it, then `mcpwarden scan` and "
        f"`mcpwarden pin accept {d.server} {d.name}`"
    )


def _unpinned(d: ToolDef) -> str:
    return (
        f"{d.kind} {d.server}/{d.name} has no pin and unpinned definitions are refused (`pin_check.unknown: deny`); "
        f"`mcpwarden scan` then `mcpwarden pin accept {d.server} {d.name}` to trust it"
    )
