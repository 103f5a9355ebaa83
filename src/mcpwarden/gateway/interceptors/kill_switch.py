"""The kill switch: calls to a quarantined server or tool are refused, and its tools leave the listings.

`mcpwarden quarantine SERVER[/TOOL]` (or `*`, everything) writes to the live state in the
gateway's database; `SqliteLiveState.blocked` answers from a cache it refreshes at most every
0.25 s, so a quarantine reaches live sessions in every gateway process within a second, with no
database read on most calls. No options besides `enabled`. Reason id: `kill_switch.quarantine`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mcpwarden.gateway.interceptors.common import failer, live_state, only_keys
from mcpwarden.gateway.pipeline import DefinitionKey, InterceptorContext
from mcpwarden.storage.state import LiveState, QuarantineEntry
from mcpwarden.types import Principal, ToolCall, ToolDef, Verdict

NAME = "kill_switch"
REASON = "kill_switch.quarantine"


class KillSwitch:
    """Refuses calls to quarantined targets; hides quarantined tools and prompts from listings."""

    name = NAME

    def __init__(self, state: LiveState | None) -> None:
        self.state = state

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: InterceptorContext) -> KillSwitch:
        only_keys(options, (), failer(context, NAME))
        return cls(live_state(context))

    async def request(self, call: ToolCall) -> Verdict | None:
        if self.state is None:
            return None
        tool = None if call.action == "read_resource" else call.upstream_tool
        entry = self.state.blocked(call.upstream, tool)
        if entry is None:
            return None
        return Verdict("deny", source=NAME, reasons=(REASON,), message=_message(entry))

    async def response(self, call: ToolCall) -> Verdict | None:
        return None

    async def hide(self, definitions: Sequence[ToolDef], principal: Principal) -> set[DefinitionKey]:
        if self.state is None:
            return set()
        state = self.state
        return {(d.server, d.kind, d.name) for d in definitions if state.blocked(d.server, d.name) is not None}


def _message(entry: QuarantineEntry) -> str:
    what = "every server" if entry.target == "*" else f"`{entry.target}`"
    because = f": {entry.reason}" if entry.reason else ""
    return f"{what} is quarantined by {entry.by}{because} (release with `mcpwarden quarantine --release`)"
