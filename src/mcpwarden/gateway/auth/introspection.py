"""Opaque access tokens: ask the authorization server (RFC 7662) and remember its answer for a while.

The gateway authenticates to the introspection endpoint as a confidential client with
`client_secret_basic` (RFC 6749 section 2.3.1: id and secret form-encoded, then base64). The endpoint
is the configured one, else the `introspection_endpoint` of the first configured authorization
server that advertises one.

Answers are cached by the token's SHA-256, never the token itself: an active one until its `exp`
and at most `max_ttl_s` (so a revocation takes effect within that bound), an inactive one for
`inactive_ttl_s` (so a client retrying a dead token does not hammer the authorization server). The
cache holds at most `max_entries`; the oldest entries go first.
"""

from __future__ import annotations

import base64
import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Generic, TypeVar
from urllib.parse import quote_plus

from mcpwarden.errors import UnsafeFetchError
from mcpwarden.gateway.auth.discovery import AuthServerError, MetadataCache
from mcpwarden.gateway.auth.settings import IntrospectionSettings
from mcpwarden.protocol.safe_fetch import SafeFetcher

DEFAULT_MAX_TTL_S = 300.0
DEFAULT_INACTIVE_TTL_S = 30.0
DEFAULT_MAX_ENTRIES = 10_000

T = TypeVar("T")


def token_digest(token: str) -> bytes:
    """The cache key for a token: its SHA-256, so the cache never holds a usable credential."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class ExpiringCache(Generic[T]):
    """A bounded map from token digest to a value that stops being served at its own deadline."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[float, T]] = OrderedDict()

    def get(self, key: bytes, now: float) -> T | None:
        """The value stored under `key` if its deadline is still ahead of `now`."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now >= entry[0]:
            del self._entries[key]
            return None
        return entry[1]

    def put(self, key: bytes, value: T, until: float) -> None:
        """Store `value` until the time `until` (same clock as `get`'s `now`)."""
        self._entries[key] = (until, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class Introspector:
    """Posts tokens to the introspection endpoint; returns the answer of an active token, None otherwise."""

    def __init__(
        self,
        settings: IntrospectionSettings,
        fetcher: SafeFetcher,
        metadata: MetadataCache,
        issuers: tuple[str, ...],
    ) -> None:
        self._settings = settings
        self._fetcher = fetcher
        self._metadata = metadata
        self._issuers = issuers
        self._endpoint: tuple[str, str] | None = None
        self.calls = 0  # requests made, for metrics and tests

    async def endpoint(self) -> tuple[str, str]:
        """(endpoint URL, issuer assumed when an answer names none)."""
        if self._endpoint is None:
            if self._settings.endpoint:
                # A configured endpoint belongs to the first authorization server unless its answers say otherwise.
                self._endpoint = (self._settings.endpoint, self._issuers[0])
            else:
                for issuer in self._issuers:
                    found = (await self._metadata.get(issuer)).introspection_endpoint
                    if found:
                        self._endpoint = (found, issuer)
                        break
                else:
                    raise AuthServerError(
                        "opaque token received but no authorization server advertises an introspection_endpoint",
                        hint="set auth.introspection.endpoint",
                    )
        return self._endpoint

    async def introspect(self, token: str) -> tuple[Mapping[str, Any], str] | None:
        """(the answer, its default issuer) for an active token; None when the server says it is not active."""
        url, issuer = await self.endpoint()
        self.calls += 1
        try:
            result = await self._fetcher.post_form(
                url,
                {"token": token, "token_type_hint": "access_token"},
                headers={"authorization": self._basic(), "accept": "application/json"},
            )
        except UnsafeFetchError as exc:
            raise AuthServerError(f"token introspection failed: {exc.message}") from None
        if result.status != 200:
            hint = "check auth.introspection.client_id and client_secret" if result.status in (400, 401) else None
            raise AuthServerError(f"token introspection answered HTTP {result.status}", where=url, hint=hint)
        try:
            answer = result.json()
        except UnsafeFetchError as exc:
            raise AuthServerError(f"token introspection answer: {exc.reason}", where=url) from None
        if not isinstance(answer, dict):
            raise AuthServerError("token introspection answer is not a JSON object", where=url)
        # Only the JSON value true means active (RFC 7662 section 2.2): "true", 1 or a missing member do not.
        if answer.get("active") is not True:
            return None
        return answer, issuer

    def _basic(self) -> str:
        pair = f"{quote_plus(self._settings.client_id)}:{quote_plus(self._settings.client_secret)}"
        return "Basic " + base64.b64encode(pair.encode()).decode("ascii")
