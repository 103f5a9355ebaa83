"""The decision a call's audit record carries: where the call ended up, an answered `ask` settled by its answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpwarden.gateway.audit import open_audit_sink, recorded_decision
from mcpwarden.gateway.testing import make_call
from mcpwarden.types import Verdict

ASK = Verdict("ask", source="authz", reasons=("human-reads",))
FLOW_ASK = Verdict("ask", source="flow_control", reasons=("flow_control.tainted",))
APPROVED = Verdict("allow", source="approval", reasons=("approval.a1",), message="approved by dana")
DENIED = Verdict("deny", source="approval", reasons=("approval.a1",), message="denied by dana")
NO_ANSWER = Verdict("deny", source="pipeline", reasons=("human-reads",), message="no approval was given")
REDACTED = Verdict("modify", source="scanning", reasons=("MW300",))
BLOCKED = Verdict("deny", source="scanning", reasons=("MW300",))
OTHER_ALLOW = Verdict("allow", source="rate_limit", reasons=("rate_limit.tool",))
MONITOR_ASK = Verdict("ask", source="approval", reasons=("approval.required",))


@pytest.mark.parametrize(
    ("verdicts", "decision"),
    [
        ([], None),
        ([ASK], "ask"),  # unanswered (monitor mode records it so)
        ([ASK, APPROVED], "allow"),
        ([ASK, FLOW_ASK, APPROVED], "allow"),  # one approval answers every ask before it
        ([ASK, APPROVED, REDACTED], "modify"),  # approved, then its result was redacted
        ([ASK, APPROVED, BLOCKED], "deny"),  # approved, then its result was blocked
        ([ASK, DENIED], "deny"),
        ([ASK, NO_ANSWER], "deny"),  # nobody answered in time
        ([ASK, OTHER_ALLOW], "ask"),  # only the approval step answers an ask
        ([MONITOR_ASK], "ask"),
        ([REDACTED], "modify"),
    ],
)
def test_recorded_decision(verdicts: list[Verdict], decision: str | None) -> None:
    assert recorded_decision(verdicts) == decision


@pytest.mark.anyio
async def test_the_sink_records_the_final_decision_and_every_verdict(tmp_path: Path) -> None:
    sink = open_audit_sink(tmp_path / "audit.db")
    call = make_call("fx__read_file", {"path": "/srv/a"})
    call.verdicts.extend([ASK, APPROVED])
    await sink.append(call)
    (record,) = sink.log.records()
    assert record.decision == "allow" and record.verdicts == (ASK, APPROVED)
    assert record.reasons == ("human-reads", "approval.a1")
