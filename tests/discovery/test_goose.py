"""Goose extensions."""

from __future__ import annotations

from pathlib import Path

from mcpwarden.discovery import parse_config_file

from .fakehome import FIXTURES


def test_extension_types(tmp_path: Path) -> None:
    path = tmp_path / "goose" / "config.yaml"
    path.parent.mkdir()
    path.write_text((FIXTURES / "goose_config.yaml").read_text(), encoding="utf-8")
    specs, problems = parse_config_file(path)
    assert problems == []
    got = {s.name: (s.transport, s.command or s.url, dict(s.env), dict(s.headers)) for s in specs}
    assert got == {
        "filesystem": ("stdio", "npx", {"FS_MODE": "read-only"}, {}),
        "remote-tools": ("http", "https://goose.example/mcp", {}, {"X-Api-Key": "goose-example"}),
        "old-events": ("sse", "http://localhost:9000/sse", {}, {}),
    }
    lines = path.read_text().splitlines()
    assert all(lines[s.sources[0].line - 1].strip() == f"{s.name}:" for s in specs)


def test_unknown_type_and_stdio_without_cmd_are_entry_problems(tmp_path: Path) -> None:
    path = tmp_path / "goose" / "config.yaml"
    path.parent.mkdir()
    path.write_text(
        "extensions:\n  a:\n    type: websocket\n    uri: ws://x\n  b:\n    type: stdio\n  c:\n    type: platform\n"
    )
    specs, problems = parse_config_file(path)
    assert specs == []
    assert [(p.reason, p.line) for p in problems] == [
        ("server 'a': unsupported extension type 'websocket'", 2),
        ("server 'b': stdio server has no `command`", 5),
    ]
