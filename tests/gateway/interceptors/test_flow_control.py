"""Flow control: untrusted results taint a session; sinks in a tainted session are blocked or asked."""

from __future__ import annotations

import pytest

from mcpwarden.gateway.interceptors.flow_control import REASON, FlowControl
from mcpwarden.gateway.testing import make_call, text_result
from mcpwarden.types import Principal, ToolCall
from tests.gateway.interceptors.helpers import context

pytestmark = pytest.mark.anyio


def _in(session: str | None, tool: str, principal: str = "local") -> ToolCall:
    call = make_call(tool, principal=Principal(id=principal))
    call.session_id = session
    return call


async def _returned(flow: FlowControl, call: ToolCall) -> None:
    assert await flow.request(call) is None or call.tool == "web__fetch"
    call.result = text_result("page text")
    await flow.response(call)


@pytest.mark.parametrize(
    ("on_tainted", "decision"),
    [("block", "deny"), ("approve", "ask")],
)
async def test_sink_after_untrusted_content_is_stopped(on_tainted: str, decision: str) -> None:
    flow = FlowControl.from_options({"on_tainted": on_tainted}, context())
    assert await flow.request(_in("s1", "mail__send_email")) is None  # clean session: allowed
    await _returned(flow, _in("s1", "web__fetch"))
    for sink in ("mail__send_email", "files__delete_file"):
        verdict = await flow.request(_in("s1", sink))
        assert verdict is not None and verdict.decision == decision and verdict.reasons == (REASON,)
        assert "web__fetch" in verdict.message
    assert await flow.request(_in("s1", "fx__echo")) is None  # not a sink
    assert await flow.request(_in("s2", "mail__send_email")) is None  # another session is clean


async def test_stateless_calls_are_tainted_per_principal() -> None:
    flow = FlowControl.from_options({}, context())
    await _returned(flow, _in(None, "web__fetch", "alice"))
    assert await flow.request(_in(None, "mail__send_email", "alice")) is not None
    assert await flow.request(_in(None, "mail__send_email", "bob")) is None


@pytest.mark.parametrize(
    ("labels", "taints", "sink_blocked"),
    [
        ({"fx/echo": ["untrusted_content"]}, "fx__echo", True),
        ({"web/fetch": []}, "web__fetch", False),  # no labels: never taints
        ({"mail/*": ["-exfiltration_sink"]}, "web__fetch", False),  # mail is no sink any more
    ],
)
async def test_label_overrides(labels: dict[str, list[str]], taints: str, sink_blocked: bool) -> None:
    flow = FlowControl.from_options({"labels": labels}, context())
    await _returned(flow, _in("s", taints))
    assert (await flow.request(_in("s", "mail__send_email")) is not None) is sink_blocked


async def test_a_request_that_was_refused_does_not_taint() -> None:
    flow = FlowControl.from_options({}, context())
    call = _in("s", "web__fetch")  # no result: the upstream never answered
    assert await flow.response(call) is None
    assert await flow.request(_in("s", "mail__send_email")) is None
