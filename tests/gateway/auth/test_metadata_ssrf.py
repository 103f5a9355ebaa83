"""Authorization-server metadata cannot point the gateway anywhere it should not go.

A metadata document served on 127.0.0.1 names a JWKS at a cloud-metadata address, a private
address, another local service, a javascript: URL, or a URL that redirects to a private address.
Validation must fail as "authorization server unavailable" and no request may reach the target:
the listener standing in for the other local service sees nothing, and the audit hook of the SSRF
guard's tests records (and blocks) every connect attempt off loopback.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable

import pytest

from mcpwarden.gateway.auth.discovery import AuthServerError
from mcpwarden.gateway.auth.resource_server import fetch_policy_for
from mcpwarden.gateway.auth.settings import AuthSettings
from mcpwarden.gateway.auth.tokens import TokenValidator
from mcpwarden.protocol.safe_fetch import SafeFetcher
from tests.protocol.test_safe_fetch import Route, Server, connects, serve  # noqa: F401 - fixtures

pytestmark = pytest.mark.anyio
JWKS = json.dumps({"keys": [{"kty": "oct", "kid": "k1", "k": "c2VjcmV0"}]}).encode()


def _token(issuer: str) -> str:
    """A well-formed RS256 JWS with kid k1: validation must fetch keys before it can judge the signature."""

    def b64(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    claims = {"iss": issuer, "sub": "a", "aud": "http://127.0.0.1:1/mcp", "exp": int(time.time()) + 300}
    return f"{b64({'alg': 'RS256', 'kid': 'k1'})}.{b64(claims)}.c2ln"


TARGETS: dict[str, Callable[[Server, Server], str]] = {
    "cloud_metadata": lambda meta, other: "http://169.254.169.254/latest/meta-data/jwks",
    "private_address": lambda meta, other: "https://10.0.0.1/jwks",
    "other_local_service": lambda meta, other: f"http://localhost:{other.port}/jwks",
    "other_local_port_literal": lambda meta, other: f"http://127.0.0.1:{other.port}/jwks",
    "javascript_url": lambda meta, other: "javascript:alert(document.domain)",
    "redirect_to_private": lambda meta, other: f"{meta.base}/to-private",
    "redirect_to_local_service": lambda meta, other: f"{meta.base}/to-local",
}


@pytest.mark.parametrize("case", sorted(TARGETS))
async def test_metadata_cannot_send_the_gateway_elsewhere(
    serve: Callable[..., Awaitable[Server]],  # noqa: F811
    connects: list[tuple[object, ...]],  # noqa: F811
    case: str,
) -> None:
    other = await serve({"/jwks": Route(headers=[("content-type", "application/json")], body=JWKS)})
    meta = await serve()
    meta.routes.update(
        {
            "/to-private": Route(status=302, headers=[("location", "http://10.0.0.1/jwks")]),
            "/to-local": Route(status=302, headers=[("location", f"http://127.0.0.1:{other.port}/jwks")]),
            "/.well-known/oauth-authorization-server": Route(
                headers=[("content-type", "application/json")],
                body=json.dumps(
                    {
                        "issuer": meta.base,
                        "jwks_uri": TARGETS[case](meta, other),
                        "token_endpoint": f"{meta.base}/token",
                        "response_types_supported": ["code"],
                    }
                ).encode(),
            ),
        }
    )
    settings = AuthSettings(
        resource="http://127.0.0.1:1/mcp", authorization_servers=(meta.base,), allow_loopback_metadata=True
    )
    fetcher = SafeFetcher(fetch_policy_for(settings))
    try:
        with pytest.raises(AuthServerError):
            await TokenValidator(settings, fetcher).validate(_token(meta.base))
    finally:
        await fetcher.aclose()
    assert meta.requests, "the metadata document itself was fetched"
    assert other.connections == 0
    assert all(address[0] in ("127.0.0.1", "::1") for address in connects)
    assert {address[1] for address in connects} <= {meta.port}


async def test_unreachable_authorization_server_is_503_not_401() -> None:
    from mcpwarden.gateway.auth.resource_server import Refusal, ResourceServer
    from tests.conftest import free_port

    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = AuthSettings(
        resource="http://127.0.0.1:1/mcp", authorization_servers=(dead,), allow_loopback_metadata=True
    )
    fetcher = SafeFetcher(fetch_policy_for(settings))
    try:
        server = ResourceServer(settings, TokenValidator(settings, fetcher))
        found = await server.authenticate({"authorization": f"Bearer {_token(dead)}"}, b"")
    finally:
        await fetcher.aclose()
    # A 401 would tell the client its token is bad and make it discard a token that may be good.
    assert isinstance(found, Refusal)
    assert found.status == 503
