"""The JWKS cache: rotation picked up with one refresh, unknown kids rate-limited, single-flight fetches."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from joserfc import jwk, jwt

from mcpwarden.gateway.auth.discovery import AuthServerError
from mcpwarden.gateway.auth.jwks import DEFAULT_MAX_AGE_S, parse_jwks
from mcpwarden.gateway.auth.settings import AuthSettings
from mcpwarden.gateway.auth.tokens import TokenError, TokenValidator
from tests.fixtures.oauth.harness import AuthServer
from tests.gateway.auth.conftest import RESOURCE, Clock, Scripted, claims, settings_for

pytestmark = pytest.mark.anyio

MakeValidator = Callable[..., TokenValidator]


def _kid(token: str) -> str:
    head = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"])


def _jwks_fetches(server: AuthServer) -> int:
    return int(server.stats()["jwks"])


async def test_an_unknown_kid_is_refused_after_exactly_one_refresh(
    auth_server: AuthServer, make_validator: MakeValidator
) -> None:
    validator = make_validator(settings_for(auth_server))
    await validator.validate(auth_server.mint(claims()))  # first use: one fetch
    before = _jwks_fetches(auth_server)
    with pytest.raises(TokenError, match="key is unknown"):
        await validator.validate(auth_server.mint(claims(), kid="never-published"))
    assert _jwks_fetches(auth_server) == before + 1


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
async def test_a_rotated_key_is_accepted_after_exactly_one_refresh(
    auth_server: AuthServer, make_validator: MakeValidator, alg: str
) -> None:
    validator = make_validator(settings_for(auth_server))
    old_token = auth_server.mint(claims(), alg=alg)
    await validator.validate(old_token)
    new_kid = auth_server.rotate(keep_old=False)[alg]
    new_token = auth_server.mint(claims(), alg=alg)
    assert _kid(new_token) == new_kid != _kid(old_token)
    before = _jwks_fetches(auth_server)
    assert (await validator.validate(new_token)).subject == "alice"
    assert (await validator.validate(auth_server.mint(claims(), alg=alg))).subject == "alice"
    assert _jwks_fetches(auth_server) == before + 1
    # The withdrawn key is gone from the refreshed set, and asking again is rate-limited.
    with pytest.raises(TokenError, match="key is unknown"):
        await validator.validate(old_token)
    assert _jwks_fetches(auth_server) == before + 1


async def test_unknown_kids_refresh_at_most_once_per_interval(
    auth_server: AuthServer, make_validator: MakeValidator
) -> None:
    clock = Clock()
    validator = make_validator(settings_for(auth_server, jwks_min_refresh_s=60.0), clock=clock)
    await validator.validate(auth_server.mint(claims()))
    forged = [auth_server.mint(claims(), kid=f"probe-{i}") for i in range(20)]
    before = _jwks_fetches(auth_server)
    refused: list[str] = []

    async def attempt(token: str) -> None:
        try:
            await validator.validate(token)
        except TokenError as exc:
            refused.append(exc.description)

    async with anyio.create_task_group() as tg:
        for token in forged[:10]:
            tg.start_soon(attempt, token)
    for token in forged[10:]:
        await attempt(token)
    assert len(refused) == 20
    assert _jwks_fetches(auth_server) == before + 1
    clock.offset = 61  # the interval has passed: one more refresh is allowed, and only one
    for token in forged[:5]:
        await attempt(token)
    assert _jwks_fetches(auth_server) == before + 2


async def test_concurrent_first_uses_share_one_fetch(auth_server: AuthServer, make_validator: MakeValidator) -> None:
    validator = make_validator(settings_for(auth_server))
    tokens = [auth_server.mint(claims(), alg="ES256" if i % 2 else "RS256") for i in range(12)]
    before = auth_server.stats()
    subjects: list[str] = []

    async def check(token: str) -> None:
        subjects.append((await validator.validate(token)).subject)

    async with anyio.create_task_group() as tg:
        for token in tokens:
            tg.start_soon(check, token)
    after = auth_server.stats()
    assert subjects == ["alice"] * 12
    assert (after["metadata"] - before["metadata"], after["jwks"] - before["jwks"]) == (1, 1)


async def test_keys_are_refetched_when_they_reach_their_maximum_age(
    auth_server: AuthServer, make_validator: MakeValidator
) -> None:
    clock = Clock()
    validator = make_validator(settings_for(auth_server), clock=clock)
    token = auth_server.mint(claims(), lifetime_s=int(DEFAULT_MAX_AGE_S) + 600)
    await validator.validate(token)
    before = _jwks_fetches(auth_server)
    await validator.validate(token)
    assert _jwks_fetches(auth_server) == before
    clock.offset = DEFAULT_MAX_AGE_S + 1
    await validator.validate(token)
    assert _jwks_fetches(auth_server) == before + 1


async def test_no_refresh_limit_when_the_interval_is_zero(
    auth_server: AuthServer, make_validator: MakeValidator
) -> None:
    validator = make_validator(settings_for(auth_server, jwks_min_refresh_s=0.0))
    await validator.validate(auth_server.mint(claims()))
    before = _jwks_fetches(auth_server)
    for i in range(3):
        with pytest.raises(TokenError):
            await validator.validate(auth_server.mint(claims(), kid=f"zero-{i}"))
    assert _jwks_fetches(auth_server) == before + 3


# -- parsing ----------------------------------------------------------------------------------------
# Generated once: RSA key generation is slow, and the tests only need distinct key types.
KEYS: dict[str, Any] = {
    "RSA": jwk.RSAKey.generate_key(2048, parameters={"kid": "scripted-1"}),
    "EC": jwk.ECKey.generate_key("P-256"),
    "OKP": jwk.OKPKey.generate_key("Ed25519"),
}


def _public(kty: str = "RSA", **extra: Any) -> dict[str, Any]:
    return {**KEYS[kty].as_dict(private=False), "kid": "k1", **extra}


@pytest.mark.parametrize(
    ("entry", "usable"),
    [
        (_public(), True),
        (_public("EC", use="sig", alg="ES256"), True),
        (_public("OKP"), True),
        (_public(use="enc"), False),
        (_public(key_ops=["encrypt"]), False),
        ({**KEYS["RSA"].as_dict(private=True), "kid": "leaked"}, False),
        ({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}, False),
        ({"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"}, False),
        ("not an object", False),
    ],
)
def test_jwks_entries_that_cannot_verify_signatures_are_skipped(entry: Any, usable: bool) -> None:
    assert len(parse_jwks({"keys": [entry]}, "https://as.example/jwks")) == int(usable)


@pytest.mark.parametrize("document", [[], {"keys": "none"}, {"other": []}])
def test_a_document_that_is_not_a_jwks_is_an_error(document: Any) -> None:
    with pytest.raises(AuthServerError):
        parse_jwks(document, "https://as.example/jwks")


@pytest.mark.parametrize(
    ("entry", "alg", "fits"),
    [
        (_public(), "RS256", True),
        (_public(), "PS256", True),
        (_public(), "ES256", False),
        (_public(alg="RS384"), "RS256", False),
        (_public("EC"), "ES256", True),
        (_public("EC"), "ES384", False),
        (_public("OKP"), "EdDSA", True),
    ],
)
def test_a_key_only_verifies_the_algorithms_it_fits(entry: dict[str, Any], alg: str, fits: bool) -> None:
    (key,) = parse_jwks({"keys": [entry]}, "https://as.example/jwks")
    assert key.fits(alg) is fits


# -- a JWKS endpoint that fails ---------------------------------------------------------------------
SIGNER = KEYS["RSA"]


def _scripted_issuer(scripted: Scripted, jwks_status: int = 200) -> str:
    issuer = scripted.base_url
    scripted.serve("/.well-known/oauth-authorization-server", {"issuer": issuer, "jwks_uri": issuer + "/jwks"})
    scripted.serve("/jwks", {"keys": [SIGNER.as_dict(private=False)]}, status=jwks_status)
    return issuer


def _signed(issuer: str) -> str:
    payload = {"iss": issuer, "sub": "alice", "aud": RESOURCE, "exp": int(time.time()) + 7200, "jti": uuid.uuid4().hex}
    return jwt.encode({"alg": "RS256", "kid": "scripted-1"}, payload, SIGNER)


def _jwks_requests(scripted: Scripted) -> int:
    return scripted.requests.count(("GET", "/jwks"))


async def test_the_last_good_keys_stay_in_use_when_a_refetch_fails(
    scripted: Scripted, make_validator: MakeValidator
) -> None:
    issuer = _scripted_issuer(scripted)
    clock = Clock()
    validator = make_validator(AuthSettings(resource=RESOURCE, authorization_servers=(issuer,)), clock=clock)
    await validator.validate(_signed(issuer))
    scripted.serve("/jwks", {"error": "unavailable"}, status=503)
    clock.offset = DEFAULT_MAX_AGE_S + 1
    assert (await validator.validate(_signed(issuer))).subject == "alice"
    assert (await validator.validate(_signed(issuer))).subject == "alice"
    assert _jwks_requests(scripted) == 2  # the failed refetch is not retried within the interval
    clock.offset += 31
    await validator.validate(_signed(issuer))
    assert _jwks_requests(scripted) == 3


async def test_a_jwks_never_obtained_is_a_server_error_retried_at_a_bounded_rate(
    scripted: Scripted, make_validator: MakeValidator
) -> None:
    issuer = _scripted_issuer(scripted, jwks_status=500)
    clock = Clock()
    validator = make_validator(AuthSettings(resource=RESOURCE, authorization_servers=(issuer,)), clock=clock)
    for _ in range(3):
        with pytest.raises(AuthServerError, match="JWKS"):
            await validator.validate(_signed(issuer))
    assert _jwks_requests(scripted) == 1
    _scripted_issuer(scripted)
    clock.offset = 31
    assert (await validator.validate(_signed(issuer))).subject == "alice"
    assert _jwks_requests(scripted) == 2
