"""Remote upstreams: streamable HTTP (JSON or SSE answers, `Mcp-Session-Id` kept) and legacy HTTP+SSE.

Each upstream has its own HTTP client carrying only the headers configured for it, plus, on every
request, what its configured `UpstreamCredentials` give: a client's own credentials and headers never
reach an upstream. Requests made for a client run in that client's task (so token exchange acts for
it); the connection's own traffic runs marked as the gateway's (`GATEWAY_TRAFFIC`). A request the
upstream refuses with 401 is retried once with a freshly fetched token. Redirects are not followed (a
redirect could carry the credentials to another origin).
"""

from __future__ import annotations

import abc
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from urllib.parse import urljoin, urlsplit

import anyio
import httpx2

from mcpwarden.errors import ConnectError
from mcpwarden.gateway.auth.context import GATEWAY_TRAFFIC
from mcpwarden.gateway.auth.upstream_credentials import CredentialError, credentials_of
from mcpwarden.gateway.http_client import HttpClient, HttpError, Response
from mcpwarden.gateway.jsonrpc import UPSTREAM_UNAVAILABLE, ProtocolError, encode, parse_message
from mcpwarden.gateway.upstream import Upstream, UpstreamError

log = logging.getLogger("mcpwarden.gateway.upstream")

_ACCEPT = "application/json, text/event-stream"
_DELETE_TIMEOUT_S = 2.0
_ERROR_BODY_LIMIT = 64 * 1024


_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


async def _lines(response: Response | httpx2.Response, max_bytes: int) -> AsyncIterator[str]:
    """SSE lines, split at CR, LF or CRLF only (httpx's `aiter_lines` also splits at U+2028, which
    JSON strings may hold raw)."""
    pending = b""
    async for chunk in response.aiter_bytes():
        pending += chunk
        hold = b""
        if pending.endswith(b"\r"):  # maybe the first half of a CRLF: decide with the next chunk
            pending, hold = pending[:-1], b"\r"
        parts = _LINE_BREAK.split(pending)
        pending = parts.pop() + hold
        for part in parts:
            yield part.decode("utf-8", "replace")
        if len(pending) > max_bytes:
            raise UpstreamError(UPSTREAM_UNAVAILABLE, f"a line from upstream is over {max_bytes} bytes")
    pending = pending.rstrip(b"\r")
    if pending:
        yield pending.decode("utf-8", "replace")


async def sse_events(response: Response | httpx2.Response, max_bytes: int) -> AsyncIterator[tuple[str, str]]:
    """(event, data) for each server-sent event of `response`; an event over `max_bytes` ends the stream."""
    event, size = "message", 0
    data: list[str] = []
    async for line in _lines(response, max_bytes):
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data, size = "message", [], 0
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            event = value
        elif field == "data":
            size += len(value)
            if size > max_bytes:
                raise UpstreamError(UPSTREAM_UNAVAILABLE, f"an event from upstream is over {max_bytes} bytes")
            data.append(value)
    if data:
        yield event, "\n".join(data)


class _HttpBase(Upstream):
    _client: httpx2.AsyncClient | None = None
    _broken: anyio.Event | None = None

    def _new_client(self) -> httpx2.AsyncClient:
        # Read timeouts are per call (fail_after in `request`); this only bounds connecting.
        timeout = httpx2.Timeout(None, connect=self.startup_timeout)
        limits = httpx2.Limits(max_connections=64, max_keepalive_connections=32)
        return httpx2.AsyncClient(headers=dict(self.spec.headers), timeout=timeout, limits=limits)

    async def _connect_and_serve(self) -> None:
        reset = GATEWAY_TRAFFIC.set(True)  # this supervision task speaks for the gateway, not for a client
        try:
            await self._serve()
        finally:
            GATEWAY_TRAFFIC.reset(reset)

    @abc.abstractmethod
    async def _serve(self) -> None:
        """The transport's connection lifetime (see `Upstream._connect_and_serve`)."""

    async def _auth(self) -> dict[str, str]:
        """The upstream's credentials for one request; none obtainable fails the request (fail closed)."""
        credentials = credentials_of(self.spec)
        if credentials is None:
            return {}
        try:
            return await credentials.headers()
        except CredentialError as exc:
            raise UpstreamError(UPSTREAM_UNAVAILABLE, f"upstream {self.name}: {exc.one_line()}") from None

    def _renew_after_401(self) -> bool:
        """The upstream refused our token: drop it; True when a retry can present a fresh one."""
        credentials = credentials_of(self.spec)
        return credentials is not None and credentials.invalidate()

    def _deliver_text(self, text: str) -> None:
        try:
            message = parse_message(text)
        except ProtocolError as exc:
            log.warning("upstream %s sent a message that is not JSON-RPC: %s", self.name, exc.message)
            return
        self.deliver(message)

    def _break(self, reason: str) -> UpstreamError:
        self.last_error = reason
        if self._broken is not None:
            self._broken.set()
        return UpstreamError(UPSTREAM_UNAVAILABLE, f"upstream {self.name}: {reason}")


class StreamableHttpUpstream(_HttpBase):
    """A streamable-HTTP upstream: every message is a POST; answers come as JSON or as an SSE stream."""

    session_id: str | None = None

    def _headers(self) -> dict[str, str]:
        headers = {"accept": _ACCEPT, "content-type": "application/json"}
        if self.session_id:
            headers["mcp-session-id"] = self.session_id
        if self.protocol_version:
            headers["mcp-protocol-version"] = self.protocol_version
        return headers

    _poster: HttpClient | None = None

    async def _serve(self) -> None:
        self.session_id = None
        self.protocol_version = None
        self._broken = anyio.Event()
        self._poster = HttpClient(self.spec.url or "", self.spec.headers, connect_timeout=self.startup_timeout)
        async with self._new_client() as client:
            self._client = client
            try:
                await self._handshake()
                self._mark_ready()
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._listen)
                    await self._broken.wait()
                    tg.cancel_scope.cancel()
            finally:
                self._mark_down("disconnected")
                with anyio.CancelScope(shield=True), anyio.move_on_after(_DELETE_TIMEOUT_S):
                    if self.session_id:
                        with contextlib.suppress(httpx2.HTTPError, UpstreamError):
                            headers = {**self._headers(), **await self._auth()}
                            await client.delete(self.spec.url or "", headers=headers)
                    await self._poster.aclose()
                self._client = None

    async def _send(self, text: str) -> None:
        poster = self._poster
        if poster is None or self._client is None:
            raise UpstreamError(UPSTREAM_UNAVAILABLE, f"upstream {self.name} is not connected")
        body = encode(text)
        for attempt in (1, 2):
            headers = {**self._headers(), **await self._auth()}
            try:
                async with poster.request("POST", body, headers) as response:
                    if response.status_code == 401 and attempt == 1 and self._renew_after_401():
                        await _read_limited(response, _ERROR_BODY_LIMIT)  # 401: not processed, safe to resend
                        continue
                    await self._consume(response)
            except HttpError as exc:
                raise self._break(f"HTTP request failed: {exc}") from None
            return

    async def _consume(self, response: Response) -> None:
        if response.status_code == 404 and self.session_id:
            raise self._break("the upstream ended our session (HTTP 404)")
        if response.status_code == 202:
            return
        content_type = response.headers.get("content-type", "").lower()
        if response.status_code >= 400 or not content_type.startswith(("application/json", "text/event-stream")):
            body = await _read_limited(response, _ERROR_BODY_LIMIT)
            if content_type.startswith("application/json"):
                self._deliver_text(body.decode("utf-8", "replace"))  # a JSON-RPC error at a 4xx status
            raise UpstreamError(UPSTREAM_UNAVAILABLE, f"upstream {self.name} answered HTTP {response.status_code}")
        if self.session_id is None and (sid := response.headers.get("mcp-session-id")):
            self.session_id = sid
        if content_type.startswith("application/json"):
            body = await _read_limited(response, self.max_message_bytes * 4)
            self._deliver_text(body.decode("utf-8", "replace"))
            return
        async for _event, data in sse_events(response, self.max_message_bytes * 4):
            self._deliver_text(data)

    async def _listen(self) -> None:
        """The optional GET stream for messages the upstream sends on its own (list_changed, logging)."""
        client = self._client
        if client is None or not self.session_id:
            return
        try:
            headers = {**self._headers(), "accept": "text/event-stream", **await self._auth()}
            async with client.stream("GET", self.spec.url or "", headers=headers) as response:
                if response.status_code != 200:
                    return  # 405: the upstream offers no such stream
                async for _event, data in sse_events(response, self.max_message_bytes * 4):
                    self._deliver_text(data)
        except (httpx2.HTTPError, UpstreamError) as exc:
            log.debug("upstream %s: GET stream ended: %s", self.name, exc)


class SseUpstream(_HttpBase):
    """A legacy HTTP+SSE upstream: one GET event stream for everything it says, POSTs to its endpoint."""

    _endpoint: str | None = None

    async def _serve(self) -> None:
        self._broken = anyio.Event()
        self._endpoint = None
        url = self.spec.url or ""
        async with self._new_client() as client:
            self._client = client
            try:
                headers = {"accept": "text/event-stream", **await self._auth()}
                async with client.stream("GET", url, headers=headers) as response:
                    if response.status_code != 200:
                        raise ConnectError(f"SSE stream answered HTTP {response.status_code}")
                    events = sse_events(response, self.max_message_bytes * 4)
                    with anyio.fail_after(self.startup_timeout):
                        async for event, data in events:
                            if event == "endpoint":
                                self._endpoint = _same_origin(url, data.strip())
                                break
                    if self._endpoint is None:
                        raise ConnectError("SSE stream ended before naming its message endpoint")
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(self._pump, events, tg.cancel_scope)
                        await self._handshake()
                        self._mark_ready()
                        await self._broken.wait()
                        tg.cancel_scope.cancel()
            except httpx2.HTTPError as exc:
                raise ConnectError(f"SSE connection failed: {type(exc).__name__}: {exc}") from None
            finally:
                self._mark_down("disconnected")
                self._client = None

    async def _pump(self, events: AsyncIterator[tuple[str, str]], scope: anyio.CancelScope) -> None:
        try:
            async for event, data in events:
                if event == "message":
                    self._deliver_text(data)
        except (httpx2.HTTPError, UpstreamError) as exc:
            log.debug("upstream %s: SSE stream ended: %s", self.name, exc)
        if self._broken is not None:
            self._broken.set()

    async def _send(self, text: str) -> None:
        client, endpoint = self._client, self._endpoint
        if client is None or endpoint is None:
            raise UpstreamError(UPSTREAM_UNAVAILABLE, f"upstream {self.name} is not connected")
        for attempt in (1, 2):
            headers = {"content-type": "application/json", **await self._auth()}
            try:
                response = await client.post(endpoint, content=encode(text), headers=headers)
            except httpx2.HTTPError as exc:
                raise self._break(f"HTTP request failed: {type(exc).__name__}: {exc}") from None
            if not (response.status_code == 401 and attempt == 1 and self._renew_after_401()):
                break
        if response.status_code >= 400:
            raise UpstreamError(UPSTREAM_UNAVAILABLE, f"upstream {self.name} answered HTTP {response.status_code}")


def _same_origin(base: str, endpoint: str) -> str:
    """The endpoint URL, which must stay on the upstream's origin (it receives our credentials)."""
    url = urljoin(base, endpoint)
    a, b = urlsplit(base), urlsplit(url)
    if (a.scheme, a.netloc) != (b.scheme, b.netloc):
        raise ConnectError(f"SSE endpoint {url} is on another origin than {base}")
    return url


async def _read_limited(response: Response | httpx2.Response, limit: int) -> bytes:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            raise UpstreamError(UPSTREAM_UNAVAILABLE, f"an answer from upstream is over {limit} bytes")
    return bytes(body)
