"""`mcpwarden redteam` as a user runs it: help with examples, expected errors as one line with exit 2,
a run that exits 1 on findings. In-process where possible (the full CLI takes seconds to import)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcpwarden.cli import redteam
from mcpwarden.errors import UsageError
from tests.redteam.conftest import VULNERABLE


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpwarden.cli.main", "redteam", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("args", [["--help"], ["replay", "--help"]])
def test_help_has_examples(args: list[str]) -> None:
    result = CliRunner().invoke(redteam.app, args, prog_name="mcpwarden redteam")
    assert result.exit_code == 0 and "Examples" in result.output and "mcpwarden redteam" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give exactly one target"),
        (["--url", "http://127.0.0.1:9/mcp", "--suite", "nope"], "unknown suite 'nope'"),
        (["--url", "http://127.0.0.1:9/mcp", "-H", "novalue"], "expected NAME:VALUE"),
        (["--token", "t", "--", "python", "server.py"], "apply to --url targets only"),
        (["--url", "http://127.0.0.1:9/mcp", "--scope", "mcp:tools"], "give --signing-key too"),
        (["replay", "/nonexistent.jsonl"], "cannot read the transcript"),
    ],
)
def test_expected_errors_raise_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(redteam.app, args)
    assert isinstance(result.exception, UsageError) and message in result.exception.one_line()


def test_unreachable_server_is_one_line_and_exit_2() -> None:
    done = _cli("--url", "http://127.0.0.1:9/mcp")
    assert done.returncode == 2
    assert "could not connect to http://127.0.0.1:9/mcp" in done.stderr and "Traceback" not in done.stderr


def test_stdio_run_writes_json_and_fails_on_high(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    done = _cli("--suite", "output", "--format", "json", "-o", str(report), "--", sys.executable, str(VULNERABLE))
    assert done.returncode == 1, done.stderr
    rules = {f["rule_id"] for f in json.loads(report.read_text())["findings"]}
    assert {"MW721", "MW722", "MW723"} <= rules
    assert "not attacked (may change or send things): delete_note, purge_cache" in done.stderr
