"""Raw wires to the server under test: exact bytes out, every byte back, over streamable HTTP or stdio.

Attacks need what the SDK client hides: malformed JSON, foreign headers, answers the SDK would
reject. Each send is one `Exchange` (request as sent, answer as received, JSON-RPC messages decoded
from it), charged to the run's `Budget` and handed to the transcript before anything judges it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
from anyio.abc import Process

from mcpwarden.errors import ConnectError
from mcpwarden.protocol.stdio import StderrTail, StdioTransport

BODY_LIMIT = 512 * 1024  # kept per answer; more is read and dropped until the message we wait for
STDIO_LINE_LIMIT = 8 * 1024 * 1024
ACCEPT = "application/json, text/event-stream"


class BudgetExhausted(Exception):
    """The run reached its request or time limit; the runner stops and reports what it has."""


@dataclass
class Budget:
    """Bounds of one run: at most `max_requests` sends, nothing after `deadline` (anyio clock)."""

    max_requests: int
    deadline: float
    request_timeout: float = 10.0
    spent: int = 0
    exhausted: str | None = None

    def spend(self, limit: float | None = None) -> float:
        """Charge one send; the time this send may take. Raises BudgetExhausted past either limit."""
        remaining = self.deadline - anyio.current_time()
        if self.spent >= self.max_requests:
            self.exhausted = f"request limit of {self.max_requests} reached"
        elif remaining <= 0.2:
            self.exhausted = "time limit reached"
        if self.exhausted:
            raise BudgetExhausted(self.exhausted)
        self.spent += 1
        return max(0.2, min(limit or self.request_timeout, remaining))


@dataclass
class Exchange:
    """One send and what came back. `messages` are the JSON values decoded from the answer."""

    request: dict[str, Any]
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    messages: list[Any] = field(default_factory=list)
    error: str | None = None
    elapsed_s: float = 0.0

    def reply(self, request_id: Any) -> dict[str, Any] | None:
        """The response to `request_id` (a JSON-RPC result or error object), if one came back."""
        for message in self.messages:
            if isinstance(message, dict) and message.get("id") == request_id and "method" not in message:
                return message
        return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


Recorder = Callable[[Exchange], Awaitable[None]]


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def sse_messages(text: str) -> list[Any]:
    """JSON values of the complete `data:` events in an SSE body."""
    messages: list[Any] = []
    for event in text.replace("\r\n", "\n").split("\n\n")[:-1] if "\n\n" in text else []:
        data = "\n".join(line[5:].lstrip() for line in event.split("\n") if line.startswith("data:"))
        if data and (value := _decode(data)) is not None:
            messages.append(value)
    return messages


def _has_reply(messages: Sequence[Any], wait_for: Any) -> bool:
    """The reply to `wait_for` arrived, or an error without id (the server could not read our id)."""
    return any(
        isinstance(m, dict)
        and "method" not in m
        and (m.get("id") == wait_for or (m.get("id") is None and "error" in m))
        for m in messages
    )


class HttpWire:
    """Streamable-HTTP sends to one URL: POST/GET/DELETE with exact bodies and headers, no redirects."""

    transport = "http"

    def __init__(self, url: str, headers: Mapping[str, str], budget: Budget, record: Recorder) -> None:
        self.url = url
        self.headers = dict(headers)
        self.budget = budget
        self.record = record
        self._client = httpx2.AsyncClient(follow_redirects=False, timeout=httpx2.Timeout(budget.request_timeout))

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(
        self,
        payload: bytes | None,
        *,
        method: str = "POST",
        headers: Mapping[str, str | None] | None = None,
        url: str | None = None,
        wait_for: Any = None,
        base_headers: bool = True,
        limit: float | None = None,
    ) -> Exchange:
        """Send one HTTP request; a header mapped to None is left out (e.g. to drop the token)."""
        timeout = self.budget.spend(limit)
        merged: dict[str, str] = dict(self.headers) if base_headers else {}
        if payload is not None:
            merged.setdefault("Content-Type", "application/json")
        merged.setdefault("Accept", ACCEPT)
        for key, value in (headers or {}).items():
            for existing in [k for k in merged if k.lower() == key.lower()]:
                del merged[existing]
            if value is not None:
                merged[key] = value
        target = url or self.url
        text = payload.decode("utf-8", "replace") if payload is not None else ""
        exchange = Exchange(request={"transport": "http", "method": method, "url": target, "headers": merged})
        if payload is not None:
            exchange.request["body"] = text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + "…[truncated]"
        started = time.perf_counter()
        try:
            with anyio.fail_after(timeout):
                await self._exchange(exchange, method, target, merged, payload, wait_for)
        except TimeoutError:
            exchange.error = f"no complete answer within {timeout:.1f}s"
        except httpx2.ConnectError as exc:
            exchange.error = f"could not connect to {target}: {exc}"
        except httpx2.HTTPError as exc:
            exchange.error = f"{type(exc).__name__}: {exc}"
        except (OSError, ValueError) as exc:
            exchange.error = f"{type(exc).__name__}: {exc}"
        exchange.elapsed_s = time.perf_counter() - started
        await self.record(exchange)
        return exchange

    async def _exchange(
        self,
        exchange: Exchange,
        method: str,
        url: str,
        headers: dict[str, str],
        payload: bytes | None,
        wait_for: Any,
    ) -> None:
        body = bytearray()
        async with self._client.stream(method, url, content=payload, headers=headers) as response:
            exchange.status = response.status_code
            exchange.headers = {k.lower(): v for k, v in response.headers.items()}
            event_stream = response.headers.get("content-type", "").lower().startswith("text/event-stream")
            async for chunk in response.aiter_bytes():
                if len(body) < BODY_LIMIT:
                    body += chunk[: BODY_LIMIT - len(body)]
                if event_stream:
                    # The server may keep the stream open after answering: stop at the reply we want.
                    exchange.messages = sse_messages(body.decode("utf-8", "replace"))
                    if exchange.messages and (wait_for is None or _has_reply(exchange.messages, wait_for)):
                        break
        exchange.body = body.decode("utf-8", "replace")
        if not event_stream and exchange.body.strip():
            value = _decode(exchange.body)
            if value is not None:
                exchange.messages = value if isinstance(value, list) else [value]
        elif event_stream:
            exchange.messages = sse_messages(exchange.body + "\n\n")


class _Spawner(StdioTransport):
    """The project's stdio transport, used for its hardened spawn and process-group shutdown only."""

    async def start(self) -> Process:
        return await self._spawn()

    async def stop(self, process: Process, grace: float) -> None:
        await self._stop(process, exit_grace=grace)


class StdioWire:
    """Newline-delimited sends to a process the wire started (in its own process group)."""

    transport = "stdio"

    def __init__(
        self,
        command: str,
        args: Sequence[str],
        env: Mapping[str, str],
        cwd: str | None,
        budget: Budget,
        record: Recorder,
    ) -> None:
        self.stderr = StderrTail()
        self._spawner = _Spawner(command, args, env=env, cwd=cwd, stderr=self.stderr)
        self.budget = budget
        self.record = record
        self._process: Process | None = None
        self._lines: list[bytes] = []
        self._arrived = anyio.Event()
        self._eof = False
        self._tg: anyio.abc.TaskGroup | None = None

    @property
    def alive(self) -> bool:
        return self._process is not None and not self._eof and self._process.returncode is None

    def exit_note(self) -> str:
        status = self._spawner.exit_status() if self._process is None else None
        code = self._process.returncode if self._process is not None else None
        if code is not None:
            return f"the process exited with code {code}"
        return status or "the process closed its output"

    async def start(self, tg: anyio.abc.TaskGroup) -> None:
        self._process = await self._spawner.start()
        self._tg = tg
        tg.start_soon(self._read_stdout, self._process)
        tg.start_soon(self._read_stderr, self._process)

    async def _read_stdout(self, process: Process) -> None:
        assert process.stdout is not None
        pending = bytearray()
        try:
            async for chunk in process.stdout:
                pending += chunk
                while (end := pending.find(b"\n")) != -1:
                    self._lines.append(bytes(pending[:end]))
                    del pending[: end + 1]
                    self._arrived.set()
                if len(pending) > STDIO_LINE_LIMIT:
                    break
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            pass
        finally:
            self._eof = True
            self._arrived.set()

    async def _read_stderr(self, process: Process) -> None:
        assert process.stderr is not None
        with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            async for chunk in process.stderr:
                self.stderr.write(chunk)

    async def aclose(self) -> None:
        if self._process is not None:
            with anyio.CancelScope(shield=True):
                await self._spawner.stop(self._process, grace=0.5)
                for stream in (self._process.stdin, self._process.stdout, self._process.stderr):
                    if stream is not None:
                        with suppress(Exception):
                            await stream.aclose()

    async def _answer_server_request(self, message: Any) -> None:
        # A server ping during an attack must not look like a hang; anything else it asks is refused.
        if self._process is None or self._process.stdin is None:
            return
        if message.get("method") == "ping":
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message.get("id"), "result": {}}
        else:
            reply = {"jsonrpc": "2.0", "id": message.get("id"), "error": {"code": -32601, "message": "not supported"}}
        with suppress(Exception):
            await self._process.stdin.send(json.dumps(reply).encode() + b"\n")

    async def send(
        self, payload: bytes | None, *, wait_for: Any = None, settle: float = 0.0, limit: float | None = None, **_: Any
    ) -> Exchange:
        """Write one line; collect lines until the reply to `wait_for` (or `settle` seconds of answers)."""
        timeout = self.budget.spend(limit)
        text = (payload or b"").decode("utf-8", "replace")
        exchange = Exchange(
            request={"transport": "stdio", "line": text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + "…"}
        )
        started = time.perf_counter()
        received: list[str] = []
        if not self.alive or self._process is None or self._process.stdin is None:
            exchange.error = self.exit_note()
        else:
            try:
                await self._process.stdin.send((payload or b"") + b"\n")
                await self._collect(exchange, received, wait_for, timeout if wait_for is not None else settle)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                exchange.error = self.exit_note()
        exchange.body = "\n".join(received)
        exchange.elapsed_s = time.perf_counter() - started
        await self.record(exchange)
        return exchange

    async def _collect(self, exchange: Exchange, received: list[str], wait_for: Any, limit: float) -> None:
        with anyio.move_on_after(limit) as scope:
            while True:
                while self._lines:
                    line = self._lines.pop(0)
                    text = line.decode("utf-8", "replace")
                    if len(received) < 200:
                        received.append(text[:BODY_LIMIT])
                    value = _decode(text) if text.strip() else None
                    if isinstance(value, dict) and "method" in value and "id" in value:
                        await self._answer_server_request(value)
                    elif value is not None:
                        exchange.messages.append(value)
                    if wait_for is not None and _has_reply(exchange.messages, wait_for):
                        return
                if self._eof:
                    exchange.error = self.exit_note()
                    return
                self._arrived = anyio.Event()
                await self._arrived.wait()
        if scope.cancelled_caught and wait_for is not None:
            exchange.error = f"no answer within {limit:.1f}s"


def require(exchange: Exchange, what: str) -> dict[str, Any]:
    """The JSON-RPC result of a request the run cannot go on without, or a ConnectError saying why not."""
    if exchange.error:
        raise ConnectError(f"{what}: {exchange.error}")
    for message in exchange.messages:
        if isinstance(message, dict) and "method" not in message:
            if isinstance(message.get("result"), dict):
                return dict(message["result"])
            if isinstance(message.get("error"), dict):
                error = message["error"]
                raise ConnectError(f"{what}: error {error.get('code')}: {str(error.get('message'))[:200]}")
    status = f"HTTP {exchange.status}: " if exchange.status is not None else ""
    raise ConnectError(f"{what}: no JSON-RPC answer ({status}{exchange.body[:120]!r})")
