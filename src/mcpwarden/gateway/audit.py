"""Wiring the gateway's audit hook to the hash-chained log of `mcpwarden.storage.audit`.

The core appends every proxied call after its decision and before its response is sent; when the
append fails, the call is refused and its result withheld (fail closed: an acknowledged call is
never missing from the chain). Storage cannot import the detectors, so the log is opened here with
`mask_secrets` as its redact hook: every string it stores is masked.
"""

from __future__ import annotations

from pathlib import Path

from mcpwarden.gateway.masking import SecretMasker
from mcpwarden.storage.audit import CallAuditSink
from mcpwarden.storage.audit_sqlite import SqliteAuditLog


def open_audit_sink(db_path: Path, masker: SecretMasker | None = None) -> CallAuditSink:
    """The gateway's `AuditSink` over the SQLite audit log at `db_path` (created if missing).

    Pass the masker the scanning interceptor uses, so texts it already scanned are not scanned again.
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    return CallAuditSink(SqliteAuditLog(db_path, redact=masker or SecretMasker()))
