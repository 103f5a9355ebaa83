"""Keep the raw JSON-RPC results a server sends, beside the SDK's typed view of them.

The SDK validates every result into pydantic models that drop unknown fields, and an attacker can
hide text in exactly those fields. `RawCapture` wraps any `Transport` and records, for each request
the client sends, the `result` (or `error`) object of the response exactly as the transport decoded
it from the wire, before the session parses it. Definitions are then read from these dicts.
"""

from __future__ import annotations

import copy
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Self

from mcp.client._transport import ReadStream, Transport, TransportStreams, WriteStream
from mcp.shared.message import SessionMessage
from mcp_types import JSONRPCError, JSONRPCRequest, JSONRPCResponse, RequestId

_IMMUTABLE = (str, int, float, bool, type(None))


def copy_json(value: Any) -> Any:
    """A deep copy of decoded JSON: a few times faster than `copy.deepcopy`, and one frame per level.

    Anything that is not a plain dict, list or scalar (never the case for parsed JSON) goes through
    `copy.deepcopy`, so the copy is never shallower than it would have been.
    """
    kind = type(value)
    if kind is dict:
        copied: dict[Any, Any] = {}
        for key, item in value.items():
            copied[key] = item if type(item) in _IMMUTABLE else copy_json(item)
        return copied
    if kind is list:
        items: list[Any] = []
        for item in value:
            items.append(item if type(item) in _IMMUTABLE else copy_json(item))
        return items
    return value if kind in _IMMUTABLE else copy.deepcopy(value)


class RawCapture(AbstractAsyncContextManager[TransportStreams]):
    """A `Transport` that forwards to `inner` and remembers the last raw result per request method."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.results: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, dict[str, Any]] = {}
        self._pending: dict[RequestId, str] = {}

    def forget(self, method: str) -> None:
        """Drop what was recorded for `method`, so the next lookup sees only a fresh answer."""
        self.results.pop(method, None)
        self.errors.pop(method, None)

    def sent(self, message: SessionMessage) -> None:
        if isinstance(message.message, JSONRPCRequest):
            self._pending[message.message.id] = message.message.method

    def received(self, item: SessionMessage | Exception) -> None:
        if not isinstance(item, SessionMessage):
            return
        message = item.message
        if isinstance(message, JSONRPCResponse) and (method := self._pending.pop(message.id, None)):
            # A deep copy: the session normalises some result fields in place after we see them.
            self.results[method] = copy_json(message.result)
        elif (
            isinstance(message, JSONRPCError)
            and message.id is not None
            and (method := self._pending.pop(message.id, None))
        ):
            self.errors[method] = message.error.model_dump(mode="json")

    async def __aenter__(self) -> TransportStreams:
        read_stream, write_stream = await self.inner.__aenter__()
        return _TappedRead(read_stream, self), _TappedWrite(write_stream, self)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        return await self.inner.__aexit__(exc_type, exc, tb)


class _TappedRead:
    """The transport's read stream, with every item shown to the capture on its way to the session."""

    def __init__(self, inner: ReadStream[SessionMessage | Exception], capture: RawCapture) -> None:
        self._inner = inner
        self._capture = capture

    @property
    def last_context(self) -> Any:
        # The SDK's dispatcher duck-types this attribute off HTTP transports' streams; pass it through.
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        item = await self._inner.receive()
        self._capture.received(item)
        return item

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        item = await self._inner.__anext__()
        self._capture.received(item)
        return item

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        await self.aclose()
        return None


class _TappedWrite:
    """The transport's write stream, noting which method each outgoing request id belongs to."""

    def __init__(self, inner: WriteStream[SessionMessage], capture: RawCapture) -> None:
        self._inner = inner
        self._capture = capture

    async def send(self, item: SessionMessage, /) -> None:
        self._capture.sent(item)
        await self._inner.send(item)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        await self.aclose()
        return None
