"""The `auth:` and `listen.tls` config sections: what is accepted, and every refusal names its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mcpwarden.errors import ConfigError
from mcpwarden.gateway.config import parse_config

UPSTREAMS = {"fx": {"command": "python", "args": ["server.py"]}}
GOOD_AUTH = {
    "resource": "https://gateway.example.com/mcp",
    "authorization_servers": ["https://idp.example.com/realms/acme"],
    "required_scopes": ["mcp:tools"],
}


def _parse(data: dict[str, Any], base: Path = Path("/tmp"), environ: dict[str, str] | None = None) -> Any:
    return parse_config({"upstreams": UPSTREAMS, **data}, source="warden.yaml", base_dir=base, environ=environ or {})


def test_auth_section_parsed_with_safe_defaults() -> None:
    config = _parse({"auth": GOOD_AUTH})
    auth = config.auth
    assert auth.resource == "https://gateway.example.com/mcp"
    assert auth.authorization_servers == ("https://idp.example.com/realms/acme",)
    assert auth.scopes_supported == ("mcp:tools",)  # defaults to the required scopes
    assert not any(alg.startswith("HS") or alg == "none" for alg in auth.algorithms)
    assert auth.allow_loopback_metadata is False
    assert config.authenticated


def test_exposed_listener_with_oauth_is_allowed() -> None:
    config = _parse({"auth": GOOD_AUTH, "listen": {"host": "0.0.0.0"}})
    assert config.listen.host == "0.0.0.0"


def test_exposed_listener_without_auth_needs_insecure() -> None:
    config = _parse({})
    with pytest.raises(ConfigError) as info:
        config.with_listen(host="0.0.0.0")
    assert "--insecure" in info.value.one_line()
    assert config.with_listen(host="0.0.0.0", insecure=True).insecure


def test_introspection_secret_from_env() -> None:
    auth = {**GOOD_AUTH, "introspection": {"client_id": "gw", "client_secret": "env:INTRO_SECRET"}}
    config = _parse({"auth": auth}, environ={"INTRO_SECRET": "s3cr3t-value"})
    assert config.auth.introspection.client_secret == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(config.auth)


@pytest.mark.parametrize(
    ("auth", "key", "fragment"),
    [
        ({k: v for k, v in GOOD_AUTH.items() if k != "resource"}, "auth.resource", "required"),
        ({**GOOD_AUTH, "resource": "gateway.example.com/mcp"}, "auth.resource", "absolute"),
        ({**GOOD_AUTH, "resource": "https://gw.example.com/mcp#frag"}, "auth.resource", "fragment"),
        ({**GOOD_AUTH, "authorization_servers": []}, "auth.authorization_servers", "at least one"),
        ({**GOOD_AUTH, "authorization_servers": ["http://idp.example.com"]}, "authorization_servers[0]", "https"),
        ({**GOOD_AUTH, "authorization_servers": ["http://127.0.0.1:9000"]}, "authorization_servers[0]", "loopback"),
        ({**GOOD_AUTH, "authorization_servers": ["javascript:alert(1)"]}, "authorization_servers[0]", "https"),
        ({**GOOD_AUTH, "authorization_servers": ["https://u:p@idp.example.com"]}, "servers[0]", "user info"),
        ({**GOOD_AUTH, "algorithms": ["HS256"]}, "auth.algorithms[0]", "asymmetric"),
        ({**GOOD_AUTH, "algorithms": ["none"]}, "auth.algorithms[0]", "not allowed"),
        ({**GOOD_AUTH, "introspection": {"client_id": "gw"}}, "auth.introspection", "client_secret"),
        ({**GOOD_AUTH, "allow_loopback_metadata": "yes"}, "allow_loopback_metadata", "true or false"),
        ({**GOOD_AUTH, "issuer": "x"}, "auth", "unknown key"),
    ],
)
def test_auth_errors_name_the_key(auth: dict[str, Any], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        _parse({"auth": auth})
    assert key in (info.value.where or "")
    assert fragment in info.value.message


def test_loopback_issuer_allowed_for_local_development() -> None:
    auth = {**GOOD_AUTH, "authorization_servers": ["http://127.0.0.1:9000"], "allow_loopback_metadata": True}
    assert _parse({"auth": auth}).auth.allow_loopback_metadata


def test_tls_needs_existing_cert_and_key(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("x")
    with pytest.raises(ConfigError, match="needs `cert` and `key`"):
        _parse({"listen": {"tls": {"cert": "cert.pem"}}}, tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        _parse({"listen": {"tls": {"cert": "cert.pem", "key": "missing.pem"}}}, tmp_path)
    (tmp_path / "key.pem").write_text("x")
    listen = _parse({"listen": {"tls": {"cert": "cert.pem", "key": "key.pem"}}}, tmp_path).listen
    assert listen.scheme == "https"
    assert all(origin.startswith("https://") for origin in listen.effective_origins())
