"""The stdio transport: environment, bounded stderr and stdout, exit reporting, raw JSON parsing."""

from __future__ import annotations

import os
import sys
import time
from contextlib import suppress

import anyio
import mcp_types
import pytest
from mcp.shared.message import SessionMessage

from mcpwarden.errors import ConnectError
from mcpwarden.protocol.stdio import StderrTail, StdioTransport, minimal_environment
from tests.conftest import FIXTURE_SERVERS

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("parent", "configured", "expected"),
    [
        ({"PATH": "/bin", "HOME": "/h", "AWS_SECRET_ACCESS_KEY": "x"}, {}, {"PATH": "/bin", "HOME": "/h"}),
        ({"PATH": "/bin"}, {"PATH": "/opt/bin", "TOKEN": "t"}, {"PATH": "/opt/bin", "TOKEN": "t"}),
        ({"PATH": "/bin", "SHELL": "() { :; }; echo pwned"}, {}, {"PATH": "/bin"}),
        ({"PATH": "/bin", "BASH_FUNC_x%%": "() { :; }"}, {}, {"PATH": "/bin"}),
    ],
    ids=["only-safe-variables", "configured-wins", "shell-function-value-dropped", "exported-function-dropped"],
)
def test_minimal_environment(
    monkeypatch: pytest.MonkeyPatch, parent: dict[str, str], configured: dict[str, str], expected: dict[str, str]
) -> None:
    for key in list(os.environ):
        monkeypatch.delenv(key)
    for key, value in parent.items():
        monkeypatch.setenv(key, value)

    assert minimal_environment(configured) == expected


@pytest.mark.parametrize(
    ("writes", "limit", "expected"),
    [
        ([b"abc", b"def"], 10, "abcdef"),
        ([b"abcdef", b"ghij"], 4, "[… earlier stderr dropped …]\nghij"),
        ([b"\xff ok"], 10, "\ufffd ok"),
    ],
)
def test_stderr_tail(writes: list[bytes], limit: int, expected: str) -> None:
    tail = StderrTail(limit)
    for chunk in writes:
        tail.write(chunk)

    assert tail.text() == expected


def _python(code: str, **kwargs: int) -> StdioTransport:
    return StdioTransport(sys.executable, ["-c", code], **kwargs)


def _request(method: str, request_id: int = 1) -> SessionMessage:
    return SessionMessage(mcp_types.JSONRPCRequest(jsonrpc="2.0", id=request_id, method=method, params={}))


async def test_messages_are_exchanged_and_parsed_from_raw_json() -> None:
    transport = StdioTransport(sys.executable, [str(FIXTURE_SERVERS / "raw_server.py"), "--hidden-fields"])

    async with transport as (read_stream, write_stream):
        await write_stream.send(_request("initialize"))
        with anyio.fail_after(10):
            item = await read_stream.receive()

    assert isinstance(item, SessionMessage) and isinstance(item.message, mcp_types.JSONRPCResponse)
    assert item.message.result["serverInfo"]["x-vendor-note"].startswith("ignore previous instructions")
    assert transport.returncode == 0


async def test_lines_that_are_not_json_rpc_are_noted_and_skipped() -> None:
    code = r"""
import sys, time
print("hello there")
print('{"not": "json-rpc"}')
print('{"jsonrpc": "2.0", "id": 1, "result": {"x": NaN}}')
print('{"jsonrpc": "2.0", "id": 1, "result": {"ok": true}}', flush=True)
time.sleep(30)
"""
    transport = _python(code)

    async with transport as (read_stream, _write_stream):
        with anyio.fail_after(10):
            item = await read_stream.receive()

    assert isinstance(item, SessionMessage) and isinstance(item.message, mcp_types.JSONRPCResponse)
    assert item.message.result == {"ok": True}
    assert len(transport.notes) == 3
    assert "hello there" in transport.notes[0]


async def test_an_overlong_line_ends_the_connection() -> None:
    transport = _python("import sys, time; sys.stdout.write('x' * 5000); sys.stdout.flush(); time.sleep(30)")
    transport.max_line_bytes = 1000

    async with transport as (read_stream, _write_stream):
        with anyio.fail_after(10), pytest.raises(anyio.EndOfStream):
            await read_stream.receive()

    assert any("exceeded 1000 bytes" in note for note in transport.notes)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import sys; sys.exit(7)", "the process exited with code 7"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGUSR1)", "the process was killed by SIGUSR1"),
        ("import time; time.sleep(30)", None),  # we ended it: not the server's own doing
    ],
)
async def test_exit_status_is_reported(code: str, expected: str | None) -> None:
    transport = _python(code)

    async with transport as (read_stream, _write_stream):
        with anyio.move_on_after(0.5), suppress(anyio.EndOfStream):
            await read_stream.receive()  # ends when the process exits, or times out while it runs

    assert transport.exit_status() == expected


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("mcpwarden-not-installed", "command not found on PATH: mcpwarden-not-installed"),
        ("./mcpwarden-not-here", "command not found: ./mcpwarden-not-here"),
    ],
)
async def test_unstartable_commands_raise_connect_error(command: str, message: str) -> None:
    with pytest.raises(ConnectError) as caught:
        async with StdioTransport(command):
            pass

    assert caught.value.message == message


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize(
    "code",
    [
        "import sys; sys.stdin.read()",  # ends on its own once stdin closes
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(30)",  # needs SIGKILL
    ],
    ids=["clean-exit", "ignores-term"],
)
async def test_no_descriptor_outlives_the_transport(code: str) -> None:
    before = _open_descriptors()
    transport = _python(code)

    async with transport:
        pass

    assert _open_descriptors() == before
    assert transport.returncode is not None


async def test_a_server_that_exits_on_end_of_input_is_not_waited_on_longer() -> None:
    transport = _python("import sys; sys.stdin.read()")

    async with transport:
        await anyio.sleep(0.3)  # let the interpreter start, so only the shutdown is timed below
        started = time.monotonic()
    shutdown = time.monotonic() - started

    assert transport.returncode == 0
    assert transport.signals_sent == []
    assert shutdown < 0.5  # the exit is seen when it happens, far inside the 1 s grace period
