"""The stdio front: the gateway speaking MCP on stdin/stdout, for `mcpwarden wrap -- COMMAND…`.

One client, one local principal. A message whose `params._meta` carries the 2026-07-28 envelope is
served statelessly; any other needs the `initialize` handshake first. Requests run concurrently and
their answers are written as they complete, one JSON message per line. Logs go to stderr.

Requests the gateway sends the client (elicitation, when it declared the capability) are written to
stdout like notifications; the client's responses read from stdin are routed by id to the waiting
request of the session (`Session.deliver`), and unknown ids are ignored.
"""

from __future__ import annotations

import logging
import sys

import anyio
from anyio.abc import ByteReceiveStream, ByteSendStream
from mcp.shared.inbound import InboundLadderRejection, classify_inbound_request
from mcp_types import PROTOCOL_VERSION_META_KEY

from mcpwarden.gateway.core import LOCAL_PRINCIPAL, Gateway
from mcpwarden.gateway.jsonrpc import INVALID_REQUEST, Message, ProtocolError, encode, error_text, parse_client_payload
from mcpwarden.gateway.session import Session

log = logging.getLogger("mcpwarden.gateway.stdio")


def _is_modern(message: Message) -> bool:
    params = message.params
    meta = params.get("_meta") if params else None
    return isinstance(meta, dict) and PROTOCOL_VERSION_META_KEY in meta


class StdioFront:
    """Reads client messages from `stdin`, writes answers and notifications to `stdout`."""

    def __init__(self, gateway: Gateway, stdin: ByteReceiveStream, stdout: ByteSendStream) -> None:
        self.gateway = gateway
        self.stdin = stdin
        self.stdout = stdout
        self.session: Session | None = None
        self._lock = anyio.Lock()
        self._tg: anyio.abc.TaskGroup | None = None

    async def write(self, text: str) -> None:
        async with self._lock:
            await self.stdout.send(encode(text) + b"\n")

    async def serve(self) -> None:
        """Serve until stdin ends."""
        limits = self.gateway.config.limits
        async with anyio.create_task_group() as tg:
            self._tg = tg
            pending = bytearray()
            async for chunk in self.stdin:
                start = 0
                while (end := chunk.find(b"\n", start)) != -1:
                    pending += chunk[start:end]
                    start = end + 1
                    if pending.strip():
                        self._dispatch(tg, bytes(pending))
                    pending.clear()
                pending += chunk[start:]
                if len(pending) > limits.max_message_bytes:
                    pending.clear()
                    tg.start_soon(self.write, error_text(None, INVALID_REQUEST, "Invalid request: message too large"))
            if pending.strip():
                self._dispatch(tg, bytes(pending))
            tg.cancel_scope.cancel()
        if self.session is not None:
            self.session.detach()
            self.session.close_replies()

    def _dispatch(self, tg: anyio.abc.TaskGroup, line: bytes) -> None:
        limits = self.gateway.config.limits
        try:
            parsed = parse_client_payload(
                line, max_bytes=limits.max_message_bytes, max_depth=limits.max_json_depth, max_batch=limits.max_batch
            )
        except ProtocolError as exc:
            tg.start_soon(self.write, exc.response())
            return
        for entry in parsed if isinstance(parsed, list) else [parsed]:
            if isinstance(entry, ProtocolError):
                tg.start_soon(self.write, entry.response())
            elif entry.method == "initialize" and entry.is_request:
                self._initialize(tg, entry)
            else:
                tg.start_soon(self._handle, entry)

    def _initialize(self, tg: anyio.abc.TaskGroup, message: Message) -> None:
        if self.session is not None:
            tg.start_soon(self.write, error_text(message.id_text, INVALID_REQUEST, "already initialized"))
            return
        self.session, text = self.gateway.open_session(LOCAL_PRINCIPAL, message)
        stream = self.session.attach()
        tg.start_soon(self.write, text)

        async def pump() -> None:
            async for notification in stream:
                await self.write(notification)

        tg.start_soon(pump)

    async def _handle(self, message: Message) -> None:
        session = self.session
        if _is_modern(message):
            decoded = {key: member.value for key, member in message.members.items()}
            verdict = classify_inbound_request(decoded, headers=None)
            if isinstance(verdict, InboundLadderRejection):
                if message.is_request:
                    await self.write(error_text(message.id_text, verdict.code, verdict.message, verdict.data))
                return
            session = self.gateway.modern_session(LOCAL_PRINCIPAL, verdict.protocol_version, verdict.client_info)
        elif session is None:
            if message.is_request and message.method != "ping":
                await self.write(error_text(message.id_text, INVALID_REQUEST, "the session is not initialized"))
            elif message.is_request:
                await self.write(f'{{"jsonrpc":"2.0","id":{message.id_text},"result":{{}}}}')
            return
        reply = await self.gateway.handle(session, message, self._emit)
        if reply is not None:
            await self.write(reply)

    def _emit(self, text: str) -> None:
        # Progress for a request goes out on stdout like any notification.
        if self._tg is not None:
            self._tg.start_soon(self.write, text)


async def serve_stdio(gateway: Gateway) -> None:
    """Serve `gateway` on this process's stdin/stdout until stdin closes."""
    stdin = anyio.wrap_file(sys.stdin.buffer)
    stdout = anyio.wrap_file(sys.stdout.buffer)

    class _In(ByteReceiveStream):
        async def receive(self, max_bytes: int = 65536) -> bytes:
            data = await stdin.read1(max_bytes)
            if not data:
                raise anyio.EndOfStream
            return data

        async def aclose(self) -> None:
            return None

    class _Out(ByteSendStream):
        async def send(self, item: bytes) -> None:
            await stdout.write(item)
            await stdout.flush()

        async def aclose(self) -> None:
            return None

    async with anyio.create_task_group() as tg:
        await tg.start(gateway.run)
        await StdioFront(gateway, _In(), _Out()).serve()
        tg.cancel_scope.cancel()
