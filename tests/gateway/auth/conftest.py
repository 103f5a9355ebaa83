"""Token-validation fixtures: the real authorization server (a subprocess), a tiny scripted HTTP server
for the answers a well-behaved authorization server never gives, and validators wired to both through
the real SSRF guard (loopback allowed, as `allow_loopback_metadata: true` does).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mcpwarden.gateway.auth.settings import AuthSettings, IntrospectionSettings
from mcpwarden.gateway.auth.tokens import TokenValidator
from mcpwarden.protocol.safe_fetch import FetchPolicy, SafeFetcher
from tests.fixtures.oauth.harness import AuthServer, start_authorization_server

RESOURCE = "https://mcp.example.test/mcp"
SCOPE = "mcp:tools"
GATEWAY_CLIENT = ("mcpwarden-gw", "introspection-secret-0123456789")


@pytest.fixture(scope="session")
def auth_server() -> Iterator[AuthServer]:
    """One authorization server for the session, issuer at the root; a client registered for introspection."""
    with start_authorization_server() as server:
        server.register_client(*GATEWAY_CLIENT)
        yield server


@pytest.fixture(scope="session")
def tenant_server() -> Iterator[AuthServer]:
    """An authorization server whose issuer has a path (`/tenant1`), as multi-tenant providers use."""
    with start_authorization_server(path_prefix="/tenant1") as server:
        yield server


def settings_for(server: AuthServer, **overrides: Any) -> AuthSettings:
    """Settings that trust `server` for RESOURCE; short leeway so time tests stay unambiguous."""
    values: dict[str, Any] = {
        "resource": RESOURCE,
        "authorization_servers": (server.issuer,),
        "leeway_s": 5.0,
        "jwks_min_refresh_s": 30.0,
        "allow_loopback_metadata": True,
        "introspection": IntrospectionSettings(*GATEWAY_CLIENT),
    }
    return AuthSettings(**{**values, **overrides})


@pytest.fixture
async def fetcher() -> AsyncIterator[SafeFetcher]:
    """The SSRF guard as the gateway builds it for local development."""
    guard = SafeFetcher(FetchPolicy(allow_loopback=True, timeout_s=5.0))
    yield guard
    await guard.aclose()


@dataclass
class Clock:
    """Wall-clock time plus an offset tests can move forward."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def make_validator(fetcher: SafeFetcher) -> Callable[..., TokenValidator]:
    """`make_validator(settings, clock=None)`: a fresh validator (empty caches) on the test's fetcher."""

    def make(settings: AuthSettings, clock: Callable[[], float] | None = None) -> TokenValidator:
        if clock is None:
            return TokenValidator(settings, fetcher)
        return TokenValidator(settings, fetcher, clock=clock)

    return make


def claims(**extra: Any) -> dict[str, Any]:
    """Claims of an ordinary token for RESOURCE (the server adds iss, iat, nbf, exp, jti)."""
    return {"sub": "alice", "aud": RESOURCE, "scope": SCOPE, "client_id": "agent-1", **extra}


# -- a scripted HTTP server -------------------------------------------------------------------------
@dataclass
class Scripted:
    """Answers each path with a fixed (status, body); records every request as (method, path)."""

    base_url: str = ""
    routes: dict[str, tuple[int, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def serve(self, path: str, body: Any, status: int = 200) -> str:
        """Serve `body` (JSON-encoded unless bytes) at `path`; returns the full URL."""
        self.routes[path] = (status, body)
        return self.base_url + path


def _handler(state: Scripted) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            state.requests.append((self.command, self.path))
            status, body = state.routes.get(self.path, (404, {"error": "not_found"}))
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "text/html" if isinstance(body, bytes) else "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="session")
def _scripted_http() -> Iterator[tuple[Scripted, ThreadingHTTPServer]]:
    state = Scripted()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state, httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def scripted(_scripted_http: tuple[Scripted, ThreadingHTTPServer]) -> Scripted:
    """The scripted server with no routes and no recorded requests."""
    state = _scripted_http[0]
    state.routes.clear()
    state.requests.clear()
    return state
