"""Gemini CLI: url is SSE, httpUrl is streamable HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpwarden.discovery import parse_config_file


@pytest.mark.parametrize(
    ("entry", "transport", "url"),
    [
        ('{"url": "https://g.example/mcp"}', "sse", "https://g.example/mcp"),
        ('{"httpUrl": "https://g.example/mcp"}', "http", "https://g.example/mcp"),
        ('{"httpUrl": "https://g.example/h", "url": "https://g.example/s"}', "http", "https://g.example/h"),
        ('{"url": "https://g.example/mcp", "type": "http"}', "http", "https://g.example/mcp"),
    ],
)
def test_url_conventions(tmp_path: Path, entry: str, transport: str, url: str) -> None:
    path = tmp_path / ".gemini" / "settings.json"
    path.parent.mkdir()
    path.write_text('{\n  // comments are allowed\n  "mcpServers": {"g": ' + entry + "},\n}")
    (spec,), problems = parse_config_file(path)
    assert problems == []
    assert (spec.transport, spec.url, spec.sources[0].client, spec.sources[0].line) == (transport, url, "gemini-cli", 3)
