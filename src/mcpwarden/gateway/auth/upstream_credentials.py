"""Credentials the gateway presents to one upstream: its own, never the calling client's token.

An HTTP upstream's `auth:` block in the gateway config becomes one of:
- `StaticCredentials`: a fixed bearer token or header (from `env:`/`file:`);
- `ClientCredentials`: the gateway's own OAuth token for that upstream (RFC 6749 section 4.4),
  cached until shortly before it expires, one fetch shared by concurrent callers;
- `TokenExchange`: per caller, the caller's validated token traded at the authorization server
  (RFC 8693) for one whose audience is the upstream, cached per caller token in a bounded LRU.

`headers()` is awaited for every request sent upstream, in the task of the client being served, so
`CALLER_TOKEN` names that client. Every failure is a `CredentialError`: the request is not sent, and
the message names no secret. Token endpoints are reached only through `SafeFetcher`.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Literal, Protocol
from urllib.parse import quote_plus, urlsplit

import anyio

from mcpwarden.errors import ConnectError, UnsafeFetchError
from mcpwarden.gateway.auth.context import CALLER_TOKEN, GATEWAY_TRAFFIC
from mcpwarden.protocol.safe_fetch import FetchPolicy, FetchResult, SafeFetcher
from mcpwarden.types import ServerSpec

# RFC 8693 identifiers (URNs, not secrets).
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"  # noqa: S105
DEFAULT_SKEW_S = 30.0
DEFAULT_LIFETIME_S = 300.0  # when the authorization server does not say (expires_in is only RECOMMENDED)
MAX_CACHED_EXCHANGES = 1024
TOKEN_TIMEOUT_S = 10.0
MAX_TOKEN_RESPONSE_BYTES = 64 * 1024
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=")
_DETAIL_LIMIT = 200

ClientAuthMethod = Literal["client_secret_basic", "client_secret_post"]


class CredentialError(ConnectError):
    """Credentials for an upstream could not be obtained: the request is not sent (fail closed)."""


class UpstreamCredentials(Protocol):
    """What an HTTP upstream asks for before each request it sends."""

    async def headers(self) -> dict[str, str]:
        """Headers to add to one outgoing request; raises CredentialError when there are none to give."""
        ...

    def invalidate(self) -> bool:
        """Forget the token the upstream just refused (HTTP 401); True when a fresh one can be fetched."""
        ...


@dataclass(frozen=True)
class CredentialedServerSpec(ServerSpec):
    """A configured HTTP upstream together with the credentials the gateway presents to it."""

    credentials: UpstreamCredentials | None = field(default=None, compare=False, repr=False)


def with_credentials(spec: ServerSpec, credentials: UpstreamCredentials | None) -> ServerSpec:
    """`spec` carrying `credentials` (unchanged when there are none)."""
    if credentials is None:
        return spec
    values = {name: getattr(spec, name) for name in spec.__dataclass_fields__}
    return CredentialedServerSpec(**values, credentials=credentials)


def credentials_of(spec: ServerSpec) -> UpstreamCredentials | None:
    """The credentials configured for `spec`, if any."""
    return spec.credentials if isinstance(spec, CredentialedServerSpec) else None


class StaticCredentials:
    """Fixed headers (a bearer token or an API-key header) resolved from the config at start."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)

    async def headers(self) -> dict[str, str]:
        return dict(self._headers)

    def invalidate(self) -> bool:
        return False  # nothing to refresh: a static credential the upstream refuses stays refused

    def __repr__(self) -> str:
        return f"StaticCredentials(headers={sorted(self._headers)})"


@dataclass(frozen=True)
class ClientAuth:
    """How the gateway authenticates itself to the token endpoint (RFC 6749 section 2.3.1)."""

    client_id: str
    client_secret: str = field(repr=False)
    method: ClientAuthMethod = "client_secret_basic"

    def apply(self, form: dict[str, str], headers: dict[str, str]) -> None:
        if self.method == "client_secret_post":
            form["client_id"] = self.client_id
            form["client_secret"] = self.client_secret
            return
        # Basic: both parts form-urlencoded first, as section 2.3.1 requires (':' may appear in either).
        pair = f"{quote_plus(self.client_id, safe='')}:{quote_plus(self.client_secret, safe='')}"
        headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")


@dataclass(frozen=True)
class Issued:
    """A token the authorization server issued, and how long it said it lives."""

    token: str = field(repr=False)
    lifetime_s: float


class TokenEndpoint:
    """One authorization server's token endpoint, reached through `SafeFetcher` (no redirects)."""

    def __init__(
        self, url: str, client: ClientAuth, *, allow_loopback: bool = False, timeout_s: float = TOKEN_TIMEOUT_S
    ) -> None:
        self.url = url
        self.client = client
        parts = urlsplit(url)
        self.policy = FetchPolicy(
            allow_loopback=allow_loopback,
            max_bytes=MAX_TOKEN_RESPONSE_BYTES,
            timeout_s=timeout_s,
            max_redirects=0,
            # Local development: the token endpoint's own port only, no other local service.
            loopback_ports=frozenset({parts.port or (443 if parts.scheme == "https" else 80)}),
        )

    async def issue(self, form: dict[str, str], *, hide: tuple[str, ...] = ()) -> Issued:
        """POST a token request; `hide` lists values (besides the client secret) no message may contain."""
        headers = {"accept": "application/json"}
        self.client.apply(form, headers)
        hidden = (self.client.client_secret, *hide)
        # Tokens are fetched rarely (they are cached), so a fetcher per request keeps no pool alive.
        fetcher = SafeFetcher(self.policy)
        try:
            with anyio.fail_after(self.policy.timeout_s + 1):
                result = await fetcher.post_form(self.url, form, headers=headers)
        except UnsafeFetchError as exc:
            raise CredentialError(f"token endpoint {self.url} failed: {_clean(exc.reason, hidden)}") from None
        except TimeoutError:
            raise CredentialError(f"token endpoint {self.url} did not answer in time") from None
        finally:
            with anyio.CancelScope(shield=True):
                await fetcher.aclose()
        return self._parse(result, hidden)

    def _parse(self, result: FetchResult, hidden: tuple[str, ...]) -> Issued:
        where = f"token endpoint {self.url}"
        try:
            body = result.json()
        except UnsafeFetchError:
            body = None
        if result.status != 200:
            detail = ""
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                described = body.get("error_description")
                detail = f" ({body['error']}{': ' + described if isinstance(described, str) else ''})"
            raise CredentialError(f"{where} answered HTTP {result.status}{_clean(detail, hidden)}")
        if not isinstance(body, dict):
            raise CredentialError(f"{where} answered with something other than a JSON object")
        token = body.get("access_token")
        if not isinstance(token, str) or not token or not set(token) <= _TOKEN_CHARS:
            # Only RFC 6750 b64token characters: nothing that could break or add a header line.
            raise CredentialError(f"{where} returned no usable access_token")
        token_type = body.get("token_type")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise CredentialError(f"{where} returned a token of type {str(token_type)[:40]!r}, not Bearer")
        issued_type = body.get("issued_token_type")
        if issued_type is not None and issued_type not in (ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE):
            raise CredentialError(f"{where} issued a {str(issued_type)[:80]!r}, not an access token")
        expires_in = body.get("expires_in", DEFAULT_LIFETIME_S)
        if isinstance(expires_in, bool) or not isinstance(expires_in, int | float) or not 0 < expires_in < 1e9:
            raise CredentialError(f"{where} returned an invalid expires_in")
        return Issued(token, float(expires_in))


def _clean(text: str, hidden: tuple[str, ...]) -> str:
    """`text` fit for a message: hidden values cut out, printable, bounded."""
    for value in hidden:
        if value:
            text = text.replace(value, "***")
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= _DETAIL_LIMIT else text[: _DETAIL_LIMIT - 3] + "..."


def _ttl(lifetime_s: float, skew_s: float) -> float:
    # Renew `skew_s` early, but never spend more than half a short-lived token's life renewing it.
    return lifetime_s - min(skew_s, lifetime_s / 2)


class _Flight:
    __slots__ = ("done", "error")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.error: CredentialError | None = None


class TokenCache:
    """Tokens by key until they expire, least recently used dropped first; one fetch per key at a time."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._flights: dict[str, _Flight] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def drop(self, key: str) -> None:
        self._entries.pop(key, None)

    async def get(self, key: str, fetch: Callable[[], Awaitable[tuple[str, float]]]) -> str:
        """The cached token for `key`, or the result of `fetch()` -> (token, seconds to keep it)."""
        while True:
            entry = self._entries.get(key)
            if entry is not None and entry[1] > time.monotonic():
                self._entries.move_to_end(key)
                return entry[0]
            flight = self._flights.get(key)
            if flight is None:
                break
            await flight.done.wait()  # someone is fetching this key already: share the answer
            if flight.error is not None:
                raise CredentialError(flight.error.message)
        flight = self._flights[key] = _Flight()
        try:
            token, keep_s = await fetch()
        except CredentialError as exc:
            flight.error = exc
            raise
        finally:
            del self._flights[key]
            flight.done.set()
        self._entries[key] = (token, time.monotonic() + keep_s)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return token


def _target(scope: str | None, audience: str | None, resource: str | None) -> dict[str, str]:
    pairs = {"scope": scope, "audience": audience, "resource": resource}  # resource: RFC 8707
    return {name: value for name, value in pairs.items() if value}


class ClientCredentials:
    """The gateway's own token for an upstream (client-credentials grant), cached and renewed before expiry."""

    def __init__(
        self,
        endpoint: TokenEndpoint,
        *,
        scope: str | None = None,
        audience: str | None = None,
        resource: str | None = None,
        skew_s: float = DEFAULT_SKEW_S,
    ) -> None:
        self.endpoint = endpoint
        self.skew_s = skew_s
        self._form = _target(scope, audience, resource)
        self._cache = TokenCache(1)

    async def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {await self._cache.get('', self._fetch)}"}

    def invalidate(self) -> bool:
        self._cache.drop("")
        return True

    async def _fetch(self) -> tuple[str, float]:
        issued = await self.endpoint.issue({"grant_type": "client_credentials", **self._form})
        return issued.token, _ttl(issued.lifetime_s, self.skew_s)

    def __repr__(self) -> str:
        return f"ClientCredentials(endpoint={self.endpoint.url!r}, client_id={self.endpoint.client.client_id!r})"


class TokenExchange:
    """Per caller, the caller's token exchanged (RFC 8693) for one addressed to this upstream.

    The caller's token is only ever sent to the token endpoint, as `subject_token`; the cache is keyed
    by its SHA-256. A request with no caller token fails closed, except the gateway's own connection
    traffic (handshake, event stream), which uses a client-credentials token for the same audience.
    """

    def __init__(
        self,
        endpoint: TokenEndpoint,
        *,
        scope: str | None = None,
        audience: str | None = None,
        resource: str | None = None,
        subject_token_type: str = ACCESS_TOKEN_TYPE,
        skew_s: float = DEFAULT_SKEW_S,
        max_entries: int = MAX_CACHED_EXCHANGES,
    ) -> None:
        self.endpoint = endpoint
        self.skew_s = skew_s
        self.subject_token_type = subject_token_type
        self._form = _target(scope, audience, resource)
        self._cache = TokenCache(max_entries)
        self._own = ClientCredentials(endpoint, scope=scope, audience=audience, resource=resource, skew_s=skew_s)

    async def headers(self) -> dict[str, str]:
        subject = CALLER_TOKEN.get()
        if subject:
            token = await self._cache.get(_key(subject), partial(self._exchange, subject))
            return {"authorization": f"Bearer {token}"}
        if GATEWAY_TRAFFIC.get():
            return await self._own.headers()
        raise CredentialError(
            "this upstream is reached by token exchange and the caller presented no OAuth access token",
            hint="authenticate to the gateway with an OAuth access token, not an API key",
        )

    def invalidate(self) -> bool:
        subject = CALLER_TOKEN.get()
        if subject:
            self._cache.drop(_key(subject))
            return True
        return GATEWAY_TRAFFIC.get() and self._own.invalidate()

    async def _exchange(self, subject: str) -> tuple[str, float]:
        form = {
            "grant_type": TOKEN_EXCHANGE_GRANT,
            "subject_token": subject,
            "subject_token_type": self.subject_token_type,
            "requested_token_type": ACCESS_TOKEN_TYPE,
            **self._form,
        }
        issued = await self.endpoint.issue(form, hide=(subject,))
        if issued.token == subject:
            # An authorization server that hands the caller's token back would make us pass it through.
            raise CredentialError(f"token endpoint {self.endpoint.url} returned the caller's own token")
        return issued.token, _ttl(issued.lifetime_s, self.skew_s)

    def __repr__(self) -> str:
        return f"TokenExchange(endpoint={self.endpoint.url!r}, client_id={self.endpoint.client.client_id!r})"


def _key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
