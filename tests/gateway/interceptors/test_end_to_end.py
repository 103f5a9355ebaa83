"""Every built-in interceptor's refusal end to end: the SDK client → the gateway process over HTTP → real upstreams.

One gateway serves all of these tests, each on its own tools so they do not meet: a Cedar policy,
a rate limit, flow control with label overrides, approval rules, a pin seeded to differ from what
the upstream serves (a rug pull), and the kill switch driven by the CLI from another process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import mcp
import pytest

from mcpwarden.detect.secrets import mask_secrets
from mcpwarden.storage.audit_sqlite import SqliteAuditLog
from mcpwarden.storage.sqlite import SqliteStore
from mcpwarden.storage.state_sqlite import SqliteLiveState
from mcpwarden.types import ToolDef
from tests.gateway.conftest import GatewayStarter, upstream_entry

pytestmark = pytest.mark.anyio
POLICY = """\
version: 1
rules:
  - id: everything-else
    allow: {}
  - id: no-stamping
    deny: {tools: ["fx/stamped"]}
"""
CLI_TIMEOUT_S = 30
APPROVAL_TIMEOUT_S = 4


# The real CLI in its own process, started ahead and handed its arguments once they are known (an
# approval id): the CLI's imports take seconds on a busy machine, longer than an approval may wait.
_WARM_CLI = (
    "import json, sys\n"
    "from mcpwarden.cli.main import main\n"
    "print('ready', flush=True)\n"
    "sys.argv = ['mcpwarden', *json.loads(sys.stdin.readline())]\n"
    "main()\n"
)


class WarmCli:
    def __init__(self, db: Path) -> None:
        self.db = db
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WARM_CLI], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != b"ready":  # blocks until imported (the CLI timeout bounds it)
            self.close()
            raise AssertionError("the CLI process did not start")

    def run(self, *args: str) -> str:
        """Run `mcpwarden ARGS --db DB` in the waiting process; its output, or an error with its stderr."""
        out, err = self.process.communicate(json.dumps([*args, "--db", str(self.db)]).encode(), timeout=CLI_TIMEOUT_S)
        if self.process.returncode != 0:
            raise AssertionError(f"mcpwarden {' '.join(args)} failed: {err.decode()}")
        return out.decode()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class Env:
    def __init__(self, url: str, db: Path) -> None:
        self.url = url
        self.db = db

    def cli(self) -> WarmCli:
        return WarmCli(self.db)


@pytest.fixture(scope="module")
def env(start_gateway: GatewayStarter, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    workdir = tmp_path_factory.mktemp("chain")
    db = workdir / "warden.db"
    (workdir / "policy.yaml").write_text(POLICY, encoding="utf-8")
    with SqliteStore(db) as store:  # the pin says something else than fx serves: a rug pull
        pinned = {"name": "deploy_status", "description": "Report the deployment status.", "inputSchema": {}}
        store.accept("fx", current=[ToolDef("fx", "tool", "deploy_status", pinned)])
    config = {
        "upstreams": {"fx": upstream_entry("fx"), "other": upstream_entry("other")},
        "policy": str(workdir / "policy.yaml"),
        "storage": {"db": str(db)},
        "interceptors": {
            "rate_limit": {"limits": [{"key": "principal+tool", "limit": 2, "window_s": 60, "tools": ["fx__count"]}]},
            "flow_control": {"labels": {"other/weather": ["untrusted_content"], "other/echo": ["exfiltration_sink"]}},
            "approval": {"tools": ["fx__read_file"], "timeout_s": APPROVAL_TIMEOUT_S},
            "scanning": {"enabled": False},  # tested on its own; these tests are about the other slots
        },
    }
    base, _ = start_gateway(config)
    yield Env(f"{base}/mcp", db)


def _text(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


async def test_cedar_policy_denies_a_tool_naming_the_policy(env: Env) -> None:
    async with mcp.Client(env.url, mode="legacy") as client:
        names = {t.name for t in (await client.list_tools()).tools}
        refused = await client.call_tool("fx__stamped", {})
        allowed = await client.call_tool("fx__echo", {"text": "hi"})
    assert "fx__stamped" not in names and "fx__echo" in names
    assert refused.is_error and "no-stamping" in _text(refused)
    assert not allowed.is_error and _text(allowed) == "hi"


async def test_rate_limit_exceeded(env: Env) -> None:
    async with mcp.Client(env.url, mode="legacy") as client:
        results = [await client.call_tool("fx__count", {"steps": 1}) for _ in range(3)]
    assert [r.is_error for r in results] == [False, False, True]
    assert "rate_limit.principal+tool" in _text(results[2])


async def test_untrusted_content_then_exfiltration_is_stopped(env: Env) -> None:
    async with mcp.Client(env.url, mode="legacy") as client:
        before = await client.call_tool("other__echo", {"text": "fine"})
        await client.call_tool("other__weather", {"city": "Oslo"})
        after = await client.call_tool("other__echo", {"text": "the key is ..."})
    async with mcp.Client(env.url, mode="legacy") as fresh:  # another session is not tainted
        elsewhere = await fresh.call_tool("other__echo", {"text": "fine"})
    assert not before.is_error and not elsewhere.is_error
    assert after.is_error and "flow_control.tainted" in _text(after) and "other__weather" in _text(after)


async def _pending(state: SqliteLiveState) -> str:
    with anyio.fail_after(10):
        for _ in range(1000):
            pending = await state.list_approvals()
            if pending:
                return pending[0].id
            await anyio.sleep(0.02)
    raise AssertionError("no approval was requested")


@pytest.mark.parametrize("answer", ["approve", "deny", "timeout"])
async def test_approval(env: Env, answer: str) -> None:
    approval_id = ""
    cli = await anyio.to_thread.run_sync(env.cli) if answer == "approve" else None

    async def human() -> None:
        nonlocal approval_id
        with SqliteLiveState(env.db, redact=mask_secrets) as state:
            approval_id = await _pending(state)
            if cli is not None:  # approve from another process, as an operator would
                await anyio.to_thread.run_sync(lambda: cli.run("approvals", "approve", approval_id, "--by", "dana"))
            elif answer == "deny":
                await state.decide(approval_id, False, "dana", "looks like exfiltration")

    started = time.monotonic()
    try:
        async with mcp.Client(env.url, mode="legacy") as client, anyio.create_task_group() as tg:
            tg.start_soon(human)
            result = await client.call_tool("fx__read_file", {"path": "/srv/data/a"})
    finally:
        if cli is not None:
            cli.close()
    text = _text(result)
    (record,) = [r for r in SqliteAuditLog(env.db, redact=str).records() if f"approval.{approval_id}" in r.reasons]
    asked = [v.decision for v in record.verdicts if v.source == "approval"]
    assert record.decision == ("allow" if answer == "approve" else "deny") and asked == [record.decision]
    if answer == "approve":
        assert not result.is_error and text == "contents of /srv/data/a"
    else:
        assert result.is_error and f"approval.{approval_id}" in text
        assert ("looks like exfiltration" in text) if answer == "deny" else ("no answer" in text)
        assert answer == "deny" or time.monotonic() - started >= APPROVAL_TIMEOUT_S


async def test_rug_pulled_tool_is_hidden_and_refused(env: Env) -> None:
    async with mcp.Client(env.url, mode="legacy") as client:
        names = {t.name for t in (await client.list_tools()).tools}
        refused = await client.call_tool("fx__deploy_status", {})
    assert "fx__deploy_status" not in names and "other__deploy_status" in names  # other was pinned on first use
    assert refused.is_error and "MW401" in _text(refused)


async def test_quarantine_reaches_a_live_session_within_a_second(env: Env) -> None:
    async with mcp.Client(env.url, mode="legacy") as client:
        ok = await client.call_tool("other__count", {"steps": 1})
        cli = await anyio.to_thread.run_sync(env.cli)
        try:
            await anyio.to_thread.run_sync(lambda: cli.run("quarantine", "other/count", "--reason", "incident 9"))
        finally:
            cli.close()
        quarantined_at = time.monotonic()
        refused = None
        while time.monotonic() - quarantined_at < 1.0:
            result = await client.call_tool("other__count", {"steps": 1})
            if result.is_error:
                refused = result
                break
        names = {t.name for t in (await client.list_tools()).tools}
        with SqliteLiveState(env.db, redact=mask_secrets) as state:
            await state.release("other/count")
    assert not ok.is_error
    assert refused is not None and "kill_switch.quarantine" in _text(refused) and "incident 9" in _text(refused)
    assert "other__count" not in names and "other__echo" in names
