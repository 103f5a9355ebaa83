"""The hot-path HTTP client against a real keep-alive server on 127.0.0.1 that closes idle connections."""

from __future__ import annotations

from contextlib import suppress

import anyio
import pytest
from anyio.abc import SocketAttribute, SocketStream

from mcpwarden.gateway.http_client import HttpClient

pytestmark = pytest.mark.anyio


class KeepAliveServer:
    """Answers `ok` on kept-alive connections; `close_idle()` drops them all, as a keep-alive timeout does."""

    def __init__(self) -> None:
        self.streams: list[SocketStream] = []
        self.accepted = 0

    async def handle(self, stream: SocketStream) -> None:
        self.accepted += 1
        self.streams.append(stream)
        buffer = b""
        with suppress(anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            while True:
                while b"\r\n\r\n" not in buffer:
                    buffer += await stream.receive()
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(buffer) < length:
                    buffer += await stream.receive()
                buffer = buffer[length:]
                await stream.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    async def close_idle(self) -> None:
        for stream in self.streams:
            await stream.aclose()
        self.streams.clear()


async def body_of(client: HttpClient) -> bytes:
    async with client.request("POST", b"{}", {"content-type": "application/json"}) as response:
        assert response.status_code == 200
        return b"".join([piece async for piece in response.aiter_bytes()])


async def test_a_request_survives_every_pooled_connection_having_been_closed_while_idle() -> None:
    server = KeepAliveServer()
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(SocketAttribute.local_port)  # noqa: S610 - anyio's typed attribute, not Django
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, server.handle)
        client = HttpClient(f"http://127.0.0.1:{port}/mcp", {}, connect_timeout=5)
        try:
            async with anyio.create_task_group() as calls:  # two at once: two connections end up pooled
                for _ in range(2):
                    calls.start_soon(body_of, client)
            assert server.accepted == 2
            await server.close_idle()
            await anyio.sleep(0.05)  # let the FINs arrive
            assert await body_of(client) == b"ok"
            assert server.accepted == 3  # one fresh connection, not the second stale one
            assert await body_of(client) == b"ok"  # and it is pooled for the next call
            assert server.accepted == 3
        finally:
            await client.aclose()
        tg.cancel_scope.cancel()
