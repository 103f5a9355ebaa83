"""Approval: calls that need a human wait on the approval queue; approve, deny and timeout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from mcpwarden.gateway.interceptors.approval import Approval
from mcpwarden.gateway.pipeline import Pipeline
from mcpwarden.gateway.testing import make_call
from mcpwarden.types import ToolCall, Verdict
from tests.gateway.interceptors.helpers import context, state

pytestmark = pytest.mark.anyio


async def _answer(tmp_path: Path, approve: bool | None, seen: list[Any]) -> None:
    """Act as the human in another connection: wait for the pending request, then decide it."""
    with state(tmp_path) as human:
        for _ in range(250):  # up to 5 s
            pending = await human.list_approvals()
            if pending:
                break
            await anyio.sleep(0.02)
        seen.extend(pending)
        if approve is not None:
            await human.decide(pending[0].id, approve, "carol", "" if approve else "not today")


@pytest.mark.parametrize(
    ("approve", "decision", "fragment"),
    [(True, "allow", "approved by carol"), (False, "deny", "denied by carol: not today"), (None, "deny", "no answer")],
)
async def test_rule_matched_call_waits_for_the_human(
    tmp_path: Path, approve: bool | None, decision: str, fragment: str
) -> None:
    approval = Approval.from_options({"tools": ["mail__*"], "timeout_s": 0.5}, context(tmp_path))
    seen: list[Any] = []
    verdict: Verdict | None = None
    call = make_call("mail__send_email", {"to": "x@example.com", "token": "ghp_" + "a1B2c3D4" * 5})

    async def run() -> None:
        nonlocal verdict
        verdict = await approval.request(call)

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        tg.start_soon(_answer, tmp_path, approve, seen)
    assert verdict is not None and verdict.decision == decision and fragment in verdict.message
    assert verdict.reasons == (f"approval.{seen[0].id}",)
    assert seen[0].tool == "send_email" and "ghp_" + "a1B2c3D4" * 5 not in str(seen[0].arguments)


@pytest.mark.parametrize(
    ("options", "tool", "earlier", "asks"),
    [
        ({}, "fx__echo", None, False),
        ({}, "fx__echo", Verdict("ask", source="authz", reasons=("p1",)), True),
        ({"labels_any": ["destructive"]}, "files__delete_file", None, True),
        ({"labels_any": ["destructive"]}, "mail__send_email", None, False),
        ({"tools": ["mail/send_*"]}, "mail__send_email", None, True),
    ],
)
async def test_what_needs_approval(
    tmp_path: Path, options: dict[str, Any], tool: str, earlier: Verdict | None, asks: bool
) -> None:
    approval = Approval.from_options({**options, "timeout_s": 0.1}, context(tmp_path))
    call: ToolCall = make_call(tool)
    if earlier is not None:
        call.verdicts.append(earlier)
    verdict = await approval.request(call)
    assert (verdict is not None) is asks  # nobody answers: an asked call times out denied
    assert verdict is None or verdict.denies


async def test_pipeline_ask_then_approved_passes(tmp_path: Path) -> None:
    class Asks:
        name = "authz"

        async def request(self, call: ToolCall) -> Verdict | None:
            return Verdict("ask", source="authz", reasons=("p1",))

        async def response(self, call: ToolCall) -> Verdict | None:
            return None

    pipeline = Pipeline([Asks(), Approval.from_options({"timeout_s": 5}, context(tmp_path))])
    seen: list[Any] = []
    outcome = None

    async def run() -> None:
        nonlocal outcome
        outcome = await pipeline.on_request(make_call("fx__echo"))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        tg.start_soon(_answer, tmp_path, True, seen)
    assert outcome is not None and outcome.refusal is None


async def test_monitor_mode_does_not_wait(tmp_path: Path) -> None:
    approval = Approval.from_options({"tools": ["*"]}, context(tmp_path, mode="monitor"))
    with anyio.fail_after(1):
        verdict = await approval.request(make_call("fx__echo"))
    assert verdict is not None and verdict.decision == "ask"
