"""Protocol robustness: malformed JSON, wrong JSON-RPC shapes, unknown methods, wrong parameter types,
oversized and deeply nested input. After each probe a `ping` checks the server is still there; every
error that comes back is searched for stack traces, source paths and secrets."""

from __future__ import annotations

import json
import re
from typing import Any

from mcpwarden.redteam.attack import Context, answer_text
from mcpwarden.redteam.params import arguments, parameters
from mcpwarden.redteam.session import McpSession, encode
from mcpwarden.redteam.wire import Exchange
from mcpwarden.types import ToolDef

OVERSIZE_BYTES = 2 * 1024 * 1024
NESTING_DEPTH = 20_000
PROBE_WAIT_S = 2.0  # servers that ignore a bad message never answer it: do not wait the full timeout
_MAX_TOOL_PROBES = 12
# The probe's own request id, read from the bytes (truncated JSON cannot be parsed): over stdio a late
# answer to an earlier request (a slow tool call that timed out) can arrive while a probe listens, and
# must not be judged as the probe's answer (seen with server-everything's long-running operation).
_REQUEST_ID = re.compile(rb'"id"\s*:\s*(-?\d+)')


def _objects(messages: list[Any]) -> list[dict[str, Any]]:
    return [m for m in messages if isinstance(m, dict)]


def _excerpt(payload: bytes) -> str:
    text = payload.decode("utf-8", "replace")
    return text if len(text) <= 160 else f"{text[:120]}… ({len(payload)} bytes)"


class _Probing:
    """Send one payload, judge the answer, then check the server still answers a ping."""

    id = "protocol"

    async def probe(
        self,
        ctx: Context,
        name: str,
        payload: bytes,
        *,
        wait_for: Any,
        judge_shape: bool,
        tool: ToolDef | None = None,
    ) -> bool:
        """False when the server is gone (the caller stops: nothing more can be learnt)."""
        key = f"{self.id}:{name}" + (f":{tool.name}" if tool else "")
        with ctx.probe(key):
            session = await ctx.session()
            exchange = await session.send_raw(payload, wait_for=wait_for, limit=PROBE_WAIT_S)
            dead, detail = await _follow_up(ctx, session, exchange)
        # Only errors are judged for leaks: a result's content is the tool's business (output suite).
        errors = [text for text, is_error in map(answer_text, _objects(exchange.messages)) if is_error]
        if exchange.status is not None and exchange.status >= 400 and not exchange.messages:
            errors.append(exchange.body[:4096])
        observation = {
            "sent": payload.decode("utf-8", "replace")[:4096],
            "answer": "\n".join(errors),
            "messages": exchange.messages,
            "ids": [int(found) for found in _REQUEST_ID.findall(payload[:512])],
            "status": exchange.status,
            "dead": dead,
            "detail": detail,
        }
        where: dict[str, Any] = {"request": _excerpt(payload), "tool": tool.name if tool else None}
        where["kind"] = "tool" if tool else None
        if judge_shape:
            ctx.judge(f"{key}:shape", "MW710", observation, **where)
        ctx.judge(f"{key}:leak", "MW712", observation, **where)
        ctx.judge(f"{key}:alive", "MW711", observation, **where)
        if dead:
            return ctx.target.transport == "stdio"  # a stdio server is restarted; an HTTP one is gone
        return True


async def _follow_up(ctx: Context, session: McpSession, exchange: Exchange) -> tuple[bool, str]:
    """Whether the server stopped answering after `exchange`, and how that showed."""
    if ctx.target.transport == "stdio" and not ctx.stdio_alive:
        return True, exchange.error or "the process exited"
    _, reply = await session.request("ping")
    if reply is not None:
        return False, ""
    if ctx.target.transport == "stdio" and not ctx.stdio_alive:
        return True, "the process exited"
    _, reply = await session.request("tools/list")
    return (reply is None), "no answer to ping or tools/list after the probe"


class MalformedMessages(_Probing):
    id = "protocol.malformed"
    suite = "protocol"
    rule_ids = ("MW710", "MW711", "MW712")
    sends = (
        "truncated JSON, a bare string, an empty batch, a request without method, jsonrpc 1.0, an unknown "
        "method, non-object params, a non-string tool name"
    )
    judged_by = "a JSON-RPC error object back (or an HTTP 4xx), a ping answered afterwards, no internals in errors"
    transports = frozenset({"http", "stdio"})

    async def run(self, ctx: Context) -> None:
        n = 900_000 + ctx.rng.randint(0, 99_999)
        probes: list[tuple[str, bytes, Any]] = [
            ("truncated_json", f'{{"jsonrpc": "2.0", "id": {n}, "method": "ping"'.encode(), None),
            ("bare_string", b'"mcpwarden"', None),
            ("empty_batch", b"[]", None),
            ("missing_method", encode({"jsonrpc": "2.0", "id": n + 1}), None),
            ("wrong_version", encode({"jsonrpc": "1.0", "id": n + 2, "method": "ping"}), n + 2),
            ("unknown_method", encode({"jsonrpc": "2.0", "id": n + 3, "method": "mcpwarden/no-such-method"}), n + 3),
            (
                "params_not_object",
                encode({"jsonrpc": "2.0", "id": n + 4, "method": "tools/call", "params": "x"}),
                n + 4,
            ),
            (
                "name_not_string",
                encode(
                    {"jsonrpc": "2.0", "id": n + 5, "method": "tools/call", "params": {"name": 12345, "arguments": {}}}
                ),
                n + 5,
            ),
        ]
        for name, payload, wait_for in probes:
            if not await self.probe(ctx, name, payload, wait_for=wait_for, judge_shape=True):
                return


def _wrong(schema: Any) -> Any:
    kind = schema.get("type") if isinstance(schema, dict) else None
    if kind in ("integer", "number", "boolean"):
        return {"mcpwarden": "not-a-number"}
    return {"mcpwarden": [1, {"nested": None}]}


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


class HostileArguments(_Probing):
    id = "protocol.arguments"
    suite = "protocol"
    rule_ids = ("MW711", "MW712")
    sends = "tools/call of safe tools with every argument of the wrong type, a 2 MiB string, and 20,000 nested arrays"
    judged_by = "a ping answered afterwards, no stack trace, source path or secret in what comes back"
    transports = frozenset({"http", "stdio"})

    async def run(self, ctx: Context) -> None:
        tools = ctx.safe_tools[:_MAX_TOOL_PROBES]
        for tool in tools:
            wrong = {p.name: _wrong(p.schema) for p in parameters(tool)} or {"mcpwarden": {"x": []}}
            request_id = next(ctx.ids)
            message = {
                "jsonrpc": "2.0",
                "id": request_id,
                "method": "tools/call",
                "params": {"name": tool.name, "arguments": wrong},
            }
            if not await self.probe(
                ctx, "wrong_types", encode(message), wait_for=request_id, judge_shape=False, tool=tool
            ):
                return
        for tool in tools:
            strings = [p for p in parameters(tool) if p.role is not None]
            if not strings:
                continue
            canary = lambda: ctx.canary.url("mw-benign-big")  # noqa: E731 - a one-line factory
            args = arguments(tool, canary, **{strings[0].name: "A" * OVERSIZE_BYTES})
            request_id = next(ctx.ids)
            payload = encode(
                {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "method": "tools/call",
                    "params": {"name": tool.name, "arguments": args},
                }
            )
            if not await self.probe(ctx, "oversized", payload, wait_for=request_id, judge_shape=False, tool=tool):
                return
        request_id = next(ctx.ids)
        head = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "ping"})[:-1].encode()
        payload = head + b', "params": {"mcpwarden": ' + _nested(NESTING_DEPTH) + b"}}"
        await self.probe(ctx, "deep_nesting", payload, wait_for=request_id, judge_shape=False)
