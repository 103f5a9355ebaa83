"""Gateway config: defaults, secret references, and one clear error per defect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mcpwarden.errors import ConfigError
from mcpwarden.gateway.config import load_config, parse_config

BASE: dict[str, Any] = {"upstreams": {"files": {"command": "npx", "args": ["-y", "server-files"]}}}


def _parse(data: Any, environ: dict[str, str] | None = None, base: Path = Path("/tmp")) -> Any:
    return parse_config(data, source="warden.yaml", base_dir=base, environ=environ or {})


def test_defaults_are_secure_and_documented() -> None:
    config = _parse(BASE)
    assert (config.listen.host, config.listen.port, config.listen.path) == ("127.0.0.1", 8765, "/mcp")
    assert config.mode == "enforce" and config.namespace_separator == "__"
    assert config.limits.max_message_bytes == 4 * 1024 * 1024 and config.limits.max_json_depth == 64
    assert config.limits.call_timeout == 60.0
    assert "evil.example:8765" not in config.listen.effective_hosts()
    assert {"127.0.0.1:8765", "localhost:8765", "[::1]:8765"} == set(config.listen.effective_hosts())


def test_secret_references_are_resolved(tmp_path: Path) -> None:
    (tmp_path / "token.txt").write_text("file-secret-value\n")
    data = {
        "upstreams": {
            "gh": {"command": "gh-mcp", "env": {"GITHUB_TOKEN": "env:GH_TOKEN"}},
            "remote": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "file:token.txt"}},
        },
        "clients": [
            {
                "id": "claude",
                "api_key": "env:CLAUDE_KEY",
                "principal": {"id": "alice", "kind": "user", "groups": ["dev"]},
            }
        ],
    }
    config = _parse(data, {"GH_TOKEN": "ghp-from-env", "CLAUDE_KEY": "k" * 32}, tmp_path)
    assert config.upstream("gh").env["GITHUB_TOKEN"] == "ghp-from-env"
    assert config.upstream("remote").headers["Authorization"] == "file-secret-value"
    assert config.upstream("remote").transport == "http"
    client = config.clients[0]
    assert client.principal.id == "alice" and client.principal.groups == frozenset({"dev"})
    assert client.key_digest != b"k" * 32  # only a digest is kept


ERRORS = [
    ({}, "upstreams", "at least one upstream"),
    ({**BASE, "mode": "audit"}, "mode", "enforce or monitor"),
    ({**BASE, "listen": {"port": "eighty"}}, "listen.port", "integer"),
    ({**BASE, "listen": {"path": "mcp"}}, "listen.path", "start with '/'"),
    ({**BASE, "listen": {"allowed_origins": ["evil"]}}, "listen.allowed_origins[0]", "http(s)://"),
    ({**BASE, "limits": {"max_json_depth": 0}}, "limits.max_json_depth", "at least 1"),
    ({**BASE, "limits": {"max_bytes": 5}}, "limits", "unknown key"),
    ({"upstreams": {"a b": {"command": "x"}}}, "upstreams.a b", "letters, digits"),
    ({"upstreams": {"x": {"args": []}}}, "upstreams.x", "`command`"),
    ({"upstreams": {"x": {"url": "ftp://h"}}}, "upstreams.x.url", "http(s) URL"),
    ({"upstreams": {"x": {"command": "c", "env": {"K": "env:MISSING"}}}}, "upstreams.x.env.K", "MISSING is not set"),
    ({"upstreams": {"a__b": {"command": "c"}}}, "upstreams.a__b", "namespace separator"),
    ({**BASE, "namespace_separator": "x"}, "namespace_separator", "characters"),
    ({**BASE, "clients": [{"id": "c", "api_key": "short"}]}, "clients[0].api_key", "at least 16"),
    ({**BASE, "listen": {"host": "0.0.0.0"}}, "listen.host", "without authentication"),
    ({**BASE, "policy": "missing.yaml"}, "policy", "does not exist"),
    ({**BASE, "surprise": 1}, "", "unknown key"),
]


@pytest.mark.parametrize(("data", "key", "fragment"), ERRORS, ids=[e[1] or "top" for e in ERRORS])
def test_errors_name_file_key_and_problem(data: dict[str, Any], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _parse(data)
    line = caught.value.one_line()
    assert line.startswith(f"warden.yaml: {key}".rstrip())
    assert fragment in line


def test_exposed_listener_with_clients_is_allowed() -> None:
    data = {**BASE, "listen": {"host": "0.0.0.0"}, "clients": [{"id": "c", "api_key": "x" * 20}]}
    assert _parse(data).listen.host == "0.0.0.0"


@pytest.mark.parametrize(("text", "fragment"), [("upstreams: [", "invalid YAML (line"), ("- 1\n", "must be a mapping")])
def test_bad_files_are_config_errors(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "warden.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert fragment in caught.value.one_line()


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(Path("/nonexistent/warden.yaml"))


def test_example_config_loads(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "examples" / "warden.yaml"
    environ = {"GITHUB_TOKEN": "ghp-example", "MCPWARDEN_CLAUDE_KEY": "c" * 32, "REMOTE_MCP_TOKEN": "Bearer x"}
    config = load_config(example, environ)
    assert {u.name for u in config.upstreams} >= {"files"}
