"""An MCP conversation over a raw wire: the `initialize` handshake, then numbered requests.

Over HTTP it carries `Mcp-Session-Id` and `MCP-Protocol-Version` the way a client must; attacks can
override or drop any header per request. Over stdio the conversation is the process itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from itertools import count
from typing import Any

from mcp_types.version import LATEST_HANDSHAKE_VERSION

from mcpwarden.redteam.wire import Exchange, HttpWire, StdioWire

STDIO_SETTLE_S = 0.5  # how long to collect answers to a message that may get none (no id to wait for)
CLIENT_INFO = {"name": "mcpwarden-redteam", "version": "1"}


def encode(message: Any) -> bytes:
    """Compact JSON bytes (one line: stdio frames are newline-delimited)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class McpSession:
    """One MCP session; `ids` is shared so request ids stay unique across a run's sessions."""

    def __init__(self, wire: HttpWire | StdioWire, ids: count[int]) -> None:
        self.wire = wire
        self.ids = ids
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        self.initialize_result: dict[str, Any] | None = None

    def session_headers(self) -> dict[str, str | None]:
        headers: dict[str, str | None] = {}
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        if self.protocol_version:
            headers["MCP-Protocol-Version"] = self.protocol_version
        return headers

    @staticmethod
    def initialize_message(request_id: int) -> dict[str, Any]:
        return {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "initialize",
            "params": {"protocolVersion": LATEST_HANDSHAKE_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO},
        }

    async def initialize(self, *, headers: Mapping[str, str | None] | None = None, url: str | None = None) -> Exchange:
        """Handshake; on success keeps the session id and the negotiated version for later requests."""
        request_id = next(self.ids)
        exchange = await self.send(self.initialize_message(request_id), headers=headers, url=url, session=False)
        reply = exchange.reply(request_id)
        if reply is not None and isinstance(reply.get("result"), dict):
            self.initialize_result = reply["result"]
            version = reply["result"].get("protocolVersion")
            self.protocol_version = version if isinstance(version, str) else None
            self.session_id = exchange.header("mcp-session-id")
            await self.notify("notifications/initialized", headers=headers, url=url)
        return exchange

    async def send(
        self,
        message: Any,
        *,
        headers: Mapping[str, str | None] | None = None,
        url: str | None = None,
        session: bool = True,
        base_headers: bool = True,
    ) -> Exchange:
        """Send one JSON-RPC message (or any JSON value) and wait for the reply to its id."""
        wait_for = message.get("id") if isinstance(message, dict) and "method" in message else None
        return await self.send_raw(
            encode(message), headers=headers, url=url, session=session, wait_for=wait_for, base_headers=base_headers
        )

    async def send_raw(
        self,
        payload: bytes,
        *,
        headers: Mapping[str, str | None] | None = None,
        url: str | None = None,
        session: bool = True,
        wait_for: Any = None,
        method: str = "POST",
        base_headers: bool = True,
        limit: float | None = None,
    ) -> Exchange:
        """Send bytes as they are; `limit` shortens the wait for an answer (seconds)."""
        if isinstance(self.wire, StdioWire):
            return await self.wire.send(
                payload, wait_for=wait_for, settle=min(STDIO_SETTLE_S, limit or STDIO_SETTLE_S), limit=limit
            )
        merged = self.session_headers() if session else {}
        merged.update(headers or {})
        return await self.wire.send(
            payload, method=method, headers=merged, url=url, wait_for=wait_for, base_headers=base_headers, limit=limit
        )

    async def request(
        self, method: str, params: Mapping[str, Any] | None = None, **options: Any
    ) -> tuple[Exchange, dict[str, Any] | None]:
        """A request; the exchange and the reply object (result or error) when one came back."""
        request_id = next(self.ids)
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = dict(params)
        exchange = await self.send(message, **options)
        return exchange, exchange.reply(request_id)

    async def notify(self, method: str, **options: Any) -> None:
        payload = encode({"jsonrpc": "2.0", "method": method})
        if isinstance(self.wire, StdioWire):
            await self.wire.send(payload, settle=0.0)
            return
        await self.send_raw(payload, **options)

    async def close(self) -> None:
        """End an HTTP session with DELETE (best effort); a stdio session ends with its process."""
        if isinstance(self.wire, HttpWire) and self.session_id:
            await self.wire.send(None, method="DELETE", headers=self.session_headers())
            self.session_id = None
