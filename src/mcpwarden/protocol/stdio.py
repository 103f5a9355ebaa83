"""Spawn a stdio MCP server in its own process group and speak newline-delimited JSON-RPC to it.

The SDK's `stdio_client` is not used because a scanner runs untrusted commands: it needs stderr
captured in a bounded buffer (the SDK wants a real file), the whole process group ended even when
the leader exits on its own (the SDK only kills the group when the leader outlives its grace
period, so a grandchild can survive), a line-length limit on stdout, and a JSON parser that keeps
every string the server sent (pydantic's parser rejects lone surrogates, Python's does not).
The object below satisfies the SDK's `Transport` protocol, so `mcp.Client` drives it unchanged.
The child runs on bare pipes (`child.py`), so its exit is seen at once and costs no watcher thread.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from types import TracebackType
from typing import Any

import anyio
import mcp_types
from anyio.abc import ByteReceiveStream, Process
from mcp.client._transport import TransportStreams
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

from mcpwarden.errors import ConnectError
from mcpwarden.protocol.child import ChildProcess, spawn_child

# Inherited from our own environment; everything else the server gets comes from its config entry.
SAFE_INHERITED_ENV = ("HOME", "LOGNAME", "USER", "PATH", "SHELL", "TERM", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ")

STDERR_TAIL_BYTES = 64 * 1024
MAX_LINE_BYTES = 16 * 1024 * 1024
EXIT_GRACE_S = 1.0  # after stdin closes, before SIGTERM
KILL_GRACE_S = 2.0  # after SIGTERM, before SIGKILL
_REAP_WAIT_S = 1.0
_POLL_FIRST_S = 0.002
_POLL_S = 0.02
_MAX_NOTES = 5


def minimal_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: a few safe variables of ours, then its configured `env` on top."""
    env = {key: os.environ[key] for key in SAFE_INHERITED_ENV if key in os.environ}
    # Exported shell functions (`BASH_FUNC_…`, values starting "()") have been an injection vector.
    env = {key: value for key, value in env.items() if not value.startswith("()")}
    env.update(overrides)
    return env


class StderrTail:
    """Keeps the last `limit` bytes a process wrote to stderr."""

    def __init__(self, limit: int = STDERR_TAIL_BYTES) -> None:
        self.limit = limit
        self.truncated = False
        self._buffer = bytearray()

    def write(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > self.limit:
            del self._buffer[: len(self._buffer) - self.limit]
            self.truncated = True

    def text(self) -> str:
        body = self._buffer.decode("utf-8", "replace")
        return f"[… earlier stderr dropped …]\n{body}" if self.truncated else body


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; letting them in would break canonical hashing downstream.
    raise ValueError(f"non-standard JSON constant {name}")


def _group_has_live_members(pgid: int) -> bool:
    """Whether any process of the group is still running (zombies do not count).

    `killpg(pgid, 0)` also succeeds for zombies, and an orphaned grandchild stays a zombie forever
    under a PID 1 that does not reap (common in containers), so on Linux we read /proc instead,
    but only when the group still exists at all: scanning /proc costs milliseconds, `killpg` does not.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False  # no member left, not even a zombie
    except PermissionError:
        pass  # a member we may not signal: it exists
    if not sys.platform.startswith("linux"):
        return True
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name is in parentheses and may itself contain ") ", so split at the last one.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


class StdioTransport(AbstractAsyncContextManager[TransportStreams]):
    """An MCP `Transport` that runs `command args…` as a session leader and ends its whole group on exit.

    After use, `returncode` is the leader's exit status (None if it had to be killed before it was
    reaped), `stderr` holds the tail of its stderr and `notes` lists stdout lines that were not
    JSON-RPC (kept for the error message; they are dropped, as the SDK's client does).
    """

    def __init__(
        self,
        command: str,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        stderr: StderrTail | None = None,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        self.command = command
        self.args = tuple(args)
        self.env = minimal_environment(env or {})
        self.cwd = cwd
        self.stderr = stderr if stderr is not None else StderrTail()
        self.max_line_bytes = max_line_bytes
        self.notes: list[str] = []
        self.returncode: int | None = None
        self.signals_sent: list[int] = []
        self._context: AbstractAsyncContextManager[TransportStreams] | None = None

    async def __aenter__(self) -> TransportStreams:
        self._context = self._run()
        return await self._context.__aenter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        assert self._context is not None  # __aexit__ without __aenter__ is a caller bug
        return await self._context.__aexit__(exc_type, exc, tb)

    def _note(self, text: str) -> None:
        if len(self.notes) < _MAX_NOTES:
            self.notes.append(text)

    async def _spawn(self) -> ChildProcess:
        if self.cwd is not None and not await anyio.Path(self.cwd).is_dir():
            raise ConnectError(f"working directory does not exist: {self.cwd}")
        if os.sep not in self.command and shutil.which(self.command, path=self.env.get("PATH", "")) is None:
            raise ConnectError(f"command not found on PATH: {self.command}")
        try:
            # A new session, so its own process group: killpg reaches every descendant.
            return spawn_child([self.command, *self.args], env=self.env, cwd=self.cwd, new_session=True)
        except FileNotFoundError:
            raise ConnectError(f"command not found: {self.command}") from None
        except PermissionError:
            raise ConnectError(f"permission denied running: {self.command}") from None
        except (OSError, ValueError) as exc:
            raise ConnectError(f"could not start {self.command}: {exc}") from None

    def _parse_line(self, line: bytes) -> SessionMessage | None:
        text = line.decode("utf-8", "replace")
        try:
            value = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            self._note(f"non-JSON output on stdout: {text[:120]!r}")
            return None
        try:
            message = mcp_types.jsonrpc_message_adapter.validate_python(value, by_name=False)
        except ValidationError:
            self._note(f"stdout line is JSON but not JSON-RPC: {text[:120]!r}")
            return None
        return SessionMessage(message)

    @asynccontextmanager
    async def _run(self) -> AsyncIterator[TransportStreams]:
        process = await self._spawn()
        # Nothing below checkpoints before the `try`, so a cancellation cannot land between spawn and cleanup.
        to_session, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        write_stream, from_session = anyio.create_memory_object_stream[SessionMessage](0)
        stdout_done, stderr_done = anyio.Event(), anyio.Event()

        async def read_stdout() -> None:
            assert process.stdout is not None
            pending = bytearray()  # bytearray: appending chunk by chunk stays linear for long lines
            try:
                async with to_session:
                    async for chunk in process.stdout:
                        start = 0
                        while (end := chunk.find(b"\n", start)) != -1:
                            pending += chunk[start:end]
                            start = end + 1
                            line = bytes(pending)
                            pending.clear()
                            if line.strip() and (message := self._parse_line(line)) is not None:
                                await to_session.send(message)
                        pending += chunk[start:]
                        if len(pending) > self.max_line_bytes:
                            self._note(f"a stdout line exceeded {self.max_line_bytes} bytes")
                            return
            except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                pass  # the session or the pipe went away; shutdown handles the rest
            finally:
                stdout_done.set()

        async def write_stdin() -> None:
            assert process.stdin is not None
            try:
                async with from_session:
                    async for session_message in from_session:
                        data = session_message.message.model_dump_json(by_alias=True, exclude_unset=True)
                        await process.stdin.send(data.encode() + b"\n")
            except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                # The server stopped reading; end the session's view of the connection too.
                await to_session.aclose()

        async def read_stderr(stream: ByteReceiveStream) -> None:
            try:
                async for chunk in stream:
                    self.stderr.write(chunk)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                pass
            finally:
                stderr_done.set()

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(read_stdout)
                tg.start_soon(write_stdin)
                tg.start_soon(read_stderr, process.stderr)
                failed = False
                try:
                    yield read_stream, write_stream
                except BaseException:
                    failed = True  # cancelled or broken: an unresponsive server gets no grace period
                    raise
                finally:
                    # Bounded at every step and shielded: a cancelled caller must never leak the group.
                    with anyio.CancelScope(shield=True):
                        await write_stream.aclose()
                        await read_stream.aclose()
                        await self._stop(process, exit_grace=0.0 if failed else EXIT_GRACE_S)
                        with anyio.move_on_after(0.5):  # a grandchild outside the group may hold a pipe
                            await stdout_done.wait()
                            await stderr_done.wait()
                        tg.cancel_scope.cancel()
        finally:
            process.close_descriptors()  # after the task group: no task is watching them any more

    async def _stop(self, process: Process, *, exit_grace: float) -> None:
        """Close stdin, give the leader a grace period, then TERM and KILL whatever is left of the group."""
        pgid = process.pid
        if process.stdin is not None:
            with suppress(Exception):
                await process.stdin.aclose()
        await self._leader_exit(process, exit_grace)
        if process.returncode is None or _group_has_live_members(pgid):
            self._signal_group(pgid, signal.SIGTERM)
            gone = await self._wait(
                lambda: process.returncode is not None and not _group_has_live_members(pgid), KILL_GRACE_S
            )
            if not gone:
                self._signal_group(pgid, signal.SIGKILL)
                # SIGKILL takes effect when each member is next scheduled; wait for the whole group, not
                # just the leader, so nothing of it still runs when we return.
                await self._wait(
                    lambda: process.returncode is not None and not _group_has_live_members(pgid), _REAP_WAIT_S
                )
        self.returncode = process.returncode

    @staticmethod
    async def _leader_exit(process: Process, limit: float) -> None:
        if isinstance(process, ChildProcess):
            # Woken by the pidfd the moment the leader exits, instead of polling for it.
            with anyio.move_on_after(limit):
                await process.wait()
        else:
            await StdioTransport._wait(lambda: process.returncode is not None, limit)

    def _signal_group(self, pgid: int, signum: int) -> None:
        self.signals_sent.append(signum)
        # ESRCH: the group is already gone. EPERM: a member changed credentials; nothing more we can do.
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signum)

    def exit_status(self) -> str | None:
        """How the leader ended, when that says something about a failure: its own exit or a foreign signal."""
        if self.returncode is None:
            return None
        if self.returncode >= 0:
            return f"the process exited with code {self.returncode}"
        if -self.returncode in self.signals_sent:
            return None  # we ended it
        try:
            name = signal.Signals(-self.returncode).name
        except ValueError:
            name = str(-self.returncode)
        return f"the process was killed by {name}"

    @staticmethod
    async def _wait(done: Any, limit: float) -> bool:
        # Polled, not `process.wait()`: on asyncio that also waits for pipe EOF, which a grandchild can hold
        # open, and nothing signals a whole group's death. Short first, since most processes end quickly.
        delay = _POLL_FIRST_S
        with anyio.move_on_after(limit):
            while not done():
                await anyio.sleep(delay)
                delay = min(delay * 2, _POLL_S)
            return True
        return False
