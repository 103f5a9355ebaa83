"""The hot-path HTTP client against a real keep-alive server on 127.0.0.1 that closes idle connections."""

from __future__ import annotations

from contextlib import suppress

import anyio
import pytest
from anyio.abc import SocketAttribute, SocketStream

from mcpwarden.gateway.http_client import HttpClient, HttpError

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


BODY = b'{"jsonrpc":"2.0","id":1,"result":{"text":"' + b"x" * 5000 + b'"}}'


def _chunked(body: bytes, size: int) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\nx-trailer: 1\r\n\r\n"


class ScriptedServer:
    """Reads one request per connection turn and answers with `head` and `body` written in `pieces`
    writes (framing as given), optionally closing afterwards."""

    def __init__(self, head: bytes, body: bytes, *, pieces: int = 1, close: bool = False) -> None:
        self.head, self.body, self.pieces, self.close = head, body, pieces, close
        self.accepted = 0

    async def handle(self, stream: SocketStream) -> None:
        self.accepted += 1
        buffer = b""
        with suppress(anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            while True:
                while b"\r\n\r\n" not in buffer:
                    buffer += await stream.receive()
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = next(
                    (int(x.split(b":")[1]) for x in head.split(b"\r\n") if x.lower().startswith(b"content-length")), 0
                )
                while len(buffer) < length:
                    buffer += await stream.receive()
                buffer = buffer[length:]
                data = self.head + self.body
                step = max(1, len(data) // self.pieces)
                for start in range(0, len(data), step):
                    await stream.send(data[start : start + step])
                    await anyio.sleep(0.001)  # separate segments: the client must wait for the rest
                if self.close:
                    await stream.aclose()
                    return


@pytest.mark.parametrize(
    ("head", "body", "pieces", "close", "reused"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY), BODY, 1, False, True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY), BODY, 7, False, True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", _chunked(BODY, 999), 5, False, True),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", BODY, 3, True, False),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(BODY), BODY, 2, True, False),
    ],
    ids=["length", "length-split", "chunked-split", "close-delimited", "length-then-close"],
)
async def test_response_framings_are_read_whole_and_connections_reused_only_when_they_can_be(
    head: bytes, body: bytes, pieces: int, close: bool, reused: bool
) -> None:
    server = ScriptedServer(head, body, pieces=pieces, close=close)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(SocketAttribute.local_port)  # noqa: S610 - anyio's typed attribute, not Django
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, server.handle)
        client = HttpClient(f"http://127.0.0.1:{port}/mcp", {"x-upstream": "1"}, connect_timeout=5)
        try:
            for _ in range(3):
                assert await body_of(client) == BODY
            assert server.accepted == (1 if reused else 3)
        finally:
            await client.aclose()
        tg.cancel_scope.cancel()


async def test_a_large_response_is_read_whole_past_the_buffer_limit() -> None:
    big = b"y" * (3 * 1024 * 1024)  # several times what a connection buffers before it stops reading
    server = ScriptedServer(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big), big, pieces=4)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(SocketAttribute.local_port)  # noqa: S610 - anyio's typed attribute, not Django
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, server.handle)
        client = HttpClient(f"http://127.0.0.1:{port}/mcp", {}, connect_timeout=5)
        try:
            with anyio.fail_after(20):  # reading that stopped and never resumed would hang here
                received = await _read_slowly(client)
            assert received == len(big)
            assert await body_of(client) == big  # the connection was kept and still works
            assert server.accepted == 1
        finally:
            await client.aclose()
        tg.cancel_scope.cancel()


async def _read_slowly(client: HttpClient) -> int:
    async with client.request("POST", b"{}") as response:
        received = 0
        async for piece in response.aiter_bytes():
            received += len(piece)
            await anyio.sleep(0.0005)  # a reader slower than the socket
    return received


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b"", "closed the connection without answering"),
        (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "in the middle of a response body"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk size"),
    ],
    ids=["nothing", "not-http", "short-body", "bad-chunk"],
)
async def test_broken_answers_are_errors(reply: bytes, error: str) -> None:
    server = ScriptedServer(reply, b"", close=True)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(SocketAttribute.local_port)  # noqa: S610 - anyio's typed attribute, not Django
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, server.handle)
        client = HttpClient(f"http://127.0.0.1:{port}/mcp", {}, connect_timeout=5)
        try:
            with pytest.raises(HttpError, match=error):
                await body_of(client)
        finally:
            await client.aclose()
        tg.cancel_scope.cancel()


@pytest.mark.parametrize("header", [{"x-a": "1\r\nx-injected: 1"}, {"x-a\nx-b": "1"}])
async def test_header_line_breaks_are_refused(header: dict[str, str]) -> None:
    client = HttpClient("http://127.0.0.1:9/mcp", {}, connect_timeout=1)
    with pytest.raises(HttpError, match="line break"):
        async with client.request("POST", b"{}", header):
            pass
