"""An HTTP upstream's `auth:` block in the gateway config: which credentials the gateway presents to it.

```yaml
auth: {type: bearer, token: env:FILES_TOKEN}
auth: {type: header, name: X-Api-Key, value: file:/run/secrets/key}
auth: {type: client_credentials, token_endpoint: https://as/token, client_id: gw, client_secret: env:S,
       scope: "files.read", resource: https://files.example/mcp}
auth: {type: token_exchange, ...same keys..., subject_token_type: urn:ietf:params:oauth:token-type:access_token}
```
Secrets are `env:`/`file:` references, resolved here by the config reader.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from mcpwarden.errors import UnsafeFetchError
from mcpwarden.gateway.auth.auth_config import ConfigReader
from mcpwarden.gateway.auth.upstream_credentials import (
    ACCESS_TOKEN_TYPE,
    DEFAULT_SKEW_S,
    JWT_TOKEN_TYPE,
    ClientAuth,
    ClientCredentials,
    StaticCredentials,
    TokenEndpoint,
    TokenExchange,
    UpstreamCredentials,
)
from mcpwarden.protocol.safe_fetch import FetchPolicy, check_url

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token
# Headers the transport itself sets: a credential must not replace or duplicate them.
_RESERVED = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "accept",
        "mcp-session-id",
        "mcp-protocol-version",
        "mcp-method",
        "mcp-name",
        "last-event-id",
    }
)
_OAUTH_KEYS = {
    "type",
    "token_endpoint",
    "client_id",
    "client_secret",
    "auth_method",
    "scope",
    "audience",
    "resource",
    "allow_loopback",
    "skew_s",
}
_SUBJECT_TYPES = (ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE)


def _header_value(r: ConfigReader, value: Any, key: str) -> str:
    text = r.string(value, key, secret=True)
    if not text or any((ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F for ch in text):
        raise r.fail(key, "must be a non-empty value without line breaks or control characters")
    return text


def _static(r: ConfigReader, data: Mapping[str, Any], key: str, kind: str) -> tuple[StaticCredentials, str]:
    if kind == "bearer":
        r.only(data, key, {"type", "token"})
        if "token" not in data:
            raise r.fail(f"{key}.token", "is required (write it as env:NAME or file:PATH)")
        token = _header_value(r, data["token"], f"{key}.token")
        return StaticCredentials({"authorization": f"Bearer {token}"}), "authorization"
    r.only(data, key, {"type", "name", "value"})
    if "name" not in data or "value" not in data:
        raise r.fail(key, "a `header` credential needs `name` and `value`")
    name = r.string(data["name"], f"{key}.name")
    if not _HEADER_NAME.match(name):
        raise r.fail(f"{key}.name", f"is not a valid header name: {name!r}")
    if name.lower() in _RESERVED:
        raise r.fail(f"{key}.name", f"{name} is set by the gateway itself")
    return StaticCredentials({name: _header_value(r, data["value"], f"{key}.value")}), name.lower()


def _oauth(r: ConfigReader, data: Mapping[str, Any], key: str, kind: str) -> ClientCredentials | TokenExchange:
    allowed = _OAUTH_KEYS | ({"subject_token_type"} if kind == "token_exchange" else set())
    r.only(data, key, allowed)
    for required in ("token_endpoint", "client_id", "client_secret"):
        if required not in data:
            raise r.fail(f"{key}.{required}", f"is required for `{kind}`")
    loopback = data.get("allow_loopback", False)
    if not isinstance(loopback, bool):
        raise r.fail(f"{key}.allow_loopback", f"must be true or false, found {loopback!r}")
    url = r.string(data["token_endpoint"], f"{key}.token_endpoint")
    try:
        check_url(url, FetchPolicy(allow_loopback=loopback))
    except UnsafeFetchError as exc:
        hint = " (http is allowed only to a loopback host with allow_loopback: true)" if url.startswith("http:") else ""
        raise r.fail(f"{key}.token_endpoint", f"{exc.reason}{hint}") from None
    method = r.string(data.get("auth_method", "client_secret_basic"), f"{key}.auth_method")
    if method not in ("client_secret_basic", "client_secret_post"):
        raise r.fail(f"{key}.auth_method", f"must be client_secret_basic or client_secret_post, found {method!r}")
    client = ClientAuth(
        client_id=r.string(data["client_id"], f"{key}.client_id", secret=True),
        client_secret=r.string(data["client_secret"], f"{key}.client_secret", secret=True),
        method="client_secret_post" if method == "client_secret_post" else "client_secret_basic",
    )
    scope_raw = data.get("scope")
    scope = " ".join(r.strings(scope_raw, f"{key}.scope")) if isinstance(scope_raw, list) else None
    if scope_raw is not None and scope is None:
        scope = r.string(scope_raw, f"{key}.scope")
    resource = r.string(data["resource"], f"{key}.resource") if "resource" in data else None
    if resource is not None:
        parts = urlsplit(resource)
        if not parts.scheme or not parts.netloc or parts.fragment:
            raise r.fail(
                f"{key}.resource", f"must be an absolute URI without a fragment (RFC 8707), found {resource!r}"
            )
    audience = r.string(data["audience"], f"{key}.audience") if "audience" in data else None
    if kind == "token_exchange" and not (audience or resource):
        raise r.fail(key, "token exchange needs `audience` or `resource`: the upstream the new token is for")
    skew = r.number(data.get("skew_s", DEFAULT_SKEW_S), f"{key}.skew_s", minimum=0)
    endpoint = TokenEndpoint(url, client, allow_loopback=loopback)
    if kind == "client_credentials":
        return ClientCredentials(endpoint, scope=scope, audience=audience, resource=resource, skew_s=skew)
    subject_type = r.string(data.get("subject_token_type", ACCESS_TOKEN_TYPE), f"{key}.subject_token_type")
    if subject_type not in _SUBJECT_TYPES:
        raise r.fail(f"{key}.subject_token_type", f"must be one of {', '.join(_SUBJECT_TYPES)}")
    return TokenExchange(
        endpoint, scope=scope, audience=audience, resource=resource, subject_token_type=subject_type, skew_s=skew
    )


def check_headers(r: ConfigReader, headers: Mapping[str, str], key: str) -> None:
    """Static `headers:` must be valid header lines: a line break in a value would inject headers."""
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise r.fail(f"{key}.{name}", f"is not a valid header name: {name!r}")
        _header_value(r, value, f"{key}.{name}")


def parse_upstream_auth(r: ConfigReader, raw: Any, key: str, headers: Mapping[str, str]) -> UpstreamCredentials | None:
    """Validate the `auth:` of the upstream at dotted `key`; `headers` are its `headers:`, already resolved.

    None when there is no `auth:`. An `auth:` that would set a header `headers:` also sets (notably
    `Authorization`) is refused: which one the upstream sees would be ambiguous.
    """
    check_headers(r, headers, f"{key}.headers")
    if raw is None:
        return None
    key = f"{key}.auth"
    data = r.mapping(raw, key)
    kind = r.string(data.get("type", ""), f"{key}.type")
    taken = {name.lower() for name in headers}
    if kind in ("bearer", "header"):
        credentials, header = _static(r, data, key, kind)
        if header in taken:
            raise r.fail(key, f"sets the {header} header, which `headers` also sets: keep one of them")
        return credentials
    if kind in ("client_credentials", "token_exchange"):
        if "authorization" in taken:
            raise r.fail(key, "sets the authorization header, which `headers` also sets: keep one of them")
        return _oauth(r, data, key, kind)
    raise r.fail(f"{key}.type", f"must be bearer, header, client_credentials or token_exchange, found {kind!r}")
