"""Listings and sessions in the audit chain: the gateway in process over a real stdio upstream and a real log."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from typer.testing import CliRunner

from mcpwarden.cli.audit import app as audit_cli
from mcpwarden.detect.secrets import mask_secrets
from mcpwarden.gateway.audit import open_audit_sink
from mcpwarden.gateway.config import GatewayConfig
from mcpwarden.gateway.core import Gateway
from mcpwarden.gateway.deps import GatewayDeps
from mcpwarden.gateway.jsonrpc import AUDIT_FAILED, Message, parse_client_payload
from mcpwarden.gateway.session import Session
from mcpwarden.storage.audit import AuditEntry
from mcpwarden.storage.state_sqlite import SqliteLiveState
from mcpwarden.types import Principal, ServerSpec, ToolCall
from tests.gateway.conftest import UPSTREAM

pytestmark = pytest.mark.anyio
SPEC = ServerSpec(name="fx", transport="stdio", command=sys.executable, args=(str(UPSTREAM), "--name", "fx"))
ALICE = Principal(id="alice", client_id="cursor-key")
LISTINGS = [
    ("tools/list", "tools"),
    ("prompts/list", "prompts"),
    ("resources/list", "resources"),
    ("resources/templates/list", "resourceTemplates"),
]


@asynccontextmanager
async def running(db: Path, audit: Any) -> AsyncIterator[Gateway]:
    gateway = Gateway(GatewayConfig(upstreams=(SPEC,), db_path=db), GatewayDeps(audit=audit))
    async with anyio.create_task_group() as tg:
        await tg.start(gateway.run)
        await gateway.pool.wait_ready(30)
        try:
            yield gateway
        finally:
            tg.cancel_scope.cancel()


def _message(method: str, params: dict[str, Any], request_id: int = 1) -> Message:
    body = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
    parsed = parse_client_payload(body.encode(), max_bytes=10**6, max_depth=64, max_batch=1)
    assert isinstance(parsed, Message)
    return parsed


def _open(gateway: Gateway) -> Session:
    params = {"protocolVersion": "2025-06-18", "clientInfo": {"name": "cursor", "version": "1"}}
    session, _ = gateway.open_session(ALICE, _message("initialize", params))
    return session


async def _request(gateway: Gateway, session: Session, method: str, params: dict[str, Any]) -> dict[str, Any]:
    reply = await gateway.handle(session, _message(method, params))
    assert reply is not None
    return json.loads(reply)


async def test_listings_and_the_session_are_recorded_in_order_and_the_chain_verifies(tmp_path: Path) -> None:
    db = tmp_path / "mcpwarden.db"
    sink = open_audit_sink(db)
    returned: dict[str, int] = {}
    async with running(db, sink) as gateway:
        session = _open(gateway)
        for method, key in LISTINGS:
            returned[method] = len((await _request(gateway, session, method, {}))["result"][key])
        await _request(gateway, session, "tools/call", {"name": "fx__echo", "arguments": {"text": "hi"}})
        other = _open(gateway)  # open until the gateway stops
        gateway.sessions.close(session.id or "")
        await anyio.sleep(0.2)  # the background task writes the end without any further request
        assert [r.event for r in sink.log.records(session=session.id)][-1] == "session_end"
    records = sink.log.records(session=session.id)
    assert [(r.event, r.action) for r in records] == [
        ("session_start", None),
        *[("list", method) for method, _ in LISTINGS],
        ("call", "call_tool"),
        ("session_end", None),
    ]
    assert all((r.principal, r.session, r.client) == ("alice", session.id, "cursor") for r in records)
    for record, (method, _) in zip(records[1:5], LISTINGS, strict=True):
        assert record.detail == f"{returned[method]} returned" and record.decision == "allow"
        assert record.latency_ms is not None and record.latency_ms > 0
    assert returned["tools/list"] >= 3 and returned["prompts/list"] >= 1
    assert "2025-06-18" in records[0].detail and "closed by the client" in records[-1].detail
    stopped = sink.log.records(session=other.id)
    assert [r.event for r in stopped] == ["session_start", "session_end"] and "gateway stopped" in stopped[1].detail
    assert sink.log.verify_chain().ok

    shown = CliRunner().invoke(
        audit_cli, ["show", "--session", session.id or "", "--db", str(db)], env={"COLUMNS": "250", "NO_COLOR": "1"}
    )
    assert shown.exit_code == 0, shown.output
    rows = [line for line in shown.output.splitlines() if "session_" in line or "list " in line or "fx/" in line]
    order = ["session_start", "list tools/list", "list prompts/list", "list resources/list"]
    order += ["list resources/templates/list", "fx/fx__echo", "session_end"]
    assert [next(o for o in order if o in row) for row in rows] == order


async def test_names_hidden_by_a_quarantine_are_recorded(tmp_path: Path) -> None:
    db = tmp_path / "mcpwarden.db"
    with SqliteLiveState(db, redact=mask_secrets) as state:
        await state.quarantine("fx/echo", "incident 7", "bob")
    sink = open_audit_sink(db)
    async with running(db, sink) as gateway:
        session = _open(gateway)
        tools = [t["name"] for t in (await _request(gateway, session, "tools/list", {}))["result"]["tools"]]
    assert "fx__echo" not in tools and "fx__weather" in tools
    listing = next(r for r in sink.log.records(session=session.id) if r.event == "list")
    assert listing.detail == f"{len(tools)} returned; hidden: fx__echo"
    assert listing.decision == "modify" and listing.reasons == ("listing.hidden",)


class _EntriesFail:
    """A sink whose calls are recorded but whose other entries cannot be written."""

    def __init__(self) -> None:
        self.calls: list[ToolCall] = []

    async def append(self, call: ToolCall) -> None:
        self.calls.append(call)

    async def record(self, entry: AuditEntry) -> None:
        raise OSError("audit storage unavailable")


async def test_a_listing_whose_record_fails_is_withheld(tmp_path: Path) -> None:
    sink = _EntriesFail()
    async with running(tmp_path / "mcpwarden.db", sink) as gateway:
        session = _open(gateway)
        reply = await _request(gateway, session, "tools/list", {})
        failures = gateway.metrics.registry.get_sample_value("mcpwarden_audit_failures_total")
    assert reply["error"]["code"] == AUDIT_FAILED and "result" not in reply
    assert "fx__echo" not in json.dumps(reply)
    assert failures is not None and failures >= 2  # the session start, then the listing
