"""Shared CLI test helpers: the console entry point in this process or in its own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from mcpwarden.cli import main

Runner = Callable[[list[str], Path], "Result"]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_process(args: list[str], home: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The console entry point in its own process (slow to start: kept for what crosses processes)."""
    env = {**os.environ, "MCPWARDEN_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "mcpwarden.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[[list[str], Path], Result]:
    """The console entry point (`main.main`, with its error handling) in this process, on real files."""

    def invoke(args: list[str], home: Path) -> Result:
        monkeypatch.setenv("MCPWARDEN_HOME", str(home))
        monkeypatch.setenv("NO_COLOR", "1")
        monkeypatch.setenv("COLUMNS", "200")
        monkeypatch.setattr(sys, "argv", ["mcpwarden", *args])
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            main.main()
        out = capsys.readouterr()
        return Result(int(exited.value.code or 0), out.out, out.err)

    return invoke
