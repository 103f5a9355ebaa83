"""An upstream's `auth:` block: validated at start with the key named, secrets resolved and never shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mcpwarden.errors import ConfigError
from mcpwarden.gateway.auth.upstream_credentials import (
    ClientCredentials,
    StaticCredentials,
    TokenExchange,
    credentials_of,
)
from mcpwarden.gateway.config import parse_config

pytestmark = pytest.mark.anyio
SECRET = "gw-secret-0a1b2c3d4e5f"
ENV = {"GW_SECRET": SECRET}


@pytest.mark.parametrize(
    ("entry", "env", "message"),
    [
        ({"auth": {"type": "bearer", "token": "x"}, "headers": {"Authorization": "Bearer y"}}, {},
         "upstreams.web.auth: sets the authorization header, which `headers` also sets"),
        ({"auth": {"type": "header", "name": "x-key", "value": "v"}, "headers": {"X-Key": "w"}}, {},
         "sets the x-key header"),
        ({"auth": {"type": "client_credentials", "token_endpoint": "https://as.example/token", "client_id": "c",
                   "client_secret": "s"}, "headers": {"authorization": "Basic eA=="}}, {}, "keep one of them"),
        ({"auth": {"type": "magic"}}, {}, "upstreams.web.auth.type: must be bearer, header"),
        ({"auth": {"type": "bearer"}}, {}, "upstreams.web.auth.token: is required"),
        ({"auth": {"type": "bearer", "token": "env:MISSING"}}, {}, "environment variable MISSING is not set"),
        ({"auth": {"type": "bearer", "token": "env:TWO_LINES"}}, {"TWO_LINES": "a\r\nX-Evil: 1"},
         "without line breaks"),
        ({"headers": {"X-Evil": "env:TWO_LINES"}}, {"TWO_LINES": "a\nb"}, "upstreams.web.headers.X-Evil"),
        ({"auth": {"type": "header", "name": "Mcp-Session-Id", "value": "v"}}, {}, "set by the gateway itself"),
        ({"auth": {"type": "header", "name": "bad name", "value": "v"}}, {}, "not a valid header name"),
        ({"auth": {"type": "client_credentials", "token_endpoint": "http://as.example/token", "client_id": "c",
                   "client_secret": "s"}}, {}, "auth.token_endpoint: plain http is only allowed to loopback"),
        ({"auth": {"type": "client_credentials", "token_endpoint": "http://127.0.0.1:9/token", "client_id": "c",
                   "client_secret": "s"}}, {}, "with allow_loopback: true"),
        ({"auth": {"type": "client_credentials", "token_endpoint": "https://as.example/token", "client_id": "c"}},
         {}, "auth.client_secret: is required"),
        ({"auth": {"type": "token_exchange", "token_endpoint": "https://as.example/token", "client_id": "c",
                   "client_secret": "s"}}, {}, "token exchange needs `audience` or `resource`"),
        ({"auth": {"type": "client_credentials", "token_endpoint": "https://as.example/token", "client_id": "c",
                   "client_secret": "s", "resource": "files"}}, {}, "auth.resource: must be an absolute URI"),
        ({"auth": {"type": "client_credentials", "token_endpoint": "https://as.example/token", "client_id": "c",
                   "client_secret": "s", "subject_token_type": "x"}}, {}, "unknown key(s) subject_token_type"),
    ],
)  # fmt: skip
def test_bad_upstream_auth_is_refused_with_the_key_named(
    entry: dict[str, Any], env: dict[str, str], message: str
) -> None:
    upstream = {"url": "https://files.example/mcp", **entry}
    with pytest.raises(ConfigError) as caught:
        parse_config({"upstreams": {"web": upstream}}, source="warden.yaml", base_dir=Path.cwd(), environ=env)
    assert message in caught.value.one_line()


def test_auth_on_a_stdio_upstream_is_refused() -> None:
    upstream = {"command": "server", "auth": {"type": "bearer", "token": "x"}}
    with pytest.raises(ConfigError, match="unknown key"):
        parse_config({"upstreams": {"web": upstream}}, source="warden.yaml", base_dir=Path.cwd(), environ={})


@pytest.mark.parametrize(
    ("auth_entry", "kind"),
    [
        ({"type": "bearer", "token": "file:token.txt"}, StaticCredentials),
        ({"type": "header", "name": "X-Api-Key", "value": "env:GW_SECRET"}, StaticCredentials),
        ({"type": "client_credentials", "token_endpoint": "https://as.example/token", "client_id": "gw",
          "client_secret": "env:GW_SECRET", "scope": ["a", "b"], "audience": "files"}, ClientCredentials),
        ({"type": "token_exchange", "token_endpoint": "https://as.example/token", "client_id": "gw",
          "client_secret": "file:token.txt", "resource": "https://files.example/mcp",
          "subject_token_type": "urn:ietf:params:oauth:token-type:jwt"}, TokenExchange),
    ],
)  # fmt: skip
def test_upstream_auth_builds_its_credentials_without_showing_secrets(
    tmp_path: Path, auth_entry: dict[str, Any], kind: type
) -> None:
    (tmp_path / "token.txt").write_text("file-secret-value\n", encoding="utf-8")
    upstream = {"url": "https://files.example/mcp", "headers": {"X-Tenant": "t1"}, "auth": auth_entry}
    config = parse_config({"upstreams": {"web": upstream}}, source="w.yaml", base_dir=tmp_path, environ=ENV)
    spec = config.upstream("web")
    assert isinstance(credentials_of(spec), kind)
    assert spec.headers == {"X-Tenant": "t1"} and spec.url == "https://files.example/mcp"
    shown = repr(spec) + repr(credentials_of(spec))
    assert SECRET not in shown and "file-secret-value" not in shown


async def test_bearer_token_from_a_file_is_sent(tmp_path: Path) -> None:
    (tmp_path / "token.txt").write_text("file-secret-value\n", encoding="utf-8")
    upstream = {"url": "https://files.example/mcp", "auth": {"type": "bearer", "token": "file:token.txt"}}
    config = parse_config({"upstreams": {"web": upstream}}, source="w.yaml", base_dir=tmp_path, environ={})
    credentials = credentials_of(config.upstream("web"))
    assert credentials is not None
    assert await credentials.headers() == {"authorization": "Bearer file-secret-value"}
