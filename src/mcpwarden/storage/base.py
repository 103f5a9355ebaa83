"""What the rest of mcpwarden may ask of storage: small `Protocol`s, one per concern.

Each concern is its own Protocol so a deployment can put them on different backends: today SQLite
implements them all on one file; later Postgres can hold inventory, findings and audit while Redis
holds live state. `InventoryStore` lives here; `AuditLog` is in `audit.py` and `LiveState` in
`state.py`. Callers depend on the Protocol they need, never on a backend class.

Records crossing the boundary are plain frozen dataclasses built from `mcpwarden.types`, so a
backend never leaks its rows or cursors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from mcpwarden.types import DefinitionKind, Finding, ToolDef

PinStatus = Literal["active", "removed"]


@dataclass(frozen=True)
class ScanMeta:
    """What a scan records about itself (times are ISO 8601 UTC strings)."""

    started_at: str
    finished_at: str | None = None
    static: bool = False
    summary: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScanRecord:
    """A stored scan."""

    id: int
    started_at: str
    finished_at: str | None
    static: bool
    summary: Mapping[str, Any]


@dataclass(frozen=True)
class Pin:
    """The definition a user trusts for (server, kind, name): first seen, or last accepted.

    `status` is "removed" once the user accepted that the definition disappeared; the row stays so
    the server remains known and history keeps its context.
    """

    server: str
    kind: DefinitionKind
    name: str
    identity: str
    hash: str
    definition: Mapping[str, Any]
    first_seen: str
    last_seen: str
    accepted_at: str
    status: PinStatus

    def as_tooldef(self) -> ToolDef:
        """The pinned definition in the same shape as a freshly enumerated one, for comparison."""
        return ToolDef(server=self.server, kind=self.kind, name=self.name, definition=self.definition)


@dataclass(frozen=True)
class HistoryEntry:
    """One observation of a definition: what hash (and text) a scan saw."""

    scan_id: int
    started_at: str
    hash: str
    definition: Mapping[str, Any]


@runtime_checkable
class InventoryStore(Protocol):
    """Scans, the definitions each scan observed, the pins they are compared with, and findings."""

    def record_scan(self, meta: ScanMeta) -> int:
        """Store a scan and return its id."""
        ...

    def finish_scan(self, scan_id: int, *, finished_at: str, summary: Mapping[str, Any]) -> None:
        """Set the end time and summary of a scan recorded before its results were known."""
        ...

    def last_scan(self) -> ScanRecord | None:
        """The most recently recorded scan, or None on a fresh database."""
        ...

    def observe(self, scan_id: int, defs: Sequence[ToolDef], *, servers: Mapping[str, str] | None = None) -> None:
        """Record what a scan saw.

        `servers` maps the name of every server enumerated in this scan to its identity, including
        servers that exposed nothing (so accepting "nothing" can retire their pins); by default it
        is the servers named in `defs`, with an empty identity.
        """
        ...

    def get_pins(self, server: str | None = None) -> list[Pin]:
        """Every pin (active and removed), optionally for one server, ordered by server, kind, name."""
        ...

    def accept(
        self,
        server: str | None = None,
        name: str | None = None,
        current: Sequence[ToolDef] | None = None,
        *,
        kind: DefinitionKind | None = None,
    ) -> int:
        """Make definitions the trusted pins; return how many pins changed.

        Without `current`, each matching server's latest observation becomes its pins, and active
        pins that observation lacks become "removed". With `current`, exactly those definitions
        (filtered by `server`, `name`, `kind`) are pinned and nothing is retired.
        """
        ...

    def history(self, server: str, kind: DefinitionKind, name: str) -> list[HistoryEntry]:
        """Every observation of one definition, oldest first."""
        ...

    def record_findings(self, scan_id: int, findings: Sequence[Finding]) -> None:
        """Store the findings a scan reported."""
        ...

    def get_findings(self, scan_id: int) -> list[Finding]:
        """The findings stored for a scan, in the order they were recorded."""
        ...


@runtime_checkable
class Closeable(Protocol):
    """A store that holds a connection or file and must be released."""

    def close(self) -> None:
        """Release the backend; safe to call twice."""
        ...
