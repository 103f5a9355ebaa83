"""RawCapture keeps each response's raw result per request method, whatever the SDK later does with it."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import anyio
import mcp_types
import pytest
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage

from mcpwarden.protocol.capture import RawCapture

pytestmark = pytest.mark.anyio


class MemoryTransport:
    """A transport whose far end the test drives by hand (the fake sits at the transport boundary)."""

    def __init__(self) -> None:
        self.server_send: MemoryObjectSendStream[SessionMessage | Exception]
        self.server_receive: MemoryObjectReceiveStream[SessionMessage]
        self.server_send, self._client_receive = anyio.create_memory_object_stream[SessionMessage | Exception](10)
        self._client_send, self.server_receive = anyio.create_memory_object_stream[SessionMessage](10)

    async def __aenter__(self) -> tuple[Any, Any]:
        return self._client_receive, self._client_send

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for stream in (self.server_send, self.server_receive, self._client_receive, self._client_send):
            await stream.aclose()


def request(request_id: int, method: str) -> SessionMessage:
    return SessionMessage(mcp_types.JSONRPCRequest(jsonrpc="2.0", id=request_id, method=method))


def response(request_id: int, result: dict[str, Any]) -> SessionMessage:
    return SessionMessage(mcp_types.JSONRPCResponse(jsonrpc="2.0", id=request_id, result=result))


def error(request_id: int, code: int) -> SessionMessage:
    data = mcp_types.ErrorData(code=code, message="nope")
    return SessionMessage(mcp_types.JSONRPCError(jsonrpc="2.0", id=request_id, error=data))


@pytest.mark.parametrize(
    ("exchange", "results", "errors"),
    [
        (
            [request(1, "tools/list"), response(1, {"tools": [{"name": "t", "x-hidden": "h"}]})],
            {"tools/list": {"tools": [{"name": "t", "x-hidden": "h"}]}},
            {},
        ),
        (
            [request(0, "prompts/list"), error(0, -32601)],
            {},
            {"prompts/list": {"code": -32601, "message": "nope", "data": None}},
        ),
        ([response(9, {"unasked": True})], {}, {}),
        (
            [request(1, "tools/list"), request(2, "tools/list"), response(2, {"page": 2}), response(1, {"page": 1})],
            {"tools/list": {"page": 1}},
            {},
        ),
    ],
    ids=["result-with-unknown-field", "error-for-id-0", "response-to-nothing-sent", "last-answer-wins"],
)
async def test_results_and_errors_are_recorded_by_method(
    exchange: list[SessionMessage], results: dict[str, Any], errors: dict[str, Any]
) -> None:
    transport = MemoryTransport()
    capture = RawCapture(transport)

    async with capture as (read_stream, write_stream):
        for message in exchange:
            if isinstance(message.message, mcp_types.JSONRPCRequest):
                await write_stream.send(message)
                assert await transport.server_receive.receive() is message
            else:
                await transport.server_send.send(message)
                assert await read_stream.receive() is message

    assert capture.results == results
    assert capture.errors == errors


async def test_recorded_results_are_copies_and_can_be_forgotten() -> None:
    transport = MemoryTransport()
    capture = RawCapture(transport)

    async with capture as (read_stream, write_stream):
        await write_stream.send(request(1, "tools/list"))
        await transport.server_send.send(response(1, {"tools": [{"name": "a"}]}))
        delivered = await read_stream.receive()
        await transport.server_send.send(ValueError("garbage on the wire"))
        passed_through = await read_stream.receive()

    assert isinstance(delivered, SessionMessage) and isinstance(delivered.message, mcp_types.JSONRPCResponse)
    delivered.message.result["tools"].clear()  # what the SDK does to its copy must not reach ours
    assert capture.results["tools/list"] == {"tools": [{"name": "a"}]}
    assert isinstance(passed_through, ValueError)
    capture.forget("tools/list")
    assert "tools/list" not in capture.results
