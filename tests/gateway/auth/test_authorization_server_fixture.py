"""The OAuth test authorization server (tests/fixtures/oauth) behaves as the standards say, checked with joserfc."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, InvalidKeyIdError, JoseError
from joserfc.jwk import ECKey, KeySet
from joserfc.jwt import JWTClaimsRegistry

from tests.fixtures.oauth.harness import AuthServer, start_authorization_server

PREFIX = "/tenant1"
CLIENT, SECRET = "gateway", "gw-secret"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"


@pytest.fixture(scope="module")
def auth() -> Iterator[AuthServer]:
    with start_authorization_server(path_prefix=PREFIX) as server:
        server.register_client(CLIENT, SECRET, scope="mcp:read mcp:write")
        yield server


@pytest.fixture
def fresh() -> Iterator[AuthServer]:
    """A server of its own, for tests that rotate keys or change settings."""
    with start_authorization_server() as server:
        server.register_client(CLIENT, SECRET)
        yield server


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=10.0, trust_env=False) as client:
        yield client


def origin(server: AuthServer) -> str:
    return server.base_url.removesuffix(PREFIX)


def jwks(http: httpx2.Client, server: AuthServer) -> KeySet:
    return KeySet.import_key_set(http.get(f"{server.issuer}/jwks").json())


def verify(http: httpx2.Client, server: AuthServer, token: str) -> dict[str, Any]:
    """Claims after joserfc checks signature (against the live JWKS), exp and nbf."""
    decoded = jwt.decode(token, jwks(http, server), algorithms=["RS256", "ES256"])
    JWTClaimsRegistry().validate(decoded.claims)
    return dict(decoded.claims)


def token_request(http: httpx2.Client, server: AuthServer, form: dict[str, Any], how: str = "basic") -> httpx2.Response:
    if how == "basic":
        return http.post(f"{server.issuer}/token", data=form, auth=(CLIENT, SECRET))
    if how == "post":
        return http.post(f"{server.issuer}/token", data={**form, "client_id": CLIENT, "client_secret": SECRET})
    return http.post(f"{server.issuer}/token", data=form)


def introspect(http: httpx2.Client, server: AuthServer, token: str) -> dict[str, Any]:
    response = http.post(f"{server.issuer}/introspect", data={"token": token}, auth=(CLIENT, SECRET))
    assert response.status_code == 200
    return dict(response.json())


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/oauth-authorization-server/tenant1",
        "/tenant1/.well-known/openid-configuration",
        "/.well-known/openid-configuration/tenant1",
    ],
)
def test_metadata_is_served_at_standard_locations(auth: AuthServer, http: httpx2.Client, path: str) -> None:
    doc = http.get(origin(auth) + path).json()
    assert doc["issuer"] == auth.issuer
    assert auth.issuer.endswith(PREFIX)
    for endpoint, suffix in [
        ("jwks_uri", "/jwks"),
        ("token_endpoint", "/token"),
        ("introspection_endpoint", "/introspect"),
    ]:
        assert doc[endpoint] == auth.issuer + suffix
    assert set(doc["grant_types_supported"]) == {"client_credentials", EXCHANGE}
    assert set(doc["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert {"RS256", "ES256"} <= set(doc["id_token_signing_alg_values_supported"])
    assert doc["response_types_supported"]


def test_metadata_is_not_served_without_path_insertion(auth: AuthServer, http: httpx2.Client) -> None:
    assert http.get(f"{auth.issuer}/.well-known/oauth-authorization-server").status_code == 404


def test_jwks_holds_only_public_signing_keys(auth: AuthServer, http: httpx2.Client) -> None:
    keys = http.get(f"{auth.issuer}/jwks").json()["keys"]
    assert {(k["kty"], k["alg"]) for k in keys} >= {("RSA", "RS256"), ("EC", "ES256")}
    for key in keys:
        assert key["use"] == "sig"
        assert key["kid"]
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    assert auth.public_jwk("ES256") in keys


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_minted_token_verifies_with_defaults(auth: AuthServer, http: httpx2.Client, alg: str) -> None:
    before = int(time.time())
    claims = verify(http, auth, auth.mint({"sub": "alice", "aud": "https://mcp.example"}, alg=alg, lifetime_s=120))
    assert claims["iss"] == auth.issuer
    assert (claims["sub"], claims["aud"]) == ("alice", "https://mcp.example")
    assert before <= claims["iat"] == claims["nbf"] <= int(time.time())
    assert claims["exp"] - claims["iat"] == 120
    assert claims["jti"]


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({"exp": int(time.time()) - 60}, ExpiredTokenError),
        ({"nbf": int(time.time()) + 3600}, InvalidClaimError),
        ({"iss": "https://other.example"}, None),
    ],
)
def test_minted_claims_override_defaults(
    auth: AuthServer, http: httpx2.Client, claims: dict[str, Any], error: type[JoseError] | None
) -> None:
    token = auth.mint({"sub": "alice", **claims})
    if error is not None:
        with pytest.raises(error):
            verify(http, auth, token)
    decoded = jwt.decode(token, jwks(http, auth)).claims
    assert {name: decoded[name] for name in claims} == claims


def test_mint_without_defaults_carries_only_given_claims(auth: AuthServer, http: httpx2.Client) -> None:
    token = auth.mint({"sub": "alice"}, include_defaults=False)
    assert jwt.decode(token, jwks(http, auth)).claims == {"sub": "alice"}


def test_mint_with_unknown_kid_fails_jwks_lookup(auth: AuthServer, http: httpx2.Client) -> None:
    token = auth.mint({"sub": "alice"}, kid="no-such-key")
    assert jws.extract_compact(token.encode()).headers()["kid"] == "no-such-key"
    with pytest.raises(InvalidKeyIdError):
        verify(http, auth, token)


@pytest.mark.parametrize("how", ["basic", "post"])
def test_client_credentials_issues_audience_bound_token(auth: AuthServer, http: httpx2.Client, how: str) -> None:
    form = {"grant_type": "client_credentials", "scope": "mcp:read", "resource": "https://upstream.example/mcp"}
    response = token_request(http, auth, form, how)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["token_type"], body["scope"], body["expires_in"]) == ("Bearer", "mcp:read", 300)
    claims = verify(http, auth, body["access_token"])
    assert (claims["sub"], claims["aud"], claims["scope"]) == (CLIENT, "https://upstream.example/mcp", "mcp:read")
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("form", "how", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, "none", 401, "invalid_client"),
        (
            {"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": "wrong"},
            "none",
            401,
            "invalid_client",
        ),
        ({"grant_type": "password", "username": "u", "password": "p"}, "basic", 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "scope": "admin"}, "basic", 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "resource": "https://x.example/#frag"}, "basic", 400, "invalid_target"),
        ({"grant_type": EXCHANGE, "subject_token": "x", "subject_token_type": "saml"}, "basic", 400, "invalid_request"),
    ],
)
def test_token_endpoint_errors(
    auth: AuthServer, http: httpx2.Client, form: dict[str, str], how: str, status: int, error: str
) -> None:
    response = token_request(http, auth, form, how)
    assert (response.status_code, response.json()["error"]) == (status, error)


def test_token_exchange_keeps_subject_and_records_actor(auth: AuthServer, http: httpx2.Client) -> None:
    subject = auth.mint({"sub": "alice", "aud": "https://gateway.example", "scope": "mcp:read"})
    form = {
        "grant_type": EXCHANGE,
        "subject_token": subject,
        "subject_token_type": ACCESS_TOKEN,
        "audience": "https://upstream.example",
    }
    response = token_request(http, auth, form)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["issued_token_type"] == ACCESS_TOKEN
    claims = verify(http, auth, body["access_token"])
    assert (claims["sub"], claims["aud"], claims["act"]) == ("alice", "https://upstream.example", {"sub": CLIENT})
    assert claims["scope"] == body["scope"] == "mcp:read"


def _foreign_token(kid: str) -> str:
    return jwt.encode(
        {"alg": "ES256", "kid": kid}, {"sub": "alice", "exp": int(time.time()) + 60}, ECKey.generate_key()
    )


@pytest.mark.parametrize("case", ["revoked", "expired", "wrong_issuer", "foreign_signature", "garbage"])
def test_token_exchange_rejects_invalid_subject(auth: AuthServer, http: httpx2.Client, case: str) -> None:
    subject = {
        "revoked": lambda: auth.mint({"sub": "alice"}),
        "expired": lambda: auth.mint({"sub": "alice", "exp": int(time.time()) - 1}),
        "wrong_issuer": lambda: auth.mint({"sub": "alice", "iss": "https://evil.example"}),
        "foreign_signature": lambda: _foreign_token(auth.public_jwk("ES256")["kid"]),
        "garbage": lambda: "not-a-token",
    }[case]()
    if case == "revoked":
        auth.revoke(subject)
    form = {"grant_type": EXCHANGE, "subject_token": subject, "subject_token_type": ACCESS_TOKEN}
    response = token_request(http, auth, form)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    ("make", "active"),
    [
        (lambda a: a.mint_opaque({"sub": "alice", "scope": "mcp:read"}), True),
        (lambda a: a.mint({"sub": "alice", "scope": "mcp:read"}, alg="ES256"), True),
        (lambda a: a.mint_opaque({"sub": "alice"}, lifetime_s=-1), False),
        (lambda a: a.mint({"sub": "alice", "exp": int(time.time()) - 5}), False),
        (lambda a: "unknown-" + a.mint_opaque({"sub": "alice"}), False),
    ],
)
def test_introspection_reports_activity(auth: AuthServer, http: httpx2.Client, make: Any, active: bool) -> None:
    result = introspect(http, auth, make(auth))
    assert result["active"] is active
    if active:
        assert (result["sub"], result["scope"], result["iss"]) == ("alice", "mcp:read", auth.issuer)
        assert result["exp"] > time.time()
    else:
        assert result == {"active": False}


@pytest.mark.parametrize("kind", ["opaque", "jwt"])
def test_revoked_token_becomes_inactive(auth: AuthServer, http: httpx2.Client, kind: str) -> None:
    token = auth.mint_opaque({"sub": "bob"}) if kind == "opaque" else auth.mint({"sub": "bob"})
    assert introspect(http, auth, token)["active"] is True
    auth.revoke(token)
    assert introspect(http, auth, token) == {"active": False}


def test_introspection_requires_client_authentication(auth: AuthServer, http: httpx2.Client) -> None:
    response = http.post(f"{auth.issuer}/introspect", data={"token": auth.mint_opaque({"sub": "alice"})})
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


def test_rotation_replaces_served_keys(fresh: AuthServer, http: httpx2.Client) -> None:
    old_token = fresh.mint({"sub": "alice"})
    verify(http, fresh, old_token)
    old_kids = {k["kid"] for k in http.get(f"{fresh.issuer}/jwks").json()["keys"]}
    new = fresh.rotate()
    assert {k["kid"] for k in http.get(f"{fresh.issuer}/jwks").json()["keys"]} == set(new.values())
    assert not old_kids & set(new.values())
    with pytest.raises(InvalidKeyIdError):
        verify(http, fresh, old_token)
    assert introspect(http, fresh, old_token)["active"] is True  # the server still knows it signed it
    assert jwt.decode(fresh.mint({"sub": "alice"}, alg="ES256"), jwks(http, fresh)).header["kid"] == new["ES256"]
    kept = fresh.rotate(keep_old=True)
    served = {k["kid"] for k in http.get(f"{fresh.issuer}/jwks").json()["keys"]}
    assert served == set(new.values()) | set(kept.values())


def test_stats_count_requests_and_mask_secrets(fresh: AuthServer, http: httpx2.Client) -> None:
    fresh.stats(reset=True)
    fresh.configure(token_lifetime_s=2)
    http.get(f"{fresh.issuer}/jwks")
    http.get(f"{fresh.base_url}/.well-known/oauth-authorization-server")
    response = token_request(http, fresh, {"grant_type": "client_credentials"}, "post")
    assert response.json()["expires_in"] == 2
    token_request(http, fresh, {"grant_type": "client_credentials", "resource": "https://a.example"}, "basic")
    introspect(http, fresh, response.json()["access_token"])
    stats = fresh.stats()
    assert {k: stats[k] for k in ("metadata", "jwks", "token", "introspect")} == {
        "metadata": 1,
        "jwks": 1,
        "token": 2,
        "introspect": 1,
    }
    assert stats["token_by_grant"] == {"client_credentials": 2}
    first, second = stats["token_requests"]
    assert (first["auth_method"], first["client_id"], first["form"]["client_secret"]) == (
        "client_secret_post",
        CLIENT,
        "***",
    )
    assert (second["auth_method"], second["form"]["resource"]) == ("client_secret_basic", "https://a.example")
    assert SECRET not in str(stats)
