"""End to end over real HTTP: the SDK client (both eras) → the gateway process → real upstream servers."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import anyio
import httpx2
import mcp
import pytest
from mcp.client.streamable_http import streamable_http_client

from tests.gateway.conftest import UPSTREAM

pytestmark = pytest.mark.anyio
MODES = ["legacy", "auto"]
JSON_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


@pytest.mark.parametrize("mode", MODES)
async def test_lists_namespaced_tools_from_every_upstream(gateway_url: str, mode: str) -> None:
    async with mcp.Client(f"{gateway_url}/mcp", mode=mode) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        prompts = {prompt.name for prompt in (await client.list_prompts()).prompts}
        assert client.server_info is not None and client.server_info.name == "mcpwarden"
    for upstream in ("fx", "other", "web"):
        assert {f"{upstream}__echo", f"{upstream}__weather", f"{upstream}__read_file"} <= names
        assert f"{upstream}__greet" in prompts
    assert "echo" not in names


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("upstream", ["fx", "web"])
async def test_allowed_call_passes_unchanged(gateway_url: str, mode: str, upstream: str) -> None:
    text = 'héllo wörld \u2028 {"json": [1, 2]} ' * 20
    async with mcp.Client(f"{gateway_url}/mcp", mode=mode) as client:
        result = await client.call_tool(f"{upstream}__echo", {"text": text})
    through = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    # echo returns its argument: as one text block and as the structured {"result": …} of a str tool.
    assert through["content"] == [{"type": "text", "text": text}]
    assert through["structuredContent"] == {"result": text}
    assert through.get("isError") is False


def _raw_upstream_line(request: dict[str, Any]) -> str:
    """The exact line the upstream writes for `request` (after a handshake), straight from its stdout."""
    handshake = [_init(0), {"jsonrpc": "2.0", "method": "notifications/initialized"}]
    process = subprocess.Popen(
        [sys.executable, str(UPSTREAM), "--name", "fx"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write("".join(json.dumps(m) + "\n" for m in [*handshake, request]).encode())
        process.stdin.flush()
        wanted = f'"id":{json.dumps(request["id"])}'
        while wanted not in (line := process.stdout.readline().decode()):
            assert line, "the upstream ended without answering"
        return line.rstrip("\n")
    finally:
        process.kill()
        process.wait(timeout=10)


async def test_forwarded_result_bytes_are_the_upstreams(gateway_url: str) -> None:
    """Raw JSON-RPC: the result text the client gets is the upstream's, byte for byte."""
    arguments = {"text": 'x\\y\u00e9 \u2028 \ud83d\ude00 "q"'}
    call = {"jsonrpc": "2.0", "id": "abc", "method": "tools/call", "params": {"name": "echo", "arguments": arguments}}
    direct = _raw_upstream_line(call)
    async with httpx2.AsyncClient(base_url=gateway_url, headers=JSON_HEADERS) as http:
        init = await http.post("/mcp", json=_init(1))
        session = {"mcp-session-id": init.headers["mcp-session-id"]}
        via = {**call, "params": {"name": "fx__echo", "arguments": arguments}}
        reply = await http.post("/mcp", content=json.dumps(via), headers=session)
    assert reply.status_code == 200
    prefix = '{"jsonrpc":"2.0","id":"abc","result":'
    assert reply.content.decode().startswith(prefix) and direct.startswith(prefix)
    assert reply.content.decode() == direct


@pytest.mark.parametrize("mode", MODES)
async def test_argument_constraint_refuses_with_rule_id(gateway_url: str, mode: str) -> None:
    async with mcp.Client(f"{gateway_url}/mcp", mode=mode) as client:
        refused = await client.call_tool("fx__read_file", {"path": "/srv/data/../../etc/passwd"})
        allowed = await client.call_tool("fx__read_file", {"path": "/srv/data/report.txt"})
        wrong_type = await client.call_tool("fx__echo", {"text": 42})
    assert refused.is_error and "constraints.paths" in refused.content[0].text
    assert not allowed.is_error and allowed.content[0].text == "contents of /srv/data/report.txt"
    assert wrong_type.is_error and "constraints.schema" in wrong_type.content[0].text


@pytest.mark.parametrize("mode", MODES)
async def test_injected_output_is_redacted_and_secrets_masked(gateway_url: str, mode: str) -> None:
    async with mcp.Client(f"{gateway_url}/mcp", mode=mode) as client:
        weather = await client.call_tool("other__weather", {"city": "Oslo"})
        deploy = await client.call_tool("web__deploy_status", {})
    text = weather.content[0].text
    assert text.startswith("Weather in Oslo: Sunny, 21 degrees.")
    assert "ignore all previous instructions" not in text.lower()
    assert "[redacted by mcpwarden: " in text and "MW300" in text
    assert "MW300" in weather.content[-1].text  # the note naming the rule
    assert "ignore all previous" not in json.dumps(weather.structured_content).lower()
    status = deploy.content[0].text
    assert status.startswith("deployed; the pipeline used token ghp_") and "******" in status


@pytest.mark.parametrize("mode", MODES)
async def test_prompt_and_resource_are_routed(gateway_url: str, mode: str) -> None:
    async with mcp.Client(f"{gateway_url}/mcp", mode=mode) as client:
        prompt = await client.get_prompt("other__greet", {"person": "Ada"})
        resources = await client.list_resources()
        contents = await client.read_resource("note://welcome")
    assert prompt.messages[0].content.text == "Say hello to Ada."  # type: ignore[union-attr]
    assert [str(r.uri) for r in resources.resources].count("note://welcome") == 1  # later duplicates hidden
    assert contents.contents[0].text == "Welcome to the test server."  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", MODES)
async def test_reserved_meta_is_the_gateways_own(gateway_url: str, mode: str) -> None:
    async with mcp.Client(f"{gateway_url}/mcp", mode=mode) as client:
        result = await client.call_tool("fx__stamped", {})
    meta = result.meta or {}
    assert meta.get("trace") == "t-1"
    assert "upstream-secret-name" not in json.dumps(meta)
    server_info = meta.get("io.modelcontextprotocol/serverInfo")
    assert server_info is None if mode == "legacy" else server_info["name"] == "mcpwarden"


async def test_progress_notifications_reach_the_caller(gateway_url: str) -> None:
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async with mcp.Client(f"{gateway_url}/mcp", mode="legacy") as client:
        result = await client.call_tool("fx__count", {"steps": 3}, progress_callback=on_progress)
    assert result.content[0].text == "counted 3"
    assert seen == [1.0, 2.0, 3.0]


def _init(request_id: int) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }


BAD_BODIES = [
    ("not json", b"{nope", 400, -32700),
    ("truncated", b'{"jsonrpc":"2.0","id":1,"method":"tools/list"', 400, -32700),
    (
        "deep nesting",
        b'{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":' + b"[" * 200 + b"]" * 200 + b"}}",
        400,
        -32600,
    ),
    ("no method", b'{"jsonrpc":"2.0","id":7}', 400, -32600),
    ("bad version", b'{"jsonrpc":"1.0","id":7,"method":"tools/list"}', 400, -32600),
    ("params not object", b'{"jsonrpc":"2.0","id":7,"method":"tools/list","params":[1]}', 400, -32600),
    ("duplicate key", b'{"jsonrpc":"2.0","id":7,"method":"tools/list","method":"x"}', 400, -32700),
    ("oversized", b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"' + b"a" * 70000 + b'"}}', 413, -32600),
    ("unknown method", b'{"jsonrpc":"2.0","id":9,"method":"no/such"}', 200, -32601),
]


@pytest.mark.parametrize(("label", "body", "status", "code"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
async def test_bad_messages_get_json_rpc_errors(
    gateway_url: str, label: str, body: bytes, status: int, code: int
) -> None:
    async with httpx2.AsyncClient(base_url=gateway_url, headers=JSON_HEADERS, timeout=10) as http:
        init = await http.post("/mcp", json=_init(1))
        reply = await http.post("/mcp", content=body, headers={"mcp-session-id": init.headers["mcp-session-id"]})
        assert reply.status_code == status
        error = reply.json()["error"]
        assert error["code"] == code
        if label in ("no method", "bad version", "params not object", "unknown method"):
            assert reply.json()["id"] in (7, 9)
        alive = await http.post(
            "/mcp",
            json={"jsonrpc": "2.0", "id": 2, "method": "ping"},
            headers={"mcp-session-id": init.headers["mcp-session-id"]},
        )
        assert alive.json() == {"jsonrpc": "2.0", "id": 2, "result": {}}


async def test_batch_answers_each_entry(gateway_url: str) -> None:
    async with httpx2.AsyncClient(base_url=gateway_url, headers=JSON_HEADERS) as http:
        init = await http.post("/mcp", json=_init(1))
        batch = [
            {"jsonrpc": "2.0", "id": 1, "method": "ping"},
            5,
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
        ]
        reply = await http.post("/mcp", json=batch, headers={"mcp-session-id": init.headers["mcp-session-id"]})
    answers = reply.json()
    assert {"jsonrpc": "2.0", "id": 1, "result": {}} in answers
    assert any(a.get("error", {}).get("code") == -32600 for a in answers)
    assert len(answers) == 2


HTTP_CHECKS = [
    ("foreign origin", {"origin": "https://evil.example"}, 403),
    ("own origin", {"origin": "http://127.0.0.1:{port}"}, 200),
    ("rebinding host", {"host": "evil.example:{port}"}, 421),
    ("unknown version", {"mcp-protocol-version": "1999-01-01"}, 400),
]


@pytest.mark.parametrize(("label", "headers", "status"), HTTP_CHECKS, ids=[c[0] for c in HTTP_CHECKS])
async def test_http_level_checks(gateway_url: str, label: str, headers: dict[str, str], status: int) -> None:
    port = gateway_url.rsplit(":", 1)[1]
    headers = {k: v.format(port=port) for k, v in headers.items()}
    async with httpx2.AsyncClient(base_url=gateway_url, timeout=10) as http:
        reply = await http.post("/mcp", json=_init(1), headers={**JSON_HEADERS, **headers})
    assert reply.status_code == status


@pytest.mark.parametrize(
    ("method", "session", "status"),
    [("POST", None, 400), ("POST", "unknown-session", 404), ("GET", "unknown-session", 404), ("DELETE", None, 400)],
)
async def test_session_rules(gateway_url: str, method: str, session: str | None, status: int) -> None:
    headers = {**JSON_HEADERS, **({"mcp-session-id": session} if session else {})}
    async with httpx2.AsyncClient(base_url=gateway_url, timeout=10) as http:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}) if method == "POST" else None
        reply = await http.request(method, "/mcp", content=body, headers=headers)
    assert reply.status_code == status


async def test_session_ids_are_long_and_deleted_sessions_end(gateway_url: str) -> None:
    async with httpx2.AsyncClient(base_url=gateway_url, headers=JSON_HEADERS, timeout=10) as http:
        ids = [(await http.post("/mcp", json=_init(1))).headers["mcp-session-id"] for _ in range(3)]
        assert len(set(ids)) == 3 and all(len(i) >= 32 for i in ids)
        assert (await http.delete("/mcp", headers={"mcp-session-id": ids[0]})).status_code == 200
        after = await http.post(
            "/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers={"mcp-session-id": ids[0]}
        )
    assert after.status_code == 404


async def test_upstream_dying_mid_call_gives_error_and_restarts(gateway_url: str) -> None:
    async with mcp.Client(f"{gateway_url}/mcp", mode="legacy") as client:
        with pytest.raises(mcp.MCPError) as caught:
            await client.call_tool("other__crash", {})
        assert "other" in str(caught.value)
        with anyio.fail_after(20):
            while True:
                try:
                    result = await client.call_tool("other__echo", {"text": "back"})
                    break
                except mcp.MCPError:
                    await anyio.sleep(0.2)
    assert result.content[0].text == "back"
    async with httpx2.AsyncClient(base_url=gateway_url) as http:
        health = (await http.get("/healthz")).json()
    assert health["upstreams"]["other"]["restarts"] >= 1
    assert health["detection"] == "ready"  # a call went through: the engine's databases were loaded


async def test_metrics_count_calls_and_denials(gateway_url: str) -> None:
    async with mcp.Client(f"{gateway_url}/mcp", mode="auto") as client:
        await client.call_tool("fx__echo", {"text": "m"})
        await client.call_tool("fx__read_file", {"path": "/root/x"})
    async with httpx2.AsyncClient(base_url=gateway_url) as http:
        text = (await http.get("/metrics")).text
    assert 'mcpwarden_calls_total{outcome="allowed",tool="fx__echo",upstream="fx"}' in text
    assert 'mcpwarden_denials_total{reason="constraints.paths",source="constraints"}' in text
    assert "mcpwarden_call_duration_seconds_bucket" in text


KEYS = {"ALICE_KEY": "alice-key-0123456789abcdef", "BOT_KEY": "bot-key-0123456789abcdefgh"}


@pytest.fixture(scope="module")
def auth_gateway_url(start_gateway: Any) -> str:
    config = {
        "upstreams": {"fx": {"command": sys.executable, "args": [str(UPSTREAM), "--name", "fx"]}},
        "clients": [
            {"id": "desktop", "api_key": "env:ALICE_KEY", "principal": {"id": "alice", "kind": "user"}},
            {"id": "bot", "api_key": "env:BOT_KEY"},
        ],
    }
    base, _ = start_gateway(config, env=KEYS, key=KEYS["BOT_KEY"])
    return base


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"authorization": "Bearer wrong-key-0000000000"}, 401), ({"x-api-key": KEYS["BOT_KEY"]}, 200)],
)
async def test_configured_clients_must_present_a_key(
    auth_gateway_url: str, headers: dict[str, str], status: int
) -> None:
    async with httpx2.AsyncClient(base_url=auth_gateway_url, timeout=10) as http:
        reply = await http.post("/mcp", json=_init(1), headers={**JSON_HEADERS, **headers})
        metrics = await http.get("/metrics", headers=headers)
    assert reply.status_code == status and metrics.status_code == status


@pytest.mark.parametrize("mode", MODES)
async def test_sdk_client_with_a_key_calls_tools(auth_gateway_url: str, mode: str) -> None:
    http = httpx2.AsyncClient(headers={"authorization": f"Bearer {KEYS['ALICE_KEY']}"}, timeout=30)
    async with (
        http,
        mcp.Client(streamable_http_client(f"{auth_gateway_url}/mcp", http_client=http), mode=mode) as client,
    ):
        result = await client.call_tool("fx__echo", {"text": "authenticated"})
    assert result.content[0].text == "authenticated"


async def test_a_session_belongs_to_the_principal_that_opened_it(auth_gateway_url: str) -> None:
    async with httpx2.AsyncClient(base_url=auth_gateway_url, headers=JSON_HEADERS, timeout=10) as http:
        init = await http.post("/mcp", json=_init(1), headers={"x-api-key": KEYS["ALICE_KEY"]})
        session = init.headers["mcp-session-id"]
        ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
        own = await http.post("/mcp", json=ping, headers={"x-api-key": KEYS["ALICE_KEY"], "mcp-session-id": session})
        stolen = await http.post("/mcp", json=ping, headers={"x-api-key": KEYS["BOT_KEY"], "mcp-session-id": session})
    assert own.status_code == 200 and stolen.status_code == 404
