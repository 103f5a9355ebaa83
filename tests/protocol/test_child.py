"""Child processes on bare pipes: data both ways, exit seen at once, safe closing, no descriptor leaks."""

from __future__ import annotations

import os
import sys
import time

import anyio
import pytest

from mcpwarden.protocol.child import ChildProcess, spawn_child

pytestmark = pytest.mark.anyio

ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def open_descriptors() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


def python(code: str) -> ChildProcess:
    return spawn_child([sys.executable, "-S", "-c", code], env=ENV, cwd=None)


async def read_all(child: ChildProcess) -> bytes:
    data = b""
    async for chunk in child.stdout:
        data += chunk
    return data


async def test_stdin_reaches_the_child_and_its_output_comes_back() -> None:
    child = python("import sys; data = sys.stdin.buffer.read(); sys.stdout.buffer.write(data[::-1])")
    payload = os.urandom(300_000)  # several pipe buffers: the write has to wait for the reader

    result: list[bytes] = []

    async def collect() -> None:
        result.append(await read_all(child))

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            tg.start_soon(collect)
            await child.stdin.send(payload)
            await child.stdin.aclose()
    code = await child.wait()
    child.close_descriptors()

    assert result == [payload[::-1]]
    assert code == 0


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "polling"])
async def test_wait_returns_as_soon_as_the_leader_exits(monkeypatch: pytest.MonkeyPatch, pidfd: bool) -> None:
    if not pidfd:
        monkeypatch.delattr(os, "pidfd_open", raising=False)  # a kernel or platform without pidfds
    child = python("import sys, time; time.sleep(0.3); sys.exit(3)")

    started = time.monotonic()
    with anyio.fail_after(10):
        code = await child.wait()
    waited = time.monotonic() - started
    child.close_descriptors()

    assert code == 3
    assert 0.25 < waited < 1.0


async def test_a_grandchild_holding_stdout_does_not_delay_wait() -> None:
    child = python(
        "import subprocess, sys; subprocess.Popen([sys.executable, '-S', '-c', 'import time; time.sleep(5)'])"
    )

    with anyio.fail_after(3):
        code = await child.wait()
    os.killpg(child.pid, 9)  # the grandchild kept the session's process group
    child.close_descriptors()

    assert code == 0


async def test_closing_a_stream_wakes_its_reader_and_releases_the_descriptor() -> None:
    before = open_descriptors()
    child = python("import time; time.sleep(30)")
    outcome: list[type[BaseException]] = []

    async def reader() -> None:
        try:
            await child.stdout.receive()
        except Exception as exc:
            outcome.append(type(exc))

    async with anyio.create_task_group() as tg:
        tg.start_soon(reader)
        await anyio.sleep(0.05)  # the reader is now waiting on the pipe
        await child.stdout.aclose()
    child.kill()
    with anyio.fail_after(5):
        await child.wait()
    child.close_descriptors()

    assert outcome == [anyio.ClosedResourceError]
    assert open_descriptors() == before


async def test_writing_to_a_child_that_has_exited_is_a_broken_resource() -> None:
    child = python("pass")
    with anyio.fail_after(10):
        await child.wait()

    with pytest.raises(anyio.BrokenResourceError):
        await child.stdin.send(b"x" * 100_000)
    child.close_descriptors()


async def test_a_command_that_cannot_start_leaks_no_descriptor() -> None:
    before = open_descriptors()

    with pytest.raises(FileNotFoundError):
        spawn_child(["/nonexistent/mcpwarden-test"], env=ENV, cwd=None)

    assert open_descriptors() == before
