"""The one guard for every URL fetched because a server or a metadata document named it (SSRF defence).

Protected-resource and authorization-server metadata, JWKS, token and introspection endpoints, `$ref`
targets and icons all come from parties we do not trust. `SafeFetcher` refuses anything but https (http
only to loopback in local development), resolves the host once, refuses the whole fetch if any address
is not public, and then connects to exactly the address it checked, so a DNS answer that changes
between check and connect (rebinding) reaches nothing. Redirects are re-checked hop by hop; size and
total time are bounded; no cookies, no proxies from the environment. See docs/ssrf-guard.md.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import anyio
import httpx2

from mcpwarden.errors import UnsafeFetchError

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_URL_CHARS = 8192
# A last label that is all digits or 0x-hex makes WHATWG parsers (and glibc's inet_aton) read the host as
# an IPv4 number: 2130706433, 0x7f.1, 017700000001 and 127.1 all mean 127.0.0.1.
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")
_HOST_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
# Headers that carry credentials for one origin and must not follow a redirect to another.
_ORIGIN_BOUND_HEADERS = ("authorization", "cookie", "proxy-authorization")


@dataclass(frozen=True)
class FetchPolicy:
    """What a `SafeFetcher` may do. The defaults suit production; tests and local development loosen them."""

    allow_loopback: bool = False  # local development: permits http(s) to 127.0.0.0/8, ::1, localhost
    max_bytes: int = 1_000_000
    timeout_s: float = 5.0  # whole request incl. redirects
    max_redirects: int = 3
    # With allow_loopback: when not empty, only these loopback ports may be reached, so a document
    # served by the one local service under test cannot point the fetcher at other local services.
    loopback_ports: frozenset[int] = frozenset()


@dataclass(frozen=True)
class FetchResult:
    """One fetched response, read completely (within `max_bytes`)."""

    url: str  # final URL after redirects
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""

    def json(self) -> Any:
        """The body parsed as strict JSON (no NaN/Infinity); raises UnsafeFetchError when it is not."""
        try:
            return json.loads(self.body, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            raise UnsafeFetchError(self.url, f"response is not valid JSON ({type(exc).__name__})") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


@dataclass(frozen=True)
class _Target:
    """A URL that passed `check_url`: what to send, what to resolve and what to present as the host."""

    url: httpx2.URL
    host: str  # ASCII, lower case, no brackets, no trailing dot
    port: int
    literal: IPAddress | None  # set when the host is an IP address (no resolution)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.url.port is None else f"{host}:{self.port}"


def refusal_reason(address: str, policy: FetchPolicy) -> str | None:
    """Why connecting to the IP `address` is refused under `policy`, or None when it is a public address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"{address!r} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "scoped IPv6 address"
        if ip.ipv4_mapped is not None:
            # Always refused, even in local development: it only serves to disguise an IPv4 address.
            return f"IPv4-mapped IPv6 address (embeds {ip.ipv4_mapped})"
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and any(ip in net for net in _NAT64):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = refusal_reason(str(embedded), FetchPolicy())
            if inner:
                return f"IPv6 address embedding {embedded} ({inner})"
    if ip.is_loopback:
        return None if policy.allow_loopback else "loopback address"
    checks: tuple[tuple[bool, str], ...] = (
        (ip.is_unspecified, "unspecified address"),
        (ip.is_link_local, "link-local address (includes cloud metadata 169.254.169.254)"),
        (ip.is_multicast, "multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "carrier-grade NAT address (100.64.0.0/10)"),
        (isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL, "unique-local address (fc00::/7)"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "site-local address"),
        (ip.is_private, "private address"),
        (ip.is_reserved, "reserved address"),
        (not ip.is_global, "not a globally routable address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _parse(url: str, policy: FetchPolicy) -> _Target:
    if not isinstance(url, str) or not url:
        raise UnsafeFetchError(str(url), "not a URL")
    if len(url) > _MAX_URL_CHARS:
        raise UnsafeFetchError(url, f"URL longer than {_MAX_URL_CHARS} characters")
    # Parsers disagree about whitespace, control characters and backslashes; refuse them instead of guessing.
    if any(ch <= " " or ch == "\x7f" or ch == "\\" for ch in url):
        raise UnsafeFetchError(url, "URL contains whitespace, control characters or a backslash")
    try:
        parsed = httpx2.URL(url)
        port = parsed.port
    except (httpx2.InvalidURL, ValueError, UnicodeError) as exc:
        raise UnsafeFetchError(url, f"not a valid URL ({exc})") from None
    if parsed.scheme not in ("https", "http"):
        raise UnsafeFetchError(url, f"scheme {parsed.scheme or '(none)'!r} is not allowed (https only)")
    if parsed.userinfo or "@" in parsed.netloc.decode("ascii", "replace"):
        raise UnsafeFetchError(url, "credentials (userinfo) in the URL are not allowed")
    host = parsed.raw_host.decode("ascii", "replace").lower()
    if not host:
        raise UnsafeFetchError(url, "URL has no host")
    if port is not None and not 0 < port < 65536:
        raise UnsafeFetchError(url, f"port {port} is out of range")
    literal = _literal_address(url, host)
    if literal is None:
        host = host.removesuffix(".")
        if not all(_HOST_LABEL.fullmatch(label) for label in host.split(".")) or len(host) > 253:
            raise UnsafeFetchError(url, "host is not a valid DNS name")
    elif reason := refusal_reason(str(literal), policy):
        raise UnsafeFetchError(url, reason)
    if parsed.scheme == "http":
        local_name = host == "localhost" or host.endswith(".localhost")
        if not policy.allow_loopback or not (local_name or (literal is not None and literal.is_loopback)):
            raise UnsafeFetchError(url, "plain http is only allowed to loopback in local development")
    default_port = 443 if parsed.scheme == "https" else 80
    return _Target(parsed.copy_with(fragment=None), host, port or default_port, literal)


def _literal_address(url: str, host: str) -> IPAddress | None:
    """The host as an IP address when it is one; refuses every non-canonical numeric spelling."""
    if ":" in host or "%" in host:
        if "%" in host:
            raise UnsafeFetchError(url, "percent-encoded or scoped host")
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeFetchError(url, "malformed IPv6 host") from None
    bare = host.removesuffix(".")  # "127.0.0.1." and "2130706433." resolve like the undotted forms
    if _NUMERIC_LABEL.fullmatch(bare.split(".")[-1]):
        try:
            address = ipaddress.IPv4Address(bare)
        except ValueError:
            address = None
        if address is None or str(address) != host:
            raise UnsafeFetchError(url, "non-canonical numeric host (write IPv4 as four decimal parts)")
        return address
    return None


def check_url(url: str, policy: FetchPolicy) -> None:
    """Syntactic checks only (scheme, userinfo, host spelling, literal addresses); raises UnsafeFetchError.

    A URL that passes may still be refused by `SafeFetcher` once its host is resolved.
    """
    _parse(url, policy)


def system_resolver(timeout_s: float) -> Resolver:
    """The default resolver: getaddrinfo through anyio, bounded by `timeout_s`."""

    async def resolve(host: str, port: int) -> list[str]:
        with anyio.fail_after(timeout_s):
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        return [str(info[4][0]) for info in infos]

    return resolve


class SafeFetcher:
    """Fetch untrusted URLs under a `FetchPolicy`. Every failure raises `UnsafeFetchError`.

    `resolver(host, port)` returns the host's addresses; tests inject one. `ssl_context` replaces the
    default trust store (tests, private CAs); hostname verification stays on either way.
    """

    def __init__(
        self,
        policy: FetchPolicy = FetchPolicy(),
        *,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy
        self._resolve = resolver or system_resolver(policy.timeout_s)
        # No keep-alive: the pool is keyed by IP, and a TLS connection verified for one host name must
        # never be reused for another name that happens to share the address.
        self._transport = httpx2.AsyncHTTPTransport(
            verify=ssl_context if ssl_context is not None else True,
            trust_env=False,
            limits=httpx2.Limits(max_keepalive_connections=0),
        )

    async def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> FetchResult:
        """GET `url`, following at most `max_redirects` redirects, each target checked like the first."""
        sent = dict(headers or {})
        try:
            with anyio.fail_after(self.policy.timeout_s):
                deadline = anyio.current_time() + self.policy.timeout_s
                for _ in range(self.policy.max_redirects + 1):
                    target = _parse(url, self.policy)
                    result, location = await self._fetch_once("GET", target, sent, None, deadline)
                    if location is None:
                        return result
                    next_url = _join(target, location)
                    if _origin(next_url) != _origin(str(target.url)):
                        sent = {k: v for k, v in sent.items() if k.lower() not in _ORIGIN_BOUND_HEADERS}
                    url = next_url
        except TimeoutError:
            raise UnsafeFetchError(url, f"no complete answer within {self.policy.timeout_s:g} s") from None
        raise UnsafeFetchError(url, f"more than {self.policy.max_redirects} redirects")

    async def get_json(self, url: str, *, headers: Mapping[str, str] | None = None) -> Any:
        """GET `url` and return its JSON object or array; any other status or body raises UnsafeFetchError."""
        result = await self.get(url, headers=_merged({"accept": "application/json"}, headers or {}))
        if not 200 <= result.status < 300:
            raise UnsafeFetchError(result.url, f"HTTP status {result.status}")
        value = result.json()
        if not isinstance(value, dict | list):
            raise UnsafeFetchError(result.url, f"expected a JSON object or array, got {type(value).__name__}")
        return value

    async def post_form(
        self, url: str, data: Mapping[str, str], *, headers: Mapping[str, str] | None = None
    ) -> FetchResult:
        """POST `data` form-encoded (token and introspection endpoints). A redirect is returned, never followed."""
        try:
            with anyio.fail_after(self.policy.timeout_s):
                deadline = anyio.current_time() + self.policy.timeout_s
                target = _parse(url, self.policy)
                result, _ = await self._fetch_once("POST", target, dict(headers or {}), dict(data), deadline)
                return result
        except TimeoutError:
            raise UnsafeFetchError(url, f"no complete answer within {self.policy.timeout_s:g} s") from None

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._transport.aclose()

    async def _addresses(self, target: _Target) -> list[IPAddress]:
        addresses = await self._checked_addresses(target)
        ports = self.policy.loopback_ports
        if ports and target.port not in ports and any(a.is_loopback for a in addresses):
            raise UnsafeFetchError(str(target.url), f"loopback port {target.port} is not an allowed local service")
        return addresses

    async def _checked_addresses(self, target: _Target) -> list[IPAddress]:
        if target.literal is not None:
            return [target.literal]
        try:
            answers = await self._resolve(target.host, target.port)
        except (OSError, UnicodeError, ValueError) as exc:
            raise UnsafeFetchError(str(target.url), f"could not resolve {target.host} ({exc})") from None
        if not answers:
            raise UnsafeFetchError(str(target.url), f"{target.host} resolved to no address")
        addresses: list[IPAddress] = []
        for answer in dict.fromkeys(answers):
            # One bad address refuses the whole fetch: an attacker controls which answer a client picks.
            reason = refusal_reason(answer, self.policy)
            if reason:
                raise UnsafeFetchError(str(target.url), f"{target.host} resolves to {answer}: {reason}")
            addresses.append(ipaddress.ip_address(answer))
        if target.url.scheme == "http" and not all(a.is_loopback for a in addresses):
            raise UnsafeFetchError(str(target.url), "plain http is only allowed to loopback in local development")
        return addresses

    async def _fetch_once(
        self,
        method: str,
        target: _Target,
        headers: Mapping[str, str],
        form: Mapping[str, str] | None,
        deadline: float,
    ) -> tuple[FetchResult, str | None]:
        """One request to one checked target; returns the result and, for a GET redirect, its Location."""
        addresses = await self._addresses(target)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._send(method, target, address, headers, form, deadline)
            except httpx2.ConnectError as exc:  # refused or unreachable: try the next checked address
                last_error = exc
        raise UnsafeFetchError(str(target.url), f"could not connect ({last_error})")

    async def _send(
        self,
        method: str,
        target: _Target,
        address: IPAddress,
        headers: Mapping[str, str],
        form: Mapping[str, str] | None,
        deadline: float,
    ) -> tuple[FetchResult, str | None]:
        shown = str(target.url)

        async def pin(event: str, info: Mapping[str, Any]) -> None:
            # Belt and braces: whatever httpx2 does with the URL, the socket may only open to `address`.
            if event == "connection.connect_tcp.started" and info.get("host") != str(address):
                raise UnsafeFetchError(shown, f"connection to {info.get('host')!r} is not the checked address")

        remaining = max(deadline - anyio.current_time(), 0.001)
        request = httpx2.Request(
            method,
            target.url.copy_with(host=str(address)),
            headers=_merged(headers, {"host": target.host_header, "accept-encoding": "identity"}),
            data=form,
            extensions={
                "timeout": dict.fromkeys(("connect", "read", "write", "pool"), remaining),
                "trace": pin,
                **({"sni_hostname": target.host} if target.literal is None else {}),
            },
        )
        try:
            response = await self._transport.handle_async_request(request)
        except httpx2.ConnectError:
            raise
        except httpx2.TimeoutException:
            raise TimeoutError from None
        except (httpx2.HTTPError, httpx2.StreamError, httpx2.InvalidURL, OSError) as exc:
            raise UnsafeFetchError(shown, f"request failed ({type(exc).__name__}: {exc})") from None
        response.request = request
        try:
            location = response.headers.get("location")
            if method == "GET" and response.status_code in _REDIRECTS and location is not None:
                return FetchResult(shown, response.status_code), location
            body = await self._read_body(shown, response)
        finally:
            await response.aclose()
        names: dict[str, str] = {}
        for name, value in response.headers.multi_items():
            names[name.lower()] = f"{names[name.lower()]}, {value}" if name.lower() in names else value
        return FetchResult(shown, response.status_code, MappingProxyType(names), body), None

    async def _read_body(self, shown: str, response: httpx2.Response) -> bytes:
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            # We asked for identity; decompressing would let a small body expand past max_bytes at once.
            raise UnsafeFetchError(shown, f"compressed response ({encoding}) refused")
        limit = self.policy.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise UnsafeFetchError(shown, f"response of {declared} bytes exceeds the {limit}-byte limit")
        body = bytearray()
        try:
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) > limit:
                    raise UnsafeFetchError(shown, f"response exceeds the {limit}-byte limit")
        except httpx2.TimeoutException:
            raise TimeoutError from None
        except (httpx2.HTTPError, httpx2.StreamError) as exc:
            raise UnsafeFetchError(shown, f"reading the response failed ({type(exc).__name__}: {exc})") from None
        return bytes(body)


def _merged(base: Mapping[str, str], override: Mapping[str, str]) -> dict[str, str]:
    """`base` with `override` on top, header names compared case-insensitively (no duplicate Host)."""
    replaced = {name.lower() for name in override}
    return {**{k: v for k, v in base.items() if k.lower() not in replaced}, **override}


def _join(target: _Target, location: str) -> str:
    try:
        return str(target.url.join(location))
    except (httpx2.InvalidURL, ValueError, UnicodeError):
        raise UnsafeFetchError(location, "redirect Location is not a valid URL") from None


def _origin(url: str) -> tuple[str, str, int | None]:
    try:
        parsed = httpx2.URL(url)
    except (httpx2.InvalidURL, ValueError, UnicodeError):
        return ("", url, None)
    return (parsed.scheme, parsed.host, parsed.port)
