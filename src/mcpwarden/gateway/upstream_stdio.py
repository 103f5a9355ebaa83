"""A stdio upstream: a supervised subprocess in its own process group, newline-delimited JSON-RPC.

The environment is the scanner's minimal one (`protocol.stdio.minimal_environment`) plus the
upstream's configured `env`. stderr is logged line by line under the upstream's name with secrets
masked. When the process exits, calls in flight fail cleanly and the supervisor restarts it.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
from contextlib import suppress

import anyio
from anyio.abc import ByteReceiveStream, ByteSendStream, Process

from mcpwarden.detect.secrets import mask_secrets
from mcpwarden.errors import ConnectError
from mcpwarden.gateway.jsonrpc import UPSTREAM_UNAVAILABLE, ProtocolError, encode, parse_message
from mcpwarden.gateway.upstream import Upstream, UpstreamError
from mcpwarden.protocol.stdio import StderrTail, minimal_environment

log = logging.getLogger("mcpwarden.gateway.upstream")

EXIT_GRACE_S = 1.0
KILL_GRACE_S = 2.0
_POLL_S = 0.02
_STDERR_LINE_LIMIT = 2000


class StdioUpstream(Upstream):
    """An upstream started as `command args…`; restarted by the supervisor whenever it exits."""

    _stdin: ByteSendStream | None = None
    _write_lock: anyio.Lock | None = None

    async def _spawn(self) -> Process:
        spec = self.spec
        assert spec.command is not None  # config validation guarantees it for stdio upstreams
        env = minimal_environment(spec.env)
        if os.sep not in spec.command and shutil.which(spec.command, path=env.get("PATH", "")) is None:
            raise ConnectError(f"command not found on PATH: {spec.command}")
        try:
            return await anyio.open_process(
                [spec.command, *spec.args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=spec.cwd,
                start_new_session=True,  # own process group: the whole tree is ended with it
            )
        except (OSError, ValueError) as exc:
            raise ConnectError(f"could not start {spec.command}: {exc}") from None

    async def _connect_and_serve(self) -> None:
        process = await self._spawn()
        tail = StderrTail(8 * 1024)
        self._write_lock = anyio.Lock()
        try:
            async with anyio.create_task_group() as tg:
                assert process.stdout is not None and process.stderr is not None
                tg.start_soon(self._read_stderr, process.stderr, tail)
                tg.start_soon(self._read_stdout, process.stdout, tg.cancel_scope)
                self._stdin = process.stdin
                try:
                    await self._handshake()
                except UpstreamError as exc:
                    raise ConnectError(f"{exc.message}; stderr: {mask_secrets(tail.text()[-500:])}") from None
                self._mark_ready()
                await anyio.sleep_forever()  # until stdout ends (the reader cancels this scope)
        finally:
            self._stdin = None
            self._mark_down("exited")
            with anyio.CancelScope(shield=True):
                code = await self._stop(process)
            if code is not None:
                self.last_error = f"the process exited with code {code}"

    async def _send(self, text: str) -> None:
        stdin, lock = self._stdin, self._write_lock
        if stdin is None or lock is None:
            raise UpstreamError(UPSTREAM_UNAVAILABLE, f"upstream {self.name} is not running")
        try:
            async with lock:
                await stdin.send(encode(text) + b"\n")
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            raise UpstreamError(UPSTREAM_UNAVAILABLE, f"upstream {self.name} stopped reading its input") from None

    async def _read_stdout(self, stream: ByteReceiveStream, scope: anyio.CancelScope) -> None:
        pending = bytearray()
        limit = self.max_message_bytes * 4
        try:
            async for chunk in stream:
                start = 0
                while (end := chunk.find(b"\n", start)) != -1:
                    pending += chunk[start:end]
                    start = end + 1
                    if pending.strip():
                        self._handle_line(bytes(pending))
                    pending.clear()
                pending += chunk[start:]
                if len(pending) > limit:
                    log.warning("upstream %s wrote a line over %d bytes; restarting it", self.name, limit)
                    return
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            pass
        finally:
            scope.cancel()

    def _handle_line(self, line: bytes) -> None:
        try:
            message = parse_message(line)
        except ProtocolError as exc:
            log.warning("upstream %s wrote a line that is not JSON-RPC: %s", self.name, exc.message)
            return
        self.deliver(message)

    async def _read_stderr(self, stream: ByteReceiveStream, tail: StderrTail) -> None:
        pending = b""
        try:
            async for chunk in stream:
                tail.write(chunk)
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    self._log_stderr(line)
                if len(pending) > _STDERR_LINE_LIMIT:
                    self._log_stderr(pending)
                    pending = b""
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            pass
        if pending:
            self._log_stderr(pending)

    def _log_stderr(self, line: bytes) -> None:
        text = line.decode("utf-8", "replace").rstrip()[:_STDERR_LINE_LIMIT]
        if text:
            log.info(mask_secrets(text), extra={"fields": {"upstream": self.name, "stream": "stderr"}})

    async def _stop(self, process: Process) -> int | None:
        """Close stdin, wait, then TERM and KILL the process group; returns the exit code if it exited."""
        pgid = process.pid
        if process.stdin is not None:
            with suppress(Exception):
                await process.stdin.aclose()
        if not await _wait_exit(process, EXIT_GRACE_S):
            _signal_group(pgid, signal.SIGTERM)
            if not await _wait_exit(process, KILL_GRACE_S):
                _signal_group(pgid, signal.SIGKILL)
                await _wait_exit(process, KILL_GRACE_S)
        # The leader is gone; end whatever it left behind in its group.
        _signal_group(pgid, signal.SIGKILL)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                with suppress(Exception):
                    await stream.aclose()
        return process.returncode


def _signal_group(pgid: int, signum: int) -> None:
    # ESRCH: the group is gone. EPERM: a member changed credentials; nothing more can be done.
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


async def _wait_exit(process: Process, limit: float) -> bool:
    # Polled: on asyncio, `process.wait()` also waits for pipe EOF, which a grandchild can hold open.
    with anyio.move_on_after(limit):
        while process.returncode is None:  # noqa: ASYNC110 - nothing signals the exit; polling is the way
            await anyio.sleep(_POLL_S)
        return True
    return False
