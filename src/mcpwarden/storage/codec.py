"""Findings to and from JSON, so every backend stores them the same way and reads them back whole."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from mcpwarden.errors import StorageError
from mcpwarden.types import Confidence, Finding, Location, Severity

_LOCATION_FIELDS = frozenset(Location.__dataclass_fields__)


def dump_json(value: Any, *, where: str) -> str:
    """Stable JSON for storage: sorted keys, ASCII escapes.

    ASCII escapes keep every character (a lone surrogate or zero-width space in a hostile
    definition survives the round trip) while the database only ever sees valid UTF-8.
    """
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StorageError(f"value cannot be stored as JSON: {exc}", where=where) from None


def load_json(text: str, *, where: str) -> Any:
    """Parse JSON read back from the database; a damaged value is a StorageError."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise StorageError(
            f"stored JSON cannot be read: {exc}", where=where, hint="the database may be damaged"
        ) from None


def finding_to_json(finding: Finding) -> str:
    """Serialise a finding; severity and confidence are stored by name, readable in the raw database."""
    data = asdict(finding)
    data["severity"] = finding.severity.label
    data["confidence"] = finding.confidence.label
    data["refs"] = list(finding.refs)
    return dump_json(data, where="finding")


def finding_from_json(text: str, *, where: str = "findings") -> Finding:
    """Rebuild a finding stored by `finding_to_json`; a damaged row is a StorageError, not a crash."""
    try:
        data: dict[str, Any] = json.loads(text)
        loc = {k: v for k, v in dict(data.get("location") or {}).items() if k in _LOCATION_FIELDS}
        return Finding(
            rule_id=str(data["rule_id"]),
            title=str(data["title"]),
            severity=Severity.parse(str(data["severity"])),
            confidence=Confidence.parse(str(data["confidence"])),
            location=Location(**loc),
            message=str(data["message"]),
            evidence=str(data.get("evidence", "")),
            remediation=str(data.get("remediation", "")),
            refs=tuple(str(r) for r in data.get("refs", ())),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError(
            f"stored finding cannot be read: {exc}",
            where=where,
            hint="the database may be damaged or written by another version",
        ) from None
