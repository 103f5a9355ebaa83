"""Connect to one configured MCP server and read everything it exposes, as the raw JSON it sent.

The SDK's `mcp.Client` drives the protocol (handshake of either era, request stamping), while a
`RawCapture` around the transport keeps each result as the server sent it: definitions are built
from those dicts, never from the SDK's models, which drop unknown fields. A result the SDK's
models reject is still recorded raw, so a malformed definition is scanned rather than lost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client._transport import Transport
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED, METHOD_NOT_FOUND, SERVER_INFO_META_KEY
from pydantic import ValidationError

from mcpwarden.errors import ConnectError
from mcpwarden.protocol.capture import RawCapture
from mcpwarden.protocol.http import AUTH_PROBE_TIMEOUT_S, probe_authentication, sse_transport, streamable_http_transport
from mcpwarden.protocol.stdio import StderrTail, StdioTransport
from mcpwarden.types import DefinitionKind, ServerInventory, ServerSpec, ToolDef, escape_evidence

MAX_PAGES = 100
_ERROR_LIMIT = 500


@dataclass(frozen=True)
class _Listing:
    kind: DefinitionKind
    capability: str  # the server capability that promises this listing
    method: str
    key: str  # the result member holding the items
    identity: str  # the item member that names it (falls back to "name")


LISTINGS = (
    _Listing("tool", "tools", "tools/list", "tools", "name"),
    _Listing("prompt", "prompts", "prompts/list", "prompts", "name"),
    _Listing("resource", "resources", "resources/list", "resources", "uri"),
    _Listing("resource_template", "resources", "resources/templates/list", "resourceTemplates", "uriTemplate"),
)


@dataclass
class _Progress:
    """What one enumeration has learnt so far; kept on failure so partial results are still reported."""

    phase: str = "start-up"
    protocol_version: str | None = None
    server_info: Mapping[str, Any] = field(default_factory=dict)
    capabilities: Mapping[str, Any] = field(default_factory=dict)
    instructions: str | None = None
    definitions: list[ToolDef] = field(default_factory=list)
    stdio: StdioTransport | None = None


class _Timeout(Exception):
    def __init__(self, phase: str) -> None:
        super().__init__(phase)
        self.phase = phase


def _transport_for(spec: ServerSpec, stderr: StderrTail, timeout: float) -> tuple[Transport, StdioTransport | None]:
    if spec.transport == "stdio":
        if not spec.command:
            raise ConnectError("no command configured")
        stdio = StdioTransport(spec.command, spec.args, env=spec.env, cwd=spec.cwd, stderr=stderr)
        return stdio, stdio
    if not spec.url:
        raise ConnectError("no url configured")
    if spec.transport == "sse":
        return sse_transport(spec.url, spec.headers, timeout=timeout), None
    return streamable_http_transport(spec.url, spec.headers, timeout=timeout), None


def _model_dict(model: Any) -> dict[str, Any]:
    return model.model_dump(by_alias=True, mode="json", exclude_none=True) if model is not None else {}


def _record_handshake(client: Client, capture: RawCapture, progress: _Progress) -> None:
    """Take server info, capabilities and instructions from the raw handshake result."""
    progress.protocol_version = client.protocol_version
    if client.session.initialize_result is not None:
        raw = capture.results.get("initialize", {})
        info = raw.get("serverInfo")
    else:  # a 2026-07-28 server: the discover result carries the identity in `_meta`
        raw = capture.results.get("server/discover", {})
        meta = raw.get("_meta")
        info = meta.get(SERVER_INFO_META_KEY) if isinstance(meta, dict) else None
    capabilities = raw.get("capabilities")
    instructions = raw.get("instructions")
    progress.server_info = info if isinstance(info, dict) else _model_dict(client.server_info)
    progress.capabilities = capabilities if isinstance(capabilities, dict) else _model_dict(client.server_capabilities)
    progress.instructions = instructions if isinstance(instructions, str) else client.instructions


def _identity(item: Mapping[str, Any], listing: _Listing, index: int) -> str:
    for member in (listing.identity, "name"):
        value = item.get(member)
        if isinstance(value, str) and value:
            return value
    return f"<unnamed {listing.kind} #{index}>"


async def _list(client: Client, capture: RawCapture, listing: _Listing, spec: ServerSpec, progress: _Progress) -> None:
    """Walk every page of one listing, keeping each item exactly as the server sent it."""
    fetch: dict[str, Callable[..., Awaitable[Any]]] = {
        "tools/list": client.list_tools,
        "prompts/list": client.list_prompts,
        "resources/list": client.list_resources,
        "resources/templates/list": client.list_resource_templates,
    }
    progress.phase = listing.method
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        capture.forget(listing.method)
        try:
            await fetch[listing.method](cursor=cursor)
        except MCPError as exc:
            if exc.code == METHOD_NOT_FOUND:
                return  # declared but not implemented (common for resource templates): nothing to list
            raise
        except ValidationError:
            pass  # the SDK's typed view rejected the page; the raw page below is what we scan anyway
        page = capture.results.get(listing.method)
        if page is None:
            raise ConnectError(f"{listing.method}: no result could be read from the server's answer")
        items = page.get(listing.key)
        if not isinstance(items, list):
            raise ConnectError(f"{listing.method}: the result has no {listing.key!r} list")
        for item in items:
            if isinstance(item, dict):
                name = _identity(item, listing, len(progress.definitions))
                progress.definitions.append(ToolDef(server=spec.name, kind=listing.kind, name=name, definition=item))
        next_cursor = page.get("nextCursor")
        if not isinstance(next_cursor, str) or not next_cursor:
            return
        if next_cursor in seen:
            raise ConnectError(f"{listing.method}: the server repeated a pagination cursor")
        seen.add(next_cursor)
        cursor = next_cursor
    raise ConnectError(f"{listing.method}: more than {MAX_PAGES} pages; stopped reading")


async def _attempt(
    spec: ServerSpec,
    mode: str,
    progress: _Progress,
    stderr: StderrTail,
    handshake_deadline: float,
    final_deadline: float,
) -> None:
    """One connection: handshake in `mode`, then every listing the server's capabilities promise."""
    progress.phase = "start-up"
    transport, progress.stdio = _transport_for(spec, stderr, final_deadline - anyio.current_time())
    capture = RawCapture(transport)
    # No client_info: the SDK's default identity, so a server cannot single out the scanner.
    client = Client(capture, mode=mode, cache=None)
    scope = anyio.CancelScope(deadline=handshake_deadline)
    try:
        with scope:
            async with client:
                _record_handshake(client, capture, progress)
                scope.deadline = final_deadline
                for listing in LISTINGS:
                    if listing.capability in progress.capabilities:
                        await _list(client, capture, listing, spec, progress)
                progress.phase = "shutdown"
    except Exception as exc:
        if progress.phase == "shutdown":
            return  # everything was read; a server that does not close cleanly has not hidden anything
        if scope.cancel_called:
            raise _Timeout(progress.phase) from exc
        raise
    if scope.cancelled_caught and progress.phase != "shutdown":
        raise _Timeout(progress.phase)


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _worth_legacy_retry(exc: BaseException) -> bool:
    """A protocol-level failure during the `auto` handshake; a legacy server may have choked on the probe."""
    leaves = _leaves(exc)
    return bool(leaves) and all(isinstance(leaf, MCPError | RuntimeError) for leaf in leaves)


def _explain(exc: BaseException, spec: ServerSpec, progress: _Progress, timeout: float, startup: float) -> str:
    leaf = _leaves(exc)[0]
    if isinstance(leaf, _Timeout):
        if leaf.phase == "start-up":
            return f"no answer to the MCP handshake within {min(startup, timeout):g}s"
        return f"timed out after {timeout:g}s during {leaf.phase}"
    where = "during start-up" if progress.phase == "start-up" else f"during {progress.phase}"
    if isinstance(leaf, ConnectError):
        return leaf.message
    if isinstance(leaf, MCPError):
        if leaf.code == CONNECTION_CLOSED:
            return f"the server closed the connection {where}"
        return f"the server answered with error {leaf.code} {where}: {leaf.error.message}"
    if isinstance(leaf, httpx2.HTTPStatusError):
        return f"HTTP {leaf.response.status_code} from {spec.url} {where}"
    if isinstance(leaf, httpx2.ConnectError | httpx2.ConnectTimeout):
        return f"could not connect to {spec.url}: {leaf}"
    if isinstance(leaf, httpx2.HTTPError):
        return f"HTTP error talking to {spec.url} {where}: {leaf}"
    if isinstance(leaf, ValidationError):
        return f"the server's answer {where} is not valid MCP"
    return f"{type(leaf).__name__} {where}: {leaf}"


def _error_line(
    exc: BaseException, spec: ServerSpec, progress: _Progress, timeout: float, startup: float, auth: bool | None
) -> str:
    parts = [_explain(exc, spec, progress, timeout, startup)]
    if auth and progress.phase == "start-up":
        parts.append("it refuses requests without credentials (HTTP 401/403)")
    stdio = progress.stdio
    if stdio is not None:
        if (exit_status := stdio.exit_status()) is not None:
            parts.append(exit_status)
        parts.extend(stdio.notes[:1])
    # One line, and server-controlled text (error messages, stdout) cannot smuggle control characters.
    return escape_evidence(" ".join("; ".join(parts).split()), limit=_ERROR_LIMIT)


async def _connect_and_list(
    spec: ServerSpec, progress: _Progress, stderr: StderrTail, started: float, budget: float, startup: float
) -> None:
    final_deadline = started + budget
    handshake_deadline = min(started + startup, final_deadline)
    try:
        await _attempt(spec, "auto", progress, stderr, handshake_deadline, final_deadline)
    except (_Timeout, ConnectError):
        raise
    except Exception as exc:
        if progress.phase != "start-up" or not _worth_legacy_retry(exc) or anyio.current_time() >= handshake_deadline:
            raise
        # Some older servers close or crash on the `server/discover` probe; the plain handshake may work.
        stderr.write(b"\n[mcpwarden: retrying with the initialize handshake]\n")
        await _attempt(spec, "legacy", progress, stderr, handshake_deadline, final_deadline)


async def enumerate_server(
    spec: ServerSpec,
    *,
    timeout: float = 30.0,  # noqa: ASYNC109 - applied as anyio cancel-scope deadlines inside
    startup_timeout: float = 15.0,
) -> ServerInventory:
    """Connect to `spec`, handshake, and list its tools, prompts, resources and resource templates.

    Never raises for anything the server does: a command that cannot start, a server that hangs,
    crashes, writes garbage or refuses connections yields `ok=False` with a one-line `error`, within
    `timeout` (plus a few seconds to end a stdio server's process group). Definitions are the raw
    JSON objects the server sent. Cancelling the call still ends any process it started.
    """
    started = anyio.current_time()
    progress = _Progress()
    stderr = StderrTail()
    authenticated: list[bool | None] = [None]
    failure: Exception | None = None

    async def probe(url: str) -> None:
        try:
            authenticated[0] = await probe_authentication(
                url, spec.transport, timeout=min(AUTH_PROBE_TIMEOUT_S, timeout)
            )
        except Exception:  # a probe that breaks in some unforeseen way only means we do not know
            authenticated[0] = None

    try:
        async with anyio.create_task_group() as tg:
            if spec.transport in ("http", "sse") and spec.url:
                tg.start_soon(probe, spec.url)
            await _connect_and_list(spec, progress, stderr, started, timeout, startup_timeout)
    except Exception as exc:  # the boundary: whatever the server did becomes data, not an exception
        failure = exc
    error = None
    if failure is not None:
        error = _error_line(failure, spec, progress, timeout, startup_timeout, authenticated[0])
    return ServerInventory(
        spec=spec,
        ok=error is None,
        error=error,
        protocol_version=progress.protocol_version,
        server_info=progress.server_info,
        capabilities=progress.capabilities,
        instructions=progress.instructions,
        definitions=tuple(progress.definitions),
        stderr=stderr.text() if spec.transport == "stdio" else "",
        duration_s=anyio.current_time() - started,
        authenticated=authenticated[0],
    )
