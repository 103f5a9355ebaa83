"""The approvals HTTP API (`/approvals`) on the real gateway: who may answer, and what an answer does.

An agent (API key) calls a tool a policy rule `ask`s for, without elicitation, so the call waits in
the queue; a dashboard (another API key, or an OAuth principal in an admin group) answers through
the API, and the held call goes on or is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp
import pytest
from mcp.client.streamable_http import streamable_http_client

from mcpwarden.storage.audit_sqlite import SqliteAuditLog
from tests.conftest import free_port
from tests.fixtures.oauth.harness import AuthServer, start_authorization_server
from tests.gateway.conftest import GatewayStarter, _stop, cli_command, upstream_entry, wait_healthy

pytestmark = pytest.mark.anyio
KEYS = {"AGENT_KEY": "agent-key-0123456789abcdef", "DASH_KEY": "dash-key-0123456789abcdefgh"}
SECRET = "ghp_" + "Q1w2E3r4" * 5
POLICY = """\
version: 1
rules:
  - id: human-reads
    ask: {tools: ["fx/read_file"]}
"""
SCOPE = "mcp:tools"


@dataclass
class Gw:
    base: str
    db: Path


@pytest.fixture(scope="module")
def gw(start_gateway: GatewayStarter, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gw]:
    workdir = tmp_path_factory.mktemp("approvals-api")
    (workdir / "policy.yaml").write_text(POLICY, encoding="utf-8")
    config = {
        "upstreams": {"fx": upstream_entry("fx")},
        "clients": [
            {"id": "agent", "api_key": "env:AGENT_KEY", "principal": {"id": "agent-1"}},
            {"id": "dashboard", "api_key": "env:DASH_KEY", "principal": {"id": "ops-dash", "kind": "user"}},
        ],
        "policy": str(workdir / "policy.yaml"),
        "storage": {"db": str(workdir / "warden.db")},
        "interceptors": {"approval": {"timeout_s": 15}, "scanning": {"enabled": False}},
    }
    base, _ = start_gateway(config, env=KEYS, key=KEYS["DASH_KEY"])
    yield Gw(base, workdir / "warden.db")


def _key(name: str) -> dict[str, str]:
    return {"x-api-key": KEYS[name]}


async def _held(http: httpx2.AsyncClient, path: str) -> dict[str, Any]:
    """The pending approval of the agent's read_file call on `path`, once it is queued."""
    with anyio.fail_after(10):
        for _ in range(1000):
            listed = (await http.get("/approvals", headers=_key("DASH_KEY"))).json()["approvals"]
            found = [a for a in listed if path in json.dumps(a["arguments"])]
            if found:
                return found[0]
            await anyio.sleep(0.02)
    raise AssertionError("the call was not queued")


async def _agent_call(gw: Gw, path: str) -> Any:
    http = httpx2.AsyncClient(headers=_key("AGENT_KEY"), timeout=30)
    async with http, mcp.Client(streamable_http_client(f"{gw.base}/mcp", http_client=http), mode="legacy") as client:
        return await client.call_tool("fx__read_file", {"path": path})


def _text(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/approvals", {}, 401),
        ("GET", "/approvals", {"x-api-key": "wrong-key-000000000000"}, 401),
        ("POST", "/approvals/abc/approve", {}, 401),
        ("GET", "/approvals?status=bogus", _key("DASH_KEY"), 400),
        ("GET", "/approvals/0123456789ab", _key("DASH_KEY"), 404),
        ("POST", "/approvals/0123456789ab/approve", _key("DASH_KEY"), 404),
        ("GET", "/approvals/0123456789ab/approve", _key("DASH_KEY"), 405),
        ("POST", "/approvals", _key("DASH_KEY"), 405),
        ("POST", "/approvals/0123456789ab/frobnicate", _key("DASH_KEY"), 404),
        ("GET", "/approvals?status=all", _key("DASH_KEY"), 200),
    ],
)
async def test_requests_are_checked(gw: Gw, method: str, path: str, headers: dict[str, str], status: int) -> None:
    async with httpx2.AsyncClient(base_url=gw.base, timeout=10) as http:
        response = await http.request(method, path, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json" and ("error" in response.json()) is (status != 200)


async def test_dashboard_approves_a_held_call_and_the_agent_cannot_approve_itself(gw: Gw) -> None:
    path = f"/srv/{SECRET}/approve"
    result: Any = None
    answers: dict[str, httpx2.Response] = {}

    async def agent() -> None:
        nonlocal result
        result = await _agent_call(gw, path)

    async with httpx2.AsyncClient(base_url=gw.base, timeout=10) as http, anyio.create_task_group() as tg:
        tg.start_soon(agent)
        held = await _held(http, "/approve")
        url = f"/approvals/{held['id']}"
        body = {"reason": "ticket OPS-9"}
        answers["self"] = await http.post(f"{url}/approve", json=body, headers=_key("AGENT_KEY"))
        answers["text"] = await http.post(
            f"{url}/approve", content=b"yes", headers={**_key("DASH_KEY"), "content-type": "text/plain"}
        )
        answers["extra"] = await http.post(
            f"{url}/approve", json={"reason": "x", "by": "root"}, headers=_key("DASH_KEY")
        )
        answers["big"] = await http.post(f"{url}/approve", json={"reason": "x" * 20_000}, headers=_key("DASH_KEY"))
        answers["ok"] = await http.post(f"{url}/approve", json=body, headers=_key("DASH_KEY"))
        answers["again"] = await http.post(f"{url}/deny", json={"reason": "too late"}, headers=_key("DASH_KEY"))
        answers["one"] = await http.get(url, headers=_key("DASH_KEY"))
    assert held["tool"] == "read_file" and held["principal"] == "agent-1" and held["status"] == "pending"
    assert SECRET not in json.dumps(held) and "human-reads" in held["reason"]
    assert answers["self"].status_code == 403 and "own call" in answers["self"].json()["error"]
    assert [answers[k].status_code for k in ("text", "extra", "big")] == [415, 400, 413]
    assert answers["ok"].status_code == 200
    assert answers["ok"].json()["approval"]["decided_by"] == "ops-dash via HTTP API"
    assert answers["again"].status_code == 409 and "already approved" in answers["again"].json()["error"]
    assert answers["one"].json()["approval"]["status"] == "approved"
    assert not result.is_error and _text(result) == f"contents of {path}"
    events = [r for r in SqliteAuditLog(gw.db, redact=str).records() if r.event == "approval"]
    mine = [r for r in events if r.detail.startswith(f"approval {held['id']}")]
    assert len(mine) == 1 and mine[0].principal == "ops-dash" and mine[0].decision == "allow"
    assert "ticket OPS-9" in mine[0].detail and mine[0].session == held["session"]


async def test_dashboard_denies_a_held_call_with_a_reason(gw: Gw) -> None:
    result: Any = None

    async def agent() -> None:
        nonlocal result
        result = await _agent_call(gw, "/srv/deny")

    async with httpx2.AsyncClient(base_url=gw.base, timeout=10) as http, anyio.create_task_group() as tg:
        tg.start_soon(agent)
        held = await _held(http, "/srv/deny")
        url = f"/approvals/{held['id']}/deny"
        no_reason = await http.post(url, headers=_key("DASH_KEY"))
        denied = await http.post(url, json={"reason": "not on a Friday"}, headers=_key("DASH_KEY"))
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["error"]
    assert denied.status_code == 200 and denied.json()["approval"]["status"] == "denied"
    text = _text(result)
    assert result.is_error and f"approval.{held['id']}" in text and "not on a Friday" in text and "ops-dash" in text


@dataclass
class OAuthGw:
    base: str
    resource: str


@pytest.fixture(scope="module")
def oauth_gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OAuthGw, AuthServer]]:
    workdir = tmp_path_factory.mktemp("approvals-oauth")
    port = free_port()
    resource = f"http://127.0.0.1:{port}/mcp"
    with start_authorization_server() as idp:
        config = {
            "listen": {"port": port},
            "upstreams": {"fx": upstream_entry("fx")},
            "clients": [{"id": "health", "api_key": "health-key-0123456789abcdef"}],
            "auth": {
                "resource": resource,
                "authorization_servers": [idp.issuer],
                "required_scopes": [SCOPE],
                "allow_loopback_metadata": True,
            },
            "storage": {"db": str(workdir / "warden.db")},
            "interceptors": {"approval": {"admin_groups": ["secops"], "admin_scopes": ["mcpwarden:approve"]}},
        }
        path = workdir / "warden.yaml"
        path.write_text(json.dumps(config), encoding="utf-8")
        with (workdir / "gateway.log").open("wb") as log:
            process = subprocess.Popen(
                cli_command("gateway", "--config", str(path)),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env={**os.environ, "MCPWARDEN_HOME": str(workdir)},
            )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, process, upstreams=1, key="health-key-0123456789abcdef")
            yield OAuthGw(base, resource), idp
        finally:
            _stop(process)


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({"groups": ["secops"]}, 200),
        ({"scope": f"{SCOPE} mcpwarden:approve"}, 200),
        ({"groups": ["developers"]}, 403),
        ({}, 403),
        (None, 401),
    ],
)
def test_oauth_principals_need_an_admin_group_or_scope(
    oauth_gw: tuple[OAuthGw, AuthServer], claims: dict[str, Any] | None, status: int
) -> None:
    gw, idp = oauth_gw
    headers = {}
    if claims is not None:
        token = idp.mint({"sub": "carol", "aud": gw.resource, "scope": SCOPE, "client_id": "dash", **claims})
        headers["authorization"] = f"Bearer {token}"
    response = httpx2.get(f"{gw.base}/approvals", headers=headers, timeout=10)
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"approvals": []}
