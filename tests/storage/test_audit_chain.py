"""Building and checking the chain without a database: the fast hash equals the reference, links are checked."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from mcpwarden.errors import StorageError
from mcpwarden.storage.audit import GENESIS_HASH, AuditEntry, ChainHead
from mcpwarden.storage.audit_chain import BadRecord, chain, prepare, record_hash, verify_bodies
from mcpwarden.types import Verdict, canonical_json


def keep(text: str) -> str:
    return text


ENTRIES = [
    AuditEntry(event="call"),
    AuditEntry(
        event="call",
        principal="p",
        session="s",
        client="c",
        upstream="u",
        tool="t",
        action="call_tool",
        call_id="id",
        arguments={"b": [1, 2.5, None, True], "a": {"z": "ü\u200b"}},
        decision="deny",
        verdicts=(Verdict("deny", "authz", ("r1", "r2"), "no", ("boom",)),),
        findings=("MW301",),
        result_digest="0" * 64,
        latency_ms=3,
        outcome="denied",
        detail="d",
        ts="2025-01-01T00:00:00.000+00:00",
    ),
    AuditEntry(event="call", tool="\ud800", arguments={"x": float("nan"), "y": "\U0001f600"}, latency_ms=1e-9),
]


def bodies(entries: list[AuditEntry]) -> list[tuple[dict[str, Any], str]]:
    records = chain(
        [prepare(e, redact=keep, now="2025-01-01T00:00:00Z") for e in entries], seq=0, prev_hash=GENESIS_HASH
    )
    return [(r.body(), r.hash) for r in records]


@pytest.mark.parametrize("entry", ENTRIES)
def test_the_fast_hash_equals_the_documented_formula(entry: AuditEntry) -> None:
    [(body, digest)] = bodies([entry])
    expected = hashlib.sha256((canonical_json(body) + GENESIS_HASH).encode("utf-8", "surrogatepass")).hexdigest()
    assert digest == expected == record_hash(body)


def test_chain_numbers_and_links_from_the_given_head() -> None:
    prepared = [prepare(e, redact=keep, now="now") for e in ENTRIES]
    records = chain(prepared, seq=41, prev_hash="a" * 64)
    assert [r.seq for r in records] == [42, 43, 44]
    assert records[0].prev_hash == "a" * 64
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]


def test_prepare_fills_the_time_and_normalises_values() -> None:
    prepared = prepare(AuditEntry(event="call", arguments={"t": (1, 2)}, latency_ms=2), redact=keep, now="T")
    assert prepared.fields["ts"] == "T"
    assert prepared.fields["arguments"] == {"t": [1, 2]}
    assert prepared.fields["latency_ms"] == 2.0 and isinstance(prepared.fields["latency_ms"], float)


def test_redact_reaches_every_caller_string_but_not_identifiers() -> None:
    entry = AuditEntry(
        event="call",
        tool="SECRET-tool",
        arguments={"SECRET": ["SECRET"]},
        verdicts=(Verdict("deny", "SECRET-src", ("SECRET-rule",), "SECRET", ("SECRET",)),),
        detail="SECRET",
    )
    prepared = prepare(entry, redact=lambda s: s.replace("SECRET", "***"), now="T")
    assert prepared.fields["arguments"] == {"***": ["***"]}
    assert prepared.fields["detail"] == "***"
    assert prepared.verdicts[0].message == "***" and prepared.verdicts[0].errors == ("***",)
    # Ids (tool, source, rule ids) are ours or the server's names, never caller data: left as they are.
    assert prepared.fields["tool"] == "SECRET-tool" and prepared.verdicts[0].reasons == ("SECRET-rule",)


def test_a_hook_error_is_a_storage_error() -> None:
    def broken(text: str) -> str:
        raise ValueError("nope")

    with pytest.raises(StorageError, match="nope"):
        prepare(AuditEntry(event="call", detail="x"), redact=broken, now="T")


def test_verify_accepts_an_intact_chain_and_names_its_head() -> None:
    rows = bodies(ENTRIES)
    report = verify_bodies(rows, checkpoint=ChainHead(3, rows[-1][1]), anchors=[ChainHead(2, rows[1][1])])
    assert report.ok and report.records == 3 and report.head == ChainHead(3, rows[-1][1])


def _edit(rows: list[tuple[dict[str, Any], str]], index: int, **changes: Any) -> list[Any]:
    out: list[Any] = list(rows)
    body, digest = rows[index]
    out[index] = ({**body, **changes}, digest)
    return out


@pytest.mark.parametrize(
    ("mutate", "bad_seq", "words"),
    [
        (lambda rows: _edit(rows, 1, detail="changed"), 2, "edited"),
        (lambda rows: _edit(rows, 1, prev_hash="b" * 64), 2, "does not follow"),
        (lambda rows: [rows[0], rows[2]], 2, "missing"),
        (lambda rows: [rows[1], rows[0], rows[2]], 1, "missing"),
        (lambda rows: [rows[0], rows[0], rows[1]], 2, "out of order"),
        (lambda rows: [rows[0], BadRecord(2, "unreadable row"), rows[2]], 2, "unreadable"),
        (lambda rows: _edit(rows, 0, seq="1"), 1, "out of order"),
    ],
)
def test_verify_reports_the_first_broken_record(mutate: Any, bad_seq: int, words: str) -> None:
    report = verify_bodies(mutate(bodies(ENTRIES)))
    assert (report.ok, report.first_bad_seq) == (False, bad_seq)
    assert words in (report.problem or "")
    assert report.records == bad_seq - 1


@pytest.mark.parametrize(
    ("checkpoint", "bad_seq", "words"),
    [
        (ChainHead(5, "c" * 64), 4, "truncated"),
        (ChainHead(2, "c" * 64), 3, "not written by mcpwarden"),
        (ChainHead(3, "c" * 64), 3, "head checkpoint"),
    ],
)
def test_verify_compares_the_end_with_the_checkpoint(checkpoint: ChainHead, bad_seq: int, words: str) -> None:
    report = verify_bodies(bodies(ENTRIES), checkpoint=checkpoint)
    assert (report.ok, report.first_bad_seq) == (False, bad_seq)
    assert words in (report.problem or "")


def test_an_anchor_beyond_the_end_means_truncation() -> None:
    report = verify_bodies(bodies(ENTRIES), anchors=[ChainHead(10, "d" * 64)])
    assert (report.ok, report.first_bad_seq) == (False, 4)
