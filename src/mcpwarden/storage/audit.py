"""The audit trail: what the gateway records about every call and decision, and how its hash chain is checked.

Every record carries a sequence number (1, 2, 3 …), the hash of the record before it (`prev_hash`;
the first record follows `GENESIS_HASH`) and its own hash::

    hash = sha256(canonical_json(record without "hash") + prev_hash)

so changing, removing, inserting or reordering any record breaks the chain at that point.
Nothing here is secret: whoever can write the database can also recompute a whole forged chain.
A chain therefore proves integrity only relative to a head kept somewhere else. Backends keep a
head checkpoint beside the log (catches a tail removed without also rewriting the checkpoint)
and `verify_chain(anchors=…)` accepts heads the operator copied out earlier (catches anything,
including a rewritten checkpoint, up to the newest anchor).

This module holds the records and the `AuditLog` Protocol; `audit_chain` builds and checks the
chain with pure functions, so SQLite today and Postgres later produce and check identical chains.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO, runtime_checkable

from mcpwarden.errors import StorageError
from mcpwarden.types import ToolCall, Verdict

GENESIS_HASH = "0" * 64
RECORD_FORMAT = 1
Redactor = Callable[[str], str]


def response_digest(raw: bytes) -> str:
    """The `result_digest` of a response: sha256 of the exact bytes the upstream sent."""
    return hashlib.sha256(raw).hexdigest()


def final_decision(verdicts: Sequence[Verdict]) -> str | None:
    """The decision a list of verdicts adds up to: deny beats ask beats modify beats allow."""
    if not verdicts:
        return None
    if any(v.denies for v in verdicts):
        return "deny"
    for decision in ("ask", "modify"):
        if any(v.decision == decision for v in verdicts):
            return decision
    return "allow"


@dataclass(frozen=True)
class AuditEntry:
    """What the gateway asks to record. `arguments` must already be secret-masked by the caller.

    `event` names what happened: "call" (a finished call, with its verdicts and outcome) is the
    common one; "session_start", "session_end", "approval", "quarantine", "release" are others.
    `ts` (ISO 8601 UTC) defaults to the time the log receives the entry.
    """

    event: str
    principal: str | None = None
    session: str | None = None
    client: str | None = None
    upstream: str | None = None
    tool: str | None = None
    action: str | None = None
    call_id: str | None = None
    arguments: Mapping[str, Any] = field(default_factory=dict)
    decision: str | None = None
    verdicts: tuple[Verdict, ...] = ()
    findings: tuple[str, ...] = ()
    result_digest: str | None = None
    latency_ms: float | None = None
    outcome: str = ""
    detail: str = ""
    ts: str | None = None

    @classmethod
    def from_call(
        cls,
        call: ToolCall,
        *,
        outcome: str,
        arguments: Mapping[str, Any],
        latency_ms: float | None = None,
        event: str = "call",
        detail: str = "",
    ) -> AuditEntry:
        """The entry for one gateway call; `arguments` is the masked view (never `call.arguments` unmasked)."""
        return cls(
            event=event,
            principal=call.principal.id,
            session=call.session_id,
            client=call.client or call.principal.client_id,
            upstream=call.upstream,
            tool=call.tool,
            action=call.action,
            call_id=call.id,
            arguments=arguments,
            decision=final_decision(call.verdicts),
            verdicts=tuple(call.verdicts),
            findings=tuple(f.rule_id for f in call.findings),
            result_digest=response_digest(call.raw_response) if call.raw_response is not None else None,
            latency_ms=latency_ms,
            outcome=outcome,
            detail=detail,
        )


@dataclass(frozen=True)
class AuditRecord:
    """A stored entry with its place in the chain."""

    seq: int
    ts: str
    event: str
    principal: str | None
    session: str | None
    client: str | None
    upstream: str | None
    tool: str | None
    action: str | None
    call_id: str | None
    arguments: Mapping[str, Any]
    decision: str | None
    verdicts: tuple[Verdict, ...]
    findings: tuple[str, ...]
    result_digest: str | None
    latency_ms: float | None
    outcome: str
    detail: str
    prev_hash: str
    hash: str

    @classmethod
    def from_body(cls, body: Mapping[str, Any], digest: str) -> AuditRecord:
        """Rebuild a record from its hashed body; a body that does not have the stored shape is a StorageError."""
        try:
            verdicts = tuple(
                Verdict(
                    decision=v["decision"],
                    source=v["source"],
                    reasons=tuple(v["reasons"]),
                    message=v["message"],
                    errors=tuple(v["errors"]),
                )
                for v in body["verdicts"]
            )
            return cls(
                **{k: body[k] for k in SCALAR_KEYS},
                arguments=dict(body["arguments"]),
                verdicts=verdicts,
                findings=tuple(body["findings"]),
                hash=digest,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StorageError(
                f"audit record {body.get('seq')} does not have the stored shape: {exc!r}",
                hint="run `mcpwarden audit verify`: the log may have been edited",
            ) from None

    def body(self) -> dict[str, Any]:
        """Everything the hash covers: the record without `hash`."""
        return {
            "fmt": RECORD_FORMAT,
            **{k: getattr(self, k) for k in SCALAR_KEYS},
            "arguments": dict(self.arguments),
            "verdicts": [verdict_dict(v) for v in self.verdicts],
            "findings": list(self.findings),
        }

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every rule and policy id behind the verdicts, in order, without repeats."""
        seen: dict[str, None] = {}
        for v in self.verdicts:
            seen.update(dict.fromkeys(v.reasons))
        return tuple(seen)


SCALAR_KEYS = (
    "seq",
    "ts",
    "event",
    "principal",
    "session",
    "client",
    "upstream",
    "tool",
    "action",
    "call_id",
    "decision",
    "result_digest",
    "latency_ms",
    "outcome",
    "detail",
    "prev_hash",
)


def verdict_dict(verdict: Verdict) -> dict[str, Any]:
    """A verdict as stored and hashed."""
    return {
        "decision": verdict.decision,
        "source": verdict.source,
        "reasons": list(verdict.reasons),
        "message": verdict.message,
        "errors": list(verdict.errors),
    }


@dataclass(frozen=True)
class ChainHead:
    """The newest record's sequence number and hash (`seq` 0 and `GENESIS_HASH` for an empty log)."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> ChainHead:
        """Parse `SEQ:HASH` as printed by `mcpwarden audit verify`."""
        seq, sep, digest = text.strip().partition(":")
        if not sep or not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"expected SEQ:SHA256 (as `mcpwarden audit verify` prints), got {text!r}")
        return cls(int(seq), digest)


@dataclass(frozen=True)
class ChainReport:
    """The outcome of `verify_chain`: `first_bad_seq` and `problem` say where and how the chain breaks."""

    ok: bool
    records: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head: ChainHead | None = None


def call_outcome(call: ToolCall) -> str:
    """How a call ended, as far as its record can tell: denied, ok, or error (no result, or `isError`)."""
    if call.denied:
        return "denied"
    if call.result is None or call.result.get("isError") is True:
        return "error"
    return "ok"


class CallAuditSink:
    """The gateway's `AuditSink` (`await append(call)`) on top of an `AuditLog`.

    The gateway hands over a copy of the call with secrets already masked, so its `arguments` are
    recorded (and then passed through the log's own `redact` as well). Latency is the time from
    `call.started_at` (epoch seconds) to the append, in milliseconds.
    """

    def __init__(self, log: AuditLog, *, clock: Callable[[], float] = time.time) -> None:
        self.log = log
        self._clock = clock

    async def append(self, call: ToolCall) -> None:
        """Record the call; raises (so the gateway withholds the result) if the record was not written."""
        latency = (self._clock() - call.started_at) * 1000 if call.started_at else None
        entry = AuditEntry.from_call(call, outcome=call_outcome(call), arguments=call.arguments, latency_ms=latency)
        await self.log.append(entry)

    async def record(self, entry: AuditEntry) -> None:
        """Record what is not a call (a listing, a session's start or end); raises if it was not written."""
        await self.log.append(entry)


@runtime_checkable
class AuditLog(Protocol):
    """Append-only, hash-chained record of every request and decision.

    `append` is awaitable and durable: it returns once the record is committed, so a call the
    gateway acknowledges is always in the log. Several appenders (tasks, processes) may share one
    log; their records form one chain.
    """

    async def append(self, entry: AuditEntry) -> AuditRecord:
        """Redact, chain and commit one entry; return it as stored."""
        ...

    def records(
        self, *, session: str | None = None, since_seq: int | None = None, limit: int | None = None
    ) -> list[AuditRecord]:
        """Records in sequence order, optionally one session's, after `since_seq`, at most `limit`."""
        ...

    def head(self) -> ChainHead:
        """The newest record's position (worth copying elsewhere as an anchor)."""
        ...

    def verify_chain(self, *, anchors: Sequence[ChainHead] = ()) -> ChainReport:
        """Check the whole chain; never raises for tampering, reports it."""
        ...

    def export_jsonl(self, fp: TextIO, *, session: str | None = None) -> int:
        """Write records as JSON lines (body plus `hash`), oldest first; return how many."""
        ...

    def close(self) -> None:
        """Release the backend; safe to call twice."""
        ...
