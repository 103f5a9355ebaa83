"""Authorization-server metadata, found from the issuer URL and cached (RFC 8414, OpenID Connect Discovery).

The well-known URLs are tried in the order the MCP authorization specification gives (2025-11-25,
"Authorization Server Metadata Discovery"): RFC 8414 with the well-known segment inserted before the
issuer's path, then OpenID Connect with the segment inserted, then OpenID Connect appended to the
path. The first document served with a 2xx status is the one used: its `issuer` must equal the
configured issuer character for character (RFC 8414 section 3.3, OIDC Discovery section 4.3), or the
authorization server is refused. That check is what stops one authorization server from passing off
its keys as another's (the mix-up attack).

A good document is kept for the life of the process (an issuer's `jwks_uri` does not move; rotation
happens inside the JWKS). A failure is remembered for `failure_ttl_s`, so a dead authorization
server is not asked again by every request that arrives meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio

from mcpwarden.errors import ConnectError, UnsafeFetchError
from mcpwarden.protocol.safe_fetch import SafeFetcher

log = logging.getLogger("mcpwarden.gateway.auth")

OAUTH_WELL_KNOWN = "/.well-known/oauth-authorization-server"
OIDC_WELL_KNOWN = "/.well-known/openid-configuration"
DEFAULT_FAILURE_TTL_S = 10.0


class AuthServerError(ConnectError):
    """The authorization server's metadata, keys or introspection answer could not be obtained or trusted.

    Not the caller's fault, so not a `TokenError`: the HTTP front should answer 503 (retry later),
    not 401 (which tells a client to throw its token away).
    """


@dataclass(frozen=True)
class AuthServerMetadata:
    """The parts of an authorization server's metadata the resource server uses; `raw` is the whole document."""

    issuer: str
    jwks_uri: str | None
    introspection_endpoint: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


def metadata_urls(issuer: str) -> list[str]:
    """The well-known URLs to try for `issuer`, in the MCP specification's order."""
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise AuthServerError(f"issuer {issuer!r} is not an http(s) URL without query or fragment")
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if not path:
        return [origin + OAUTH_WELL_KNOWN, origin + OIDC_WELL_KNOWN]
    return [origin + OAUTH_WELL_KNOWN + path, origin + OIDC_WELL_KNOWN + path, origin + path + OIDC_WELL_KNOWN]


def parse_metadata(document: Any, issuer: str, url: str) -> AuthServerMetadata:
    """Check a fetched document against the issuer it was fetched for; raises AuthServerError."""
    if not isinstance(document, dict):
        raise AuthServerError(f"metadata at {url} is not a JSON object")
    found = document.get("issuer")
    if found != issuer:
        shown = repr(found)[:200]
        raise AuthServerError(
            f"metadata at {url} names issuer {shown}, not the configured {issuer!r}",
            hint="the configured issuer must equal the `issuer` in the metadata exactly (trailing slash included)",
        )
    endpoints: dict[str, str | None] = {}
    for name in ("jwks_uri", "introspection_endpoint"):
        value = document.get(name)
        if value is not None and not isinstance(value, str):
            raise AuthServerError(f"metadata at {url}: {name} is not a string")
        endpoints[name] = value
    return AuthServerMetadata(issuer, endpoints["jwks_uri"], endpoints["introspection_endpoint"], document)


@dataclass
class _Entry:
    metadata: AuthServerMetadata | None = None
    failure: AuthServerError | None = None
    failed_at: float = 0.0
    lock: anyio.Lock = field(default_factory=anyio.Lock)


class MetadataCache:
    """Metadata per issuer, fetched once through the SSRF guard; concurrent first uses share one fetch."""

    def __init__(
        self,
        fetcher: SafeFetcher,
        *,
        failure_ttl_s: float = DEFAULT_FAILURE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetcher = fetcher
        self._failure_ttl_s = failure_ttl_s
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    async def get(self, issuer: str) -> AuthServerMetadata:
        """The metadata of `issuer` (a configured issuer URL); raises AuthServerError."""
        entry = self._entries.get(issuer)
        if entry is None:
            entry = self._entries[issuer] = _Entry()
        if entry.metadata is not None:
            return entry.metadata
        async with entry.lock:
            # Whoever held the lock before us may have fetched it, or failed moments ago.
            if entry.metadata is not None:
                return entry.metadata
            if entry.failure is not None and 0 <= self._clock() - entry.failed_at < self._failure_ttl_s:
                raise entry.failure
            try:
                entry.metadata = await self._discover(issuer)
            except AuthServerError as exc:
                entry.failure, entry.failed_at = exc, self._clock()
                log.warning("authorization server metadata unavailable", extra={"fields": {"error": exc.one_line()}})
                raise
            entry.failure = None
            return entry.metadata

    async def _discover(self, issuer: str) -> AuthServerMetadata:
        statuses: list[str] = []
        for url in metadata_urls(issuer):
            try:
                result = await self._fetcher.get(url)
            except UnsafeFetchError as exc:
                # Refused or unreachable: the other forms share the host, so trying them only adds delay.
                raise AuthServerError(f"could not fetch metadata for {issuer}: {exc.message}") from None
            if not 200 <= result.status < 300:
                # Not served here (404, 400 …): the next well-known form may be the one this server uses.
                statuses.append(f"{url} -> HTTP {result.status}")
                continue
            try:
                document = result.json()
            except UnsafeFetchError:
                # Some hosts answer every path with an HTML page; that is "not here", not an error.
                statuses.append(f"{url} -> not JSON")
                continue
            return parse_metadata(document, issuer, url)
        raise AuthServerError(f"no authorization server metadata for {issuer} ({'; '.join(statuses)})")
