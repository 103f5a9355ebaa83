"""The gateway as a resource server, end to end: a real authorization server, a real gateway process.

Each case asserts the exact status and the WWW-Authenticate parameters the MCP authorization spec
and RFC 6750 / RFC 9728 require.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from tests.conftest import free_port
from tests.fixtures.oauth.harness import AuthServer, start_authorization_server
from tests.gateway.conftest import _stop, cli_command, upstream_entry, wait_healthy
from tests.gateway.test_upstream_credentials import Recorded, _launch

API_KEY = "health-check-key-0123456789"
SCOPE = "mcp:tools"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


UPSTREAM_TOKEN = "upstream-own-token-5f4e3d"
# Token claims drive the policy: the scope is a ceiling, the group grants the deploy tool.
POLICY = {
    "version": 1,
    "scopes": {SCOPE: ["web/*", "fx/*"]},
    "rules": [
        {"id": "web-for-everyone", "allow": {"tools": ["web/*"]}},
        {"id": "ops-deploy", "allow": {"principals": {"groups": ["ops"]}, "tools": ["fx/deploy_status"]}},
    ],
}


@dataclass
class Gateway:
    base: str
    resource: str
    process: subprocess.Popen[bytes]
    web: Recorded


@pytest.fixture(scope="module")
def idp() -> Iterator[AuthServer]:
    with start_authorization_server() as server:
        yield server


@pytest.fixture(scope="module")
def gateway(idp: AuthServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp("oauth-gateway")
    web_process, web_url, web_log = _launch(workdir)
    port = free_port()
    resource = f"http://127.0.0.1:{port}/mcp"
    config = {
        "listen": {"port": port},
        "upstreams": {
            "fx": upstream_entry("fx"),
            "web": {"url": web_url, "auth": {"type": "bearer", "token": "env:WEB_UPSTREAM_TOKEN"}},
        },
        "clients": [{"id": "health", "api_key": API_KEY}],
        "auth": {
            "resource": resource,
            "resource_name": "test gateway",
            "authorization_servers": [idp.issuer],
            "required_scopes": [SCOPE],
            "scopes_supported": [SCOPE, "mcp:admin"],
            "allow_loopback_metadata": True,
            "leeway_s": 5,
            "jwks_min_refresh_s": 0,
        },
    }
    (workdir / "policy.yaml").write_text(json.dumps(POLICY), encoding="utf-8")
    config["policy"] = "policy.yaml"
    path = workdir / "warden.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    with (workdir / "gateway.log").open("wb") as log:
        process = subprocess.Popen(
            cli_command("gateway", "--config", str(path)),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env={**os.environ, "MCPWARDEN_HOME": str(workdir), "WEB_UPSTREAM_TOKEN": UPSTREAM_TOKEN},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, upstreams=2, key=API_KEY)
        yield Gateway(base, resource, process, Recorded(web_url, web_log))
    finally:
        _stop(process)
        _stop(web_process)


def _token(idp: AuthServer, gw: Gateway, **claims: object) -> str:
    base: dict[str, object] = {"sub": "alice", "aud": gw.resource, "scope": SCOPE, "client_id": "agent-1"}
    return idp.mint({**base, **claims})


def _post(gw: Gateway, token: str | None, body: object = INIT, **extra: str) -> httpx2.Response:
    headers = dict(HEADERS)
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    headers.update(extra)
    return httpx2.post(f"{gw.base}/mcp", content=json.dumps(body), headers=headers, timeout=10)


def _challenge(response: httpx2.Response) -> dict[str, str]:
    """The auth-params of a `Bearer` challenge (values are quoted-strings without escapes here)."""
    value = response.headers["www-authenticate"]
    scheme, _, rest = value.partition(" ")
    assert scheme == "Bearer"
    params = {}
    for part in rest.split('", '):
        name, _, quoted = part.partition("=")
        params[name.strip()] = quoted.strip().strip('"')
    return params


def _metadata_url(gw: Gateway) -> str:
    return f"{gw.base}/.well-known/oauth-protected-resource/mcp"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"])
def test_protected_resource_metadata(gateway: Gateway, idp: AuthServer, path: str) -> None:
    response = httpx2.get(f"{gateway.base}{path}", timeout=10)
    assert response.status_code == 200
    doc = response.json()
    assert doc["resource"] == gateway.resource
    assert doc["authorization_servers"] == [idp.issuer]
    assert set(doc["scopes_supported"]) == {SCOPE, "mcp:admin"}
    assert doc["bearer_methods_supported"] == ["header"]


def test_valid_token_opens_a_session(gateway: Gateway, idp: AuthServer) -> None:
    response = _post(gateway, _token(idp, gateway))
    assert response.status_code == 200
    assert response.json()["result"]["serverInfo"]["name"]
    assert response.headers["mcp-session-id"]


def test_es256_token_accepted(gateway: Gateway, idp: AuthServer) -> None:
    token = idp.mint({"sub": "bob", "aud": gateway.resource, "scope": SCOPE}, alg="ES256")
    assert _post(gateway, token).status_code == 200


def test_missing_token_gets_401_with_resource_metadata(gateway: Gateway) -> None:
    response = _post(gateway, None)
    assert response.status_code == 401
    params = _challenge(response)
    assert params["resource_metadata"] == _metadata_url(gateway)
    assert params["scope"] == SCOPE
    assert "error" not in params  # no credentials at all: RFC 6750 section 3.1


def _forged(idp: AuthServer, gw: Gateway, header: dict[str, object], key: bytes | None) -> str:
    now = int(__import__("time").time())
    claims = {"iss": idp.issuer, "sub": "mallory", "aud": gw.resource, "scope": SCOPE, "iat": now, "exp": now + 300}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = b"" if key is None else hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _public_pem(idp: AuthServer) -> bytes:
    from joserfc.jwk import RSAKey

    key = RSAKey.import_key(idp.public_jwk("RS256"))
    return key.as_pem(private=False)


def _bad_signature(idp: AuthServer, gw: Gateway) -> str:
    head, payload, signature = _token(idp, gw).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return f"{head}.{payload}.{_b64(bytes(raw))}"


INVALID_TOKENS = {
    "malformed": lambda idp, gw: "not-a-jwt.at-all",
    "garbage_segments": lambda idp, gw: "eyJhbGciOiJSUzI1NiJ9.e30.AAAA",
    "expired": lambda idp, gw: _token(idp, gw, exp=int(__import__("time").time()) - 3600),
    "not_yet_valid": lambda idp, gw: _token(idp, gw, nbf=int(__import__("time").time()) + 3600),
    "wrong_issuer": lambda idp, gw: _token(idp, gw, iss="https://evil.example.com"),
    "wrong_audience": lambda idp, gw: _token(idp, gw, aud="https://other-server.example.com/mcp"),
    "alg_none": lambda idp, gw: _forged(idp, gw, {"alg": "none", "typ": "JWT"}, None),
    "hs256_with_public_key": lambda idp, gw: _forged(idp, gw, {"alg": "HS256", "typ": "JWT"}, _public_pem(idp)),
    "bad_signature": _bad_signature,
    "unknown_kid": lambda idp, gw: idp.mint(
        {"sub": "alice", "aud": gw.resource, "scope": SCOPE}, kid="kid-that-was-never-published"
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID_TOKENS))
def test_invalid_token_gets_401_invalid_token(gateway: Gateway, idp: AuthServer, case: str) -> None:
    response = _post(gateway, INVALID_TOKENS[case](idp, gateway))
    assert response.status_code == 401
    params = _challenge(response)
    assert params["error"] == "invalid_token"
    assert params["resource_metadata"] == _metadata_url(gateway)
    assert "mcp-session-id" not in response.headers


def test_other_scheme_is_refused(gateway: Gateway) -> None:
    response = _post(gateway, None, authorization="Basic YWxpY2U6c2VjcmV0")
    assert response.status_code == 401
    assert _challenge(response)["resource_metadata"] == _metadata_url(gateway)


def test_insufficient_scope_gets_403(gateway: Gateway, idp: AuthServer) -> None:
    response = _post(gateway, _token(idp, gateway, scope="profile"))
    assert response.status_code == 403
    params = _challenge(response)
    assert params["error"] == "insufficient_scope"
    assert params["scope"] == SCOPE
    assert params["resource_metadata"] == _metadata_url(gateway)


def test_token_in_query_string_is_refused(gateway: Gateway, idp: AuthServer) -> None:
    token = _token(idp, gateway)
    url = f"{gateway.base}/mcp?access_token={token}"
    response = httpx2.post(url, content=json.dumps(INIT), headers=HEADERS, timeout=10)
    assert response.status_code == 400
    assert _challenge(response)["error"] == "invalid_request"
    # Even with a valid header beside it: the query token itself is the problem.
    headers = {**HEADERS, "authorization": f"Bearer {token}"}
    assert httpx2.post(url, content=json.dumps(INIT), headers=headers, timeout=10).status_code == 400


def test_unknown_kid_accepted_after_rotation(gateway: Gateway, idp: AuthServer) -> None:
    assert _post(gateway, _token(idp, gateway)).status_code == 200  # keys cached
    before = idp.stats()["jwks"]
    idp.rotate(keep_old=True)
    response = _post(gateway, _token(idp, gateway))  # signed with the new key: unknown kid to the gateway
    assert response.status_code == 200
    assert idp.stats()["jwks"] == before + 1


def _session(gw: Gateway, token: str) -> str:
    response = _post(gw, token)
    assert response.status_code == 200
    return response.headers["mcp-session-id"]


def _ping(gw: Gateway, token: str | None, session_id: str) -> httpx2.Response:
    body = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    return _post(gw, token, body, **{"mcp-session-id": session_id, "mcp-protocol-version": "2025-06-18"})


def test_session_bound_to_its_principal(gateway: Gateway, idp: AuthServer) -> None:
    session_id = _session(gateway, _token(idp, gateway))
    assert _ping(gateway, _token(idp, gateway), session_id).status_code == 200  # same subject, fresh token
    other = _token(idp, gateway, sub="mallory", client_id="agent-2")
    assert _ping(gateway, other, session_id).status_code == 404


def test_session_id_is_not_a_credential(gateway: Gateway, idp: AuthServer) -> None:
    session_id = _session(gateway, _token(idp, gateway))
    assert _ping(gateway, None, session_id).status_code == 401


def test_session_ids_are_long_and_visible_ascii(gateway: Gateway, idp: AuthServer) -> None:
    ids = {_session(gateway, _token(idp, gateway)) for _ in range(5)}
    assert len(ids) == 5
    for session_id in ids:
        assert all(0x21 <= ord(ch) <= 0x7E for ch in session_id)
        assert len(session_id) * 6 >= 128  # base64url characters carry 6 bits each


def test_session_ends_on_delete(gateway: Gateway, idp: AuthServer) -> None:
    token = _token(idp, gateway)
    session_id = _session(gateway, token)
    headers = {"authorization": f"Bearer {token}", "mcp-session-id": session_id}
    assert httpx2.delete(f"{gateway.base}/mcp", headers=headers, timeout=10).status_code == 200
    assert _ping(gateway, token, session_id).status_code == 404


def test_foreign_origin_is_refused(gateway: Gateway, idp: AuthServer) -> None:
    response = _post(gateway, _token(idp, gateway), origin="https://evil.example.com")
    assert response.status_code == 403


def test_unsupported_protocol_version_is_400(gateway: Gateway, idp: AuthServer) -> None:
    token = _token(idp, gateway)
    session_id = _session(gateway, token)
    body = {"jsonrpc": "2.0", "id": 3, "method": "ping"}
    response = _post(gateway, token, body, **{"mcp-session-id": session_id, "mcp-protocol-version": "1999-01-01"})
    assert response.status_code == 400


def _start(config: dict[str, object], workdir: Path, *args: str) -> subprocess.Popen[bytes]:
    path = workdir / "warden.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return subprocess.Popen(
        cli_command("gateway", "--config", str(path), *args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "MCPWARDEN_HOME": str(workdir)},
    )


def test_exposed_without_auth_refuses_to_start(tmp_path: Path) -> None:
    config = {"listen": {"host": "0.0.0.0", "port": free_port()}, "upstreams": {"fx": upstream_entry("fx")}}
    process = _start(config, tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert b"without authentication" in err
    assert b"--insecure" in err


def test_insecure_flag_starts_and_warns(tmp_path: Path) -> None:
    port = free_port()
    config = {"listen": {"host": "0.0.0.0", "port": port}, "upstreams": {"fx": upstream_entry("fx")}}
    process = _start(config, tmp_path, "--insecure")
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, upstreams=1)
    finally:
        _stop(process)
    _, err = process.communicate(timeout=30)
    assert b"INSECURE" in err


def _self_signed(workdir: Path) -> tuple[Path, Path]:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = workdir / "cert.pem", workdir / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_serves_https_with_configured_certificate(tmp_path: Path) -> None:
    import ssl
    import time

    cert, key = _self_signed(tmp_path)
    port = free_port()
    config = {
        "listen": {"port": port, "tls": {"cert": str(cert), "key": str(key)}},
        "upstreams": {"fx": upstream_entry("fx")},
    }
    process = _start(config, tmp_path)
    context = ssl.create_default_context(cafile=str(cert))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx2.get(f"https://127.0.0.1:{port}/healthz", verify=context, timeout=2)
                break
            except httpx2.HTTPError:
                assert time.monotonic() < deadline, "gateway did not serve HTTPS in time"
                time.sleep(0.2)
        assert response.status_code == 200
        with pytest.raises(httpx2.HTTPError):  # plain HTTP on the TLS port gets no answer
            httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        _stop(process)


def test_upstream_receives_only_its_own_credentials(gateway: Gateway, idp: AuthServer) -> None:
    token = _token(idp, gateway)
    session_id = _session(gateway, token)
    body = {
        "jsonrpc": "2.0",
        "id": 9,
        "method": "tools/call",
        "params": {"name": "web__echo", "arguments": {"text": "hi"}},
    }
    headers = {"mcp-session-id": session_id, "mcp-protocol-version": "2025-06-18", "cookie": "sid=client-cookie"}
    response = _post(gateway, token, body, **headers)
    assert response.status_code == 200
    assert response.json()["result"]["content"][0]["text"] == "hi"
    received = gateway.web.requests()
    assert received, "the upstream saw the call"
    assert {r.get("authorization") for r in received} == {f"Bearer {UPSTREAM_TOKEN}"}
    everything = gateway.web.text()
    # Neither the client's token (nor any part of its signature) nor its other headers travel upstream.
    assert token not in everything and token.split(".")[2] not in everything
    assert "client-cookie" not in everything and session_id not in everything


def _call(gw: Gateway, token: str, tool: str) -> dict[str, object]:
    session_id = _session(gw, token)
    body = {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": tool, "arguments": {}}}
    response = _post(gw, token, body, **{"mcp-session-id": session_id, "mcp-protocol-version": "2025-06-18"})
    assert response.status_code == 200
    reply: dict[str, object] = response.json()
    return reply


def test_token_groups_become_the_policy_principal(gateway: Gateway, idp: AuthServer) -> None:
    allowed = _call(gateway, _token(idp, gateway, sub="olga", groups=["ops"]), "fx__deploy_status")
    assert "result" in allowed and not allowed["result"].get("isError")  # type: ignore[union-attr]
    denied = _call(gateway, _token(idp, gateway, sub="bob", groups=["dev"]), "fx__deploy_status")
    refused = "error" in denied or denied["result"].get("isError")  # type: ignore[union-attr]
    assert refused and "ops-deploy" not in json.dumps(denied)
