"""The HTTP-facing half of the resource server: who is calling, and how a refusal is worded.

RFC 9728 metadata is served at the path-inserted well-known URI of the canonical resource and at
the root one. A refusal carries `WWW-Authenticate: Bearer` with `resource_metadata` (so a client can
find the authorization server) and, per RFC 6750, the `error` and the `scope` it lacked. Tokens are
read from the Authorization header only: a token in the query string is refused outright, since URLs
end up in logs and browser history.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from mcpwarden.gateway.auth.discovery import AuthServerError
from mcpwarden.gateway.auth.settings import AuthSettings
from mcpwarden.gateway.auth.tokens import AccessToken, TokenError, TokenValidator, check_scopes
from mcpwarden.protocol.safe_fetch import FetchPolicy
from mcpwarden.types import Principal

log = logging.getLogger("mcpwarden.gateway.auth")
WELL_KNOWN = "/.well-known/oauth-protected-resource"
_QUERY_TOKEN_PARAMS = frozenset({"access_token", "token", "bearer", "id_token"})


@dataclass(frozen=True)
class Refusal:
    """An HTTP answer that ends the request before the MCP layer sees it."""

    status: int
    error: str | None
    description: str
    scope: str | None = None


def metadata_paths(resource: str) -> frozenset[str]:
    """Where RFC 9728 metadata is served: the path-inserted form for our resource, and the root."""
    path = urlsplit(resource).path.rstrip("/")
    return frozenset({WELL_KNOWN, f"{WELL_KNOWN}{path}"} if path else {WELL_KNOWN})


def metadata_url(resource: str) -> str:
    parts = urlsplit(resource)
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{parts.path.rstrip('/')}"


def metadata_document(settings: AuthSettings) -> dict[str, Any]:
    """The Protected Resource Metadata document (RFC 9728 section 2)."""
    doc: dict[str, Any] = {
        "resource": settings.resource,
        "authorization_servers": list(settings.authorization_servers),
        "bearer_methods_supported": ["header"],
        "resource_signing_alg_values_supported": list(settings.algorithms),
    }
    if settings.scopes_supported:
        doc["scopes_supported"] = list(settings.scopes_supported)
    if settings.resource_name:
        doc["resource_name"] = settings.resource_name
    return doc


def fetch_policy_for(settings: AuthSettings) -> FetchPolicy:
    """The SSRF guard's policy for this resource server's fetches.

    In local development (`allow_loopback_metadata`) loopback is allowed only on the ports of the
    configured authorization servers and introspection endpoint: a metadata document cannot point
    the gateway at any other service on this machine.
    """
    if not settings.allow_loopback_metadata:
        return FetchPolicy()
    configured = [*settings.authorization_servers]
    if settings.introspection is not None and settings.introspection.endpoint:
        configured.append(settings.introspection.endpoint)
    ports = set()
    for url in configured:
        parts = urlsplit(url)
        ports.add(parts.port or (443 if parts.scheme == "https" else 80))
    return FetchPolicy(allow_loopback=True, loopback_ports=frozenset(ports))


def _quote(value: str) -> str:
    # RFC 6750 auth-param values are quoted-strings: no raw quotes, backslashes or control characters.
    cleaned = "".join(ch for ch in value if ch.isprintable() and ch not in '"\\')
    return f'"{cleaned}"'


def challenge(settings: AuthSettings, refusal: Refusal) -> str:
    """The `WWW-Authenticate` value for a refusal."""
    params = []
    if refusal.error:
        params.append(f"error={_quote(refusal.error)}")
        params.append(f"error_description={_quote(refusal.description)}")
    scope = refusal.scope if refusal.scope is not None else " ".join(settings.required_scopes)
    if scope:
        params.append(f"scope={_quote(scope)}")
    params.append(f"resource_metadata={_quote(metadata_url(settings.resource))}")
    return "Bearer " + ", ".join(params)


def refusal_body(refusal: Refusal) -> bytes:
    body = {"error": refusal.error or "unauthorized", "error_description": refusal.description}
    return json.dumps(body).encode()


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token from `Authorization: Bearer`, or None when the header is absent or another scheme."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def query_token(query_string: bytes) -> bool:
    """Whether the query string tries to carry a token (refused: RFC 9700 / OAuth 2.1 section 5.1)."""
    if not query_string:
        return False
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return any(name.lower() in _QUERY_TOKEN_PARAMS for name, _ in pairs)


def principal_for(token: AccessToken) -> Principal:
    """The Cedar principal a validated token stands for.

    A token whose subject is its own client (client-credentials grant) is an agent; a token issued to
    a client on behalf of someone else is that user.
    """
    is_agent = token.client_id is not None and token.subject == token.client_id
    return Principal(
        id=token.subject,
        kind="agent" if is_agent else "user",
        client_id=token.client_id,
        scopes=token.scopes,
        groups=token.groups,
        claims=dict(token.claims),
    )


def same_principal(a: Principal, b: Principal) -> bool:
    """Whether two requests come from the same caller (sessions are bound to it).

    Compares identity, not the whole token: a refreshed token for the same subject keeps its session,
    another subject, client or issuer does not.
    """
    return (a.kind, a.id, a.client_id, a.claims.get("iss")) == (b.kind, b.id, b.client_id, b.claims.get("iss"))


class ResourceServer:
    """Authenticates one request from its headers; holds the validator and its caches."""

    def __init__(self, settings: AuthSettings, validator: TokenValidator) -> None:
        self.settings = settings
        self.validator = validator
        self.paths = metadata_paths(settings.resource)
        self.metadata = json.dumps(metadata_document(settings)).encode()

    async def authenticate(self, headers: Mapping[str, str], query_string: bytes) -> tuple[Principal, str] | Refusal:
        """The principal and its raw token, or the refusal to send back."""
        if query_token(query_string):
            return Refusal(400, "invalid_request", "access tokens are accepted only in the Authorization header")
        token = bearer_token(headers)
        if token is None:
            if headers.get("authorization"):
                return Refusal(401, "invalid_request", "use the Bearer authorization scheme")
            return Refusal(401, None, "authorization required")
        try:
            access = await self.validator.validate(token)
            check_scopes(access, self.settings.required_scopes)
        except TokenError as exc:
            return Refusal(exc.status, exc.error, exc.description, exc.scope)
        except AuthServerError as exc:
            # Not the client's fault: a 401 would make it throw away a token that may be good.
            log.warning("authorization server unavailable", extra={"fields": {"reason": exc.message}})
            return Refusal(503, "temporarily_unavailable", "the authorization server cannot be reached")
        return principal_for(access), token
