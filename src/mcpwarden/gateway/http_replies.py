"""How the HTTP front answers: plain and JSON responses, the SSE answer of a request, the GET stream.

A request is answered with JSON unless the gateway has notifications for it (progress, elicitation)
before the answer is ready; then the answer becomes an SSE stream, written by a task of its own.
That task is started only then: the common JSON answer is written by the request's own task, with
no task group to open and close (each costs a cancel scope and an extra turn of the event loop).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio

from mcpwarden.gateway.core import Emit, Spawn
from mcpwarden.gateway.jsonrpc import INTERNAL_ERROR, encode, error_text
from mcpwarden.gateway.session import Session

log = logging.getLogger("mcpwarden.gateway.http")

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Work = Callable[[Emit], Awaitable[str | None]]
PING_INTERVAL_S = 15.0
JSON_HEADERS = [(b"content-type", b"application/json")]
_SSE = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
]
_LINE_BREAK = re.compile("\r\n|\r|\n")


def sse_event(text: str) -> bytes:
    # JSON holds raw CR/LF only between tokens, so splitting there over data lines is lossless. (Not
    # str.splitlines: it also splits at U+2028 and friends, which JSON strings may hold raw.)
    lines = "".join(f"data: {line}\r\n" for line in _LINE_BREAK.split(text))
    return encode(f"event: message\r\n{lines}\r\n")


async def plain(send: Send, status: int, body: bytes = b"", headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """A complete response with `body`."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def json_response(send: Send, status: int, text: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """A complete JSON response."""
    await plain(send, status, encode(text), [*JSON_HEADERS, *headers])


async def rpc_error(
    send: Send, status: int, code: int, message: str, id_text: str | None = None, data: Any = None
) -> None:
    """A JSON-RPC error as a complete response."""
    await json_response(send, status, error_text(id_text, code, message, data))


class _EventStream:
    """The SSE answer of one request: notifications as they come, then the reply, then the end."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self._in, self._out = anyio.create_memory_object_stream[bytes](64)
        self._done = anyio.Event()

    def push(self, text: str) -> None:
        with contextlib.suppress(anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
            self._in.send_nowait(sse_event(text))  # progress is advisory: a client that does not read loses some

    async def pump(self) -> None:
        try:
            await self.send({"type": "http.response.start", "status": 200, "headers": _SSE})
            async for event in self._out:
                await self.send({"type": "http.response.body", "body": event, "more_body": True})
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self._done.set()

    async def finish(self, reply: str | None) -> None:
        if reply is not None:
            await self._in.send(sse_event(reply))
        self._in.close()
        await self._done.wait()

    def abandon(self) -> None:
        """End the stream without a reply (the request failed or was cancelled): the writer stops."""
        self._in.close()


async def _reply(work: Work, emit: Emit) -> str | None:
    try:
        return await work(emit)
    except Exception:
        log.exception("request handling failed")
        return error_text(None, INTERNAL_ERROR, "internal error in the gateway")


async def _finish(send: Send, stream: _EventStream | None, reply: str | None) -> None:
    if stream is not None:
        await stream.finish(reply)
    elif reply is None:
        await plain(send, 202)
    else:
        await json_response(send, 200, reply)


async def answer(send: Send, work: Work, spawn: Spawn) -> None:
    """Run `work` in this task; answer with JSON, or with SSE once it emits a notification first
    (the SSE writer then runs as a task `spawn` starts)."""
    stream: _EventStream | None = None

    def emit(text: str) -> None:
        nonlocal stream
        if stream is None:
            stream = _EventStream(send)
            spawn(stream.pump)
        stream.push(text)

    try:
        reply = await _reply(work, emit)
    except BaseException:
        if stream is not None:
            stream.abandon()
        raise
    await _finish(send, stream, reply)


async def _watch_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()  # a 2026-era client cancels a request by closing its response


async def answer_in_group(receive: Receive, send: Send, work: Work, *, watch: bool) -> None:
    """`answer` with the SSE writer in a task group of this request's; with `watch`, `work` is
    cancelled when the client disconnects (how a 2026-era client cancels a request)."""
    stream: _EventStream | None = None
    async with anyio.create_task_group() as tg:

        def emit(text: str) -> None:
            nonlocal stream
            if stream is None:
                stream = _EventStream(send)
                tg.start_soon(stream.pump)
            stream.push(text)

        if watch:
            tg.start_soon(_watch_disconnect, receive, tg.cancel_scope)
        await _finish(send, stream, await _reply(work, emit))
        if watch:  # only the disconnect watcher can still run (cancelling formats the task's repr: slow)
            tg.cancel_scope.cancel()


async def session_stream(receive: Receive, send: Send, headers: dict[str, str], session: Session) -> None:
    """The session's GET stream: what the gateway sends on its own, with a comment line as a ping."""
    if "text/event-stream" not in headers.get("accept", ""):
        await plain(send, 406, b"Not acceptable: the stream is text/event-stream")
        return
    try:
        stream = session.attach()
    except RuntimeError:
        await plain(send, 409, b"Conflict: this session already has a stream open")
        return
    await send({"type": "http.response.start", "status": 200, "headers": _SSE})
    try:
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                tg.cancel_scope.cancel()

            tg.start_soon(watch)
            while True:
                text = None
                with anyio.move_on_after(PING_INTERVAL_S):
                    try:
                        text = await stream.receive()
                    except (anyio.EndOfStream, anyio.ClosedResourceError):
                        break  # the session ended (DELETE)
                body = sse_event(text) if text is not None else b": ping\r\n\r\n"
                await send({"type": "http.response.body", "body": body, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            tg.cancel_scope.cancel()
    finally:
        session.detach()
