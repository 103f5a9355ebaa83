"""Storage: inventory Protocols in `base`, audit in `audit`, live state in `state`; SQLite backends beside them.

Depends only on types and errors.
"""

from mcpwarden.storage.audit import AuditEntry, AuditLog, AuditRecord, CallAuditSink, ChainHead, ChainReport
from mcpwarden.storage.audit_sqlite import SqliteAuditLog
from mcpwarden.storage.base import Closeable, HistoryEntry, InventoryStore, Pin, PinStatus, ScanMeta, ScanRecord
from mcpwarden.storage.sqlite import SqliteStore, open_store
from mcpwarden.storage.state import (
    Approval,
    ApprovalRequest,
    ApprovalStatus,
    LiveState,
    QuarantineEntry,
    RateLimit,
    SessionInfo,
)
from mcpwarden.storage.state_sqlite import SqliteLiveState

__all__ = [
    "Approval",
    "ApprovalRequest",
    "ApprovalStatus",
    "AuditEntry",
    "AuditLog",
    "AuditRecord",
    "CallAuditSink",
    "ChainHead",
    "ChainReport",
    "Closeable",
    "HistoryEntry",
    "InventoryStore",
    "LiveState",
    "Pin",
    "PinStatus",
    "QuarantineEntry",
    "RateLimit",
    "ScanMeta",
    "ScanRecord",
    "SessionInfo",
    "SqliteAuditLog",
    "SqliteLiveState",
    "SqliteStore",
    "open_store",
]
