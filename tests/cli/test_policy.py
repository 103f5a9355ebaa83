"""`mcpwarden policy check | explain | init` through Typer's runner, on real files and a real SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcpwarden.cli.policy import app
from mcpwarden.errors import ConfigError, UsageError
from mcpwarden.policy import PolicyEngine
from mcpwarden.storage.base import ScanMeta
from mcpwarden.storage.sqlite import SqliteStore
from mcpwarden.types import ToolDef
from tests.policy.builders import EXAMPLE_POLICY, tool, who

runner = CliRunner()


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(EXAMPLE_POLICY, encoding="utf-8")
    return path


def test_check_ok_counts_policies(policy_file: Path) -> None:
    result = runner.invoke(app, ["check", str(policy_file)])
    assert result.exit_code == 0, result.output
    # scope ceiling + six rules
    assert result.output.strip().endswith("ok: 7 policies")


def test_check_show_cedar_prints_loadable_cedar(policy_file: Path) -> None:
    result = runner.invoke(app, ["check", str(policy_file), "--show-cedar"])
    assert result.exit_code == 0
    cedar = result.output.rsplit("ok:", 1)[0]
    assert PolicyEngine.from_cedar_text(cedar).policy_count == 7


def test_check_raw_cedar(tmp_path: Path) -> None:
    path = tmp_path / "p.cedar"
    path.write_text("permit (principal, action, resource);\n", encoding="utf-8")
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 0 and "ok: 1 policies" in result.output


def test_check_bad_file_raises_config_error_with_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\nrules:\n  - id: x\n    allow: {tools: [nope]}\n", encoding="utf-8")
    result = runner.invoke(app, ["check", str(path)])
    assert isinstance(result.exception, ConfigError)
    assert "rules[0].allow.tools[0]" in result.exception.one_line()
    assert str(path) in result.exception.one_line()


@pytest.mark.parametrize(
    ("extra", "decision", "policies"),
    [
        (["--tool", "files/read_file"], "allow", "readonly-everyone"),
        (["--tool", "shell/ls"], "deny", "no-shell"),
        (["--tool", "mail/send", "--label", "exfiltration_sink"], "ask", "approval-for-sinks"),
        (["--tool", "files/write_file", "--args", '{"path": "/etc/x"}'], "deny", "tmp-only"),
        (["--tool", "files/write_file", "--args", '{"path": "/tmp/x"}'], "allow", "readonly-everyone"),
        (["--tool", "deploy/release", "--group", "ops"], "allow", "ops-can-deploy"),
        (["--tool", "files/stat", "--scope", "mcp:read"], "deny", "scope-ceiling"),
        (["--tool", "files/read_file", "--annotation", "readOnlyHint=true"], "allow", "readonly-everyone"),
    ],
)
def test_explain_text(policy_file: Path, extra: list[str], decision: str, policies: str) -> None:
    result = runner.invoke(app, ["explain", str(policy_file), "--principal", "user:alice", *extra])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(":", 1) for line in result.output.splitlines() if ":" in line)
    assert lines["decision"].strip() == decision
    assert policies in lines["policies"]


def test_explain_json_includes_request_and_entities(policy_file: Path) -> None:
    args = ["explain", str(policy_file), "--principal", "agent:ci", "--tool", "shell/run", "--json"]
    result = runner.invoke(app, [*args, "--args", '{"cmd": "ls"}'])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["decision"] == "deny" and data["policy_ids"] == ["no-shell"]
    assert data["request"]["principal"] == {"type": "Agent", "id": "ci"}
    assert data["request"]["context"]["arguments"] == {"cmd": "ls"}
    assert any(e["uid"]["type"] == "Tool" for e in data["entities"])


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--tool", "no-slash"], "--tool"),
        (["--tool", "a/b", "--args", "{nope"], "--args"),
        (["--tool", "a/b", "--args", "[1]"], "--args"),
        (["--tool", "a/b", "--action", "delete"], "--action"),
        (["--tool", "a/b", "--annotation", "readOnlyHint"], "--annotation"),
    ],
)
def test_explain_usage_errors_name_the_option(policy_file: Path, extra: list[str], option: str) -> None:
    result = runner.invoke(app, ["explain", str(policy_file), "--principal", "bob", *extra])
    assert isinstance(result.exception, UsageError)
    assert result.exception.where == option


def populate(db: Path) -> None:
    defs = [
        ToolDef("files", "tool", "read_file", {"name": "read_file", "description": "Read a file from disk."}),
        ToolDef("files", "tool", "delete_file", {"name": "delete_file", "description": "Delete a file."}),
        ToolDef("mail", "tool", "send_email", {"name": "send_email", "description": "Send an email to a recipient."}),
        ToolDef("misc", "tool", "frobnicate", {"name": "frobnicate", "description": "Frobnicates."}),
    ]
    with SqliteStore(db) as store:
        scan = store.record_scan(ScanMeta(started_at="2025-01-01T00:00:00+00:00"))
        store.observe(scan, defs)
        store.accept()


def test_init_writes_a_least_privilege_policy(tmp_path: Path) -> None:
    db, out = tmp_path / "state.db", tmp_path / "policy.yaml"
    populate(db)
    result = runner.invoke(app, ["init", "--db", str(db), "--output", str(out)])
    assert result.exit_code == 0, result.output
    engine = PolicyEngine.from_file(out)
    decisions = {
        ref: engine.decide(who(), "call_tool", tool(ref)).decision
        for ref in ("files/read_file", "files/delete_file", "mail/send_email", "misc/frobnicate", "new/tool")
    }
    assert decisions == {
        "files/read_file": "allow",
        "files/delete_file": "ask",
        "mail/send_email": "ask",
        "misc/frobnicate": "deny",
        "new/tool": "deny",
    }
    again = runner.invoke(app, ["init", "--db", str(db), "--output", str(out)])
    assert isinstance(again.exception, UsageError)
    assert runner.invoke(app, ["init", "--db", str(db), "--output", str(out), "--force"]).exit_code == 0


def test_init_prints_to_stdout_without_output(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    populate(db)
    result = runner.invoke(app, ["init", "--db", str(db)])
    assert result.exit_code == 0
    assert PolicyEngine.from_yaml_text(result.output).policy_count == 2


def test_init_without_a_scan_is_a_usage_error(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["init", "--db", str(tmp_path / "none.db")])
    assert isinstance(missing.exception, UsageError)
    assert not (tmp_path / "none.db").exists()
    SqliteStore(tmp_path / "empty.db").close()
    empty = runner.invoke(app, ["init", "--db", str(tmp_path / "empty.db")])
    assert isinstance(empty.exception, UsageError) and "scan" in empty.exception.one_line()


@pytest.mark.parametrize("command", [[], ["check"], ["explain"], ["init"]])
def test_every_command_has_help_with_examples(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Examples" in result.output
