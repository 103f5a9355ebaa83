"""`mcpwarden approvals …`: a human decides, from another process, on a call the gateway holds."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest

from mcpwarden.storage.audit_sqlite import SqliteAuditLog
from mcpwarden.storage.state import Approval, ApprovalRequest
from mcpwarden.storage.state_sqlite import SqliteLiveState
from tests.cli.conftest import Runner, run_process

SECRET = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"


def request(home: Path, ttl_s: float = 300.0, tool: str = "send") -> Approval:
    """What the gateway does when a call needs a human: queue it (in this process)."""
    req = ApprovalRequest(
        server="mail",
        tool=tool,
        principal="agent-1",
        session="s-42",
        arguments={"to": "boss@example.com", "token": SECRET},
        reason="policy: outbound mail needs approval",
        call_id="call-9",
    )
    with SqliteLiveState(home / "mcpwarden.db", redact=str) as state:
        return anyio.run(lambda: state.request_approval(req, ttl_s=ttl_s))


def test_list_shows_pending_calls_with_masked_arguments(run: Runner, tmp_path: Path) -> None:
    first = request(tmp_path)
    second = request(tmp_path, tool="delete")
    listed = run(["approvals", "list"], tmp_path)
    assert listed.returncode == 0
    assert first.id in listed.stdout and second.id in listed.stdout
    assert "mail/send" in listed.stdout and "mail/delete" in listed.stdout and "agent-1" in listed.stdout
    assert SECRET not in listed.stdout and "ghp_" in listed.stdout


def test_approve_and_deny_are_decided_and_audited(run: Runner, tmp_path: Path) -> None:
    yes, no = request(tmp_path), request(tmp_path)
    approved = run(["approvals", "approve", yes.id, "--reason", "ticket OPS-1", "--by", "carol"], tmp_path)
    denied = run(["approvals", "deny", no.id, "-r", "not today", "--by", "dave"], tmp_path)
    assert approved.returncode == 0 and f"approved {yes.id}" in approved.stdout
    assert denied.returncode == 0 and f"denied {no.id}" in denied.stdout
    assert run(["approvals", "list"], tmp_path).stderr.strip() == "no pending approvals"
    everything = run(["approvals", "list", "--all"], tmp_path).stdout
    assert "approved" in everything and "carol ticket OPS-1" in everything and "dave not today" in everything
    with SqliteAuditLog(tmp_path / "mcpwarden.db", redact=str) as log:
        records = log.records(session="s-42")
        assert log.verify_chain().ok
    assert [(r.event, r.principal, r.decision, r.outcome) for r in records] == [
        ("approval", "carol", "allow", "approved"),
        ("approval", "dave", "deny", "denied"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["approvals", "approve", "0123456789ab"], "no approval with id"),
        (["approvals", "deny", "0123456789ab"], "Missing option '--reason'"),
    ],
)
def test_bad_decisions_exit_2(run: Runner, tmp_path: Path, args: list[str], message: str) -> None:
    result = run(args, tmp_path)
    assert result.returncode == 2 and message in result.stderr


def test_a_decided_or_expired_request_cannot_be_decided_again(run: Runner, tmp_path: Path) -> None:
    decided, expiring = request(tmp_path), request(tmp_path, ttl_s=0.05)
    assert run(["approvals", "approve", decided.id], tmp_path).returncode == 0
    again = run(["approvals", "deny", decided.id, "--reason", "changed my mind"], tmp_path)
    time.sleep(0.1)
    late = run(["approvals", "approve", expiring.id], tmp_path)
    assert again.returncode == 2 and "already approved" in again.stderr
    assert late.returncode == 2 and "already expired" in late.stderr


@pytest.mark.parametrize("command", ["list", "approve", "deny"])
def test_every_command_has_help_with_examples(run: Runner, tmp_path: Path, command: str) -> None:
    result = run(["approvals", command, "--help"], tmp_path)
    assert result.returncode == 0 and "Examples" in result.stdout and f"mcpwarden approvals {command}" in result.stdout


@pytest.mark.anyio
@pytest.mark.parametrize(("command", "status"), [(["approve"], "approved"), (["deny", "--reason", "no"], "denied")])
async def test_the_waiting_gateway_gets_the_decision_made_in_another_process(
    tmp_path: Path, command: list[str], status: str
) -> None:
    with SqliteLiveState(tmp_path / "mcpwarden.db", redact=str, poll_s=0.05) as gateway:
        pending = await gateway.request_approval(ApprovalRequest(server="mail", tool="send", principal="agent-1"))
        decision: dict[str, Approval] = {}

        async def wait() -> None:
            decision["got"] = await gateway.wait_for_decision(pending.id, 60)

        async with anyio.create_task_group() as tg:
            tg.start_soon(wait)
            proc = await anyio.to_thread.run_sync(
                run_process, ["approvals", command[0], pending.id, *command[1:]], tmp_path
            )
    assert proc.returncode == 0, proc.stderr
    assert decision["got"].status == status
