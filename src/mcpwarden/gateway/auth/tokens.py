"""Access-token validation: a JWT against its issuer's JWKS, an opaque token through introspection.

What a token must be to pass (MCP authorization specification, OAuth 2.1 section 5.2, RFC 9068):
- a JWS signed with one of `settings.algorithms` (asymmetric only: `none` and HS* are refused before
  any key is looked up, so an HMAC "signed" with the public key's bytes never gets near a key);
- issued by a configured authorization server: `iss` equals its issuer exactly, and the signing key
  comes from that issuer's own JWKS (found through its metadata, never from the token's header:
  `jku`, `x5u` and `jwk` are ignored);
- for this gateway: `aud` (a string or a list) contains `settings.resource` (RFC 8707). A `resource`
  claim is not accepted in place of `aud`: RFC 8707 defines `resource` as a request parameter and
  says the audience travels in `aud`; honouring both would give two ways to name the audience and
  let a token minted for another resource slip through a lax issuer. The comparison ignores scheme
  and host case and a trailing slash (RFC 3986 equivalence; the MCP specification's canonical URI);
- current: `exp` present and not past, `nbf` and `iat` not in the future, each within `leeway_s`;
- a bearer token: a token with a `cnf` claim is bound to a key (DPoP, mTLS) whose proof this
  gateway does not check, so it is refused rather than honoured as a plain bearer token.

The `typ` header is not enforced: RFC 9068 asks for `at+jwt`, but most identity providers still
send `JWT`, and the audience check already keeps ID tokens (audience = a client id) out.

Opaque tokens (anything that is not three dot-separated segments) are introspected when
`settings.introspection` is set and refused otherwise. An introspection answer is checked the same
way, except that `aud` and `exp` are checked only when present (RFC 7662 makes them optional).

A token never appears in a log line, only `token_fingerprint()` of it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
import re
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from joserfc import jwt
from joserfc.errors import BadSignatureError, JoseError, SecurityWarning

from mcpwarden.gateway.auth.discovery import AuthServerError, MetadataCache
from mcpwarden.gateway.auth.introspection import (
    DEFAULT_INACTIVE_TTL_S,
    DEFAULT_MAX_TTL_S,
    ExpiringCache,
    Introspector,
    token_digest,
)
from mcpwarden.gateway.auth.jwks import JwksCache
from mcpwarden.gateway.auth.settings import SUPPORTED_ALGORITHMS, AuthSettings
from mcpwarden.protocol.safe_fetch import SafeFetcher

__all__ = ["AccessToken", "AuthServerError", "TokenError", "TokenValidator", "check_scopes", "token_fingerprint"]

log = logging.getLogger("mcpwarden.gateway.auth")

MAX_TOKEN_CHARS = 16_384
# RFC 6750 section 2.1 b64token; anything else cannot be a bearer token and is never sent anywhere.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class AccessToken:
    """A validated token's facts, ready to become a Cedar principal."""

    subject: str
    issuer: str
    client_id: str | None
    scopes: frozenset[str]
    groups: frozenset[str]
    expires_at: float | None
    claims: Mapping[str, Any] = field(default_factory=dict)


class TokenError(Exception):
    """Why a token was refused; `status` and `error` become the 401/403 and its WWW-Authenticate."""

    def __init__(
        self,
        description: str,
        *,
        status: Literal[400, 401, 403] = 401,
        error: Literal["invalid_request", "invalid_token", "insufficient_scope"] = "invalid_token",
        scope: str | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.error = error
        self.scope = scope


def token_fingerprint(token: str) -> str:
    """What may be logged about a token: a short SHA-256 prefix, enough to correlate, useless to replay."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def check_scopes(token: AccessToken, required: Iterable[str]) -> None:
    """Raise a 403 `insufficient_scope` naming every required scope when the token lacks any of them."""
    needed = list(dict.fromkeys(required))
    missing = [scope for scope in needed if scope not in token.scopes]
    if missing:
        raise TokenError(
            f"token lacks scope {' '.join(missing)}", status=403, error="insufficient_scope", scope=" ".join(needed)
        )


class TokenValidator:
    """Validates bearer tokens for one resource; holds the metadata, JWKS and introspection caches.

    `fetcher` (the SSRF guard) is the caller's to close. `clock` gives wall-clock seconds; it drives
    claim checks, cache lifetimes and the JWKS refresh rate, so tests can move time.
    `validate` raises `TokenError` for a bad token and `AuthServerError` when the authorization server
    cannot be reached or trusted (the caller answers 503 for that, not 401).
    """

    def __init__(self, settings: AuthSettings, fetcher: SafeFetcher, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._fetcher = fetcher
        self._clock = clock
        # Intersected again here: an AuthSettings built in code bypasses the config checks.
        self._algorithms = frozenset(settings.algorithms) & SUPPORTED_ALGORITHMS
        self._issuers = frozenset(settings.authorization_servers)
        self._resource = _canonical_uri(settings.resource)
        self.metadata = MetadataCache(fetcher, clock=clock)
        self._jwks: dict[str, JwksCache] = {}
        self.introspector = (
            Introspector(settings.introspection, fetcher, self.metadata, settings.authorization_servers)
            if settings.introspection is not None
            else None
        )
        self._opaque: ExpiringCache[AccessToken | TokenError] = ExpiringCache()
        # Verified JWTs, so a client's every request does not pay for a signature check; an entry
        # is used only while the issuer's key set is the one it was verified under.
        self._verified: ExpiringCache[tuple[AccessToken, JwksCache, int]] = ExpiringCache()

    async def validate(self, token: str) -> AccessToken:
        """The token's facts if it is valid for this resource now; raises TokenError or AuthServerError."""
        try:
            if len(token) > MAX_TOKEN_CHARS or not _B64TOKEN.fullmatch(token):
                raise TokenError("malformed token")
            if token.count(".") == 2:
                return await self._validate_jwt(token)
            if token.count(".") == 4:
                raise TokenError("encrypted tokens (JWE) are not accepted")
            return await self._validate_opaque(token)
        except TokenError as exc:
            log.debug("token refused", extra={"fields": {"token": token_fingerprint(token), "why": exc.description}})
            raise

    async def jwks_for(self, issuer: str) -> JwksCache:
        """The JWKS cache of a configured issuer (created at first use from its metadata)."""
        metadata = await self.metadata.get(issuer)
        cache = self._jwks.get(issuer)
        if cache is None or cache.jwks_uri != metadata.jwks_uri:
            if not metadata.jwks_uri:
                raise AuthServerError(f"authorization server {issuer} publishes no jwks_uri: cannot verify JWTs")
            cache = JwksCache(
                self._fetcher, metadata.jwks_uri, min_refresh_s=self.settings.jwks_min_refresh_s, clock=self._clock
            )
            self._jwks[issuer] = cache
        return cache

    # -- JWT --------------------------------------------------------------------------------------
    async def _validate_jwt(self, token: str) -> AccessToken:
        digest = token_digest(token)
        hit = self._verified.get(digest, self._clock())
        if hit is not None and hit[1].generation == hit[2]:
            return hit[0]
        segments = token.split(".")
        if not all(_SEGMENT.fullmatch(s) for s in segments[:2]) or not _SEGMENT.fullmatch(segments[2] or "-"):
            raise TokenError("malformed token")
        header = _segment_json(segments[0])
        alg = header.get("alg")
        # Before any key is touched: `none`, HS* and anything unlisted never reach a verifier.
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise TokenError("token signing algorithm not accepted")
        if not segments[2]:
            raise TokenError("token is not signed")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenError("malformed token header (kid)")
        # The unverified issuer only chooses whose keys to try; the verified claims are checked again below.
        issuer = _segment_json(segments[1]).get("iss")
        if not isinstance(issuer, str) or issuer not in self._issuers:
            raise TokenError("token issuer is not trusted")
        jwks = await self.jwks_for(issuer)
        candidates = await jwks.keys_for(kid, alg)
        if not candidates:
            raise TokenError("token signing key is unknown" if kid is not None else "token names no key (kid)")
        generation = jwks.generation  # read after the last await: the keys below belong to it
        result = self._access_token(_verify(token, alg, [c.key for c in candidates]), issuer, jwt_token=True)
        if result.expires_at is not None:  # always so for a JWT (refused without exp); checked for the type
            until = min(self._clock() + DEFAULT_MAX_TTL_S, result.expires_at + self.settings.leeway_s)
            self._verified.put(digest, (result, jwks, generation), until)
        return result

    # -- opaque -----------------------------------------------------------------------------------
    async def _validate_opaque(self, token: str) -> AccessToken:
        if self.introspector is None:
            raise TokenError("malformed token (not a JWT, and token introspection is not configured)")
        key = token_digest(token)
        now = self._clock()
        cached = self._opaque.get(key, now)
        if isinstance(cached, TokenError):
            raise TokenError(cached.description)
        if cached is not None:
            return cached
        answer = await self.introspector.introspect(token)
        if answer is None:
            self._opaque.put(key, TokenError("token is not active"), now + DEFAULT_INACTIVE_TTL_S)
            raise TokenError("token is not active")
        claims, default_issuer = answer
        issuer = claims.get("iss", default_issuer)
        try:
            if not isinstance(issuer, str) or issuer not in self._issuers:
                raise TokenError("token issuer is not trusted")
            result = self._access_token(claims, issuer, jwt_token=False)
        except TokenError as exc:
            self._opaque.put(key, exc, now + DEFAULT_INACTIVE_TTL_S)
            raise
        until = now + DEFAULT_MAX_TTL_S
        if result.expires_at is not None:
            until = min(until, result.expires_at)
        self._opaque.put(key, result, until)
        return result

    # -- claims -----------------------------------------------------------------------------------
    def _access_token(self, claims: Mapping[str, Any], issuer: str, *, jwt_token: bool) -> AccessToken:
        now = self._clock()
        leeway = self.settings.leeway_s
        if claims.get("iss", issuer) != issuer:
            raise TokenError("token issuer is not trusted")
        exp = _time_claim(claims, "exp")
        if exp is None and jwt_token:
            raise TokenError("token has no expiry (exp)")
        if exp is not None and now >= exp + leeway:
            raise TokenError("token expired")
        nbf = _time_claim(claims, "nbf")
        if nbf is not None and nbf > now + leeway:
            raise TokenError("token not yet valid (nbf)")
        iat = _time_claim(claims, "iat")
        if iat is not None and iat > now + leeway:
            raise TokenError("token issued in the future (iat)")
        # Introspection answers must name the audience too: without it nothing shows the token was
        # issued for this resource rather than another one trusting the same authorization server.
        audiences = _strings(claims.get("aud"), "aud")
        if self._resource not in {_canonical_uri(a) for a in audiences}:
            raise TokenError("token audience is not this resource")
        if "cnf" in claims:
            raise TokenError("sender-constrained tokens (cnf) are not accepted as bearer tokens")
        token_type = claims.get("token_type")
        if isinstance(token_type, str) and "refresh" in token_type.lower():
            raise TokenError("refresh tokens are not access tokens")
        client_id = _optional_string(claims, "client_id") or _optional_string(claims, "azp")
        subject = _optional_string(claims, "sub") or client_id
        if not subject:
            raise TokenError("token names no subject (sub)")
        scopes = set(_strings(claims.get("scope"), "scope", space_separated=True))
        scopes.update(_strings(claims.get("scp"), "scp", space_separated=True))
        groups = _strings(_claim_path(claims, self.settings.groups_claim), "groups", space_separated=True)
        return AccessToken(
            subject=subject,
            issuer=issuer,
            client_id=client_id,
            scopes=frozenset(scopes),
            groups=frozenset(groups),
            expires_at=exp,
            claims=dict(claims),
        )


def _segment_json(segment: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw, parse_constant=_refuse_constant)
    except (binascii.Error, ValueError, RecursionError):
        raise TokenError("malformed token") from None
    if not isinstance(value, dict):
        raise TokenError("malformed token")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def _verify(token: str, alg: str, keys: list[Any]) -> Mapping[str, Any]:
    for key in keys:
        try:
            with warnings.catch_warnings():
                # EdDSA is deprecated by RFC 9864 and joserfc says so on every use; the algorithm list is ours.
                warnings.simplefilter("ignore", SecurityWarning)
                decoded = jwt.decode(token, key, algorithms=[alg])
        except BadSignatureError:
            continue
        except JoseError:
            raise TokenError("malformed token") from None
        if not isinstance(decoded.claims, dict):
            raise TokenError("malformed token")
        return decoded.claims
    raise TokenError("token signature is invalid")


def _time_claim(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TokenError(f"malformed token claim ({name})")
    return float(value)


def _optional_string(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise TokenError(f"malformed token claim ({name})")
    return value or None


def _strings(value: Any, name: str, *, space_separated: bool = False) -> list[str]:
    """A claim that is a string or a list of strings (a string is split on spaces when asked)."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.split() if space_separated else [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise TokenError(f"malformed token claim ({name})")


def _claim_path(claims: Mapping[str, Any], name: str) -> Any:
    """A claim by name, or by dotted path into nested objects (Keycloak's `realm_access.roles`)."""
    if name in claims or "." not in name:
        return claims.get(name)
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _canonical_uri(uri: str) -> str:
    parts = urlsplit(uri)
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}{query}"
