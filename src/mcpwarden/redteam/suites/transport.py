"""Transport attacks (streamable HTTP only): foreign Origin, spoofed Host, an unsupported
MCP-Protocol-Version, and a loopback server that also listens on the machine's other addresses."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mcpwarden.redteam.attack import Context
from mcpwarden.redteam.netinfo import local_addresses
from mcpwarden.redteam.session import McpSession
from mcpwarden.redteam.wire import Exchange

FOREIGN_ORIGIN = "http://mcpwarden-foreign-origin.example"
REBIND_HOST = "mcpwarden-rebind.example"
BOGUS_VERSION = "1999-01-01"
_MAX_ADDRESSES = 4


def host_is_local(url: str) -> bool:
    """Whether the URL's host is loopback, private or `localhost` (where DNS rebinding matters)."""
    host = (urlsplit(url).hostname or "").lower()
    if host in {"localhost", "localhost.localdomain"} or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_unspecified


def host_is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def observe(exchange: Exchange, what: str) -> dict[str, Any]:
    return {"status": exchange.status, "messages": exchange.messages, "what": what}


async def _initialize_with(ctx: Context, headers: dict[str, str | None], url: str | None = None) -> Exchange:
    session = McpSession(ctx.http_wire(), ctx.ids)
    exchange = await session.initialize(headers=headers, url=url)
    if session.session_id:
        await session.wire.send(None, method="DELETE", headers={**session.session_headers(), **headers}, url=url)
    return exchange


class ForeignOrigin:
    id = "transport.origin"
    suite = "transport"
    rule_ids = ("MW730",)
    sends = f"initialize with `Origin: {FOREIGN_ORIGIN}` (that host is never contacted)"
    judged_by = "a 2xx answer holding a JSON-RPC result"
    transports = frozenset({"http"})

    async def run(self, ctx: Context) -> None:
        with ctx.probe(self.id):
            exchange = await _initialize_with(ctx, {"Origin": FOREIGN_ORIGIN})
        ctx.judge(
            self.id,
            "MW730",
            observe(exchange, f"initialize with Origin {FOREIGN_ORIGIN}"),
            request=f"POST initialize, Origin: {FOREIGN_ORIGIN}",
            pointer="/headers/Origin",
        )


class SpoofedHost:
    id = "transport.host"
    suite = "transport"
    rule_ids = ("MW731",)
    sends = f"initialize with `Host: {REBIND_HOST}` to a local server"
    judged_by = "a 2xx answer holding a JSON-RPC result"
    transports = frozenset({"http"})

    async def run(self, ctx: Context) -> None:
        if not host_is_local(ctx.target.url or ""):
            ctx.mark(self.id, "skipped", "not a local server: DNS rebinding does not apply")
            return
        with ctx.probe(self.id):
            exchange = await _initialize_with(ctx, {"Host": REBIND_HOST})
        ctx.judge(
            self.id,
            "MW731",
            observe(exchange, f"initialize with Host {REBIND_HOST}"),
            request=f"POST initialize, Host: {REBIND_HOST}",
            pointer="/headers/Host",
        )


class ProtocolVersion:
    id = "transport.protocol_version"
    suite = "transport"
    rule_ids = ("MW732",)
    sends = f"tools/list in an open session with `MCP-Protocol-Version: {BOGUS_VERSION}`"
    judged_by = "a 2xx answer holding a JSON-RPC result (the spec wants 400)"
    transports = frozenset({"http"})

    async def run(self, ctx: Context) -> None:
        with ctx.probe(self.id):
            session = await ctx.session()
            exchange, _ = await session.request("tools/list", headers={"MCP-Protocol-Version": BOGUS_VERSION})
        ctx.judge(
            self.id,
            "MW732",
            observe(exchange, f"tools/list with MCP-Protocol-Version {BOGUS_VERSION}"),
            request=f"POST tools/list, MCP-Protocol-Version: {BOGUS_VERSION}",
            pointer="/headers/MCP-Protocol-Version",
        )


def _url_on(url: str, address: str) -> str:
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


class AllInterfaces:
    id = "transport.bind"
    suite = "transport"
    rule_ids = ("MW733",)
    sends = "initialize to the same port on this machine's own non-loopback addresses (read from its interfaces)"
    judged_by = "any HTTP answer there"
    transports = frozenset({"http"})

    async def run(self, ctx: Context) -> None:
        url = ctx.target.url or ""
        if not host_is_loopback(url):
            ctx.mark(self.id, "skipped", "the URL is not loopback")
            return
        addresses = local_addresses()
        if not addresses:
            ctx.mark(self.id, "inconclusive", "not determinable: no non-loopback address of this machine is known")
            return
        reached = []
        original_host = urlsplit(url).netloc
        with ctx.probe(self.id):
            for address in addresses[:_MAX_ADDRESSES]:
                other = _url_on(url, address)
                exchange = await _initialize_with(ctx, {"Host": original_host}, url=other)
                if exchange.status is not None:
                    reached.append(urlsplit(other).netloc)
        ctx.judge(
            self.id,
            "MW733",
            {"reached": reached},
            request=f"POST initialize to {', '.join(addresses)}",
            pointer="/bind",
        )
