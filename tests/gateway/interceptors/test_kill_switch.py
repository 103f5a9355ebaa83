"""The kill switch: quarantined servers and tools are refused and hidden, through the shared live state."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest

from mcpwarden.gateway.interceptors.kill_switch import REASON, KillSwitch
from mcpwarden.gateway.pipeline import Pipeline
from mcpwarden.gateway.testing import make_call
from mcpwarden.types import Principal
from tests.gateway.interceptors.helpers import catalog, context, state

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("target", "tool", "refused"),
    [
        ("fx", "fx__echo", True),
        ("fx/echo", "fx__echo", True),
        ("fx/echo", "fx__other", False),
        ("web", "fx__echo", False),
        ("*", "web__fetch", True),
    ],
)
async def test_quarantine_refuses_matching_calls(tmp_path: Path, target: str, tool: str, refused: bool) -> None:
    switch = KillSwitch.from_options({}, context(tmp_path))
    assert await switch.request(make_call(tool)) is None
    with state(tmp_path) as cli:
        await cli.quarantine(target, "incident 7", "alice")
    deadline = time.monotonic() + 1.0
    verdict = None
    while time.monotonic() < deadline:
        verdict = await switch.request(make_call(tool))
        if verdict is not None:
            break
        await anyio.sleep(0.05)
    if refused:
        assert verdict is not None and verdict.denies and verdict.reasons == (REASON,)
        assert "incident 7" in verdict.message and "alice" in verdict.message
    else:
        assert verdict is None


async def test_release_lets_calls_through_and_listing_hides_quarantined_tools(tmp_path: Path) -> None:
    switch = KillSwitch.from_options({}, context(tmp_path))
    defs = list(catalog().definitions.values())
    with state(tmp_path) as cli:
        await cli.quarantine("mail/send_email", "", "bob")
        await anyio.sleep(0.3)
        hidden = await switch.hide(defs, Principal(id="local"))
        assert hidden == {("mail", "tool", "send_email")}
        await cli.release("mail/send_email")
        await anyio.sleep(0.3)
    assert await switch.hide(defs, Principal(id="local")) == set()
    assert await switch.request(make_call("mail__send_email")) is None


async def test_without_a_database_the_switch_abstains() -> None:
    switch = KillSwitch.from_options({}, context())
    assert await switch.request(make_call("fx__echo")) is None


async def test_a_switch_whose_state_fails_denies_the_call(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    switch = KillSwitch.from_options({}, ctx)
    ctx.shared["live_state"].close()  # the database is gone: the switch cannot tell, so it must not allow
    outcome = await Pipeline([switch]).on_request(call := make_call("fx__echo"))
    assert outcome.refusal is not None and outcome.refusal.reasons == ("kill_switch.error",)
    assert call.verdicts[0].errors
