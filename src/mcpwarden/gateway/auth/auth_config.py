"""The `auth:` section of the gateway config: the resource server's issuers, scopes and keys policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from mcpwarden.errors import ConfigError
from mcpwarden.gateway.auth.settings import (
    DEFAULT_ALGORITHMS,
    SUPPORTED_ALGORITHMS,
    AuthSettings,
    IntrospectionSettings,
)

_KEYS = {
    "resource",
    "resource_name",
    "authorization_servers",
    "scopes_supported",
    "required_scopes",
    "algorithms",
    "leeway_s",
    "jwks_min_refresh_s",
    "introspection",
    "allow_loopback_metadata",
    "groups_claim",
}


class ConfigReader(Protocol):
    """What the config module's reader offers (typed access that names the failing key)."""

    def fail(self, key: str, message: str) -> ConfigError: ...
    def mapping(self, value: Any, key: str) -> Mapping[str, Any]: ...
    def only(self, value: Mapping[str, Any], key: str, allowed: set[str]) -> None: ...
    def string(self, value: Any, key: str, *, secret: bool = False) -> str: ...
    def strings(self, value: Any, key: str) -> tuple[str, ...]: ...
    def number(self, value: Any, key: str, *, minimum: float, integer: bool = False) -> float: ...


def _url(r: ConfigReader, value: Any, key: str, *, loopback_http: bool) -> str:
    url = r.string(value, key)
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback and loopback_http):
        hint = " (http is allowed only for a loopback host with allow_loopback_metadata: true)"
        raise r.fail(key, f"must be an https URL, found {url!r}{hint if parts.scheme == 'http' else ''}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise r.fail(key, f"must not carry a query, fragment or user info, found {url!r}")
    # Kept exactly as written: an issuer is compared character for character with `iss` (RFC 8414).
    return url


def parse_auth(r: ConfigReader, raw: Any, *, tls: bool) -> AuthSettings | None:
    """Validate `auth:`; None when the section is absent (the gateway then uses API keys or none)."""
    if raw is None:
        return None
    data = r.mapping(raw, "auth")
    r.only(data, "auth", _KEYS)
    loopback = data.get("allow_loopback_metadata", False)
    if not isinstance(loopback, bool):
        raise r.fail("auth.allow_loopback_metadata", f"must be true or false, found {loopback!r}")
    if "resource" not in data:
        raise r.fail("auth.resource", "is required: the gateway's canonical URI, as clients reach it")
    resource_raw = r.string(data["resource"], "auth.resource")
    resource_parts = urlsplit(resource_raw)
    if resource_parts.scheme not in ("https", "http") or not resource_parts.hostname or resource_parts.fragment:
        raise r.fail("auth.resource", f"must be an absolute http(s) URL without a fragment, found {resource_raw!r}")
    if resource_parts.scheme == "http" and resource_parts.hostname not in ("127.0.0.1", "localhost", "::1") and tls:
        raise r.fail("auth.resource", "the gateway serves TLS, so its canonical URI is https")
    servers_raw = data.get("authorization_servers")
    if not isinstance(servers_raw, list) or not servers_raw:
        raise r.fail("auth.authorization_servers", "must list at least one issuer URL")
    servers = tuple(
        _url(r, url, f"auth.authorization_servers[{i}]", loopback_http=loopback) for i, url in enumerate(servers_raw)
    )
    algorithms = r.strings(data.get("algorithms"), "auth.algorithms") or DEFAULT_ALGORITHMS
    for i, alg in enumerate(algorithms):
        if alg not in SUPPORTED_ALGORITHMS:
            allowed = ", ".join(sorted(SUPPORTED_ALGORITHMS))
            raise r.fail(f"auth.algorithms[{i}]", f"{alg!r} is not allowed (asymmetric algorithms only: {allowed})")
    introspection = None
    if data.get("introspection") is not None:
        spec = r.mapping(data["introspection"], "auth.introspection")
        r.only(spec, "auth.introspection", {"client_id", "client_secret", "endpoint"})
        if "client_id" not in spec or "client_secret" not in spec:
            raise r.fail("auth.introspection", "needs `client_id` and `client_secret` (use env: or file:)")
        endpoint = spec.get("endpoint")
        introspection = IntrospectionSettings(
            client_id=r.string(spec["client_id"], "auth.introspection.client_id"),
            client_secret=r.string(spec["client_secret"], "auth.introspection.client_secret", secret=True),
            endpoint=_url(r, endpoint, "auth.introspection.endpoint", loopback_http=loopback) if endpoint else None,
        )
    scopes_supported = r.strings(data.get("scopes_supported"), "auth.scopes_supported")
    required = r.strings(data.get("required_scopes"), "auth.required_scopes")
    return AuthSettings(
        resource=resource_raw,
        resource_name=r.string(data["resource_name"], "auth.resource_name") if "resource_name" in data else None,
        authorization_servers=servers,
        scopes_supported=scopes_supported or required,
        required_scopes=required,
        algorithms=algorithms,
        leeway_s=r.number(data.get("leeway_s", 30.0), "auth.leeway_s", minimum=0),
        jwks_min_refresh_s=r.number(data.get("jwks_min_refresh_s", 30.0), "auth.jwks_min_refresh_s", minimum=0),
        introspection=introspection,
        allow_loopback_metadata=loopback,
        groups_claim=r.string(data.get("groups_claim", "groups"), "auth.groups_claim"),
    )
