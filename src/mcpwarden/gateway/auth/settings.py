"""What the resource server is configured with (the `auth:` section of the gateway config)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Asymmetric algorithms only: an HMAC algorithm would let anyone holding the public key forge tokens.
DEFAULT_ALGORITHMS: tuple[str, ...] = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
SUPPORTED_ALGORITHMS: frozenset[str] = frozenset(DEFAULT_ALGORITHMS)


@dataclass(frozen=True)
class IntrospectionSettings:
    """How to ask the authorization server about an opaque token (RFC 7662)."""

    client_id: str
    client_secret: str = field(repr=False)
    endpoint: str | None = None  # None: taken from the authorization server's metadata


@dataclass(frozen=True)
class AuthSettings:
    """The resource server's view of its authorization servers and of itself.

    `resource` is the gateway's canonical URI (RFC 8707): tokens must name it as audience.
    Which scopes reach which tools is the policy's business (`scopes:` in the YAML policy).
    """

    resource: str
    authorization_servers: tuple[str, ...]
    scopes_supported: tuple[str, ...] = ()
    required_scopes: tuple[str, ...] = ()
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    leeway_s: float = 30.0
    jwks_min_refresh_s: float = 30.0
    introspection: IntrospectionSettings | None = None
    allow_loopback_metadata: bool = False  # local development only: AS metadata/JWKS on http://127.0.0.1
    groups_claim: str = "groups"
    resource_name: str | None = None
