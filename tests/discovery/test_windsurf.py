"""Windsurf mcp_config.json."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpwarden.discovery import discover

from .fakehome import make_machine


@pytest.mark.parametrize("variant", ["windsurf", "windsurf-next"])
def test_windsurf_and_next(tmp_path: Path, variant: str) -> None:
    machine = make_machine(tmp_path, "darwin")
    machine.write(
        "{home}/.codeium/" + variant + "/mcp_config.json", '{"mcpServers": {"r": {"serverUrl": "https://w.x/mcp"}}}'
    )
    found = discover(home=machine.home, os_name="darwin", env={})
    assert [(s.url, s.transport, s.sources[0].client) for s in found.servers] == [
        ("https://w.x/mcp", "http", "windsurf")
    ]
