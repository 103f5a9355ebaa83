"""Approval through MCP elicitation: the SDK client (with an elicitation callback) → the real gateway → a real upstream.

A policy rule `ask`s for fx/read_file. A client that declared elicitation is asked through
`elicitation/create` and its answer decides; the same approval sits in the queue meanwhile. Over
streamable HTTP (`mcpwarden gateway`) and over stdio (`mcpwarden wrap`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp
import mcp_types as types
import pytest
from mcp.client.session import ClientRequestContext
from mcp.client.stdio import StdioServerParameters
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcpwarden.detect.secrets import mask_secrets
from mcpwarden.gateway.jsonrpc import parse_message
from mcpwarden.gateway.session import Session
from mcpwarden.storage.audit_sqlite import SqliteAuditLog
from mcpwarden.storage.state import Approval
from mcpwarden.storage.state_sqlite import SqliteLiveState
from mcpwarden.types import Principal
from tests.gateway.conftest import RUN_CLI, UPSTREAM, GatewayStarter, upstream_entry

pytestmark = pytest.mark.anyio
TIMEOUT_S = 2.0
SECRET = "ghp_" + "Z9y8X7w6" * 5
POLICY = """\
version: 1
rules:
  - id: echo-for-all
    allow: {tools: ["fx/echo"]}
  - id: human-reads
    ask: {tools: ["fx/read_file"]}
"""
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
Callback = Callable[[ClientRequestContext, types.ElicitRequestParams], Awaitable[types.ElicitResult | types.ErrorData]]


@dataclass
class Human:
    """The elicitation callback: records what it was asked, answers as told (None: never answers)."""

    answer: types.ElicitResult | types.ErrorData | None
    asked: list[types.ElicitRequestFormParams] = field(default_factory=list)
    ids: list[Any] = field(default_factory=list)
    cancelled: bool = False
    before_answer: Callable[[Any], Awaitable[None]] | None = None

    async def __call__(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        assert isinstance(params, types.ElicitRequestFormParams)
        self.asked.append(params)
        self.ids.append(context.request_id)
        if self.before_answer is not None:
            await self.before_answer(context.request_id)
        if self.answer is None:
            try:
                await anyio.sleep(TIMEOUT_S * 5)
            except anyio.get_cancelled_exc_class():
                self.cancelled = True  # the gateway sent notifications/cancelled
                raise
            return types.ElicitResult(action="cancel")
        return self.answer


def _accept(approve: Any, reason: str | None = None) -> types.ElicitResult:
    content: dict[str, Any] = {"approve": approve}
    if reason is not None:
        content["reason"] = reason
    return types.ElicitResult(action="accept", content=content)


@dataclass
class Gw:
    url: str
    db: Path


@pytest.fixture(scope="module")
def gw(start_gateway: GatewayStarter, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gw]:
    workdir = tmp_path_factory.mktemp("elicit")
    (workdir / "policy.yaml").write_text(POLICY, encoding="utf-8")
    config = {
        "upstreams": {"fx": upstream_entry("fx")},
        "policy": str(workdir / "policy.yaml"),
        "storage": {"db": str(workdir / "warden.db")},
        "interceptors": {"approval": {"timeout_s": TIMEOUT_S}, "scanning": {"enabled": False}},
    }
    base, _ = start_gateway(config)
    yield Gw(base, workdir / "warden.db")


def _text(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


async def _approvals(db: Path, call_tool: str = "read_file") -> list[Approval]:
    with SqliteLiveState(db, redact=mask_secrets) as state:
        return [a for a in await state.list_approvals(None) if a.tool == call_tool]


async def _pending(state: SqliteLiveState) -> str:
    """The id of the pending read_file approval, once the gateway has queued it."""
    with anyio.fail_after(10):
        for _ in range(1000):
            pending = [a for a in await state.list_approvals() if a.tool == "read_file"]
            if pending:
                return pending[0].id
            await anyio.sleep(0.02)
    raise AssertionError("no approval was queued")


def _call_record(db: Path, approval_id: str) -> Any:
    records = SqliteAuditLog(db, redact=str).records()
    found = [r for r in records if r.event == "call" and f"approval.{approval_id}" in r.reasons]
    assert len(found) == 1, [r.reasons for r in records]
    return found[0]


def _approval_id(text: str) -> str:
    return text.split("[approval.", 1)[1].split("]", 1)[0]


def _answer_records(db: Path, approval_id: str) -> list[Any]:
    """The audit trail's `approval` events about one approval (how, by whom and why it was answered)."""
    records = SqliteAuditLog(db, redact=str).records()
    return [r for r in records if r.event == "approval" and r.detail.startswith(f"approval {approval_id} ")]


def _assert_answer_recorded(db: Path, approval_id: str, call: Any, approve: bool, reason: str) -> None:
    (answer,) = _answer_records(db, approval_id)
    assert (answer.principal, answer.session, answer.call_id) == ("local", call.session, call.call_id)
    assert (answer.upstream, answer.tool) == ("fx", "read_file")
    assert answer.decision == ("allow" if approve else "deny") and answer.outcome == (
        "approved" if approve else "denied"
    )
    assert answer.detail == f"approval {approval_id} via elicitation: {reason}"
    assert answer.seq < call.seq  # the answer is in the chain before the call it decided


ANSWERS = [
    ("approve", _accept(True, "ticket OPS-7"), True, "approved by local via elicitation: ticket OPS-7"),
    ("decline", types.ElicitResult(action="decline"), False, "denied by local via elicitation: declined"),
    ("cancel", types.ElicitResult(action="cancel"), False, "denied by local via elicitation: cancelled"),
    ("approve-false", _accept(False, "not this file"), False, "denied by local via elicitation: not this file"),
    ("error", types.ErrorData(code=-32600, message="no UI here"), False, "the client could not ask: no UI here"),
    ("silent", None, False, "got no answer within 2 s"),
]


@pytest.mark.parametrize(("label", "answer", "passes", "fragment"), ANSWERS, ids=[a[0] for a in ANSWERS])
async def test_http_client_is_asked_through_elicitation(
    gw: Gw, label: str, answer: Any, passes: bool, fragment: str
) -> None:
    human = Human(answer)
    started = time.monotonic()
    async with mcp.Client(f"{gw.url}/mcp", mode="legacy", elicitation_callback=human) as client:
        result = await client.call_tool("fx__read_file", {"path": f"/srv/{SECRET}"})
        other = await client.call_tool("fx__echo", {"text": "no approval needed"})
    elapsed = time.monotonic() - started
    text = _text(result)
    assert not other.is_error and len(human.asked) == 1  # only the asking rule's tool was held
    asked = human.asked[0]
    assert "fx__read_file" in asked.message and "upstream fx" in asked.message and "human-reads" in asked.message
    assert "/srv/" in asked.message and SECRET not in asked.message  # arguments shown, secrets masked
    assert asked.requested_schema["properties"]["approve"]["type"] == "boolean"
    assert asked.requested_schema["required"] == ["approve"]
    assert isinstance(human.ids[0], str) and human.ids[0].startswith("mcpwarden-")
    if passes:
        assert not result.is_error and text == f"contents of /srv/{SECRET}"
        decided = [
            a for a in await _approvals(gw.db) if a.decided_by == "local via elicitation" and a.status == "approved"
        ]
        assert any(a.decision_reason == "ticket OPS-7" for a in decided)
        record = _call_record(gw.db, decided[-1].id)
        assert record.outcome == "ok" and record.principal == "local"
        assert record.decision == "allow"  # where the call ended up; the ask and its answer stay in the verdicts
        assert [(v.source, v.decision) for v in record.verdicts if v.decision != "allow" or v.source == "approval"] == [
            ("authz", "ask"),
            ("approval", "allow"),
        ]
        assert any(v.source == "approval" and v.decision == "allow" and fragment in v.message for v in record.verdicts)
        _assert_answer_recorded(gw.db, decided[-1].id, record, True, "ticket OPS-7")
        return
    assert result.is_error and fragment in text and "human-reads" in text
    approval_id = _approval_id(text)
    (queued,) = [a for a in await _approvals(gw.db) if a.id == approval_id]
    record = _call_record(gw.db, approval_id)
    assert record.decision == "deny" and record.principal == "local"
    assert [v.decision for v in record.verdicts if v.source in ("authz", "approval")] == ["ask", "deny"]
    if label == "silent":
        assert queued.status == "expired" and elapsed >= TIMEOUT_S and human.cancelled
        assert not _answer_records(gw.db, approval_id)  # nobody answered
    else:
        assert queued.status == "denied" and queued.decided_by == "local via elicitation"
        assert elapsed < TIMEOUT_S  # the answer decided: nothing waited for the timeout
        _assert_answer_recorded(gw.db, approval_id, record, False, queued.decision_reason or "")


async def test_client_without_the_capability_is_not_asked_and_the_queue_decides(gw: Gw) -> None:
    """No capability declared: only the queue asks; here a local operator answers through the HTTP API.

    Had the gateway sent this client an elicitation anyway, the SDK would have answered "not
    supported" (an error), which denies at once: the call passing shows nobody asked the client.
    """
    approved: list[Any] = []

    async def operator() -> None:
        with SqliteLiveState(gw.db, redact=mask_secrets) as state:
            approval_id = await _pending(state)
        async with httpx2.AsyncClient(base_url=gw.url, timeout=10) as http:  # no key: a loopback gateway without auth
            answer = await http.post(f"/approvals/{approval_id}/approve", json={"reason": "from the queue"})
        approved.append(answer.json()["approval"]["decided_by"])

    async with mcp.Client(f"{gw.url}/mcp", mode="legacy") as client, anyio.create_task_group() as tg:
        tg.start_soon(operator)
        result = await client.call_tool("fx__read_file", {"path": "/srv/q"})
    assert not result.is_error and _text(result) == "contents of /srv/q"
    assert approved == ["local via HTTP API"]


async def test_queue_answer_first_wins_and_the_client_request_is_cancelled(gw: Gw) -> None:
    """An operator answers in the queue while the client still shows the question: the operator's answer counts."""
    human = Human(None)

    async def operator(_: Any) -> None:
        with SqliteLiveState(gw.db, redact=mask_secrets) as state:
            pending = [a for a in await state.list_approvals() if a.tool == "read_file"]
            await state.decide(pending[0].id, False, "dana", "not during the freeze")

    human.before_answer = operator
    async with mcp.Client(f"{gw.url}/mcp", mode="legacy", elicitation_callback=human) as client:
        result = await client.call_tool("fx__read_file", {"path": "/srv/freeze"})
    assert result.is_error and "denied by dana: not during the freeze" in _text(result)
    assert human.cancelled
    assert not _answer_records(gw.db, _approval_id(_text(result)))  # the client's answer came too late to count


async def test_an_answer_from_another_session_is_ignored(gw: Gw) -> None:
    """Another session (same principal, here `local`) posts an approval for the request id: it finds no waiter."""
    forged: list[int] = []

    async def forge(request_id: Any) -> None:
        async with httpx2.AsyncClient(base_url=gw.url, headers=HEADERS, timeout=10) as http:
            init = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "x", "version": "1"},
                },
            }
            session = (await http.post("/mcp", json=init)).headers["mcp-session-id"]
            answer = {"jsonrpc": "2.0", "id": request_id, "result": {"action": "accept", "content": {"approve": True}}}
            forged.append((await http.post("/mcp", json=answer, headers={"mcp-session-id": session})).status_code)
            forged.append((await http.post("/mcp", json=answer)).status_code)  # no session at all

    human = Human(types.ElicitResult(action="decline"), before_answer=forge)
    async with mcp.Client(f"{gw.url}/mcp", mode="legacy", elicitation_callback=human) as client:
        result = await client.call_tool("fx__read_file", {"path": "/srv/forged"})
    assert forged == [202, 400]
    assert result.is_error and "declined" in _text(result)


async def test_stateless_client_uses_the_queue(gw: Gw) -> None:
    """2026-07-28 has no server-initiated requests on a session: the call is queued even with a callback."""
    human = Human(_accept(True))

    async def operator() -> None:
        with SqliteLiveState(gw.db, redact=mask_secrets) as state:
            await state.decide(await _pending(state), True, "dana")

    async with (
        mcp.Client(f"{gw.url}/mcp", mode=MODERN_PROTOCOL_VERSIONS[0], elicitation_callback=human) as client,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(operator)
        result = await client.call_tool("fx__read_file", {"path": "/srv/modern"})
    assert not result.is_error and not human.asked


def _wrapped(home: Path) -> StdioServerParameters:
    interceptors = {"approval": {"timeout_s": TIMEOUT_S}, "scanning": {"enabled": False}}  # scanning: tested elsewhere
    config = {"interceptors": interceptors, "policy": str(home / "policy.yaml")}
    (home / "policy.yaml").write_text(POLICY, encoding="utf-8")
    (home / "warden.yaml").write_text(json.dumps(config), encoding="utf-8")
    command = [str(RUN_CLI), "wrap", "--config", str(home / "warden.yaml"), "--name", "fx", "--"]
    env = {"PATH": os.environ.get("PATH", ""), "MCPWARDEN_HOME": str(home)}
    return StdioServerParameters(command=sys.executable, args=[*command, sys.executable, str(UPSTREAM)], env=env)


STDIO_ANSWERS = [a for a in ANSWERS if a[0] in ("approve", "decline", "silent")]


class Answers(Human):
    """A human who gives the next of several answers each time it is asked (one wrap process for all)."""

    def __init__(self, answers: list[Any]) -> None:
        super().__init__(None)
        self.queue = list(answers)

    async def __call__(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        self.answer = self.queue.pop(0)
        return await super().__call__(context, params)


async def test_stdio_client_is_asked_through_elicitation(tmp_path: Path) -> None:
    human = Answers([answer for _, answer, _, _ in STDIO_ANSWERS])
    results = []
    async with mcp.Client(_wrapped(tmp_path), mode="legacy", elicitation_callback=human) as client:
        for label, *_ in STDIO_ANSWERS:
            results.append(await client.call_tool("read_file", {"path": f"/srv/{label}"}))
    assert len(human.asked) == len(STDIO_ANSWERS) and human.cancelled  # the silent one was cancelled at the timeout
    assert all("read_file" in a.message and "human-reads" in a.message for a in human.asked)
    db = tmp_path / "mcpwarden.db"
    queued = await _approvals(db)
    assert len(queued) == len(STDIO_ANSWERS)
    for (label, _, passes, fragment), result, approval in zip(STDIO_ANSWERS, results, queued, strict=True):
        record = _call_record(db, approval.id)
        assert any(v.source == "approval" and fragment in v.message for v in record.verdicts), label
        assert record.decision == ("allow" if passes else "deny"), label
        assert len(_answer_records(db, approval.id)) == (0 if label == "silent" else 1), label
        if passes:
            assert not result.is_error and _text(result) == f"contents of /srv/{label}"
            assert approval.status == "approved" and approval.decided_by == "local via elicitation"
        else:
            assert result.is_error and fragment in _text(result) and "human-reads" in _text(result)
            assert approval.status == ("expired" if label == "silent" else "denied")


@pytest.mark.parametrize(
    ("capabilities", "era", "asks"),
    [
        ({"elicitation": {}}, "legacy", True),
        ({"elicitation": {"form": {}, "url": {}}}, "legacy", True),
        ({"elicitation": {"url": {}}}, "legacy", False),  # URL mode only: no form to show
        ({"elicitation": True}, "legacy", False),
        ({}, "legacy", False),
        ({"elicitation": {}}, "modern", False),
    ],
)
def test_which_sessions_are_asked(capabilities: dict[str, Any], era: str, asks: bool) -> None:
    session = Session("s", Principal("p"), era, "2025-11-25", {}, capabilities=capabilities)  # type: ignore[arg-type]
    assert session.supports_elicitation is asks


async def test_replies_route_by_id_once_and_only_strings() -> None:
    session = Session("s", Principal("p"), "legacy", "2025-11-25")
    expected = session.expect_reply()
    assert expected is not None
    request_id, replies = expected
    assert request_id.startswith("mcpwarden-") and len(request_id) > 26
    numeric = parse_message('{"jsonrpc":"2.0","id":1,"result":{}}')
    other = parse_message('{"jsonrpc":"2.0","id":"mcpwarden-other","result":{}}')
    right = parse_message(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": {"action": "decline"}}))
    assert not session.deliver(numeric) and not session.deliver(other)
    assert session.deliver(right) and not session.deliver(right)  # delivered once; a replay finds no waiter
    assert (await replies.receive()).members["result"].value == {"action": "decline"}
