"""load_document: reading, decoding and parsing one file; every failure is a problem, never a raise."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from mcpwarden.discovery._parse import MAX_FILE_BYTES, Format, format_for, json_pointer, load_document


def _load(path: Path, fmt: Format = "json"):  # type: ignore[no-untyped-def]
    return load_document(path, "cursor", "user", fmt)


@pytest.mark.parametrize(
    ("content", "fmt", "reason_start", "line"),
    [
        (b'{\n  "mcpServers": {\n    "a": {"command": "x",}\n  }\n}', "json", "invalid JSON", 3),
        (b'{\n  // comment\n  "mcpServers": {}\n}', "json", "invalid JSON", 2),
        (b'{\n  "a": 1\n  "b": 2\n}', "jsonc", "invalid JSONC", 3),
        (b'{\n  "a": {,}\n}', "jsonc", "invalid JSONC", 2),
        (b'{\n  "a": [1,,],\n}', "jsonc", "invalid JSONC", 2),
        (b'{\n  /* unterminated comment\n  "a": 1\n}', "jsonc", "invalid JSONC", 2),
        (b"[1, 2, 3]", "json", "top level is a list", 1),
        (b'"text"', "jsonc", "top level is a string", 1),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "json", "binary content", None),
        (b'{"name": "caf\xe9"}', "json", "not UTF-8 text", None),
        (b"[mcp_servers.a]\ncommand = 'x'\nargs = [\n", "toml", "invalid TOML", 4),
        (b"a = 1\na = 2\n", "toml", "invalid TOML", 2),
        (b"extensions:\n  a: [1\n  b: 2\n", "yaml", "invalid YAML", 3),
        (b"- just\n- a list\n", "yaml", "top level is a list", 1),
        (b"extensions:\n  a:\n    cmd: \x17\n", "yaml", "invalid YAML", 3),
        (b"[" * 100_000, "json", "invalid JSON", None),
    ],
)
def test_bad_content_is_a_problem_with_its_line(
    tmp_path: Path, content: bytes, fmt: Format, reason_start: str, line: int | None
) -> None:
    path = tmp_path / "config"
    path.write_bytes(content)
    outcome = _load(path, fmt)
    assert outcome is not None and outcome.document is None and outcome.read
    assert outcome.problem is not None
    assert outcome.problem.reason.startswith(reason_start), outcome.problem.reason
    assert outcome.problem.line == line
    assert (outcome.problem.client, outcome.problem.path) == ("cursor", str(path))


@pytest.mark.parametrize(
    ("content", "fmt", "data"),
    [
        (b"", "json", {}),
        (b"  \n", "jsonc", {}),
        (b"", "yaml", {}),
        (b"# only a comment\n", "yaml", {}),
        (b"", "toml", {}),
        (b'\xef\xbb\xbf{"a": 1}', "json", {"a": 1}),
        ('{"a": "ü"}'.encode("utf-16"), "json", {"a": "ü"}),
        (b"{\n  // c\n  \"a\": [1, 2,],\n  b: 'x',\n}", "jsonc", {"a": [1, 2], "b": "x"}),
        (b'{"u": "http://x/*y*/", // c\n "v": "a,]" /* d */ ,}', "jsonc", {"u": "http://x/*y*/", "v": "a,]"}),
        (b'{"a": [1, 2,\n// c\n],}', "jsonc", {"a": [1, 2]}),
    ],
)
def test_good_content_parses(tmp_path: Path, content: bytes, fmt: Format, data: object) -> None:
    path = tmp_path / "config"
    path.write_bytes(content)
    outcome = _load(path, fmt)
    assert outcome is not None and outcome.problem is None and outcome.document is not None
    assert outcome.document.data == data


def test_missing_file_is_no_problem(tmp_path: Path) -> None:
    assert _load(tmp_path / "absent.json") is None
    (tmp_path / "file").write_text("{}")
    assert _load(tmp_path / "file" / "below-a-file.json") is None


def test_directory_is_a_problem(tmp_path: Path) -> None:
    outcome = _load(tmp_path)
    assert outcome is not None and outcome.problem is not None and not outcome.read
    assert outcome.problem.reason == "is a directory, not a config file"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "secret.json"
    path.write_text("{}")
    path.chmod(0)
    try:
        outcome = _load(path)
    finally:
        path.chmod(0o600)
    assert outcome is not None and outcome.problem is not None and not outcome.read
    assert outcome.problem.reason.startswith("cannot read file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_fifo_is_a_problem_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    os.mkfifo(path)
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(_load(path)), daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "reading a FIFO blocked"
    outcome = result[0]
    assert getattr(outcome, "problem", None) is not None
    assert outcome.problem.reason == "is not a regular file"  # type: ignore[union-attr]


def test_huge_file_is_a_problem_and_not_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    outcome = _load(path)
    assert outcome is not None and outcome.problem is not None and not outcome.read
    assert "limit" in outcome.problem.reason


def test_file_at_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    padding = MAX_FILE_BYTES - len('{"pad": ""}')
    path.write_text('{"pad": "' + "x" * padding + '"}')
    assert path.stat().st_size == MAX_FILE_BYTES
    outcome = _load(path)
    assert outcome is not None and outcome.document is not None


@pytest.mark.parametrize(
    ("name", "jsonc", "fmt"),
    [
        ("config.toml", False, "toml"),
        ("config.YAML", False, "yaml"),
        ("block.yml", True, "yaml"),
        ("mcp.json", False, "json"),
        ("settings.json", True, "jsonc"),
        ("no-suffix", True, "jsonc"),
    ],
)
def test_format_for(name: str, jsonc: bool, fmt: str) -> None:
    assert format_for(Path(name), jsonc=jsonc) == fmt


@pytest.mark.parametrize(
    ("segments", "pointer"),
    [
        (("mcpServers", "github"), "/mcpServers/github"),
        (("projects", "/home/me/repo", "mcpServers", "db"), "/projects/~1home~1me~1repo/mcpServers/db"),
        (("a~b", "c/d~"), "/a~0b/c~1d~0"),
        (("list", 0), "/list/0"),
        ((), ""),
    ],
)
def test_json_pointer_escapes_per_rfc_6901(segments: tuple[str | int, ...], pointer: str) -> None:
    assert json_pointer(segments) == pointer
