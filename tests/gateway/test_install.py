"""`wrap --install` / `--uninstall` on a fake home: stdio entries wrapped, remote ones left, backup restored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcpwarden.errors import UsageError
from mcpwarden.gateway.install import BACKUP_SUFFIX, install, uninstall

WRAPPER = ["/opt/bin/mcpwarden"]
CONFIG = {
    "mcpServers": {
        "files": {"command": "npx", "args": ["-y", "server-files", "/home/me"], "env": {"K": "v"}},
        "remote": {"url": "https://mcp.example.com/mcp"},
        "local": {"command": "python", "args": ["srv.py"], "cwd": "/srv"},
    },
    "theme": "dark",
}


def _home(tmp_path: Path) -> tuple[Path, Path]:
    path = tmp_path / ".config" / "Claude" / "claude_desktop_config.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(CONFIG, indent=4))
    return tmp_path, path


def test_install_wraps_stdio_servers_and_uninstall_restores(tmp_path: Path) -> None:
    home, path = _home(tmp_path)
    original = path.read_bytes()
    changes = install("claude-desktop", home=home, os_name="linux", env={}, wrapper=WRAPPER)
    assert [c.wrapped for c in changes] == [["files", "local"]]
    assert changes[0].skipped[0][0] == "remote" and "remote server" in changes[0].skipped[0][1]
    data = json.loads(path.read_text())
    files = data["mcpServers"]["files"]
    assert files["command"] == "/opt/bin/mcpwarden"
    assert files["args"] == ["wrap", "--name", "files", "--", "npx", "-y", "server-files", "/home/me"]
    assert files["env"] == {"K": "v"} and data["mcpServers"]["local"]["cwd"] == "/srv"
    assert data["mcpServers"]["remote"] == CONFIG["mcpServers"]["remote"] and data["theme"] == "dark"
    assert (path.parent / (path.name + BACKUP_SUFFIX)).read_bytes() == original
    with pytest.raises(UsageError, match="backup from an earlier install"):
        install("claude-desktop", home=home, os_name="linux", env={}, wrapper=WRAPPER)
    assert uninstall("claude-desktop", home=home, os_name="linux", env={}) == [path]
    assert path.read_bytes() == original
    assert not (path.parent / (path.name + BACKUP_SUFFIX)).exists()


@pytest.mark.parametrize(
    ("client", "fragment"),
    [("no-such-client", "unknown client"), ("cursor", "no MCP servers are configured for cursor")],
)
def test_install_errors(tmp_path: Path, client: str, fragment: str) -> None:
    home, _ = _home(tmp_path)
    with pytest.raises(UsageError, match=fragment):
        install(client, home=home, os_name="linux", env={}, wrapper=WRAPPER)


def test_uninstall_without_backup_says_so(tmp_path: Path) -> None:
    home, _ = _home(tmp_path)
    with pytest.raises(UsageError, match="nothing to uninstall"):
        uninstall("claude-desktop", home=home, os_name="linux", env={})


def test_already_wrapped_entries_are_left(tmp_path: Path) -> None:
    home, path = _home(tmp_path)
    install("claude-desktop", home=home, os_name="linux", env={}, wrapper=WRAPPER)
    path.with_name(path.name + BACKUP_SUFFIX).unlink()
    wrapped_once = path.read_bytes()
    changes = install("claude-desktop", home=home, os_name="linux", env={}, wrapper=WRAPPER)
    assert [c.wrapped for c in changes] == [[]]
    assert {why for _, why in changes[0].skipped} >= {"already routed through mcpwarden"}
    assert path.read_bytes() == wrapped_once
    assert not path.with_name(path.name + BACKUP_SUFFIX).exists()
