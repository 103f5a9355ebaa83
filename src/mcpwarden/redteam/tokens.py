"""Test tokens for the auth suite, minted with joserfc from a signing key the server trusts.

`valid` must be accepted (the baseline); the others must each be refused: expired, another audience,
`alg: none` (no signature), and signed by a key the server does not know under the same `kid`.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

from mcpwarden.errors import UsageError

OTHER_AUDIENCE = "https://mcpwarden-other-audience.example"


@dataclass(frozen=True)
class TestTokens:
    valid: str
    other_principal: str
    expired: str
    wrong_audience: str
    alg_none: str
    bad_signature: str

    def all(self) -> tuple[str, ...]:
        return (self.valid, self.other_principal, self.expired, self.wrong_audience, self.alg_none, self.bad_signature)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _load_key(pem: str) -> tuple[Any, str, Any]:
    """The key, its algorithm and a generator of another key of the same type."""
    try:
        from joserfc.jwk import ECKey, RSAKey
    except ImportError:  # pragma: no cover - an optional dependency of this one feature
        raise UsageError("minting test tokens needs the `joserfc` package", where="--signing-key") from None
    for cls, alg, make in ((RSAKey, "RS256", lambda: RSAKey.generate_key(2048)), (ECKey, "ES256", None)):
        try:
            key = cls.import_key(pem)
        except Exception:  # noqa: S112 - try the next key type
            continue
        if make is None:
            return key, alg, lambda: ECKey.generate_key("P-256")
        return key, alg, make
    raise UsageError("not an RSA or EC private key in PEM form", where="--signing-key")


def mint(
    pem: str, *, issuer: str | None, audience: str, kid: str | None = None, scope: str | None = None
) -> TestTokens:
    """The six test tokens for one signing key.

    `kid` goes into every signed token's header (the bad-signature one too, so the server finds the
    right key and must reject the signature itself); `scope` into every token's claims, so a server
    that requires scopes accepts the valid one and refuses the others only for what is wrong with them.
    """
    from joserfc import jwt

    key, alg, other_key = _load_key(pem)
    if not key.is_private:
        raise UsageError("the key must be a private key (it signs the test tokens)", where="--signing-key")
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid:
        header["kid"] = kid
    now = int(time.time())

    def claims(**changes: Any) -> dict[str, Any]:
        base: dict[str, Any] = {"sub": "mcpwarden-redteam-a", "aud": audience, "iat": now, "exp": now + 600}
        if issuer:
            base["iss"] = issuer
        if scope:
            base["scope"] = scope
        base.update(changes)
        return base

    def sign(payload: dict[str, Any], signer: Any = key) -> str:
        return jwt.encode(header, payload, signer)

    unsigned = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "."
    unsigned += _b64(json.dumps(claims(), separators=(",", ":")).encode()) + "."
    return TestTokens(
        valid=sign(claims()),
        other_principal=sign(claims(sub="mcpwarden-redteam-b")),
        expired=sign(claims(iat=now - 7200, exp=now - 3600)),
        wrong_audience=sign(claims(aud=OTHER_AUDIENCE)),
        alg_none=unsigned,
        bad_signature=sign(claims(), other_key()),
    )
