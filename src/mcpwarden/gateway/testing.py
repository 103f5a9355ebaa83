"""Test helpers that ship with the package (as mitmproxy's `tflow`): call factories and an in-memory sink.

Interceptor tests build a `ToolCall` with `make_call(...)` in one line; gateway tests record audit
appends with `MemoryAuditSink`. Nothing here is used by the gateway itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mcpwarden.types import CallAction, DefinitionKind, Principal, ToolCall, ToolDef


def make_call(
    tool: str = "files__read_file",
    arguments: Mapping[str, Any] | None = None,
    *,
    result: dict[str, Any] | None = None,
    action: CallAction = "call_tool",
    principal: Principal | None = None,
) -> ToolCall:
    """A call as the gateway builds it: `tool` is the public name `<upstream>__<tool>`."""
    upstream, _, upstream_tool = tool.partition("__")
    return ToolCall(
        id="test-call",
        principal=principal or Principal(id="local"),
        session_id="test-session",
        upstream=upstream,
        tool=tool,
        upstream_tool=upstream_tool or tool,
        action=action,
        arguments=dict(arguments or {}),
        result=result,
    )


def text_result(*texts: str, structured: Any = None) -> dict[str, Any]:
    """A tools/call result with one text block per text."""
    result: dict[str, Any] = {"content": [{"type": "text", "text": t} for t in texts], "isError": False}
    if structured is not None:
        result["structuredContent"] = structured
    return result


@dataclass
class StaticCatalog:
    """A `ToolCatalog` over fixed definitions (what the router would have listed)."""

    definitions: dict[tuple[str, str, str], ToolDef] = field(default_factory=dict)

    def add(self, upstream: str, name: str, definition: dict[str, Any], kind: DefinitionKind = "tool") -> None:
        self.definitions[(upstream, kind, name)] = ToolDef(upstream, kind, name, definition)

    def definition(self, upstream: str, kind: DefinitionKind, name: str) -> ToolDef | None:
        return self.definitions.get((upstream, kind, name))


class MemoryAuditSink:
    """An `AuditSink` that keeps every appended call in a list (or fails every append when told to)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.calls: list[ToolCall] = []
        self.fail = fail

    async def append(self, call: ToolCall) -> None:
        if self.fail:
            raise OSError("audit storage unavailable")
        self.calls.append(call)
