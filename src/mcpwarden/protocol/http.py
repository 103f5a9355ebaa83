"""HTTP transports (streamable HTTP and SSE) for configured remote servers, and the no-credentials probe."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Any

import anyio
import httpx2
from mcp.client._transport import TransportStreams
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types.version import LATEST_HANDSHAKE_VERSION

AUTH_PROBE_TIMEOUT_S = 5.0
_PROBE_BODY_LIMIT = 1024 * 1024
_ACCEPT_BOTH = "application/json, text/event-stream"


def streamable_http_transport(
    url: str, headers: Mapping[str, str], *, timeout: float
) -> AbstractAsyncContextManager[TransportStreams]:
    """A streamable-HTTP `Transport` sending the configured headers; redirects stay within the origin."""

    @asynccontextmanager
    async def connect() -> AsyncIterator[TransportStreams]:
        # We own the httpx client (the SDK's default one has a 300 s read timeout and no headers).
        async with (
            httpx2.AsyncClient(headers=dict(headers), timeout=httpx2.Timeout(timeout)) as client,
            streamable_http_client(url, http_client=client) as streams,
        ):
            yield streams

    return connect()


def sse_transport(
    url: str, headers: Mapping[str, str], *, timeout: float
) -> AbstractAsyncContextManager[TransportStreams]:
    """A legacy HTTP+SSE `Transport` sending the configured headers."""
    return sse_client(url, headers=dict(headers), timeout=timeout, sse_read_timeout=timeout)


def _initialize_request() -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": LATEST_HANDSHAKE_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "mcpwarden-auth-probe", "version": "0"},
        },
    }


def _is_result(text: str) -> bool:
    with suppress(ValueError, RecursionError):
        value = json.loads(text)
        return isinstance(value, dict) and value.get("jsonrpc") == "2.0" and isinstance(value.get("result"), dict)
    return False


async def _answered_with_result(response: httpx2.Response) -> bool:
    """Read (at most 1 MiB of) the body: a JSON body or the first SSE `data:` lines holding a result."""
    content_type = response.headers.get("content-type", "").lower()
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if content_type.startswith("text/event-stream"):
            # The server may hold the stream open after answering, so look as soon as a line is complete.
            lines = body.decode("utf-8", "replace").splitlines()
            if any(_is_result(line[5:].strip()) for line in lines[:-1] if line.startswith("data:")):
                return True
        if len(body) > _PROBE_BODY_LIMIT:
            return False
    if content_type.startswith("application/json"):
        return _is_result(body.decode("utf-8", "replace"))
    lines = body.decode("utf-8", "replace").splitlines()
    return any(_is_result(line[5:].strip()) for line in lines if line.startswith("data:"))


async def _probe_streamable(client: httpx2.AsyncClient, url: str) -> bool | None:
    headers = {"Accept": _ACCEPT_BOTH, "Content-Type": "application/json"}
    session_id: str | None = None
    try:
        async with client.stream("POST", url, json=_initialize_request(), headers=headers) as response:
            if response.status_code in (401, 403):
                return True
            if not 200 <= response.status_code < 300:
                return None
            session_id = response.headers.get("mcp-session-id")
            return False if await _answered_with_result(response) else None
    finally:
        if session_id:
            # Do not leave a session open on someone else's server; best effort.
            with suppress(httpx2.HTTPError):
                await client.delete(url, headers={"mcp-session-id": session_id})


async def _probe_sse(client: httpx2.AsyncClient, url: str) -> bool | None:
    async with client.stream("GET", url, headers={"Accept": "text/event-stream"}) as response:
        if response.status_code in (401, 403):
            return True
        content_type = response.headers.get("content-type", "").lower()
        if 200 <= response.status_code < 300 and content_type.startswith("text/event-stream"):
            return False
        return None


async def probe_authentication(
    url: str,
    transport: str,
    *,
    timeout: float = AUTH_PROBE_TIMEOUT_S,  # noqa: ASYNC109 - applied with anyio.fail_after inside
) -> bool | None:
    """Whether the server at `url` refuses a request that carries none of the configured credentials.

    Streamable HTTP: POST an `initialize`. A 2xx JSON-RPC result means it answers anyone (False);
    401/403 means it wants credentials (True); anything else is unknown (None). SSE: open the event
    stream with a GET and judge the status the same way. Only `url` is contacted; redirects are not
    followed; a session the probe opened is closed with a DELETE.
    """
    try:
        with anyio.fail_after(timeout):
            async with httpx2.AsyncClient(timeout=httpx2.Timeout(timeout), follow_redirects=False) as client:
                if transport == "sse":
                    return await _probe_sse(client, url)
                return await _probe_streamable(client, url)
    except (httpx2.HTTPError, httpx2.StreamError, httpx2.InvalidURL, TimeoutError, OSError, ValueError):
        return None
