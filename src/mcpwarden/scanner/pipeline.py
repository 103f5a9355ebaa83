"""One scan, end to end: discover → connect and enumerate → detect → pin → one ScanResult."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from mcpwarden.detect.config import check_inventories, check_problems, check_specs, config_rules
from mcpwarden.detect.definitions import analyze_inventories
from mcpwarden.detect.flows import analyze_flows
from mcpwarden.discovery import Discovery, discover
from mcpwarden.scanner.enumerate import enumerate_all
from mcpwarden.scanner.pins import pin_scan, pinning_rules
from mcpwarden.storage.base import InventoryStore, ScanMeta
from mcpwarden.types import Finding, ScanResult, ServerInventory, ServerSpec

OsName = Literal["linux", "darwin", "windows"]


@dataclass(frozen=True)
class ScanOptions:
    """What to scan and how. Built by the CLI from its flags."""

    home: Path
    os_name: OsName
    env: Mapping[str, str] = field(default_factory=dict)
    project_dirs: Sequence[Path] = ()
    extra_configs: Sequence[Path] = ()
    include_user: bool = True
    static: bool = False
    concurrency: int = 8
    timeout: float = 30.0


def _is_disabled(spec: ServerSpec) -> bool:
    """Clients let users switch a server off; starting it anyway would run what the user disabled."""
    raw = spec.raw
    return raw.get("disabled") is True or raw.get("enabled") is False


def _not_connected(spec: ServerSpec, reason: str) -> ServerInventory:
    return ServerInventory(spec=spec, ok=False, error=reason)


async def run_scan(
    options: ScanOptions,
    store: InventoryStore,
    *,
    on_discovered: Callable[[Discovery], None] | None = None,
    on_server_done: Callable[[ServerInventory], None] | None = None,
) -> ScanResult:
    """Run one scan and record it (pins, observations, findings) in `store`."""
    started = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    found = discover(
        home=options.home,
        os_name=options.os_name,
        env=options.env,
        project_dirs=options.project_dirs,
        extra_configs=options.extra_configs,
        include_user=options.include_user,
    )
    if on_discovered is not None:
        on_discovered(found)

    rules = config_rules()
    findings: list[Finding] = [*check_problems(found.problems, rules), *check_specs(found.servers, rules)]
    if options.static:
        inventories = [_not_connected(spec, "not connected (--static)") for spec in found.servers]
    else:
        reachable = [spec for spec in found.servers if not _is_disabled(spec)]
        connected = await enumerate_all(
            reachable, concurrency=options.concurrency, timeout=options.timeout, on_done=on_server_done
        )
        by_identity = {inv.spec.identity: inv for inv in connected}
        inventories = [
            by_identity.get(spec.identity) or _not_connected(spec, "disabled in its client config; not started")
            for spec in found.servers
        ]
        findings.extend(check_inventories(connected, rules))
        findings.extend(analyze_inventories(connected))
        findings.extend(analyze_flows(connected))

    scan_id = store.record_scan(ScanMeta(started_at=started_at, static=options.static))
    if not options.static:
        findings.extend(pin_scan(store, connected, scan_id=scan_id, rules=pinning_rules()))
    findings.sort(key=lambda f: (-f.severity, f.location.server or "", f.rule_id, f.location.tool or ""))
    store.record_findings(scan_id, findings)
    store.finish_scan(
        scan_id,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        summary={
            "servers": len(found.servers),
            "unreachable": sum(1 for inv in inventories if not inv.ok),
            "findings": len(findings),
        },
    )
    return ScanResult(
        servers=tuple(inventories),
        findings=tuple(findings),
        config_files=found.files,
        static=options.static,
        started_at=started_at,
        duration_s=round(time.perf_counter() - started, 3),
    )
