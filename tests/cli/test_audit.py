"""`mcpwarden audit …` end to end: real processes on a real database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import anyio
import pytest

from mcpwarden.storage.audit import AuditEntry, ChainHead
from mcpwarden.storage.audit_sqlite import SqliteAuditLog
from mcpwarden.types import Verdict
from tests.cli.conftest import Runner, run_process


def fill(path: Path) -> ChainHead:
    async def append_all(log: SqliteAuditLog) -> None:
        await log.append(AuditEntry(event="session_start", principal="alice", session="s1", client="cursor"))
        await log.append(
            AuditEntry(
                event="call",
                principal="alice",
                session="s1",
                upstream="fs",
                tool="read_file",
                decision="allow",
                verdicts=(Verdict("allow", "authz", ("permit-reads",)),),
                latency_ms=2.25,
                outcome="ok",
            )
        )
        await log.append(
            AuditEntry(
                event="call",
                principal="alice",
                session="s1",
                upstream="fs",
                tool="evil\x1b[31m[bold]x[/bold]",
                decision="deny",
                verdicts=(Verdict("deny", "authz", ("forbid-writes",)), Verdict("allow", "ratelimit")),
                findings=("MW301",),
                latency_ms=0.5,
                outcome="denied",
            )
        )
        await log.append(AuditEntry(event="call", principal="bob", session="s2", tool="other_session_tool"))

    with SqliteAuditLog(path, redact=str) as log:
        anyio.run(append_all, log)
        return log.head()


def test_verify_passes_on_an_intact_log_and_prints_the_head(tmp_path: Path) -> None:
    head = fill(tmp_path / "mcpwarden.db")
    proc = run_process(["audit", "verify"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "ok: 4 records" in proc.stdout and str(head) in proc.stdout


def test_verify_fails_with_the_first_bad_record(run: Runner, tmp_path: Path) -> None:
    path = tmp_path / "gw.db"
    fill(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET decision = 'allow' WHERE seq = 3")
    conn.close()
    proc = run(["audit", "verify", "--db", str(path)], tmp_path)
    assert proc.returncode == 1
    assert "BROKEN at record 3" in proc.stdout and "edited" in proc.stdout
    assert "2 records verified" in proc.stdout


def test_verify_with_an_anchor_catches_a_rewritten_tail(run: Runner, tmp_path: Path) -> None:
    path = tmp_path / "mcpwarden.db"
    head = fill(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute("DELETE FROM audit_log WHERE seq = 4")
    conn.execute("UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_log WHERE seq = 3)")
    conn.close()
    assert run(["audit", "verify"], tmp_path).returncode == 0
    anchored = run(["audit", "verify", "--anchor", str(head)], tmp_path)
    assert anchored.returncode == 1 and "BROKEN at record 4" in anchored.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["audit", "verify", "--anchor", "nonsense"], "--anchor"),
        (["audit", "verify", "--db", "missing.db"], "no mcpwarden database"),
        (["audit", "export", "--format", "csv"], "csv"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(run: Runner, tmp_path: Path, args: list[str], message: str) -> None:
    fill(tmp_path / "mcpwarden.db")
    proc = run(args, tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_a_damaged_database_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "mcpwarden.db").write_bytes(b"not a database " * 500)
    proc = run_process(["audit", "verify"], tmp_path)
    assert proc.returncode == 2
    assert "damaged" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_show_replays_one_session_with_decisions_reasons_and_latency(run: Runner, tmp_path: Path) -> None:
    fill(tmp_path / "mcpwarden.db")
    proc = run(["audit", "show", "--session", "s1"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "principal alice" in out and "client cursor" in out
    assert "fs/read_file" in out and "permit-reads" in out and "2.2" in out
    assert "authz: forbid-writes" in out and "MW301" in out and "deny" in out
    assert "other_session_tool" not in out
    # A hostile tool name is shown, not interpreted: no raw escape reaches the terminal, markup stays text.
    assert "\x1b" not in out and "\\u{1B}[31m[bold]x[/bold]" in out


def test_show_of_an_unknown_session_exits_1(run: Runner, tmp_path: Path) -> None:
    fill(tmp_path / "mcpwarden.db")
    proc = run(["audit", "show", "-s", "nope"], tmp_path)
    assert proc.returncode == 1 and "no audit records" in proc.stderr


def test_export_writes_one_json_line_per_record(run: Runner, tmp_path: Path) -> None:
    fill(tmp_path / "mcpwarden.db")
    to_file = run(["audit", "export", "--format", "jsonl", "--output", str(tmp_path / "a.jsonl")], tmp_path)
    to_stdout = run(["audit", "export", "--session", "s2"], tmp_path)
    assert to_file.returncode == 0 and "4 records written" in to_file.stderr
    lines = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3, 4]
    assert all(len(line["hash"]) == 64 for line in lines)
    assert [json.loads(line)["tool"] for line in to_stdout.stdout.splitlines()] == ["other_session_tool"]


@pytest.mark.parametrize("command", ["verify", "show", "export"])
def test_every_command_has_help_with_examples(run: Runner, tmp_path: Path, command: str) -> None:
    proc = run(["audit", command, "--help"], tmp_path)
    assert proc.returncode == 0 and "Examples" in proc.stdout and f"mcpwarden audit {command}" in proc.stdout
