"""`mcpwarden redteam` as a user runs it: help with examples, expected errors as one line with exit 2,
a run that exits 1 on findings. In-process where possible (the full CLI takes seconds to import)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mcpwarden.cli import redteam
from mcpwarden.errors import UsageError
from tests.redteam.conftest import HARDENED, VULNERABLE


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


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(redteam.app, list(args), prog_name="mcpwarden redteam")


@pytest.mark.parametrize(
    ("fmt", "fail_on", "code"),
    [("table", "none", 0), ("sarif", "critical", 0), ("sarif", "high", 1), ("json", "info", 1)],
)
def test_formats_and_fail_on(fmt: str, fail_on: str, code: int) -> None:
    # The output suite proves high findings (MW721-MW723) and nothing critical against the fixture.
    result = _invoke("--suite", "output", "--format", fmt, "--fail-on", fail_on, "--", sys.executable, str(VULNERABLE))
    assert result.exit_code == code, result.output
    if fmt == "table":
        assert "MW723" in result.stdout and "latest_news" in result.stdout
    else:
        document = json.loads(result.stdout)
        if fmt == "sarif":
            assert document["version"] == "2.1.0"
            rules = {r["ruleId"] for r in document["runs"][0]["results"]}
        else:
            rules = {f["rule_id"] for f in document["findings"]}
        assert {"MW721", "MW722", "MW723"} <= rules


def test_replay_command_exits_1_only_when_an_outcome_changed(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    first = _invoke(
        "--suite", "output", "--record", str(record), "--fail-on", "none", "--", sys.executable, str(VULNERABLE)
    )
    assert first.exit_code == 0, first.output
    same = _invoke("replay", str(record))
    assert same.exit_code == 0 and "0 changed" in same.output, same.output
    fixed = _invoke("replay", str(record), "--", sys.executable, str(HARDENED))
    assert fixed.exit_code == 1, fixed.output
    assert "changed  output.results:latest_news: vulnerable → held" in fixed.stdout
