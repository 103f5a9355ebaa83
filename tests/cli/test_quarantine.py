"""`mcpwarden quarantine …`: the kill switch, seen by a running gateway in another process within a second."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mcpwarden.storage.audit_sqlite import SqliteAuditLog
from mcpwarden.storage.state_sqlite import SqliteLiveState
from tests.cli.conftest import Runner, run_process


def test_quarantine_list_and_release(run: Runner, tmp_path: Path) -> None:
    blocked = run(["quarantine", "github/delete_repo", "--reason", "token leak", "--by", "ops-erin"], tmp_path)
    whole = run(["quarantine", "--reason", "incident", "fs"], tmp_path)  # options may come first
    listed = run(["quarantine", "--list"], tmp_path)
    bare = run(["quarantine"], tmp_path)
    released = run(["quarantine", "--release", "fs"], tmp_path)
    after = run(["quarantine", "-l"], tmp_path)
    assert blocked.returncode == whole.returncode == released.returncode == 0
    assert "quarantined github/delete_repo" in blocked.stdout and "released fs" in released.stdout
    assert "github/delete_repo" in listed.stdout and "token leak" in listed.stdout and "ops-erin" in listed.stdout
    assert "incident" in listed.stdout and bare.stdout == listed.stdout
    assert "github/delete_repo" in after.stdout and "incident" not in after.stdout
    with SqliteLiveState(tmp_path / "mcpwarden.db", redact=str) as state:
        assert state.quarantined() == {"github/delete_repo"}


def test_every_change_is_audited(run: Runner, tmp_path: Path) -> None:
    run(["quarantine", "*", "--reason", "incident-42", "--by", "ops-erin"], tmp_path)
    run(["quarantine", "--release", "*", "--by", "ops-frank"], tmp_path)
    with SqliteAuditLog(tmp_path / "mcpwarden.db", redact=str) as log:
        records = log.records()
        assert log.verify_chain().ok
    assert [(r.event, r.principal, r.upstream, r.detail) for r in records] == [
        ("quarantine", "ops-erin", "*", "incident-42"),
        ("release", "ops-frank", "*", ""),
    ]


def test_nothing_quarantined_says_so(run: Runner, tmp_path: Path) -> None:
    result = run(["quarantine", "--list"], tmp_path)
    assert result.returncode == 0 and "nothing is quarantined" in result.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["quarantine", "--release", "never"], 1, "was not quarantined"),
        (["quarantine", "two words"], 2, "invalid quarantine target"),
        (["quarantine", "server/"], 2, "invalid quarantine target"),
        (["quarantine", "fs", "--list"], 2, "--list takes no TARGET"),
        (["quarantine", "--release"], 2, "--release needs a TARGET"),
        (["quarantine", "fs", "extra"], 2, "unexpected extra argument"),
    ],
)
def test_mistakes_are_clear(run: Runner, tmp_path: Path, args: list[str], code: int, message: str) -> None:
    result = run(args, tmp_path)
    assert result.returncode == code and message in result.stderr


def test_help_has_examples_and_one_usage_shape(run: Runner, tmp_path: Path) -> None:
    result = run(["quarantine", "--help"], tmp_path)
    assert result.returncode == 0 and "Examples" in result.stdout and "mcpwarden quarantine --release" in result.stdout
    assert "COMMAND" not in result.stdout


def test_a_running_gateway_sees_the_cli_quarantine_within_one_second(tmp_path: Path) -> None:
    # The gateway side: this process, with the default cache refresh, checking before every call.
    with SqliteLiveState(tmp_path / "mcpwarden.db", redact=str) as gateway:
        assert gateway.blocked("mail", "send") is None
        proc = run_process(["quarantine", "mail/send", "--reason", "exfiltration"], tmp_path)
        done = time.monotonic()
        assert proc.returncode == 0, proc.stderr
        while (hit := gateway.blocked("mail", "send")) is None and time.monotonic() - done < 2.0:
            time.sleep(0.001)
        lag = time.monotonic() - done
    assert hit is not None and hit.reason == "exfiltration"
    assert lag < 1.0
