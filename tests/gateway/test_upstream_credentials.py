"""Upstream credentials: an upstream sees only the gateway's own credentials, never the client's.

Real processes throughout: the OAuth authorization server fixture, upstream servers that record every
request's headers and body (`--record-headers`), and, for API-key clients, the gateway itself. Token
exchange runs in process, with the caller's token in `CALLER_TOKEN` as the HTTP front sets it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from mcpwarden.gateway.auth.context import CALLER_TOKEN
from mcpwarden.gateway.auth.upstream_credentials import (
    ClientAuth,
    ClientCredentials,
    CredentialError,
    TokenEndpoint,
    TokenExchange,
)
from mcpwarden.gateway.config import GatewayConfig, parse_config
from mcpwarden.gateway.core import Gateway
from mcpwarden.gateway.deps import GatewayDeps
from mcpwarden.gateway.http_client import HttpClient, HttpError
from mcpwarden.gateway.jsonrpc import UPSTREAM_UNAVAILABLE, Message, parse_client_payload
from mcpwarden.gateway.pool import make_upstream
from mcpwarden.gateway.testing import MemoryAuditSink
from mcpwarden.gateway.upstream import Upstream, UpstreamError
from mcpwarden.types import Principal, ServerSpec
from tests.conftest import free_port
from tests.fixtures.oauth.harness import AuthServer, start_authorization_server
from tests.gateway.conftest import UPSTREAM, GatewayStarter, _stop

pytestmark = pytest.mark.anyio
SECRET = "gw-secret-0a1b2c3d4e5f"
ENV = {"GW_SECRET": SECRET}
CLIENT_KEY = "client-api-key-0123456789abcdef"  # the client's own credential, sent as its bearer token
MARKER = "client-only-marker-7f3a9c"
CLIENT_HEADERS = {
    "authorization": f"Bearer {CLIENT_KEY}",
    "cookie": f"sid={MARKER}",
    "x-forwarded-for": MARKER,
    "x-upstream-token": MARKER,
    "proxy-authorization": f"Basic {MARKER}",
}
# Every header name an upstream may see: what the gateway's own HTTP clients set, nothing from a client.
GATEWAY_HEADERS = frozenset(
    {"host", "accept", "accept-encoding", "connection", "user-agent", "content-type", "content-length"}
    | {"mcp-session-id", "mcp-protocol-version", "authorization", "cache-control"}
)
TE = "urn:ietf:params:oauth:grant-type:token-exchange"


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def auth() -> Iterator[AuthServer]:
    with start_authorization_server() as server:
        yield server


class Recorded:
    """What reached one upstream: a recording fixture server, or one `/mcp/<label>` of a shared one."""

    def __init__(self, url: str, path: Path, label: str | None = None) -> None:
        self.url = url
        self.path = path
        self.label = label

    def exchanges(self) -> list[tuple[dict[str, str], str]]:
        """Each request's headers (lower-cased names; repeated names joined) and body, in arrival order."""
        requests: dict[int, tuple[dict[str, str], list[str]]] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if "headers" in record:
                if self.label is not None and record["path"] != f"/mcp/{self.label}":
                    continue
                headers: dict[str, str] = {":method": record["method"], ":path": record["path"]}
                for name, value in record["headers"]:
                    key = name.lower()
                    headers[key] = f"{headers[key]}, {value}" if key in headers else value
                requests[record["req"]] = (headers, [])
            elif record["req"] in requests:
                requests[record["req"]][1].append(record["body"])
        return [(headers, "".join(body)) for headers, body in requests.values()]

    def text(self) -> str:
        """Everything the server received, for every label (a token must not reach any of them)."""
        return self.path.read_text(encoding="utf-8")

    def requests(self) -> list[dict[str, str]]:
        return [headers for headers, _ in self.exchanges()]

    def bearers(self) -> list[str]:
        return [h["authorization"].removeprefix("Bearer ") for h in self.requests() if "authorization" in h]

    def bearer_of(self, fragment: str) -> str:
        """The bearer token sent with the one request whose body contains `fragment`."""
        (found,) = [h["authorization"] for h, body in self.exchanges() if fragment in body]
        return found.removeprefix("Bearer ")


def _wait_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the upstream fixture exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the upstream fixture did not start")


def _launch(directory: Path, *flags: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    path = directory / f"upstream-{port}.jsonl"
    path.touch()
    command = [sys.executable, str(UPSTREAM), "--name", "web", "--http", str(port), "--record-headers", str(path)]
    devnull = subprocess.DEVNULL
    process = subprocess.Popen([*command, *flags], stdin=devnull, stdout=devnull, stderr=devnull)
    _wait_port(port, process)  # a plain TCP probe: nothing is recorded
    return process, f"http://127.0.0.1:{port}/{'sse' if '--sse' in flags else 'mcp'}", path


@pytest.fixture(scope="module")
def shared_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One recording streamable-HTTP server; each test uses its own `/mcp/<label>` as a separate upstream."""
    process, url, path = _launch(tmp_path_factory.mktemp("upstream"))
    yield url, path
    _stop(process)


@pytest.fixture
def upstream(shared_upstream: tuple[str, Path], request: pytest.FixtureRequest) -> Callable[[str], Recorded]:
    """A recorded upstream named `label` (unique per test) on the shared server."""
    url, path = shared_upstream

    def make(label: str) -> Recorded:
        unique = f"{request.node.name.replace('[', '-').replace(']', '')}-{label}"
        return Recorded(f"{url}/{unique}", path, unique)

    return make


@pytest.fixture
def start_upstream(tmp_path: Path) -> Iterator[Callable[..., Recorded]]:
    """A recording server of its own (`--sse`, `--reject-first-auth`); stopped after the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*flags: str) -> Recorded:
        process, url, path = _launch(tmp_path, *flags)
        started.append(process)
        return Recorded(url, path)

    yield start
    for process in started:
        _stop(process)


def oauth(auth: AuthServer, kind: str, client_id: str, **extra: Any) -> dict[str, Any]:
    entry = {"type": kind, "token_endpoint": f"{auth.base_url}/token", "client_id": client_id}
    return {**entry, "client_secret": "env:GW_SECRET", "allow_loopback": True, **extra}


def spec_for(url: str, auth_entry: dict[str, Any] | None, *, transport: str = "http") -> ServerSpec:
    entry: dict[str, Any] = {"url": url, "transport": transport}
    if auth_entry is not None:
        entry["auth"] = auth_entry
    config = parse_config({"upstreams": {"web": entry}}, source="warden.yaml", base_dir=Path.cwd(), environ=ENV)
    return config.upstream("web")


@asynccontextmanager
async def connected(spec: ServerSpec) -> AsyncIterator[Upstream]:
    upstream = make_upstream(spec, on_notification=lambda _n, _m: None, startup_timeout=10.0, max_message_bytes=1 << 20)
    async with anyio.create_task_group() as tg:
        await tg.start(upstream.run)
        try:
            await upstream.wait_ready(10.0)
            yield upstream
        finally:
            tg.cancel_scope.cancel()


async def echo(upstream: Upstream, text: str, *, caller: str | None = None) -> str:
    """Call the upstream's echo tool as the gateway does for a client whose token is `caller`."""
    reset = CALLER_TOKEN.set(caller)
    try:
        params = json.dumps({"name": "echo", "arguments": {"text": text}})
        reply = await upstream.request("tools/call", params, timeout=10.0)
    finally:
        CALLER_TOKEN.reset(reset)
    result = reply.members["result"].value
    return str(result["content"][0]["text"])


def claims_of(auth: AuthServer, token: str) -> dict[str, Any]:
    """The claims of a token the authorization server signed (signature checked)."""
    key = RSAKey.import_key(auth.public_jwk("RS256"))
    return dict(jwt.decode(token, key, algorithms=["RS256"]).claims)


def _message(method: str, params: dict[str, Any], request_id: int = 1) -> Message:
    body = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
    parsed = parse_client_payload(body.encode(), max_bytes=10**6, max_depth=64, max_batch=1)
    assert isinstance(parsed, Message)
    return parsed


_INIT = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}


async def gateway_calls(base: str, texts: list[str], *, tool: str = "web__echo") -> list[dict[str, Any]]:
    """tools/call `tool` once per text through the gateway, as a client sending its own headers."""
    headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    async with httpx2.AsyncClient(base_url=base, headers={**headers, **CLIENT_HEADERS}, timeout=30) as http:
        init = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": _INIT})
        assert init.status_code == 200, init.text
        session = {"mcp-session-id": init.headers["mcp-session-id"]}
        await http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
        replies = []
        for i, text in enumerate(texts, 1):
            call = {"name": tool, "arguments": {"text": text}}
            message = {"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": call}
            reply = await http.post("/mcp", json=message, headers=session)
            replies.append(reply.json())
        return replies


def gateway_config(upstream: dict[str, Any], **extra: Any) -> dict[str, Any]:
    clients = [{"id": "desktop", "api_key": "env:DESKTOP_KEY", "principal": {"id": "alice", "kind": "user"}}]
    return {"upstreams": {"web": upstream}, "clients": clients, **extra}


def assert_nothing_of_the_client(recorded: Recorded, *client_secrets: str) -> None:
    text = recorded.text()
    for secret in (CLIENT_KEY, MARKER, *client_secrets):
        assert secret not in text
    names = {name for request in recorded.requests() for name in request if not name.startswith(":")}
    assert names <= GATEWAY_HEADERS | {"x-api-key"}, names - GATEWAY_HEADERS


# --- static credentials and header isolation, through the gateway process ---------------------------


async def test_each_upstream_gets_its_own_credential_and_nothing_from_the_client(
    auth: AuthServer, start_gateway: GatewayStarter, upstream: Callable[[str], Recorded]
) -> None:
    """One gateway, four HTTP upstreams (none, static bearer, static header, client credentials), API-key client."""
    auth.register_client("gw-cc", SECRET, scope="files.read files.write")
    plain, bearer, header, cc = (upstream(label) for label in ("plain", "bearer", "header", "cc"))
    cc_auth = oauth(auth, "client_credentials", "gw-cc", scope="files.read", resource=cc.url)
    upstreams = {
        "plain": {"url": plain.url},
        "bearer": {"url": bearer.url, "auth": {"type": "bearer", "token": "env:WEB_TOKEN"}},
        "header": {"url": header.url, "auth": {"type": "header", "name": "X-Api-Key", "value": "env:WEB_TOKEN"}},
        "cc": {"url": cc.url, "auth": cc_auth},
    }
    clients = [{"id": "desktop", "api_key": "env:DESKTOP_KEY", "principal": {"id": "alice", "kind": "user"}}]
    env = {**ENV, "WEB_TOKEN": "web-token-9z8y7x", "DESKTOP_KEY": CLIENT_KEY}
    auth.stats(reset=True)
    base, _ = start_gateway({"upstreams": upstreams, "clients": clients}, env=env, key=CLIENT_KEY)
    for name in upstreams:
        texts = [f"{name} call {i}" for i in range(5)]
        replies = await gateway_calls(base, texts, tool=f"{name}__echo")
        assert [r["result"]["content"][0]["text"] for r in replies] == texts
    expected = {
        "plain": (plain, None, None),
        "bearer": (bearer, "authorization", "Bearer web-token-9z8y7x"),
        "header": (header, "x-api-key", "web-token-9z8y7x"),
    }
    for name, (recorded, header_name, value) in expected.items():
        requests = recorded.requests()
        assert len(requests) >= 7, name  # initialize, initialized, five calls (and maybe the GET stream)
        for headers in requests:
            sent = {k: v for k, v in headers.items() if k in ("authorization", "x-api-key")}
            assert sent == ({header_name: value} if header_name else {}), name
        assert_nothing_of_the_client(recorded)
    # Client credentials: one token request served the handshake and all five calls.
    stats = auth.stats()
    assert stats["token_by_grant"] == {"client_credentials": 1}
    request = stats["token_requests"][0]
    assert request["auth_method"] == "client_secret_basic" and request["client_id"] == "gw-cc"
    assert request["form"] == {"grant_type": "client_credentials", "scope": "files.read", "resource": cc.url}
    tokens = set(cc.bearers())
    assert len(tokens) == 1 and len(cc.bearers()) == len(cc.requests()) >= 7
    claims = claims_of(auth, tokens.pop())
    assert (claims["sub"], claims["aud"], claims["scope"]) == ("gw-cc", cc.url, "files.read")
    assert_nothing_of_the_client(cc, SECRET)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_client_credentials_token_is_renewed_after_it_expires(
    auth: AuthServer, upstream: Callable[[str], Recorded], method: str
) -> None:
    auth.register_client("gw-renew", SECRET)
    recorded = upstream("web")
    auth.configure(token_lifetime_s=2)  # kept for 2 - min(30, 1) = 1 s
    try:
        auth.stats(reset=True)
        spec = spec_for(recorded.url, oauth(auth, "client_credentials", "gw-renew", auth_method=method))
        async with connected(spec) as upstream:
            assert await echo(upstream, "first") == "first"
            assert await echo(upstream, "again") == "again"
            assert auth.stats()["token_by_grant"] == {"client_credentials": 1}
            await anyio.sleep(1.2)
            assert await echo(upstream, "later") == "later"
    finally:
        auth.configure(token_lifetime_s=300)
    stats = auth.stats()
    assert stats["token_by_grant"] == {"client_credentials": 2}
    assert {r["auth_method"] for r in stats["token_requests"]} == {method}
    bearers = recorded.bearers()
    assert len(set(bearers)) == 2 and bearers[-1] != bearers[0]


async def test_concurrent_requests_share_one_token_request(auth: AuthServer) -> None:
    auth.register_client("gw-burst", SECRET)
    auth.stats(reset=True)
    endpoint = TokenEndpoint(f"{auth.base_url}/token", ClientAuth("gw-burst", SECRET), allow_loopback=True)
    credentials = ClientCredentials(endpoint, audience="https://files.example")
    results: list[dict[str, str]] = []

    async def one() -> None:
        results.append(await credentials.headers())

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(one)
    assert auth.stats()["token"] == 1
    assert len(results) == 20 and len({r["authorization"] for r in results}) == 1
    assert claims_of(auth, results[0]["authorization"].removeprefix("Bearer "))["aud"] == "https://files.example"


async def test_a_refused_token_is_replaced_and_the_request_sent_again(
    auth: AuthServer, start_upstream: Callable[..., Recorded]
) -> None:
    auth.register_client("gw-401", SECRET)
    recorded = start_upstream("--reject-first-auth")
    auth.stats(reset=True)
    async with connected(spec_for(recorded.url, oauth(auth, "client_credentials", "gw-401"))) as upstream:
        assert await echo(upstream, "after a 401") == "after a 401"
    assert auth.stats()["token_by_grant"] == {"client_credentials": 2}
    bearers = recorded.bearers()
    assert bearers[0] != bearers[1] and set(bearers[1:]) == {bearers[1]}


# --- token exchange ---------------------------------------------------------------------------------


class _Collect(logging.Handler):
    """Every mcpwarden log record, unformatted and unmasked (to prove a token was never handed to a logger)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {getattr(record, 'fields', '')} {record.exc_text or ''}")


async def test_token_exchange_gives_the_upstream_a_token_for_it_never_the_callers(
    auth: AuthServer, upstream: Callable[[str], Recorded]
) -> None:
    auth.register_client("gw-te", SECRET)
    recorded = upstream("web")
    gateway_aud = "http://127.0.0.1:9/mcp"
    alice = auth.mint({"sub": "alice", "aud": gateway_aud, "scope": "mcp:tools", "client_id": "desktop"})
    bob = auth.mint({"sub": "bob", "aud": gateway_aud, "scope": "mcp:tools", "client_id": "desktop"})
    spec = spec_for(recorded.url, oauth(auth, "token_exchange", "gw-te", resource=recorded.url, scope="mcp:tools"))
    audit = MemoryAuditSink()
    gateway = Gateway(dataclasses.replace(GatewayConfig(upstreams=(spec,))), GatewayDeps(audit=audit))
    collect = _Collect()
    logger = logging.getLogger("mcpwarden")
    logger.addHandler(collect)
    level, logger.level = logger.level, logging.DEBUG
    auth.stats(reset=True)
    answers = []
    try:
        async with anyio.create_task_group() as tg:
            await tg.start(gateway.run)
            await gateway.pool.wait_ready(10)
            for caller, token in (("alice", alice), ("alice", alice), ("bob", bob)):
                principal = Principal(id=caller, kind="user", client_id="desktop", claims={"sub": caller})
                session, _ = gateway.open_session(principal, _message("initialize", _INIT))
                reset = CALLER_TOKEN.set(token)  # as the HTTP front does around each request
                try:
                    call = _message("tools/call", {"name": "web__echo", "arguments": {"text": f"hi {caller}"}})
                    answers.append(json.loads(await gateway.handle(session, call) or "{}"))
                finally:
                    CALLER_TOKEN.reset(reset)
            tg.cancel_scope.cancel()
    finally:
        logger.removeHandler(collect)
        logger.level = level
    assert [a["result"]["content"][0]["text"] for a in answers] == ["hi alice", "hi alice", "hi bob"]
    stats = auth.stats()
    # One exchange per caller token (alice's second call hit the cache); the handshake used the gateway's own token.
    assert stats["token_by_grant"] == {"client_credentials": 1, TE: 2}
    exchanges = [r["form"] for r in stats["token_requests"] if r["form"]["grant_type"] == TE]
    assert [f["subject_token"] for f in exchanges] == [alice, bob]
    assert all(f["resource"] == recorded.url and f["scope"] == "mcp:tools" for f in exchanges)
    by_subject: dict[str, set[str]] = {}
    for token in recorded.bearers():
        claims = claims_of(auth, token)
        assert claims["aud"] == recorded.url
        by_subject.setdefault(claims["sub"], set()).add(token)
    assert set(by_subject) == {"gw-te", "alice", "bob"}  # the handshake's own token, then one per caller
    assert claims_of(auth, by_subject["alice"].pop())["act"] == {"sub": "gw-te"}
    # The callers' tokens reached no upstream, no log line, no audit record, no principal.
    assert_nothing_of_the_client(recorded, alice, bob)
    kept = json.dumps([dataclasses.asdict(c) for c in audit.calls], default=str) + " ".join(collect.lines)
    assert len(audit.calls) == 3 and alice not in kept and bob not in kept
    assert all(alice not in repr(s.principal) for s in gateway.sessions)


async def test_token_exchange_without_a_caller_token_fails_closed(
    auth: AuthServer, upstream: Callable[[str], Recorded]
) -> None:
    auth.register_client("gw-te2", SECRET)
    recorded = upstream("web")
    spec = spec_for(recorded.url, oauth(auth, "token_exchange", "gw-te2", audience="files"))
    async with connected(spec) as upstream:
        before = len(recorded.exchanges())
        with pytest.raises(UpstreamError, match="caller presented no OAuth access token"):
            await echo(upstream, "anonymous", caller=None)
        assert len(recorded.exchanges()) == before  # nothing was sent
        caller = auth.mint({"sub": "carol", "aud": "gateway"})
        assert await echo(upstream, "with a token", caller=caller) == "with a token"
    assert claims_of(auth, recorded.bearer_of("with a token"))["sub"] == "carol"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda a: TokenEndpoint(f"{a.base_url}/token", ClientAuth("gw-bad", "wrong-secret"), allow_loopback=True),
         "answered HTTP 401 (invalid_client"),
        (lambda a: TokenEndpoint(f"http://127.0.0.1:{free_port()}/token", ClientAuth("gw-bad", SECRET),
                                 allow_loopback=True), "could not connect"),
        (lambda a: TokenEndpoint(f"{a.base_url}/token", ClientAuth("gw-bad", SECRET)),
         "loopback address"),
        (lambda a: TokenEndpoint(f"{a.base_url}/nowhere", ClientAuth("gw-bad", SECRET), allow_loopback=True),
         "answered HTTP 404"),
    ],
)  # fmt: skip
async def test_token_endpoint_failures_are_clear_errors(
    auth: AuthServer, make: Callable[[AuthServer], TokenEndpoint], message: str
) -> None:
    auth.register_client("gw-bad", SECRET)
    with pytest.raises(CredentialError) as caught:
        await ClientCredentials(make(auth)).headers()
    assert message in caught.value.message and SECRET not in caught.value.one_line()
    caller = "caller-token-abc.def.ghi"
    reset = CALLER_TOKEN.set(caller)
    try:
        with pytest.raises(CredentialError) as exchanged:
            await TokenExchange(make(auth), audience="files").headers()
    finally:
        CALLER_TOKEN.reset(reset)
    assert caller not in exchanged.value.one_line() and SECRET not in exchanged.value.one_line()


async def test_gateway_stays_up_when_the_token_endpoint_goes_down(
    start_gateway: GatewayStarter, upstream: Callable[[str], Recorded]
) -> None:
    recorded = upstream("web")
    with start_authorization_server() as own_auth:
        own_auth.register_client("gw-down", SECRET)
        own_auth.configure(token_lifetime_s=2)
        entry = {"url": recorded.url, "auth": oauth(own_auth, "client_credentials", "gw-down")}
        base, process = start_gateway(gateway_config(entry), env={**ENV, "DESKTOP_KEY": CLIENT_KEY}, key=CLIENT_KEY)
        assert "result" in (await gateway_calls(base, ["before"]))[0]
    await anyio.sleep(1.2)  # the cached token is due for renewal, and the token endpoint is gone
    failed = (await gateway_calls(base, ["after-the-outage"]))[0]
    assert "result" not in failed
    assert failed["error"]["code"] == UPSTREAM_UNAVAILABLE
    message = failed["error"]["message"]
    assert "upstream web: token endpoint http://127.0.0.1:" in message and "could not connect" in message
    assert "after-the-outage" not in recorded.text()  # never sent upstream without credentials
    assert process.poll() is None
    health = httpx2.get(f"{base}/healthz", timeout=5, headers={"x-api-key": CLIENT_KEY}).json()
    assert health["upstreams"]["web"]["ready"] is True  # the connection itself was not torn down


# --- legacy SSE transport ---------------------------------------------------------------------------


async def test_sse_upstream_gets_credentials_on_its_stream_and_every_post(
    start_upstream: Callable[..., Recorded],
) -> None:
    recorded = start_upstream("--sse")
    spec = spec_for(recorded.url, {"type": "bearer", "token": "env:GW_SECRET"}, transport="sse")
    async with connected(spec) as upstream:
        assert await echo(upstream, "over sse", caller="caller-token-xyz") == "over sse"
    paths = [(h[":method"], h[":path"]) for h in recorded.requests()]
    assert ("GET", "/sse") in paths and sum(1 for m, _ in paths if m == "POST") >= 3
    assert recorded.bearers() == [SECRET] * len(paths)
    assert "caller-token-xyz" not in recorded.text()


# --- the HTTP client ---------------------------------------------------------------------------------


async def test_http_client_refuses_a_header_with_a_line_break() -> None:
    client = HttpClient("http://127.0.0.1:9/mcp", {}, connect_timeout=1)
    with pytest.raises(HttpError, match="line break"):
        async with client.request("POST", b"{}", {"authorization": "Bearer a\r\nX-Evil: 1"}):
            pass
