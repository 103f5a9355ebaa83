"""Storage: Protocols in `base`, the embedded SQLite backend in `sqlite`. Depends only on types and errors."""

from mcpwarden.storage.base import Closeable, HistoryEntry, InventoryStore, Pin, PinStatus, ScanMeta, ScanRecord
from mcpwarden.storage.sqlite import SqliteStore, open_store

__all__ = [
    "Closeable",
    "HistoryEntry",
    "InventoryStore",
    "Pin",
    "PinStatus",
    "ScanMeta",
    "ScanRecord",
    "SqliteStore",
    "open_store",
]
