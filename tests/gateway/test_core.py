"""The gateway core in process, over a real stdio upstream: audit, fail-closed audit, monitor mode."""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from mcpwarden.detect import default_engine
from mcpwarden.gateway.audit import open_audit_sink
from mcpwarden.gateway.config import GatewayConfig, Mode
from mcpwarden.gateway.core import LOCAL_PRINCIPAL, Gateway
from mcpwarden.gateway.deps import GatewayDeps
from mcpwarden.gateway.interceptors.scanning import ResultScanning
from mcpwarden.gateway.jsonrpc import AUDIT_FAILED, Message, parse_client_payload
from mcpwarden.gateway.session import Session
from mcpwarden.gateway.testing import MemoryAuditSink
from mcpwarden.types import ServerSpec
from tests.gateway.conftest import UPSTREAM

pytestmark = pytest.mark.anyio
SPEC = ServerSpec(name="fx", transport="stdio", command=sys.executable, args=(str(UPSTREAM), "--name", "fx"))


@asynccontextmanager
async def running(mode: Mode = "enforce", audit: Any = None) -> AsyncIterator[tuple[Gateway, Session]]:
    config = dataclasses.replace(GatewayConfig(upstreams=(SPEC,)), mode=mode)
    gateway = Gateway(config, GatewayDeps(audit=audit))
    async with anyio.create_task_group() as tg:
        await tg.start(gateway.run)
        await gateway.pool.wait_ready(30)
        session, _ = gateway.open_session(LOCAL_PRINCIPAL, _message("initialize", {"protocolVersion": "2025-06-18"}))
        try:
            yield gateway, session
        finally:
            tg.cancel_scope.cancel()


def _message(method: str, params: dict[str, Any], request_id: int = 1) -> Message:
    body = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
    parsed = parse_client_payload(body.encode(), max_bytes=10**6, max_depth=64, max_batch=1)
    assert isinstance(parsed, Message)
    return parsed


async def _call(gateway: Gateway, session: Session, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    reply = await gateway.handle(session, _message("tools/call", {"name": tool, "arguments": arguments}))
    assert reply is not None
    return json.loads(reply)


async def test_every_call_is_audited_in_the_chained_log_with_secrets_masked(tmp_path: Path) -> None:
    sink = open_audit_sink(tmp_path / "audit.db")
    token = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5"
    async with running(audit=sink) as (gateway, session):
        await _call(gateway, session, "fx__echo", {"text": f"hello {token}"})
        await _call(gateway, session, "fx__deploy_status", {})
        await _call(gateway, session, "fx__read_file", {"path": 3})
        unknown = await _call(gateway, session, "fx__missing", {})
        no_upstream = await _call(gateway, session, "nope__echo", {})
    assert unknown["error"]["code"] == no_upstream["error"]["code"] == -32602
    records = [r for r in sink.log.records() if r.event == "call"]  # listings and sessions: test_audit_listings
    assert [(r.tool, r.decision, r.outcome) for r in records] == [
        ("fx__echo", "modify", "ok"),  # the token in the argument was masked before forwarding
        ("fx__deploy_status", "modify", "ok"),
        ("fx__read_file", "deny", "denied"),
    ]
    assert token not in json.dumps([dict(r.arguments) for r in records])
    assert records[0].principal == "local" and records[0].session == session.id
    assert records[1].result_digest is not None and records[2].result_digest is None
    assert sink.log.verify_chain().ok


async def test_a_call_whose_audit_fails_is_refused() -> None:
    async with running(audit=MemoryAuditSink(fail=True)) as (gateway, session):
        reply = await _call(gateway, session, "fx__echo", {"text": "hello"})
        assert reply["error"]["code"] == AUDIT_FAILED
        assert "hello" not in json.dumps(reply)
        listing = await gateway.handle(session, _message("tools/list", {}, 2))
    assert listing is not None and "fx__echo" in listing  # the gateway stays up


async def test_monitor_mode_records_but_forwards_unchanged() -> None:
    sink = MemoryAuditSink()
    async with running("monitor", sink) as (gateway, session):
        weather = await _call(gateway, session, "fx__weather", {"city": "Lima"})
        refused = await _call(gateway, session, "fx__read_file", {"path": 3})
    assert "ignore all previous instructions" in weather["result"]["content"][0]["text"]
    assert "mcpwarden refused" not in json.dumps(refused)  # the upstream itself answered
    decisions = [[v.decision for v in call.verdicts] for call in sink.calls]
    assert decisions == [["modify"], ["deny"]]


async def test_calls_wait_for_the_detection_engine_which_loads_while_the_gateway_already_serves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release, prepared = threading.Event(), threading.Event()
    engine = default_engine()

    def slow_prepare() -> None:  # as compiling the databases the first time: seconds, in a thread
        release.wait(20)
        prepared.set()

    monkeypatch.setattr(engine, "prepare", slow_prepare)
    gateway = Gateway(GatewayConfig(upstreams=(SPEC,)), GatewayDeps(), interceptors=[ResultScanning(engine=engine)])
    replies: list[dict[str, Any]] = []
    answered = anyio.Event()
    async with anyio.create_task_group() as tg:
        with anyio.fail_after(20):
            await tg.start(gateway.run)  # serving although the engine is not ready
            await gateway.pool.wait_ready(20)
        session, _ = gateway.open_session(LOCAL_PRINCIPAL, _message("initialize", {"protocolVersion": "2025-06-18"}))

        async def call() -> None:
            replies.append(await _call(gateway, session, "fx__echo", {"text": "hello there"}))
            answered.set()

        tg.start_soon(call)
        await anyio.sleep(0.3)
        assert replies == [] and not prepared.is_set()  # the call waits for the engine
        release.set()
        with anyio.fail_after(20):
            await answered.wait()
        tg.cancel_scope.cancel()
    assert prepared.is_set() and replies[0]["result"]["content"][0]["text"] == "hello there"
