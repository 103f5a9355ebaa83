"""Rate limits per principal, per tool, or per principal and tool, shared by every gateway process.

    interceptors:
      rate_limit:
        limits:
          - {key: principal, limit: 600, window_s: 60}                  # each principal, all tools
          - {key: principal+tool, limit: 5, window_s: 60, tools: ["github__create_*"]}
          - {key: tool, limit: 100, window_s: 3600, tools: ["mail/send"]}  # all principals together

`tools` are globs over the public name (`server__tool`) or `server/tool`; without them a limit
counts every call (tools, prompts, resources). Counting is a sliding log in the live state
(`SqliteLiveState.hit`), exact over any window and shared across processes; a refused call is
not counted. Every matching limit counts the call. Reason id: `rate_limit.<key>` (for example
`rate_limit.principal+tool`), with the limit's index in the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcpwarden.gateway.interceptors.common import choice, failer, live_state, matches, number, only_keys, string_list
from mcpwarden.gateway.pipeline import InterceptorContext
from mcpwarden.storage.state import LiveState
from mcpwarden.types import ToolCall, Verdict

NAME = "rate_limit"
KEYS = ("principal", "tool", "principal+tool")


@dataclass(frozen=True)
class Limit:
    """At most `limit` calls in any `window_s` seconds, counted per `key`, for calls matching `tools`."""

    key: str
    limit: int
    window_s: float
    tools: tuple[str, ...] = ()

    def counter(self, index: int, call: ToolCall) -> str:
        parts = [f"gateway.rate.{index}"]
        if self.key in ("principal", "principal+tool"):
            parts.append(f"p={call.principal.id}")
        if self.key in ("tool", "principal+tool"):
            parts.append(f"t={call.upstream}/{call.upstream_tool}")
        return "|".join(parts)


class RateLimits:
    """Refuses a call once any matching limit is used up for its key."""

    name = NAME

    def __init__(self, limits: tuple[Limit, ...], state: LiveState | None) -> None:
        if limits and state is None:
            raise ValueError("rate limits need the live state (a database)")
        self.limits = limits
        self.state = state

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: InterceptorContext) -> RateLimits:
        fail = failer(context, NAME)
        only_keys(options, ("limits",), fail)
        raw = options.get("limits") or []
        if not isinstance(raw, list):
            raise fail("limits", "must be a list of {key, limit, window_s, tools}")
        limits = []
        for i, item in enumerate(raw):
            where = f"limits[{i}]"
            if not isinstance(item, Mapping):
                raise fail(where, "must be a mapping of key, limit, window_s, tools")
            only_keys(item, ("key", "limit", "window_s", "tools"), lambda k, m, w=where: fail(f"{w}.{k}", m))
            for required in ("key", "limit", "window_s"):
                if required not in item:
                    raise fail(f"{where}.{required}", "is required")
            limits.append(
                Limit(
                    key=choice(item["key"], f"{where}.key", fail, KEYS),
                    limit=int(number(item["limit"], f"{where}.limit", fail, minimum=0, integer=True)),
                    window_s=number(item["window_s"], f"{where}.window_s", fail, minimum=0.001),
                    tools=string_list(item.get("tools"), f"{where}.tools", fail),
                )
            )
        state = live_state(context) if limits else None
        if limits and state is None:
            raise fail("limits", "rate limits need a database (`storage.db`)")
        return cls(tuple(limits), state)

    async def request(self, call: ToolCall) -> Verdict | None:
        if not self.limits or self.state is None:
            return None
        for index, limit in enumerate(self.limits):
            if limit.tools and not matches(call, limit.tools):
                continue
            allowed, _, reset_s = await self.state.hit(limit.counter(index, call), limit.limit, limit.window_s)
            if not allowed:
                who = {"principal": call.principal.id, "tool": call.tool}.get(
                    limit.key, f"{call.principal.id} on {call.tool}"
                )
                message = (
                    f"rate limit {index} ({limit.limit} per {limit.window_s:g} s per {limit.key}) reached for "
                    f"{who}; retry in {reset_s:.1f} s"
                )
                return Verdict("deny", source=NAME, reasons=(f"rate_limit.{limit.key}",), message=message)
        return None

    async def response(self, call: ToolCall) -> Verdict | None:
        return None
