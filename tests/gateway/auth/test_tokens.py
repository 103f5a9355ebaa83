"""TokenValidator against a real authorization server: what passes, what is refused and why."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from joserfc import jwk, jwt

from mcpwarden.gateway.auth.discovery import AuthServerError
from mcpwarden.gateway.auth.settings import AuthSettings, IntrospectionSettings
from mcpwarden.gateway.auth.tokens import (
    AccessToken,
    TokenError,
    TokenValidator,
    check_scopes,
    token_fingerprint,
)
from tests.fixtures.oauth.harness import AuthServer
from tests.gateway.auth.conftest import GATEWAY_CLIENT, RESOURCE, SCOPE, Clock, Scripted, claims, settings_for

pytestmark = pytest.mark.anyio

MakeValidator = Callable[..., TokenValidator]
ATTACKER = jwk.RSAKey.generate_key(2048, parameters={"kid": "attacker"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}.{_b64(signature)}"


def _payload(auth: AuthServer, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": auth.issuer, "iat": now, "exp": now + 300, **claims(**extra)}


async def _refused(validator: TokenValidator, token: str) -> TokenError:
    with pytest.raises(TokenError) as caught:
        await validator.validate(token)
    assert (caught.value.status, caught.value.error) == (401, "invalid_token")
    return caught.value


# -- valid tokens ------------------------------------------------------------------------------------
@pytest.mark.parametrize("alg", ["RS256", "ES256"])
async def test_a_valid_token_yields_its_facts(auth_server: AuthServer, make_validator: MakeValidator, alg: str) -> None:
    token = auth_server.mint(claims(groups=["ops", "dev"], scope="mcp:tools mcp:deploy"), alg=alg)
    access = await make_validator(settings_for(auth_server)).validate(token)
    assert access.subject == "alice"
    assert access.client_id == "agent-1"
    assert access.issuer == auth_server.issuer
    assert access.scopes == {"mcp:tools", "mcp:deploy"}
    assert access.groups == {"ops", "dev"}
    assert access.expires_at == access.claims["exp"]
    assert time.time() < access.expires_at <= time.time() + 301


@pytest.mark.parametrize(
    ("extra", "field", "expected"),
    [
        ({"scope": None, "scp": ["a", "b"]}, "scopes", {"a", "b"}),
        ({"scope": None, "scp": "a b"}, "scopes", {"a", "b"}),  # Entra ID sends scp as a string
        ({"client_id": None, "azp": "agent-9"}, "client_id", "agent-9"),
        ({"groups": "ops dev"}, "groups", {"ops", "dev"}),
        ({"sub": None, "client_id": "robot"}, "subject", "robot"),  # client credentials without sub
        ({"aud": ["https://other.example/api", RESOURCE]}, "subject", "alice"),
        ({"aud": RESOURCE + "/"}, "subject", "alice"),
        ({"aud": "HTTPS://MCP.EXAMPLE.TEST/mcp"}, "subject", "alice"),
    ],
)
async def test_claims_map_to_the_access_token(
    auth_server: AuthServer, make_validator: MakeValidator, extra: dict[str, Any], field: str, expected: object
) -> None:
    minted = {k: v for k, v in claims(**extra).items() if v is not None}
    access = await make_validator(settings_for(auth_server)).validate(auth_server.mint(minted))
    assert getattr(access, field) == expected


async def test_groups_are_read_from_a_nested_claim(auth_server: AuthServer, make_validator: MakeValidator) -> None:
    token = auth_server.mint(claims(realm_access={"roles": ["admin"]}))
    validator = make_validator(settings_for(auth_server, groups_claim="realm_access.roles"))
    assert (await validator.validate(token)).groups == {"admin"}


async def test_expiry_within_leeway_is_accepted(auth_server: AuthServer, make_validator: MakeValidator) -> None:
    token = auth_server.mint(claims(exp=int(time.time()) - 2))
    assert (await make_validator(settings_for(auth_server, leeway_s=5.0)).validate(token)).subject == "alice"


# -- refused JWTs ------------------------------------------------------------------------------------
def _at(offset: int) -> int:
    return int(time.time()) + offset


@pytest.mark.parametrize(
    ("name", "extra", "why"),
    [
        ("expired", lambda: {"exp": _at(-60)}, "expired"),
        ("not yet valid", lambda: {"nbf": _at(600)}, "not yet valid"),
        ("issued in the future", lambda: {"iat": _at(600)}, "future"),
        ("wrong issuer", lambda: {"iss": "http://127.0.0.1:1/evil"}, "issuer"),
        ("wrong audience", lambda: {"aud": "https://other.example/mcp"}, "audience"),
        ("audience list without us", lambda: {"aud": ["https://a.example", "https://b.example"]}, "audience"),
        ("audience only as resource claim", lambda: {"aud": None, "resource": RESOURCE}, "audience"),
        ("audience prefix only", lambda: {"aud": RESOURCE + "/admin"}, "audience"),
        ("no subject", lambda: {"sub": None, "client_id": None}, "subject"),
        ("exp is a string", lambda: {"exp": str(_at(300))}, "exp"),
        ("sender-constrained", lambda: {"cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}, "cnf"),
        ("scope not a string or list", lambda: {"scope": {"mcp:tools": True}}, "scope"),
    ],
)
async def test_bad_claims_are_refused(
    auth_server: AuthServer,
    make_validator: MakeValidator,
    name: str,
    extra: Callable[[], dict[str, Any]],
    why: str,
) -> None:
    minted = {k: v for k, v in claims(**extra()).items() if v is not None}
    error = await _refused(make_validator(settings_for(auth_server)), auth_server.mint(minted))
    assert why in error.description, name


async def test_a_token_without_exp_is_refused(auth_server: AuthServer, make_validator: MakeValidator) -> None:
    token = auth_server.mint({"iss": auth_server.issuer, **claims()}, include_defaults=False)
    assert "exp" in (await _refused(make_validator(settings_for(auth_server)), token)).description


@pytest.mark.parametrize(
    "token",
    [
        "a.b.c",
        "e30.e30.e30",  # header without alg
        "W10.e30.c2ln",  # header is a JSON array
        "not a token",
        "abc.def.ghi\n",
        "x" * 20_000,
        "a.b.c.d.e",  # JWE
    ],
)
async def test_malformed_tokens_are_refused(auth_server: AuthServer, make_validator: MakeValidator, token: str) -> None:
    await _refused(make_validator(settings_for(auth_server)), token)


async def test_alg_none_is_refused(auth_server: AuthServer, make_validator: MakeValidator) -> None:
    token = _forge({"alg": "none", "typ": "at+jwt"}, _payload(auth_server))
    assert "algorithm" in (await _refused(make_validator(settings_for(auth_server)), token)).description


@pytest.mark.parametrize("configured", [None, ("RS256", "HS256")])
async def test_hs256_signed_with_the_public_key_is_refused_before_any_key_lookup(
    auth_server: AuthServer, make_validator: MakeValidator, configured: tuple[str, ...] | None
) -> None:
    public = auth_server.public_jwk("RS256")
    secret = jwk.import_key(public).as_pem(private=False)
    header = {"alg": "HS256", "typ": "at+jwt", "kid": public["kid"]}
    unsigned = ".".join(_forge(header, _payload(auth_server)).split(".")[:2])
    token = f"{unsigned}.{_b64(hmac.new(secret, unsigned.encode(), hashlib.sha256).digest())}"
    settings = settings_for(auth_server) if configured is None else settings_for(auth_server, algorithms=configured)
    before = auth_server.stats()
    error = await _refused(make_validator(settings), token)
    assert "algorithm" in error.description
    after = auth_server.stats()
    assert (after["metadata"], after["jwks"]) == (before["metadata"], before["jwks"])


async def test_an_algorithm_not_configured_is_refused(auth_server: AuthServer, make_validator: MakeValidator) -> None:
    token = auth_server.mint(claims(), alg="RS256")
    await _refused(make_validator(settings_for(auth_server, algorithms=("ES256",))), token)


async def test_a_flipped_signature_byte_is_refused(auth_server: AuthServer, make_validator: MakeValidator) -> None:
    validator = make_validator(settings_for(auth_server))
    good = auth_server.mint(claims())
    await validator.validate(good)
    head, body, sig = good.split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    raw[len(raw) // 2] ^= 0x01
    error = await _refused(validator, f"{head}.{body}.{_b64(bytes(raw))}")
    assert "signature" in error.description


async def test_a_tampered_payload_is_refused(auth_server: AuthServer, make_validator: MakeValidator) -> None:
    head, _body, sig = auth_server.mint(claims(scope=SCOPE)).split(".")
    forged_body = _b64(json.dumps(_payload(auth_server, scope="mcp:tools mcp:admin")).encode())
    await _refused(make_validator(settings_for(auth_server)), f"{head}.{forged_body}.{sig}")


async def test_a_key_of_our_own_under_the_servers_kid_is_refused(
    auth_server: AuthServer, make_validator: MakeValidator
) -> None:
    kid = auth_server.public_jwk("RS256")["kid"]
    attacker = jwk.import_key({**ATTACKER.as_dict(private=True), "kid": kid})
    token = jwt.encode({"alg": "RS256", "kid": kid}, _payload(auth_server), attacker)
    assert "signature" in (await _refused(make_validator(settings_for(auth_server)), token)).description


async def test_header_key_references_are_ignored(auth_server: AuthServer, make_validator: MakeValidator) -> None:
    attacker = ATTACKER
    header = {"alg": "RS256", "kid": "attacker", "jwk": attacker.as_dict(private=False), "jku": "http://127.0.0.1:1/k"}
    token = jwt.encode(header, _payload(auth_server), attacker)
    await _refused(make_validator(settings_for(auth_server)), token)


# -- opaque tokens through introspection ------------------------------------------------------------
async def test_an_active_opaque_token_is_accepted_and_cached(
    auth_server: AuthServer, make_validator: MakeValidator
) -> None:
    validator = make_validator(settings_for(auth_server))
    token = auth_server.mint_opaque(claims(groups=["ops"]))
    before = auth_server.stats()["introspect"]
    first = await validator.validate(token)
    second = await validator.validate(token)
    assert isinstance(first, AccessToken) and first == second
    assert (first.subject, first.client_id, first.scopes, first.groups) == ("alice", "agent-1", {SCOPE}, {"ops"})
    assert first.issuer == auth_server.issuer
    assert auth_server.stats()["introspect"] == before + 1


@pytest.mark.parametrize("case", ["revoked", "unknown", "expired"])
async def test_inactive_opaque_tokens_are_refused_and_cached(
    auth_server: AuthServer, make_validator: MakeValidator, case: str
) -> None:
    validator = make_validator(settings_for(auth_server))
    if case == "unknown":
        token = "bm90LWEtcmVhbC10b2tlbi1hdC1hbGwtMTIzNDU2Nzg5"
    else:
        token = auth_server.mint_opaque(claims(), lifetime_s=-10 if case == "expired" else 300)
        if case == "revoked":
            auth_server.revoke(token)
    before = auth_server.stats()["introspect"]
    assert "not active" in (await _refused(validator, token)).description
    await _refused(validator, token)
    assert auth_server.stats()["introspect"] == before + 1


async def test_a_revoked_token_stays_accepted_only_until_the_cache_expires(
    auth_server: AuthServer, make_validator: MakeValidator
) -> None:
    clock = Clock()
    validator = make_validator(settings_for(auth_server), clock=clock)
    token = auth_server.mint_opaque(claims(), lifetime_s=3600)
    await validator.validate(token)
    auth_server.revoke(token)
    await validator.validate(token)  # the cached answer
    clock.offset = 301  # past the 5-minute cap on cached answers
    await _refused(validator, token)


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"aud": "https://other.example/mcp"}, "audience"),
        ({"iss": "http://127.0.0.1:1/evil"}, "issuer"),
        ({"cnf": {"x5t#S256": "abc"}}, "cnf"),
    ],
)
async def test_introspection_answers_are_checked_like_jwts(
    auth_server: AuthServer, make_validator: MakeValidator, extra: dict[str, Any], why: str
) -> None:
    token = auth_server.mint_opaque(claims(**extra))
    assert why in (await _refused(make_validator(settings_for(auth_server)), token)).description


async def test_an_introspection_answer_without_aud_is_refused(
    auth_server: AuthServer, make_validator: MakeValidator
) -> None:
    token = auth_server.mint_opaque({k: v for k, v in claims().items() if k != "aud"})
    refused = await _refused(make_validator(settings_for(auth_server)), token)
    assert "audience" in refused.description


async def test_opaque_tokens_without_introspection_are_refused_unsent(
    auth_server: AuthServer, make_validator: MakeValidator
) -> None:
    token = auth_server.mint_opaque(claims())
    before = auth_server.stats()["introspect"]
    await _refused(make_validator(settings_for(auth_server, introspection=None)), token)
    assert auth_server.stats()["introspect"] == before


async def test_a_configured_introspection_endpoint_is_used(
    auth_server: AuthServer, make_validator: MakeValidator
) -> None:
    settings = settings_for(
        auth_server, introspection=IntrospectionSettings(*GATEWAY_CLIENT, endpoint=f"{auth_server.issuer}/introspect")
    )
    validator = make_validator(settings)
    assert (await validator.validate(auth_server.mint_opaque(claims()))).subject == "alice"
    assert validator.introspector is not None and validator.introspector.calls == 1


async def test_wrong_introspection_credentials_are_a_server_error_not_a_token_error(
    auth_server: AuthServer, make_validator: MakeValidator
) -> None:
    settings = settings_for(auth_server, introspection=IntrospectionSettings(GATEWAY_CLIENT[0], "wrong"))
    with pytest.raises(AuthServerError, match="HTTP 401"):
        await make_validator(settings).validate(auth_server.mint_opaque(claims()))


# -- scopes and logging -----------------------------------------------------------------------------
def _access(scopes: set[str]) -> AccessToken:
    return AccessToken("alice", "https://as.example", "agent-1", frozenset(scopes), frozenset(), None)


@pytest.mark.parametrize(
    ("held", "required", "refused"),
    [
        ({"a", "b"}, ["a"], False),
        ({"a"}, [], False),
        ({"a"}, ["a", "b"], True),
        (set(), ["a"], True),
    ],
)
def test_check_scopes(held: set[str], required: list[str], refused: bool) -> None:
    if not refused:
        check_scopes(_access(held), required)
        return
    with pytest.raises(TokenError) as caught:
        check_scopes(_access(held), required)
    assert (caught.value.status, caught.value.error, caught.value.scope) == (
        403,
        "insufficient_scope",
        " ".join(required),
    )


async def test_tokens_never_reach_the_log(
    auth_server: AuthServer, make_validator: MakeValidator, caplog: pytest.LogCaptureFixture
) -> None:
    validator = make_validator(settings_for(auth_server))
    tokens = [auth_server.mint(claims(exp=_at(-600))), auth_server.mint_opaque(claims(aud="https://x.example"))]
    with caplog.at_level(logging.DEBUG, logger="mcpwarden"):
        for token in tokens:
            await _refused(validator, token)
    logged = caplog.text + json.dumps([getattr(r, "fields", None) for r in caplog.records], default=str)
    assert all(token not in logged and token.split(".")[-1] not in logged for token in tokens)
    assert all(token_fingerprint(token) in logged for token in tokens)


async def test_a_cached_jwt_is_refused_once_it_expires(auth_server: AuthServer, make_validator: MakeValidator) -> None:
    clock = Clock()
    validator = make_validator(settings_for(auth_server, leeway_s=5.0), clock=clock)
    token = auth_server.mint(claims(), lifetime_s=60)
    await validator.validate(token)
    clock.offset = 50
    await validator.validate(token)
    clock.offset = 66
    assert "expired" in (await _refused(validator, token)).description


@pytest.mark.parametrize("active", ["true", 1, None])
async def test_only_json_true_means_active(scripted: Scripted, make_validator: MakeValidator, active: object) -> None:
    issuer = scripted.base_url
    scripted.serve(
        "/.well-known/oauth-authorization-server", {"issuer": issuer, "introspection_endpoint": issuer + "/i"}
    )
    answer = {"iss": issuer, "sub": "alice", "aud": RESOURCE, "exp": _at(300)}
    scripted.serve("/i", answer if active is None else {**answer, "active": active})
    settings = AuthSettings(
        resource=RESOURCE, authorization_servers=(issuer,), introspection=IntrospectionSettings(*GATEWAY_CLIENT)
    )
    assert "not active" in (await _refused(make_validator(settings), "opaque-token-0123456789")).description
    assert ("POST", "/i") in scripted.requests
