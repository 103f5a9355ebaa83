"""The SSRF canary: an HTTP listener on 127.0.0.1 (random port) that notes which paths were requested.

Each probe gets its own random path token, so a hit proves that this probe's URL was fetched. The
listener answers every request once with a short fixed body and closes the connection; it lives only
as long as the run, and listens on loopback only.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

import anyio
from anyio.abc import SocketStream, TaskGroup

_REQUEST_LIMIT = 8192
_READ_TIMEOUT_S = 2.0
_BODY = b"mcpwarden canary\n"
_MAX_HITS = 200


class CanaryListener:
    """Start with `await start(tg)`; `url(token)` is what probes send; `hits` lists request lines seen."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.port: int | None = None
        self._listener: Any = None  # anyio's listener (a MultiListener over the bound sockets)
        self._scope = anyio.CancelScope()

    async def start(self, tg: TaskGroup) -> None:
        self._listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        self.port = int(self._listener.extra(anyio.abc.SocketAttribute.local_port))  # noqa: S610 - not Django
        tg.start_soon(self._serve)

    def url(self, token: str) -> str:
        if self.port is None:
            raise RuntimeError("the canary listener was not started")
        return f"http://127.0.0.1:{self.port}/{token}"

    def seen(self, token: str) -> list[str]:
        return [hit for hit in self.hits if token in hit]

    async def wait_for(self, token: str, limit: float) -> list[str]:
        """The hits for `token`, waiting up to `limit` seconds for a late fetch."""
        with anyio.move_on_after(limit):
            while not self.seen(token):  # noqa: ASYNC110 - the handler appends; a short poll is simplest
                await anyio.sleep(0.05)
        return self.seen(token)

    async def _serve(self) -> None:
        assert self._listener is not None
        try:
            with self._scope:
                await self._listener.serve(self._handle)
        finally:
            with anyio.CancelScope(shield=True):
                await self._listener.aclose()

    async def _handle(self, stream: SocketStream) -> None:
        async with stream:
            data = bytearray()
            with anyio.move_on_after(_READ_TIMEOUT_S):
                try:
                    while b"\r\n\r\n" not in data and len(data) < _REQUEST_LIMIT:
                        data += await stream.receive(4096)
                except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                    pass
            line = data.split(b"\r\n", 1)[0].decode("latin-1", "replace")[:300]
            if line and len(self.hits) < _MAX_HITS:
                self.hits.append(line)
            response = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
            response += f"Content-Length: {len(_BODY)}\r\n\r\n".encode() + _BODY
            with suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                await stream.send(response)

    async def aclose(self) -> None:
        # Cancelling (not closing) ends `serve`: closing a listener under `serve` raises in its task group.
        self._scope.cancel()
