"""One issuer's signing keys (JWKS), fetched at first use and refreshed on rotation, at a bounded rate.

An authorization server that rotates keys publishes the new key before signing with it, so a token
with a `kid` we have not seen is the signal to fetch the JWKS again. Anyone can send such a token,
though, so that refresh happens at most once per `min_refresh_s`, and concurrent requests wait for
the one fetch in flight instead of starting their own (single-flight). A `kid` still unknown after
the refresh is refused.

Keys are also re-fetched once they are `max_age_s` old, so a key the authorization server withdrew
(compromised, retired) stops being trusted without a restart. If that periodic fetch fails, the last
good set stays in use: refusing every token because the JWKS endpoint hiccupped would turn one
outage into two. After any failed fetch, retries are held to the same `min_refresh_s` rate. The
first fetch and the periodic one are not rate-limited (nothing a caller sends can provoke them),
so a rotation just after start-up is still picked up at once.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from joserfc import jwk
from joserfc.errors import JoseError, SecurityWarning

from mcpwarden.errors import UnsafeFetchError
from mcpwarden.gateway.auth.discovery import AuthServerError
from mcpwarden.protocol.safe_fetch import SafeFetcher

log = logging.getLogger("mcpwarden.gateway.auth")

DEFAULT_MAX_AGE_S = 3600.0
MAX_KEYS = 100
# Which key a JWS algorithm needs (RFC 7518 section 3.1, RFC 8037, RFC 9864).
_KEY_FOR_ALG: dict[str, tuple[str, frozenset[str] | None]] = {
    **{alg: ("RSA", None) for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")},
    "ES256": ("EC", frozenset({"P-256"})),
    "ES384": ("EC", frozenset({"P-384"})),
    "ES512": ("EC", frozenset({"P-521"})),
    "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
    "Ed25519": ("OKP", frozenset({"Ed25519"})),
    "Ed448": ("OKP", frozenset({"Ed448"})),
}
# Members that only a private (or symmetric) key has: a JWKS carrying them lets anyone forge tokens.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


@dataclass(frozen=True)
class PublishedKey:
    """One usable verification key from a JWKS, with the members that decide which tokens it may verify."""

    kid: str | None
    kty: str
    crv: str | None
    alg: str | None
    key: jwk.Key

    def fits(self, alg: str) -> bool:
        """Whether this key may verify a signature made with `alg`."""
        needed = _KEY_FOR_ALG.get(alg)
        if needed is None or self.kty != needed[0]:
            return False
        if needed[1] is not None and self.crv not in needed[1]:
            return False
        return self.alg is None or self.alg == alg


def parse_jwks(document: Any, url: str) -> list[PublishedKey]:
    """The verification keys in a JWKS document; keys that cannot be used for signatures are skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise AuthServerError(f"JWKS at {url} is not an object with a `keys` array")
    keys: list[PublishedKey] = []
    for index, entry in enumerate(document["keys"][:MAX_KEYS]):
        skip = _unusable(entry)
        if skip is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", SecurityWarning)
                    key = jwk.import_key(dict(entry))
            except (JoseError, ValueError, TypeError, KeyError) as exc:
                skip = f"not importable ({type(exc).__name__})"
            else:
                kid, crv, alg = (
                    entry.get(name) if isinstance(entry.get(name), str) else None for name in ("kid", "crv", "alg")
                )
                keys.append(PublishedKey(kid, entry["kty"], crv, alg, key))
                continue
        log.warning("JWKS key skipped", extra={"fields": {"jwks_uri": url, "index": index, "reason": skip}})
    return keys


def _unusable(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return "not an object"
    if entry.get("kty") not in ("RSA", "EC", "OKP"):
        return "not an asymmetric key type"
    if _PRIVATE_MEMBERS & entry.keys():
        return "contains private key material"
    if entry.get("use", "sig") != "sig":
        return "not a signing key (use)"
    ops = entry.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return "not a verification key (key_ops)"
    return None


class JwksCache:
    """The JWKS of one issuer. `keys_for(kid, alg)` is all the validator needs."""

    def __init__(
        self,
        fetcher: SafeFetcher,
        jwks_uri: str,
        *,
        min_refresh_s: float,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.jwks_uri = jwks_uri
        self._fetcher = fetcher
        self._min_refresh_s = min_refresh_s
        self._max_age_s = max_age_s
        self._clock = clock
        self._keys: list[PublishedKey] | None = None
        self._fetched_at = 0.0
        self._limited_from: float | None = None  # when the last rate-limited fetch was made
        self._failing = False  # the last fetch failed
        self._failure: AuthServerError | None = None
        self._generation = 0
        self._lock = anyio.Lock()
        self.fetches = 0  # attempts made, for metrics and tests

    @property
    def generation(self) -> int:
        """How many key sets have been fetched: a result verified under an older set must be verified again."""
        return self._generation

    async def keys_for(self, kid: str | None, alg: str) -> list[PublishedKey]:
        """The keys that may verify a token with this `kid` and `alg` (empty: refuse the token).

        Raises AuthServerError only when no key set was ever obtained.
        """
        if self._keys is None or self._age() >= self._max_age_s:
            await self._refresh("first use" if self._keys is None else "max age")
        found = self._match(kid, alg)
        if not found and kid is not None and not self._knows(kid):
            await self._refresh("unknown kid")
            found = self._match(kid, alg)
        return found

    def _age(self) -> float:
        age = self._clock() - self._fetched_at
        # A clock that stepped backwards makes the age meaningless: treat the keys as due.
        return age if age >= 0 else self._max_age_s

    def _match(self, kid: str | None, alg: str) -> list[PublishedKey]:
        keys = self._keys or []
        return [k for k in keys if (kid is None or k.kid == kid) and k.fits(alg)]

    def _knows(self, kid: str) -> bool:
        return any(k.kid == kid for k in self._keys or [])

    async def _refresh(self, reason: str) -> None:
        seen = self._generation
        async with self._lock:
            if self._generation != seen:
                return  # another request refreshed while we waited: use its result
            now = self._clock()
            # Only what a caller can provoke is rate-limited: unknown kids, and retries after a failure.
            limited = reason == "unknown kid" or self._failing
            since = None if self._limited_from is None else now - self._limited_from
            if limited and since is not None and 0 <= since < self._min_refresh_s:
                if self._keys is None:
                    raise self._failure or AuthServerError(f"JWKS at {self.jwks_uri} is not available yet")
                return  # the set we have is the answer until the interval has passed
            self.fetches += 1
            try:
                keys = parse_jwks(await self._fetcher.get_json(self.jwks_uri), self.jwks_uri)
            except (UnsafeFetchError, AuthServerError) as exc:
                failure = AuthServerError(f"could not fetch the JWKS: {exc.message}")
                log.warning("JWKS fetch failed", extra={"fields": {"reason": reason, "error": failure.one_line()}})
                self._limited_from, self._failing = now, True
                if self._keys is None:
                    self._failure = failure
                    raise failure from None
                return  # keep the last good set (see the module docstring)
            log.info("JWKS fetched", extra={"fields": {"jwks_uri": self.jwks_uri, "reason": reason, "keys": len(keys)}})
            if limited:
                self._limited_from = now
            self._keys, self._fetched_at, self._failure, self._failing = keys, now, None, False
            self._generation += 1
