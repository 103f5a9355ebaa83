"""A small HTTP/1.1 client for the per-call hot path: POSTs to streamable-HTTP upstreams.

httpx costs about a millisecond of CPU per request here, as much as the gateway's whole budget.
This client does only what an MCP upstream needs: keep-alive connections (plain or TLS), one write
per request, and responses framed by Content-Length, chunked encoding, or connection close,
streamed to the caller. A pooled connection the server
closed while idle is retried once on a fresh one, only when the server sent nothing back (so it
cannot have answered the request); the other idle connections, which waited at least as long, are
dropped with it.

Each connection is an asyncio protocol that keeps reading: a stream wrapper that resumes and pauses
reading around every receive costs two `epoll_ctl` calls and a checkpoint per read, which on a 4 KB
answer was a good share of the hop. Reading pauses only while an unread buffer exceeds
`_HIGH_WATER` (a client that does not read is not buffered without bound). The gateway serves on
asyncio (uvicorn), so nothing is lost by speaking to it directly; cancellation still comes from the
caller's anyio cancel scopes, which cancel the awaiting task.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import anyio

MAX_HEADER_BYTES = 64 * 1024
_HIGH_WATER = 256 * 1024


class HttpError(Exception):
    """The request could not be made or the response could not be read."""


def _header_lines(headers: Mapping[str, str]) -> str:
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    # Each header must stay one line: a CR or LF inside a name or value would inject headers or a request.
    if lines.count("\n") != len(headers) or lines.count("\r") != len(headers):
        raise HttpError("a header name or value contains a line break")
    return lines


class _Connection(asyncio.Protocol):
    """One keep-alive connection: what it received so far, and a way to wait for more."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.reused = False
        self.transport: asyncio.Transport | None = None
        self.ended = False  # EOF or closed: nothing more will arrive
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False

    # --- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > _HIGH_WATER and self.transport is not None and not self._paused:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- for the client

    @property
    def usable(self) -> bool:
        return not self.ended and self.transport is not None and not self.transport.is_closing()

    def send(self, data: bytes) -> None:
        if not self.usable:
            raise HttpError("the connection is closed")
        assert self.transport is not None
        self.transport.write(data)

    async def fill(self) -> bool:
        """Wait until more bytes arrived; False when the connection ended without any."""
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        before = len(self.buffer)
        while len(self.buffer) == before:
            if self.ended:
                return False
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return True

    def close(self) -> None:
        self.ended = True
        if self.transport is not None:
            self.transport.close()


class Response:
    """Status, lower-cased headers and a body streamed with `aiter_bytes()` (read it once)."""

    def __init__(self, status_code: int, headers: dict[str, str], body: AsyncIterator[bytes]) -> None:
        self.status_code = status_code
        self.headers = headers
        self._body = body

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        return self._body


class HttpClient:
    """Keep-alive connections to one origin, `headers` sent on every request."""

    def __init__(self, url: str, headers: Mapping[str, str], *, connect_timeout: float, pool_size: int = 32) -> None:
        parts = urlsplit(url)
        self.tls = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.tls else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        netloc = parts.netloc.rpartition("@")[2]
        self._fixed = f"Host: {netloc}\r\n" + _header_lines(headers)
        self.connect_timeout = connect_timeout
        self.pool_size = pool_size
        self._idle: list[_Connection] = []
        self._ssl = ssl.create_default_context() if self.tls else None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            with anyio.fail_after(self.connect_timeout):
                _, connection = await loop.create_connection(
                    _Connection,
                    self.host,
                    self.port,
                    ssl=self._ssl,
                    server_hostname=self.host if self._ssl is not None else None,
                )
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            raise HttpError(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        return connection

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    @asynccontextmanager
    async def request(
        self, method: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> AsyncIterator[Response]:
        """Send one request; the response is usable inside the context (its connection then returns to the pool)."""
        extra = _header_lines(headers) if headers else ""
        head = f"{method} {self.path} HTTP/1.1\r\n{self._fixed}{extra}Content-Length: {len(body)}\r\n\r\n"
        data = head.encode("latin-1") + body
        for attempt in (1, 2):
            # The retry always takes a fresh connection: pooled ones idled at least as long as the one that failed.
            connection = self._pooled() if attempt == 1 else None
            if connection is None:
                connection = await self._connect()
            try:
                connection.send(data)
                status, response_headers = await self._read_head(connection)
            except HttpError:
                connection.close()
                if connection.reused and not connection.buffer and attempt == 1:
                    await self.aclose()  # closed while idle (the server never saw this request), and so are older ones
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            break
        reusable = response_headers.get("connection", "").lower() != "close"
        done = False

        async def body_stream() -> AsyncIterator[bytes]:
            nonlocal done
            async for piece in self._body(connection, response_headers, method):
                yield piece
            done = True

        try:
            yield Response(status, response_headers, body_stream())
            if not done:  # the caller stopped early: drop the connection
                reusable = False
        finally:
            if reusable and done and connection.usable and len(self._idle) < self.pool_size:
                connection.reused = True
                connection.buffer.clear()
                self._idle.append(connection)
            else:
                connection.close()

    def _pooled(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if connection.usable:
                return connection
            connection.close()  # the server closed it while idle, and we saw the close: no retry needed
        return None

    async def _read_head(self, connection: _Connection) -> tuple[int, dict[str, str]]:
        while (end := connection.buffer.find(b"\r\n\r\n")) < 0:
            if len(connection.buffer) > MAX_HEADER_BYTES:
                raise HttpError("response headers too large")
            if not await connection.fill():
                raise HttpError(f"{self.host}:{self.port} closed the connection without answering")
        head = bytes(connection.buffer[:end]).decode("latin-1")
        del connection.buffer[: end + 4]
        status_line, *lines = head.split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise HttpError(f"not an HTTP response: {status_line[:80]!r}")
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        return int(parts[1]), headers

    async def _body(self, connection: _Connection, headers: dict[str, str], method: str) -> AsyncIterator[bytes]:
        if method == "HEAD":
            return
        if "chunked" in headers.get("transfer-encoding", "").lower():
            async for piece in self._chunked(connection):
                yield piece
            return
        length = headers.get("content-length")
        if length is not None and length.strip().isdigit():
            remaining = int(length)
            while remaining > 0:
                if not connection.buffer and not await connection.fill():
                    raise HttpError("connection closed in the middle of a response body")
                piece = bytes(connection.buffer[:remaining])
                del connection.buffer[: len(piece)]
                remaining -= len(piece)
                yield piece
            return
        headers["connection"] = "close"  # delimited by close: the connection cannot be reused
        while True:
            if connection.buffer:
                yield bytes(connection.buffer)
                connection.buffer.clear()
            if not await connection.fill():
                return

    async def _chunked(self, connection: _Connection) -> AsyncIterator[bytes]:
        while True:
            while (end := connection.buffer.find(b"\r\n")) < 0:
                if not await connection.fill():
                    raise HttpError("connection closed in the middle of a chunked body")
            size_text = bytes(connection.buffer[:end]).split(b";")[0].strip()
            del connection.buffer[: end + 2]
            try:
                size = int(size_text, 16)
            except ValueError:
                raise HttpError("invalid chunk size in response") from None
            if size == 0:  # trailers end with an empty line
                while (end := connection.buffer.find(b"\r\n")) != 0:
                    if end > 0:
                        del connection.buffer[: end + 2]
                    elif not await connection.fill():
                        return
                del connection.buffer[:2]
                return
            while len(connection.buffer) < size + 2:
                if not await connection.fill():
                    raise HttpError("connection closed in the middle of a chunk")
            piece = bytes(connection.buffer[:size])
            del connection.buffer[: size + 2]
            yield piece
