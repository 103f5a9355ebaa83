"""Audit records and their helpers: entries from gateway calls, decisions, heads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mcpwarden.errors import StorageError
from mcpwarden.storage.audit import (
    AuditEntry,
    AuditRecord,
    CallAuditSink,
    ChainHead,
    call_outcome,
    final_decision,
    response_digest,
)
from mcpwarden.storage.audit_sqlite import SqliteAuditLog
from mcpwarden.types import Confidence, Finding, Location, Principal, Severity, ToolCall, Verdict

ALLOW = Verdict("allow", "authz")
ASK = Verdict("ask", "approval", ("needs-human",))
MODIFY = Verdict("modify", "redact", ("MW201",))
DENY = Verdict("deny", "authz", ("forbid-1",))
ERRORED = Verdict("allow", "taint", errors=("policy crashed",))


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ((), None),
        ((ALLOW,), "allow"),
        ((ALLOW, MODIFY), "modify"),
        ((MODIFY, ASK), "ask"),
        ((ASK, DENY, ALLOW), "deny"),
        ((ALLOW, ERRORED), "deny"),
    ],
)
def test_final_decision_puts_deny_first(verdicts: tuple[Verdict, ...], expected: str | None) -> None:
    assert final_decision(verdicts) == expected


def test_entry_from_call_takes_everything_but_the_unmasked_arguments() -> None:
    finding = Finding("MW301", "t", Severity.HIGH, Confidence.HIGH, Location(server="fs"), "m")
    call = ToolCall(
        id="call-1",
        principal=Principal("agent-7", client_id="cursor"),
        session_id="s-1",
        upstream="fs",
        tool="fs__read",
        upstream_tool="read",
        arguments={"token": "clear-secret"},
        raw_response=b'{"result":{}}',
        findings=[finding],
        verdicts=[ALLOW, DENY],
    )
    entry = AuditEntry.from_call(call, outcome="denied", arguments={"token": "****"}, latency_ms=0.7)
    assert entry.arguments == {"token": "****"}
    assert (entry.principal, entry.session, entry.client, entry.upstream, entry.tool) == (
        "agent-7",
        "s-1",
        "cursor",
        "fs",
        "fs__read",
    )
    assert entry.decision == "deny" and entry.verdicts == (ALLOW, DENY) and entry.findings == ("MW301",)
    assert entry.result_digest == hashlib.sha256(b'{"result":{}}').hexdigest() == response_digest(b'{"result":{}}')
    assert (entry.call_id, entry.latency_ms, entry.outcome) == ("call-1", 0.7, "denied")


def test_entry_from_call_without_a_response_has_no_digest() -> None:
    call = ToolCall(id="c", principal=Principal("p"), session_id=None, upstream="u", tool="t", upstream_tool="t")
    assert AuditEntry.from_call(call, outcome="timeout", arguments={}).result_digest is None


@pytest.mark.parametrize("text", ["", "12", "x:" + "a" * 64, "3:" + "a" * 63, "3:" + "A" * 64, "-1:" + "a" * 64])
def test_chain_head_parse_refuses_anything_but_seq_and_hash(text: str) -> None:
    with pytest.raises(ValueError, match="SEQ:SHA256"):
        ChainHead.parse(text)


def test_chain_head_round_trips_through_its_text() -> None:
    head = ChainHead(1042, "9f" * 32)
    assert ChainHead.parse(f" {head} ") == head


def test_reasons_collects_rule_ids_once_in_order() -> None:
    record = AuditRecord.from_body(
        {
            **dict.fromkeys(("ts", "event", "outcome", "detail", "prev_hash"), ""),
            **dict.fromkeys(("principal", "session", "client", "upstream", "tool", "action", "call_id"), None),
            **dict.fromkeys(("decision", "result_digest", "latency_ms"), None),
            "seq": 1,
            "arguments": {},
            "verdicts": [
                {"decision": "deny", "source": "a", "reasons": ["r1", "r2"], "message": "", "errors": []},
                {"decision": "ask", "source": "b", "reasons": ["r2", "r3"], "message": "", "errors": []},
            ],
            "findings": [],
        },
        "h",
    )
    assert record.reasons == ("r1", "r2", "r3")


def test_a_body_without_the_stored_shape_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="stored shape"):
        AuditRecord.from_body({"seq": 1, "verdicts": [{"decision": "allow"}]}, "h")


def call_with(verdicts: list[Verdict], result: dict[str, object] | None) -> ToolCall:
    return ToolCall(
        id="c1",
        principal=Principal("agent-7"),
        session_id="s-1",
        upstream="fs",
        tool="read",
        upstream_tool="read",
        arguments={"path": "/x"},
        result=result,
        verdicts=verdicts,
        started_at=100.0,
    )


@pytest.mark.parametrize(
    ("verdicts", "result", "outcome"),
    [
        ([ALLOW], {"content": []}, "ok"),
        ([ALLOW], {"content": [], "isError": True}, "error"),
        ([ALLOW], None, "error"),
        ([DENY], None, "denied"),
        ([ERRORED], {"content": []}, "denied"),
    ],
)
def test_call_outcome(verdicts: list[Verdict], result: dict[str, object] | None, outcome: str) -> None:
    assert call_outcome(call_with(verdicts, result)) == outcome


@pytest.mark.anyio
async def test_call_audit_sink_records_a_gateway_call(tmp_path: Path) -> None:
    with SqliteAuditLog(tmp_path / "a.db", redact=str) as log:
        sink = CallAuditSink(log, clock=lambda: 100.0042)
        await sink.append(call_with([DENY], None))
        [record] = log.records()
    assert (record.event, record.principal, record.session, record.tool, record.outcome) == (
        "call",
        "agent-7",
        "s-1",
        "read",
        "denied",
    )
    assert record.arguments == {"path": "/x"} and record.decision == "deny"
    assert record.latency_ms == pytest.approx(4.2)
