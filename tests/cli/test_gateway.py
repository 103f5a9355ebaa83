"""`mcpwarden gateway` / `wrap` as a user runs them: help with examples, clear errors, exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mcpwarden.cli.gateway import register
from mcpwarden.errors import WardenError

RUN_CLI = Path(__file__).parent.parent / "fixtures" / "gateway" / "run_cli.py"


def _app() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)
    register(app)
    return app


@pytest.mark.parametrize("command", ["gateway", "wrap"])
def test_help_has_examples(command: str) -> None:
    result = CliRunner().invoke(_app(), [command, "--help"], terminal_width=200)
    assert result.exit_code == 0 and "Examples" in result.stdout and f"mcpwarden {command}" in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("gateway",), "give either --config FILE or --demo"),
        (("gateway", "--config", "missing.yaml"), "missing.yaml: config file does not exist"),
        (("gateway", "--config", "bad.yaml"), "bad.yaml: mode: must be enforce or monitor"),
        (("wrap",), "no server command given"),
        (("wrap", "--install", "no-such-client"), "unknown client 'no-such-client'"),
    ],
)
def test_expected_errors_are_warden_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], fragment: str
) -> None:
    (tmp_path / "bad.yaml").write_text("mode: loud\nupstreams: {x: {command: c}}\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(_app(), list(args))
    assert isinstance(result.exception, WardenError)
    assert fragment in result.exception.one_line()


def test_the_real_command_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(RUN_CLI), "gateway", "--config", str(tmp_path / "none.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"mcpwarden: error: {tmp_path / 'none.yaml'}: config file does not exist"
