"""Authorization-server metadata discovery: well-known URL order, exact issuer match, caching, SSRF guard."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from mcpwarden.gateway.auth.discovery import AuthServerError, MetadataCache, metadata_urls
from mcpwarden.gateway.auth.settings import AuthSettings
from mcpwarden.gateway.auth.tokens import TokenValidator
from mcpwarden.protocol.safe_fetch import FetchPolicy, SafeFetcher
from tests.conftest import free_port
from tests.fixtures.oauth.harness import AuthServer
from tests.gateway.auth.conftest import Clock, Scripted, claims, settings_for

pytestmark = pytest.mark.anyio

MakeValidator = Callable[..., TokenValidator]


@pytest.mark.parametrize(
    ("issuer", "expected"),
    [
        (
            "https://as.example",
            [
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration",
            ],
        ),
        (
            "https://as.example/tenant1",
            [
                "https://as.example/.well-known/oauth-authorization-server/tenant1",
                "https://as.example/.well-known/openid-configuration/tenant1",
                "https://as.example/tenant1/.well-known/openid-configuration",
            ],
        ),
        (
            "https://as.example:8443/a/b/",
            [
                "https://as.example:8443/.well-known/oauth-authorization-server/a/b",
                "https://as.example:8443/.well-known/openid-configuration/a/b",
                "https://as.example:8443/a/b/.well-known/openid-configuration",
            ],
        ),
    ],
)
def test_metadata_urls_follow_the_mcp_order(issuer: str, expected: list[str]) -> None:
    assert metadata_urls(issuer) == expected


@pytest.mark.parametrize("issuer", ["ftp://as.example", "https://as.example?x=1", "https://as.example#f", "as.example"])
def test_an_issuer_that_is_not_an_http_url_is_refused(issuer: str) -> None:
    with pytest.raises(AuthServerError):
        metadata_urls(issuer)


async def test_a_path_prefixed_issuer_is_discovered_and_its_tokens_validate(
    tenant_server: AuthServer, make_validator: MakeValidator
) -> None:
    assert tenant_server.issuer.endswith("/tenant1")
    validator = make_validator(settings_for(tenant_server))
    metadata = await validator.metadata.get(tenant_server.issuer)
    assert (metadata.issuer, metadata.jwks_uri) == (tenant_server.issuer, f"{tenant_server.issuer}/jwks")
    assert metadata.introspection_endpoint == f"{tenant_server.issuer}/introspect"
    assert (await validator.validate(tenant_server.mint(claims()))).issuer == tenant_server.issuer


async def test_metadata_is_fetched_once(auth_server: AuthServer, fetcher: SafeFetcher) -> None:
    cache = MetadataCache(fetcher)
    before = auth_server.stats()["metadata"]
    first = await cache.get(auth_server.issuer)
    assert await cache.get(auth_server.issuer) is first
    assert auth_server.stats()["metadata"] == before + 1


@pytest.mark.parametrize("variant", ["trailing slash", "other host name"])
async def test_metadata_naming_another_issuer_is_refused(
    tenant_server: AuthServer, make_validator: MakeValidator, variant: str
) -> None:
    # Both reach the real server, whose metadata names its own issuer, not the one configured.
    configured = (
        tenant_server.issuer + "/"
        if variant == "trailing slash"
        else tenant_server.issuer.replace("127.0.0.1", "localhost")
    )
    validator = make_validator(settings_for(tenant_server, authorization_servers=(configured,)))
    with pytest.raises(AuthServerError, match="names issuer"):
        await validator.metadata.get(configured)
    # A token claiming that issuer is not accepted either (no keys can be trusted for it).
    with pytest.raises(AuthServerError):
        await validator.validate(tenant_server.mint(claims(iss=configured)))


async def test_the_next_well_known_form_is_tried_when_one_is_missing(scripted: Scripted, fetcher: SafeFetcher) -> None:
    issuer = scripted.base_url + "/realms/acme"
    scripted.serve("/.well-known/openid-configuration/realms/acme", b"<html>login page</html>")
    scripted.serve("/realms/acme/.well-known/openid-configuration", {"issuer": issuer, "jwks_uri": issuer + "/certs"})
    metadata = await MetadataCache(fetcher).get(issuer)
    assert metadata.jwks_uri == issuer + "/certs"
    assert [path for _, path in scripted.requests] == [
        "/.well-known/oauth-authorization-server/realms/acme",
        "/.well-known/openid-configuration/realms/acme",
        "/realms/acme/.well-known/openid-configuration",
    ]


async def test_a_mismatched_issuer_stops_discovery(scripted: Scripted, fetcher: SafeFetcher) -> None:
    issuer = scripted.base_url
    scripted.serve("/.well-known/oauth-authorization-server", {"issuer": "https://evil.example", "jwks_uri": "x"})
    scripted.serve("/.well-known/openid-configuration", {"issuer": issuer, "jwks_uri": issuer + "/jwks"})
    with pytest.raises(AuthServerError, match="names issuer"):
        await MetadataCache(fetcher).get(issuer)
    assert len(scripted.requests) == 1


async def test_a_failure_is_remembered_briefly(scripted: Scripted, fetcher: SafeFetcher) -> None:
    clock = Clock()
    cache = MetadataCache(fetcher, failure_ttl_s=10.0, clock=clock)
    with pytest.raises(AuthServerError, match="no authorization server metadata"):
        await cache.get(scripted.base_url)
    assert len(scripted.requests) == 2
    with pytest.raises(AuthServerError):
        await cache.get(scripted.base_url)
    assert len(scripted.requests) == 2
    scripted.serve("/.well-known/oauth-authorization-server", {"issuer": scripted.base_url})
    clock.offset = 11
    assert (await cache.get(scripted.base_url)).jwks_uri is None
    assert len(scripted.requests) == 3


async def test_an_unreachable_authorization_server_is_a_server_error(
    auth_server: AuthServer, make_validator: MakeValidator
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    validator = make_validator(settings_for(auth_server, authorization_servers=(dead,)))
    with pytest.raises(AuthServerError, match="could not fetch metadata"):
        await validator.validate(auth_server.mint(claims(iss=dead)))


async def test_metadata_fetches_go_through_the_ssrf_guard(auth_server: AuthServer) -> None:
    strict = SafeFetcher(FetchPolicy(allow_loopback=False, timeout_s=5.0))
    try:
        before = auth_server.stats()["metadata"]
        with pytest.raises(AuthServerError, match="loopback"):
            await TokenValidator(settings_for(auth_server), strict).validate(auth_server.mint(claims()))
        assert auth_server.stats()["metadata"] == before
    finally:
        await strict.aclose()


async def test_a_jwks_uri_the_guard_refuses_is_never_fetched(scripted: Scripted, fetcher: SafeFetcher) -> None:
    issuer = scripted.base_url
    scripted.serve(
        "/.well-known/oauth-authorization-server", {"issuer": issuer, "jwks_uri": "http://169.254.169.254/keys"}
    )
    validator = TokenValidator(settings_for_issuer(issuer), fetcher)
    token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0." + _b64_json({"iss": issuer}) + ".c2ln"
    with pytest.raises(AuthServerError, match="link-local"):
        await validator.validate(token)


def settings_for_issuer(issuer: str) -> AuthSettings:
    return AuthSettings(resource="https://mcp.example.test/mcp", authorization_servers=(issuer,))


def _b64_json(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
