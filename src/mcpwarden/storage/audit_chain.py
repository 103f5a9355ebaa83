"""Building and checking the audit hash chain: pure functions shared by every audit backend.

`prepare` redacts and serialises an entry (outside any lock), `chain` numbers, links and hashes a
batch (inside the backend's write transaction), `verify_bodies` re-derives every hash from the
stored bodies and checks the links, the head checkpoint and any external anchors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcpwarden.errors import StorageError
from mcpwarden.storage.audit import (
    GENESIS_HASH,
    RECORD_FORMAT,
    SCALAR_KEYS,
    AuditEntry,
    AuditRecord,
    ChainHead,
    ChainReport,
    Redactor,
    verdict_dict,
)
from mcpwarden.types import Verdict, canonical_json


def record_hash(body: Mapping[str, Any]) -> str:
    """sha256(canonical_json(body) + prev_hash); `body` is the record without `hash`."""
    text = canonical_json(dict(body)) + str(body.get("prev_hash"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _storable(text: str) -> str:
    """A lone surrogate (valid in hostile JSON, not in UTF-8) becomes a visible `\\u{D800}`; all else is kept."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(f"\\u{{{ord(ch):X}}}" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)
    return text


def _opt(text: str | None) -> str | None:
    return None if text is None else _storable(str(text))


def mask_tree(value: Any, redact: Redactor) -> Any:
    """`redact` applied to every string (keys included) in a JSON-shaped value."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(k): mask_tree(v, redact) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_tree(v, redact) for v in value]
    return value


_SCALARS = (str, int, float, bool, type(None))


def _plain_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments as JSON holds them: what storing and reloading them gives back.

    The common case (string keys, scalar values, as a tool call's JSON arguments usually are) is
    already exactly that and is copied; anything else (nesting, tuples, odd types) round-trips
    through the stored JSON, so the hashed value always equals the reloaded one.
    """
    if all(type(k) is str and type(v) in _SCALARS for k, v in arguments.items()):
        return dict(arguments)
    return json.loads(_stored_json(dict(arguments)))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class PreparedEntry:
    """An entry redacted and serialised, ready to be placed in the chain by `chain` (the cheap part).

    `fields` is the record body without `seq` and `prev_hash`; `segments` holds the canonical JSON
    of the body around those two (see `_SEGMENTS`) and `stored` the JSON text of the structured
    values, computed once outside the write lock so the locked part of an append only numbers,
    links and hashes.
    """

    fields: Mapping[str, Any]
    verdicts: tuple[Verdict, ...]
    segments: tuple[str, str, str]
    stored: Mapping[str, str]


# Built once: `json.dumps` with options constructs a new encoder per call, which dominated `prepare`.
# `_canonical` has exactly the options of `types.canonical_json`, so it produces the same text.
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True).encode
# ASCII escapes keep lone surrogates and NaN exactly; the database only ever sees valid UTF-8.
# `default=str`: a value JSON cannot hold (bytes, a set) is recorded as its text rather than failing the call.
_stored_json = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True, default=str
).encode


def prepare(entry: AuditEntry, *, redact: Redactor, now: str) -> PreparedEntry:
    """Redact and normalise an entry into everything but its place in the chain.

    Applies `redact` to every string that can carry caller data (argument keys and values, verdict
    messages and errors, detail), and normalises arguments to what JSON holds (tuples become lists,
    odd types become their `str`) so the stored value is exactly the hashed one.
    """
    try:
        plain = _plain_arguments(entry.arguments)
        arguments = mask_tree(plain, redact)
        verdicts = tuple(
            Verdict(
                decision=v.decision,
                source=_storable(v.source),
                reasons=tuple(_storable(r) for r in v.reasons),
                message=_storable(redact(v.message)),
                errors=tuple(_storable(redact(e)) for e in v.errors),
            )
            for v in entry.verdicts
        )
        detail = _storable(redact(entry.detail))
    except Exception as exc:  # a failing hook must fail the append (and so the call), never store clear text
        raise StorageError(f"cannot prepare the audit record: {type(exc).__name__}: {exc}") from None
    verdict_dicts = [verdict_dict(v) for v in verdicts]
    fields: dict[str, Any] = {
        "fmt": RECORD_FORMAT,
        "ts": _storable(entry.ts or now),
        "event": _storable(entry.event),
        "principal": _opt(entry.principal),
        "session": _opt(entry.session),
        "client": _opt(entry.client),
        "upstream": _opt(entry.upstream),
        "tool": _opt(entry.tool),
        "action": _opt(entry.action),
        "call_id": _opt(entry.call_id),
        "arguments": arguments,
        "decision": _opt(entry.decision),
        "verdicts": verdict_dicts,
        "findings": [_storable(f) for f in entry.findings],
        "result_digest": _opt(entry.result_digest),
        "latency_ms": None if entry.latency_ms is None else float(entry.latency_ms),
        "outcome": _storable(entry.outcome),
        "detail": detail,
    }
    # One encoder call per segment: the canonical text of a dict with sorted keys is `{"k":v,…}`.
    first, middle, last = (_canonical({k: fields[k] for k in keys})[1:-1] for keys in _SEGMENTS)
    return PreparedEntry(
        fields=fields,
        verdicts=verdicts,
        segments=(first, middle, last),
        stored={k: _stored_json(fields[k]) for k in STRUCTURED_KEYS},
    )


STRUCTURED_KEYS = ("arguments", "verdicts", "findings")
_BODY_KEYS = tuple(sorted(("fmt", "arguments", "verdicts", "findings", *SCALAR_KEYS)))
# The body's keys in canonical (sorted) order, split where the two chain-dependent ones fall:
# keys before "prev_hash", keys between "prev_hash" and "seq", keys after "seq".
_PREV, _SEQ = _BODY_KEYS.index("prev_hash"), _BODY_KEYS.index("seq")
_SEGMENTS = (_BODY_KEYS[:_PREV], _BODY_KEYS[_PREV + 1 : _SEQ], _BODY_KEYS[_SEQ + 1 :])
if not (_PREV < _SEQ and all(_SEGMENTS)):  # `chain` joins the segments with commas: none may be empty
    raise RuntimeError("the audit body keys no longer fall into three segments; update `chain`")
_RECORD_KEYS = tuple(k for k in SCALAR_KEYS if k not in ("seq", "prev_hash"))


def chain(prepared: Sequence[PreparedEntry], *, seq: int, prev_hash: str) -> list[AuditRecord]:
    """Place prepared entries after the record (`seq`, `prev_hash`): number them and link their hashes.

    The canonical JSON of each body is assembled from the prepared segments around `prev_hash` and
    `seq`: `canonical_json` of a dict with sorted keys is exactly `{"key":value,…}` of the canonical
    values, so this equals `record_hash(record.body())` (which `verify_bodies` recomputes from
    scratch) at a fraction of the cost.
    """
    out: list[AuditRecord] = []
    for item in prepared:
        seq += 1
        first, middle, last = item.segments
        text = f'{{{first},"prev_hash":{_canonical(prev_hash)},{middle},"seq":{seq},{last}}}{prev_hash}'
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        f = item.fields
        out.append(
            AuditRecord(
                **{k: f[k] for k in _RECORD_KEYS},
                seq=seq,
                prev_hash=prev_hash,
                arguments=f["arguments"],
                verdicts=item.verdicts,
                findings=tuple(f["findings"]),
                hash=digest,
            )
        )
        prev_hash = digest
    return out


@dataclass(frozen=True)
class BadRecord:
    """A stored row that could not even be read back as a record body."""

    seq: int
    problem: str


def verify_bodies(
    rows: Iterable[tuple[Mapping[str, Any], str] | BadRecord],
    *,
    checkpoint: ChainHead | None = None,
    anchors: Sequence[ChainHead] = (),
) -> ChainReport:
    """Check (body, stored hash) pairs in sequence order against each other, the checkpoint and anchors.

    `checkpoint` is the head the backend stored beside the log; `anchors` are heads copied out earlier.
    """
    wanted = {a.seq: a.hash for a in anchors}
    expected, prev, count = 1, GENESIS_HASH, 0

    def broken(seq: int, problem: str) -> ChainReport:
        return ChainReport(False, count, seq, problem, ChainHead(expected - 1, prev))

    for row in rows:
        if isinstance(row, BadRecord):
            return broken(row.seq, row.problem)
        body, stored = row
        seq = body.get("seq")
        if not isinstance(seq, int) or seq < expected:
            return broken(expected, f"record {seq!r} is out of order where record {expected} belongs")
        if seq > expected:
            return broken(expected, f"record {expected} is missing (the next record is {seq}): records were deleted")
        if body.get("prev_hash") != prev:
            return broken(
                seq,
                f"record {seq} does not follow record {seq - 1} (prev_hash differs): "
                "a record was inserted, deleted or reordered here",
            )
        if record_hash(body) != stored:
            return broken(seq, f"record {seq} does not match its hash: it was edited after it was written")
        if seq in wanted and wanted[seq] != stored:
            return broken(seq, f"record {seq} differs from the anchor taken earlier: the chain was rewritten")
        prev, expected, count = stored, expected + 1, count + 1
    last = expected - 1
    for seq in sorted(wanted):
        if seq > last:
            return broken(last + 1, f"the log ends at record {last}, but an anchor names record {seq}: truncated")
    if checkpoint is not None:
        if checkpoint.seq > last:
            return broken(
                last + 1, f"the log ends at record {last} but its head checkpoint is {checkpoint.seq}: truncated"
            )
        if checkpoint.seq < last:
            return broken(
                checkpoint.seq + 1,
                f"records after the head checkpoint ({checkpoint.seq}) were not written by mcpwarden",
            )
        if checkpoint.hash != prev:
            return broken(last, f"record {last} does not match the head checkpoint")
    return ChainReport(True, count, None, None, ChainHead(last, prev))
