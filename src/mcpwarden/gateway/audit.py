"""Wiring the gateway's audit hook to the hash-chained log of `mcpwarden.storage.audit`.

The core appends every proxied call after its decision and before its response is sent; when the
append fails, the call is refused and its result withheld (fail closed: an acknowledged call is
never missing from the chain). Storage cannot import the detectors, so the log is opened here with
`mask_secrets` as its redact hook: every string it stores is masked.

A call's recorded `decision` is where the call ended up: an `ask` the approval step answered is
settled by that answer (allow after an approval, deny after a denial or a timeout), while both
verdicts stay in the record's verdict list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from mcpwarden.gateway.masking import SecretMasker
from mcpwarden.gateway.pipeline import APPROVAL_SOURCE
from mcpwarden.storage.audit import AuditEntry, CallAuditSink, call_outcome, final_decision
from mcpwarden.storage.audit_sqlite import SqliteAuditLog
from mcpwarden.types import ToolCall, Verdict


def recorded_decision(verdicts: Sequence[Verdict]) -> str | None:
    """The decision a call's verdicts add up to, with every `ask` before an approval's allow settled by it.

    `final_decision` ranks `ask` above allow and modify, which is right while the ask stands; once
    the approval step approved the call, the call went on, so the asks it answered no longer count.
    Denials (by the approval step, or the pipeline when nobody answered) still win as before.
    """
    answered = max(
        (i for i, v in enumerate(verdicts) if v.source == APPROVAL_SOURCE and v.decision == "allow" and not v.denies),
        default=-1,
    )
    if answered < 0:
        return final_decision(verdicts)
    return final_decision([v for i, v in enumerate(verdicts) if i > answered or v.decision != "ask"])


class GatewayAuditSink(CallAuditSink):
    """`CallAuditSink` whose call records carry the call's final decision (`recorded_decision`)."""

    async def append(self, call: ToolCall) -> None:
        """Record the call; raises (so the gateway withholds the result) if the record was not written."""
        latency = (self._clock() - call.started_at) * 1000 if call.started_at else None
        entry = AuditEntry.from_call(call, outcome=call_outcome(call), arguments=call.arguments, latency_ms=latency)
        await self.log.append(replace(entry, decision=recorded_decision(call.verdicts)))


def open_audit_sink(db_path: Path, masker: SecretMasker | None = None) -> GatewayAuditSink:
    """The gateway's `AuditSink` over the SQLite audit log at `db_path` (created if missing).

    Pass the masker the scanning interceptor uses, so texts it already scanned are not scanned again.
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    return GatewayAuditSink(SqliteAuditLog(db_path, redact=masker or SecretMasker()))
