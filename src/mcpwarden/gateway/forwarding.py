"""What the core sends: the params forwarded upstream, and the answer a refused call gets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcpwarden.gateway.jsonrpc import REFUSED, Message, dumps, error_text, result_text, scan_object, splice
from mcpwarden.gateway.session import Session
from mcpwarden.gateway.shaping import RESERVED_PREFIX, Shaper
from mcpwarden.types import ToolCall, Verdict


def forward_params(
    message: Message, arguments: dict[str, Any] | None, rename: str | None, new_token: Callable[[], str]
) -> str | tuple[str, str, Any] | None:
    """The params text to send upstream: the client's own text, edited only where it must be.

    Edits: the namespaced name (`rename`), the arguments a `modify` verdict changed (`arguments`,
    None when unchanged), and `_meta` (reserved keys are the client's envelope with the gateway, not
    the upstream's business; a progress token is swapped for one of the gateway's). Returns
    (text, gateway token, client token) when a progress token was swapped.
    """
    member = message.members.get("params")
    if member is None:
        return None
    params = member.value
    has_meta = isinstance(params, dict) and "_meta" in params
    if rename is None and arguments is None and not has_meta:
        return message.text[member.start : member.end]
    base = member.start
    sub = scan_object(message.text, base)[0]
    edits: list[tuple[int, int, str]] = []
    if rename is not None and "name" in sub:
        edits.append((sub["name"].start - base, sub["name"].end - base, dumps(rename)))
    if arguments is not None and "arguments" in sub:
        edits.append((sub["arguments"].start - base, sub["arguments"].end - base, dumps(arguments)))
    swapped: tuple[str, Any] | None = None
    meta = sub.get("_meta")
    if meta is not None and isinstance(meta.value, dict):
        own = {k: v for k, v in meta.value.items() if not k.startswith(RESERVED_PREFIX)}
        if "progressToken" in own:
            swapped = (new_token(), own["progressToken"])
            own["progressToken"] = swapped[0]
        if own != meta.value:
            edits.append((meta.start - base, meta.end - base, dumps(own)))
    text = splice(message.text[member.start : member.end], edits)
    return (text, *swapped) if swapped else text


def refusal_text(shaper: Shaper, session: Session, message: Message, call: ToolCall, verdict: Verdict) -> str:
    """A refused tools/call is a tool error result naming the reasons; other refusals are JSON-RPC errors."""
    reasons = ", ".join(verdict.reasons) or verdict.source
    detail = verdict.message or "denied"
    if verdict.errors:
        detail += f" ({'; '.join(verdict.errors)})"
    id_text = message.id_text or "null"
    if call.action == "call_tool":
        text = f"mcpwarden refused this call [{reasons}]: {detail}"
        result = {"content": [{"type": "text", "text": text}], "isError": True}
        return result_text(id_text, shaper.from_dict(session.era, message.method or "", result))
    data = {"source": verdict.source, "reasons": list(verdict.reasons)}
    return error_text(id_text, REFUSED, f"mcpwarden refused this request [{reasons}]: {detail}", data)
