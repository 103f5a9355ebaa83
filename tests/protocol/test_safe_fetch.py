"""The SSRF guard against real sockets on 127.0.0.1.

A process-wide audit hook records every outgoing `connect()` while these tests run and blocks any that is
not to loopback, so a broken guard can neither send traffic beyond this machine nor pass unnoticed.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mcpwarden.errors import ConnectError, UnsafeFetchError
from mcpwarden.protocol.safe_fetch import FetchPolicy, FetchResult, SafeFetcher, check_url, refusal_reason

pytestmark = pytest.mark.anyio

LOOPBACK = FetchPolicy(allow_loopback=True, timeout_s=5.0)
_GUARD: dict[str, Any] = {"on": False, "connects": [], "lookups": []}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _GUARD["on"]:
        return
    if event == "socket.getaddrinfo":
        host = args[0].decode("ascii", "replace") if isinstance(args[0], bytes) else args[0]
        _GUARD["lookups"].append(host)
        if host not in ("localhost", "127.0.0.1", "::1"):  # no DNS query may leave this machine
            raise PermissionError(f"test guard blocked a DNS lookup of {host!r}")
    elif event == "socket.connect" and isinstance(args[1], tuple):
        _GUARD["connects"].append(args[1])
        if args[1][0] not in ("127.0.0.1", "::1"):
            raise PermissionError(f"test guard blocked a connect to {args[1]!r}")


sys.addaudithook(_audit)  # permanent once added, so it only acts while the fixture below says so


@pytest.fixture
def lookups() -> list[Any]:
    """Every host name this test's code passed to getaddrinfo (an injected resolver makes none)."""
    return _GUARD["lookups"]  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def connects() -> Iterator[list[tuple[Any, ...]]]:
    """Every address this test's code tried to connect to (non-loopback ones were blocked)."""
    _GUARD["connects"] = []
    _GUARD["lookups"] = []
    _GUARD["on"] = True
    try:
        yield _GUARD["connects"]
    finally:
        _GUARD["on"] = False


@dataclass
class Route:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    delay_s: float = 0.0  # before the status line
    drip_s: float = 0.0  # pause between body bytes
    length: bool = True  # send Content-Length (else close to end the body)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    names: list[str]  # every header name as sent, to spot duplicates


@dataclass
class Server:
    """A raw HTTP/1.1 server on 127.0.0.1 that records every connection and request."""

    routes: dict[str, Route] = field(default_factory=dict)
    connections: int = 0
    requests: list[Received] = field(default_factory=list)
    port: int = 0
    sni: list[str | None] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            line, *header_lines = head.split("\r\n")
            method, path, _ = line.split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            names = [h.partition(":")[0].strip().lower() for h in header_lines if h]
            self.requests.append(Received(method, path, headers, body, names))
            route = self.routes.get(path, Route(status=404, body=b"not found"))
            await asyncio.sleep(route.delay_s)
            out = [f"HTTP/1.1 {route.status} X", *(f"{k}: {v}" for k, v in route.headers), "connection: close"]
            if route.length:
                out.append(f"content-length: {len(route.body)}")
            writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
            for i in range(len(route.body)) if route.drip_s else ():
                writer.write(route.body[i : i + 1])
                await writer.drain()
                await asyncio.sleep(route.drip_s)
            if not route.drip_s:
                writer.write(route.body)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, ValueError, ssl.SSLError):
            pass
        finally:
            writer.close()
            self.tasks.discard(task)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    started: list[tuple[Server, asyncio.Server]] = []

    async def start(routes: Mapping[str, Route] | None = None, tls: ssl.SSLContext | None = None) -> Server:
        server = Server(routes=dict(routes or {}))
        if tls is not None:

            def record_sni(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
                server.sni.append(name)

            tls.sni_callback = record_sni  # type: ignore[assignment]
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=tls)
        server.port = listener.sockets[0].getsockname()[1]
        started.append((server, listener))
        return server

    yield start
    for server, listener in started:
        listener.close()
        for task in list(server.tasks):
            task.cancel()
        await asyncio.gather(*server.tasks, return_exceptions=True)
        await listener.wait_closed()


def mapping_resolver(table: Mapping[str, list[str]], calls: list[str] | None = None) -> Any:
    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        return list(table.get(host, []))

    return resolve


async def fetch(policy: FetchPolicy, url: str, resolver: Any = None) -> FetchResult:
    fetcher = SafeFetcher(policy, resolver=resolver or mapping_resolver({}))
    try:
        return await fetcher.get(url)
    finally:
        await fetcher.aclose()


REFUSED = [
    ("http://169.254.169.254/latest/meta-data", FetchPolicy(), "link-local"),
    ("http://169.254.169.254/latest/meta-data", LOOPBACK, "link-local"),
    ("http://8.8.8.8:{port}/", LOOPBACK, "plain http"),
    ("https://169.254.169.254/latest/meta-data", LOOPBACK, "link-local"),
    ("https://10.0.0.1/", FetchPolicy(), "private"),
    ("https://10.0.0.1:{port}/", LOOPBACK, "private"),
    ("http://localhost:{port}/", FetchPolicy(), "loopback"),
    ("https://127.0.0.1:{port}/", FetchPolicy(), "loopback address"),
    ("https://[::1]:{port}/", FetchPolicy(), "loopback address"),
    ("https://internal.test:{port}/", FetchPolicy(), "10.0.0.5: private"),
    ("https://loop.test:{port}/", FetchPolicy(), "127.0.0.1: loopback"),
    ("https://mixed.test:{port}/", LOOPBACK, "10.0.0.5: private"),
    ("http://sub.localhost:{port}/", LOOPBACK, "plain http is only allowed to loopback"),
    ("http://2130706433.:{port}/", LOOPBACK, "non-canonical"),
    ("https://nowhere.test:{port}/", LOOPBACK, "no address"),
    ("javascript:alert(1)", LOOPBACK, "scheme"),
    ("data:text/html;base64,PHNjcmlwdD4=", LOOPBACK, "scheme"),
    ("file:///etc/passwd", LOOPBACK, "scheme"),
    ("ftp://127.0.0.1:{port}/", LOOPBACK, "scheme"),
    ("gopher://127.0.0.1:{port}/", LOOPBACK, "scheme"),
    ("//127.0.0.1:{port}/", LOOPBACK, "scheme"),
    ("http://2130706433:{port}/", LOOPBACK, "non-canonical"),
    ("http://0x7f000001:{port}/", LOOPBACK, "non-canonical"),
    ("http://0x7f.1:{port}/", LOOPBACK, "non-canonical"),
    ("http://017700000001:{port}/", LOOPBACK, "non-canonical"),
    ("http://0177.0.0.1:{port}/", LOOPBACK, "IPv4"),
    ("http://127.1:{port}/", LOOPBACK, "non-canonical"),
    ("http://127.0.0.1.:{port}/", LOOPBACK, "non-canonical"),
    ("http://[::ffff:127.0.0.1]:{port}/", LOOPBACK, "IPv4-mapped"),
    ("http://[::ffff:7f00:1]:{port}/", LOOPBACK, "IPv4-mapped"),
    ("https://[2002:7f00:1::]:{port}/", FetchPolicy(), "embedding 127.0.0.1"),
    ("https://[64:ff9b::a9fe:a9fe]/", FetchPolicy(), "embedding 169.254.169.254"),
    ("https://0.0.0.0:{port}/", LOOPBACK, "unspecified"),
    ("https://[::]:{port}/", LOOPBACK, "unspecified"),
    ("https://100.64.0.1/", FetchPolicy(), "carrier-grade"),
    ("https://[fe80::1]/", FetchPolicy(), "link-local"),
    ("https://[fd00::1]/", FetchPolicy(), "unique-local"),
    ("https://224.0.0.1/", FetchPolicy(), "multicast"),
    ("https://[fe80::1%25eth0]:{port}/", LOOPBACK, "scoped"),
    ("http://user:pw@127.0.0.1:{port}/", LOOPBACK, "userinfo"),
    ("http://127.0.0.1:{port}@evil.test/", LOOPBACK, "userinfo"),
    ("http://127.0.0.1:{port}\\@evil.test/", LOOPBACK, "backslash"),
    ("http://127.0.0.1:{port}/\r\nX: y", LOOPBACK, "control"),
    ("http://%31%32%37.0.0.1:{port}/", LOOPBACK, "percent-encoded"),
    ("http:///path", LOOPBACK, "no host"),
]
RESOLVER_TABLE = {
    "internal.test": ["10.0.0.5"],
    "loop.test": ["127.0.0.1"],
    "mixed.test": ["127.0.0.1", "10.0.0.5"],
    "sub.localhost": ["127.0.0.1", "93.184.216.34"],
}


@pytest.mark.parametrize(("url", "policy", "reason"), REFUSED)
async def test_refused_urls_reach_nothing(
    serve: Callable[..., Awaitable[Server]],
    connects: list[Any],
    lookups: list[Any],
    url: str,
    policy: FetchPolicy,
    reason: str,
) -> None:
    listener = await serve({"/": Route(body=b"secret")})
    url = url.replace("{port}", str(listener.port))
    with pytest.raises(UnsafeFetchError) as raised:
        await fetch(policy, url, mapping_resolver(RESOLVER_TABLE))
    assert reason in str(raised.value)
    assert isinstance(raised.value, ConnectError)
    assert listener.connections == 0
    assert connects == []
    assert lookups == []


@pytest.mark.parametrize(
    ("url", "policy", "ok"),
    [
        ("https://example.com/.well-known/oauth-protected-resource", FetchPolicy(), True),
        ("https://bücher.example:8443/jwks", FetchPolicy(), True),
        ("https://8.8.8.8/", FetchPolicy(), True),
        ("https://[2606:4700::1111]/", FetchPolicy(), True),
        ("http://127.0.0.1:8000/", LOOPBACK, True),
        ("http://localhost:8000/", LOOPBACK, True),
        ("http://[::1]:8000/", LOOPBACK, True),
        ("http://example.com/", FetchPolicy(), False),
        ("http://example.com/", LOOPBACK, False),
        ("https://ex_ample..com/", FetchPolicy(), False),
        ("https://example.com:0/", FetchPolicy(), False),
        ("https://1.2.3.0x4/", FetchPolicy(), False),
        ("https://8.8.8.08/", FetchPolicy(), False),
        ("https://ab.123/", FetchPolicy(), False),
        ("", FetchPolicy(), False),
        ("https://" + "a" * 9000 + ".com/", FetchPolicy(), False),
    ],
)
def test_check_url(url: str, policy: FetchPolicy, ok: bool) -> None:
    if ok:
        check_url(url, policy)
    else:
        with pytest.raises(UnsafeFetchError):
            check_url(url, policy)


@pytest.mark.parametrize(
    ("address", "allow_loopback", "refused"),
    [
        ("8.8.8.8", False, None),
        ("2606:4700::1111", False, None),
        ("127.0.0.1", False, "loopback"),
        ("127.8.9.10", True, None),
        ("::1", True, None),
        ("::ffff:127.0.0.1", True, "IPv4-mapped"),
        ("::ffff:8.8.8.8", False, "IPv4-mapped"),
        ("10.1.2.3", True, "private"),
        ("172.16.0.1", False, "private"),
        ("172.31.255.255", False, "private"),
        ("172.32.0.1", False, None),
        ("192.168.1.1", False, "private"),
        ("169.254.169.254", True, "link-local"),
        ("fe80::1", False, "link-local"),
        ("fc00::1", False, "unique-local"),
        ("fec0::1", False, "site-local"),
        ("100.64.0.1", False, "carrier-grade"),
        ("100.127.255.255", False, "carrier-grade"),
        ("0.0.0.0", True, "unspecified"),
        ("::", True, "unspecified"),
        ("224.0.0.251", False, "multicast"),
        ("ff02::1", False, "multicast"),
        ("240.0.0.1", False, "address"),
        ("255.255.255.255", False, "address"),
        ("192.0.2.1", False, "address"),
        ("2001:db8::1", False, "address"),
        ("64:ff9b::a00:1", False, "embedding 10.0.0.1"),
        ("2002:a9fe:a9fe::1", False, "embedding 169.254.169.254"),
        ("not-an-ip", False, "not an IP"),
    ],
)
def test_refusal_reason(address: str, allow_loopback: bool, refused: str | None) -> None:
    reason = refusal_reason(address, FetchPolicy(allow_loopback=allow_loopback))
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason


async def test_get_pins_the_checked_address_and_keeps_the_host_name(
    serve: Callable[..., Awaitable[Server]], connects: list[Any], lookups: list[Any]
) -> None:
    server = await serve({"/doc": Route(headers=[("Content-Type", "application/json")], body=b'{"a": 1}')})
    calls: list[str] = []
    # A rebinding resolver: the first answer passes the check, any later one would point inward.
    answers = iter([["127.0.0.1"], ["10.0.0.9"]])

    async def rebinding(host: str, port: int) -> list[str]:
        calls.append(f"{host}:{port}")
        return next(answers)

    fetcher = SafeFetcher(LOOPBACK, resolver=rebinding)
    try:
        result = await fetcher.get(
            f"http://localhost:{server.port}/doc#frag", headers={"X-Probe": "1", "Host": "evil.example"}
        )
    finally:
        await fetcher.aclose()
    assert (result.status, result.json(), result.url) == (200, {"a": 1}, f"http://localhost:{server.port}/doc")
    assert result.headers["content-type"] == "application/json"
    assert calls == [f"localhost:{server.port}"]
    assert lookups == []  # no second lookup behind the injected resolver's back
    assert connects == [("127.0.0.1", server.port)]
    received = server.requests[0]
    assert (received.path, received.headers["host"], received.headers["x-probe"]) == (
        "/doc",
        f"localhost:{server.port}",
        "1",
    )
    assert "cookie" not in received.headers
    assert received.names.count("host") == 1


@pytest.mark.parametrize(("policy", "ok"), [(LOOPBACK, True), (FetchPolicy(), False)])
async def test_system_resolver(
    serve: Callable[..., Awaitable[Server]], lookups: list[Any], policy: FetchPolicy, ok: bool
) -> None:
    server = await serve({"/": Route(body=b"local")})
    fetcher = SafeFetcher(policy)
    url = f"{'http' if ok else 'https'}://localhost:{server.port}/"
    try:
        if ok:
            assert (await fetcher.get(url)).body == b"local"
        else:
            with pytest.raises(UnsafeFetchError, match=r"resolves to .*loopback"):
                await fetcher.get(url)
            assert server.connections == 0
    finally:
        await fetcher.aclose()
    assert lookups == ["localhost"]


async def test_tries_each_checked_address_in_turn(serve: Callable[..., Awaitable[Server]]) -> None:
    server = await serve({"/": Route(body=b"ok")})
    # ::1 first: nothing listens there on this port, so the fetch must fall through to 127.0.0.1.
    result = await fetch(
        LOOPBACK, f"http://localhost:{server.port}/", mapping_resolver({"localhost": ["::1", "127.0.0.1"]})
    )
    assert (result.status, result.body) == (200, b"ok")


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://10.0.0.1:{port2}/", "private"),
        ("https://rebind.test:{port2}/", "10.0.0.5: private"),
        ("http://0x7f000001:{port2}/", "non-canonical"),
        ("http://[::ffff:127.0.0.1]:{port2}/", "IPv4-mapped"),
        ("file:///etc/passwd", "scheme"),
        ("javascript:alert(1)", "scheme"),
    ],
)
async def test_every_redirect_target_is_checked(
    serve: Callable[..., Awaitable[Server]], connects: list[Any], location: str, reason: str
) -> None:
    second = await serve({"/": Route(body=b"internal")})
    first = await serve({"/start": Route(status=302, headers=[("Location", location.format(port2=second.port))])})
    table = {"start.test": ["127.0.0.1"], "rebind.test": ["127.0.0.1", "10.0.0.5"]}
    with pytest.raises(UnsafeFetchError) as raised:
        await fetch(LOOPBACK, f"http://127.0.0.1:{first.port}/start", mapping_resolver(table))
    assert reason in str(raised.value)
    assert first.connections == 1
    assert second.connections == 0
    assert connects == [("127.0.0.1", first.port)]


async def test_redirects_are_followed_and_credentials_stay_with_their_origin(
    serve: Callable[..., Awaitable[Server]],
) -> None:
    second = await serve({"/final": Route(body=b"[1, 2]", headers=[("Set-Cookie", "b=2")])})
    target = f"http://localhost:{second.port}/final"
    first = await serve(
        {
            "/a": Route(status=301, headers=[("Location", "/b"), ("Set-Cookie", "a=1")]),
            "/b": Route(status=307, headers=[("Location", target)]),
        }
    )
    fetcher = SafeFetcher(LOOPBACK, resolver=mapping_resolver({"localhost": ["127.0.0.1"]}))
    try:
        value = await fetcher.get_json(f"http://127.0.0.1:{first.port}/a", headers={"Authorization": "Bearer t0k"})
    finally:
        await fetcher.aclose()
    assert value == [1, 2]
    assert [r.path for r in first.requests] == ["/a", "/b"]
    assert first.requests[1].headers["authorization"] == "Bearer t0k"  # same origin keeps it
    assert "authorization" not in second.requests[0].headers
    assert "cookie" not in first.requests[1].headers and "cookie" not in second.requests[0].headers


async def test_redirect_count_is_bounded(serve: Callable[..., Awaitable[Server]]) -> None:
    server = await serve({"/loop": Route(status=302, headers=[("Location", "/loop")])})
    with pytest.raises(UnsafeFetchError, match="more than 3 redirects"):
        await fetch(LOOPBACK, f"http://127.0.0.1:{server.port}/loop")
    assert len(server.requests) == 4


async def test_post_form_never_follows_a_redirect(serve: Callable[..., Awaitable[Server]]) -> None:
    second = await serve({"/": Route(body=b"{}")})
    first = await serve({"/token": Route(status=307, headers=[("Location", f"http://127.0.0.1:{second.port}/")])})
    fetcher = SafeFetcher(LOOPBACK)
    try:
        result = await fetcher.post_form(
            f"http://127.0.0.1:{first.port}/token", {"grant_type": "client_credentials", "scope": "a b"}
        )
    finally:
        await fetcher.aclose()
    assert result.status == 307
    assert second.connections == 0
    sent = first.requests[0]
    assert (sent.method, sent.body) == ("POST", b"grant_type=client_credentials&scope=a+b")
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"


async def test_post_form_is_guarded_like_get(serve: Callable[..., Awaitable[Server]]) -> None:
    listener = await serve()
    fetcher = SafeFetcher(FetchPolicy())
    try:
        with pytest.raises(UnsafeFetchError, match="loopback"):
            await fetcher.post_form(f"http://127.0.0.1:{listener.port}/token", {"a": "b"})
    finally:
        await fetcher.aclose()
    assert listener.connections == 0


@pytest.mark.parametrize(
    ("route", "match"),
    [
        (Route(body=b"x" * 5000), "exceeds the 1000-byte limit"),
        (Route(body=b"x" * 5000, length=False), "exceeds the 1000-byte limit"),
        (Route(body=b"x" * 200_000, length=False), "exceeds the 1000-byte limit"),
        (Route(body=b"x" * 10, headers=[("Content-Encoding", "gzip")]), "compressed"),
    ],
    ids=["declared", "undeclared", "undeclared-large", "gzip"],
)
async def test_body_is_bounded(serve: Callable[..., Awaitable[Server]], route: Route, match: str) -> None:
    server = await serve({"/": route})
    with pytest.raises(UnsafeFetchError, match=match):
        await fetch(FetchPolicy(allow_loopback=True, max_bytes=1000), f"http://127.0.0.1:{server.port}/")


async def test_body_at_the_limit_is_read_whole(serve: Callable[..., Awaitable[Server]]) -> None:
    server = await serve({"/": Route(body=b"y" * 1000, length=False)})
    result = await fetch(FetchPolicy(allow_loopback=True, max_bytes=1000), f"http://127.0.0.1:{server.port}/")
    assert result.body == b"y" * 1000


@pytest.mark.parametrize(
    "route", [Route(delay_s=3.0, body=b"late"), Route(body=b"z" * 100, drip_s=0.05)], ids=["silent", "drip"]
)
async def test_total_time_is_bounded(serve: Callable[..., Awaitable[Server]], route: Route) -> None:
    server = await serve({"/": route})
    started = time.monotonic()
    with pytest.raises(UnsafeFetchError, match=r"within 0\.5 s"):
        await fetch(FetchPolicy(allow_loopback=True, timeout_s=0.5), f"http://127.0.0.1:{server.port}/")
    assert time.monotonic() - started < 2.0


async def test_slow_resolver_is_bounded() -> None:
    async def stuck(host: str, port: int) -> list[str]:
        await asyncio.sleep(10)
        return ["127.0.0.1"]

    started = time.monotonic()
    with pytest.raises(UnsafeFetchError, match=r"within 0\.3 s"):
        await fetch(FetchPolicy(allow_loopback=True, timeout_s=0.3), "http://localhost:1/", stuck)
    assert time.monotonic() - started < 2.0


async def test_proxies_from_the_environment_are_ignored(
    serve: Callable[..., Awaitable[Server]], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = await serve()
    server = await serve({"/": Route(body=b"direct")})
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    result = await fetch(LOOPBACK, f"http://127.0.0.1:{server.port}/")
    assert result.body == b"direct"
    assert proxy.connections == 0


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (Route(body=b'{"issuer": "https://as.example"}'), {"issuer": "https://as.example"}),
        (Route(body=b'[{"kty": "EC"}]'), [{"kty": "EC"}]),
        (Route(body=b"3"), "expected a JSON object or array"),
        (Route(body=b'"text"'), "expected a JSON object or array"),
        (Route(body=b"{not json"), "not valid JSON"),
        (Route(body=b'{"a": NaN}'), "not valid JSON"),
        (Route(body=b"\xff\xfe\x00"), "not valid JSON"),
        (Route(body=b"[" * 100_000), "not valid JSON"),
        (Route(status=404, body=b"{}"), "HTTP status 404"),
        (Route(status=500, body=b"{}"), "HTTP status 500"),
    ],
)
async def test_get_json(serve: Callable[..., Awaitable[Server]], route: Route, expected: Any) -> None:
    server = await serve({"/m": route})
    fetcher = SafeFetcher(LOOPBACK)
    try:
        if isinstance(expected, str):
            with pytest.raises(UnsafeFetchError, match=expected):
                await fetcher.get_json(f"http://127.0.0.1:{server.port}/m")
        else:
            assert await fetcher.get_json(f"http://127.0.0.1:{server.port}/m") == expected
    finally:
        await fetcher.aclose()
    assert server.requests[0].headers["accept"] == "application/json"


def test_error_message_names_the_url_without_credentials() -> None:
    with pytest.raises(UnsafeFetchError) as raised:
        check_url("https://alice:hunter2@as.example/token", FetchPolicy())
    line = raised.value.one_line()
    assert "as.example/token" in line and "userinfo" in line
    assert "hunter2" not in line and "alice" not in line
    with pytest.raises(UnsafeFetchError, match="not valid JSON"):
        FetchResult("https://as.example/", 200, {}, b"nope").json()


def _tls_pair(name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for `name` only, and a client context trusting its CA."""
    now = datetime.datetime.now(datetime.UTC)

    def make(subject: str, key: Any, issuer: x509.Name | None, signer: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
            builder = builder.add_extension(usage, critical=True)
            builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        else:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = make("mcpwarden test CA", ca_key, None, ca_key, True)
    leaf = make(name, leaf_key, ca.subject, ca_key, False)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    key_pem = leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cadata = ca.public_bytes(serialization.Encoding.PEM).decode("ascii")
    with tempfile.NamedTemporaryFile() as cert_file, tempfile.NamedTemporaryFile() as key_file:
        cert_file.write(chain)
        key_file.write(key_pem)
        cert_file.flush()
        key_file.flush()
        server.load_cert_chain(cert_file.name, key_file.name)
    return server, ssl.create_default_context(cadata=cadata)


@pytest.mark.parametrize(("host", "ok"), [("warden.test", True), ("other.test", False)])
async def test_tls_verifies_the_host_name_while_connecting_to_the_checked_address(
    serve: Callable[..., Awaitable[Server]], connects: list[Any], host: str, ok: bool
) -> None:
    server_ctx, client_ctx = _tls_pair("warden.test")
    server = await serve({"/jwks": Route(body=b'{"keys": []}')}, tls=server_ctx)
    resolver = mapping_resolver({host: ["127.0.0.1"]})
    fetcher = SafeFetcher(LOOPBACK, resolver=resolver, ssl_context=client_ctx)
    try:
        if ok:
            assert await fetcher.get_json(f"https://{host}:{server.port}/jwks") == {"keys": []}
            assert server.requests[0].headers["host"] == f"{host}:{server.port}"
        else:
            with pytest.raises(UnsafeFetchError, match="could not connect"):
                await fetcher.get_json(f"https://{host}:{server.port}/jwks")
            assert server.requests == []
    finally:
        await fetcher.aclose()
    assert server.sni == [host]
    assert connects == [("127.0.0.1", server.port)]
    assert ipaddress.ip_address(connects[0][0]).is_loopback
