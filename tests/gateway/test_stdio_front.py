"""`mcpwarden wrap -- COMMAND`: the SDK client over stdio → the gateway process → the wrapped server."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import mcp
import pytest
from mcp.client.stdio import StdioServerParameters

from mcpwarden.storage.audit_sqlite import SqliteAuditLog
from tests.gateway.conftest import RUN_CLI, UPSTREAM

pytestmark = pytest.mark.anyio


def _wrapped(home: Path, *extra: str) -> StdioServerParameters:
    command = [str(RUN_CLI), "wrap", *extra, "--", sys.executable, str(UPSTREAM), "--name", "wrapped"]
    env = {"PATH": os.environ.get("PATH", ""), "MCPWARDEN_HOME": str(home)}
    return StdioServerParameters(command=sys.executable, args=command, env=env)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_wrap_serves_the_wrapped_server_through_the_chain(tmp_path: Path, mode: str) -> None:
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with mcp.Client(_wrapped(tmp_path), mode=mode) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        echoed = await client.call_tool("echo", {"text": "through wrap"})
        weather = await client.call_tool("weather", {"city": "Rome"})
        wrong = await client.call_tool("echo", {"text": ["not", "a", "string"]})
        counted = await client.call_tool("count", {"steps": 2}, progress_callback=on_progress)
        assert client.server_info is not None and client.server_info.name == "mcpwarden"
    assert {"echo", "weather", "read_file"} <= tools  # one upstream: names are kept as they are
    assert echoed.content[0].text == "through wrap" and not echoed.is_error
    assert "ignore all previous instructions" not in weather.content[0].text.lower()
    assert "MW300" in weather.content[0].text
    assert wrong.is_error and "constraints.schema" in wrong.content[0].text
    assert counted.content[0].text == "counted 2" and progress == [1.0, 2.0]
    records = [r for r in SqliteAuditLog(tmp_path / "mcpwarden.db", redact=str).records() if r.event == "call"]
    assert [r.tool for r in records] == ["echo", "weather", "echo", "count"]
    assert [r.decision for r in records] == [None, "modify", "deny", None]


async def test_wrap_upstream_crash_is_a_clean_error(tmp_path: Path) -> None:
    async with mcp.Client(_wrapped(tmp_path, "--name", "crashy"), mode="legacy") as client:
        with pytest.raises(mcp.MCPError) as caught:
            await client.call_tool("crash", {})
    assert "crashy" in str(caught.value)
