"""A child process on plain non-blocking pipes, whose exit is seen through a pidfd rather than a watcher thread.

`anyio.open_process` on asyncio (Python 3.11) gives every child a watcher thread that blocks in
`waitpid`, a subprocess transport and three pipe transports: about 1 ms of the scanner's CPU and a
few ms of latency per server, and its `wait()` also waits for pipe EOF, which a grandchild can hold
open. Here the pipes are bare descriptors read and written when the event loop reports them ready,
and the leader's exit is noticed the moment it happens: a pidfd becomes readable then (where the
kernel has no pidfds, `waitpid(WNOHANG)` is polled with a short back-off). Nothing reaps the child
behind our back, so `returncode` polls `waitpid` itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress

import anyio
from anyio.abc import ByteReceiveStream, ByteSendStream, Process
from anyio.lowlevel import checkpoint

READ_CHUNK_BYTES = 65536
_POLL_FIRST_S = 0.001
_POLL_MAX_S = 0.02


class _WatchedFd:
    """A descriptor that one task at a time may wait on, and that is never closed while it is watched.

    Closing a descriptor the event loop still watches is unsafe: the number can be reused at once by
    the next server's pipe, and the stale registration would then be removed from under it. So
    `close()` only marks a watched descriptor; the waiting task closes it once it has stopped watching.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.closing = False
        self._waiter: anyio.CancelScope | None = None

    async def wait(self, ready: Callable[[int], Awaitable[None]]) -> None:
        """Wait until `ready(fd)` returns; ClosedResourceError if the descriptor was closed meanwhile."""
        if self.closing:
            raise anyio.ClosedResourceError
        if self._waiter is not None:
            raise anyio.BusyResourceError("waiting on")
        scope = self._waiter = anyio.CancelScope()
        try:
            with scope:
                await ready(self.fd)
        finally:
            self._waiter = None
            if self.closing:
                self._release()
        if self.closing:
            raise anyio.ClosedResourceError

    def close(self) -> None:
        self.closing = True
        if self._waiter is not None:
            self._waiter.cancel()  # the waiting task closes the descriptor when it wakes
        else:
            self._release()

    def _release(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            with suppress(OSError):
                os.close(fd)


class PipeReceiveStream(ByteReceiveStream):
    """The read end of a pipe."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self._watch = _WatchedFd(fd)

    async def receive(self, max_bytes: int = READ_CHUNK_BYTES) -> bytes:
        while True:
            # Waiting first makes every read a checkpoint, so a flooding writer cannot starve the loop.
            await self._watch.wait(anyio.wait_readable)
            try:
                data = os.read(self._watch.fd, max_bytes)
            except BlockingIOError:
                continue
            except OSError as exc:
                raise anyio.BrokenResourceError from exc
            if not data:
                raise anyio.EndOfStream
            return data

    async def aclose(self) -> None:
        self._watch.close()


class PipeSendStream(ByteSendStream):
    """The write end of a pipe; closing it is how the reader sees end of input."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self._watch = _WatchedFd(fd)

    async def send(self, item: bytes) -> None:
        # Written at once when the pipe has room (almost always); the event loop is asked only when it is full.
        view = memoryview(item)
        while view:
            if self._watch.closing:
                raise anyio.ClosedResourceError
            try:
                written = os.write(self._watch.fd, view)
            except BlockingIOError:
                await self._watch.wait(anyio.wait_writable)
                continue
            except OSError as exc:  # EPIPE: the reader is gone (Python ignores SIGPIPE)
                raise anyio.BrokenResourceError from exc
            view = view[written:]
        await checkpoint()

    async def send_eof(self) -> None:
        self._watch.close()

    async def aclose(self) -> None:
        self._watch.close()


class ChildProcess(Process):
    """A spawned child; `returncode` reaps it without blocking, `wait()` sleeps until it exits."""

    def __init__(self, popen: subprocess.Popen[bytes], stdin: int, stdout: int, stderr: int, pidfd: int | None) -> None:
        self._popen = popen
        self._stdin = PipeSendStream(stdin)
        self._stdout = PipeReceiveStream(stdout)
        self._stderr = PipeReceiveStream(stderr)
        self._pidfd = _WatchedFd(pidfd) if pidfd is not None else None

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        code = self._popen.poll()
        if code is not None and self._pidfd is not None:
            self._pidfd.close()  # deferred if wait() is watching it
        return code

    @property
    def stdin(self) -> ByteSendStream:
        return self._stdin

    @property
    def stdout(self) -> ByteReceiveStream:
        return self._stdout

    @property
    def stderr(self) -> ByteReceiveStream:
        return self._stderr

    async def wait(self) -> int:
        """The leader's exit status once it has exited (group members are the caller's business)."""
        if self.returncode is None and self._pidfd is not None and not self._pidfd.closing:
            with suppress(anyio.ClosedResourceError, anyio.BusyResourceError):
                await self._pidfd.wait(anyio.wait_readable)  # readable once the process has exited
        delay = _POLL_FIRST_S
        while (code := self.returncode) is None:
            await anyio.sleep(delay)
            delay = min(delay * 2, _POLL_MAX_S)
        return code

    def send_signal(self, signal: int) -> None:
        self._popen.send_signal(signal)  # a no-op once reaped, so a reused pid is never signalled

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def close_descriptors(self) -> None:
        """Close our pipe ends and the pidfd (each when no task is watching it any more)."""
        for stream in (self._stdin, self._stdout, self._stderr):
            stream._watch.close()
        if self._pidfd is not None:
            self._pidfd.close()

    async def aclose(self) -> None:
        self.close_descriptors()
        try:
            await self.wait()
        except BaseException:
            with anyio.CancelScope(shield=True):
                self.kill()
                with anyio.move_on_after(1.0):
                    await self.wait()
            raise


def _open_pidfd(pid: int) -> int | None:
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        return None
    try:
        return int(pidfd_open(pid))
    except OSError:  # an old kernel or a sandbox without the syscall: fall back to polling
        return None


def spawn_child(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: str | None, new_session: bool = True
) -> ChildProcess:
    """Start `argv` with its stdin, stdout and stderr on fresh pipes (raises what `Popen` raises).

    `Popen` forks with vfork here, so this returns in well under a millisecond and does not block
    the event loop for longer than asyncio's own subprocess support does.
    """
    stdin_read, stdin_write = os.pipe()
    stdout_read, stdout_write = os.pipe()
    stderr_read, stderr_write = os.pipe()
    ours, theirs = (stdin_write, stdout_read, stderr_read), (stdin_read, stdout_write, stderr_write)
    try:
        popen = subprocess.Popen(
            list(argv),
            stdin=stdin_read,
            stdout=stdout_write,
            stderr=stderr_write,
            env=dict(env),
            cwd=cwd,
            start_new_session=new_session,
        )
    except BaseException:
        for fd in ours:
            os.close(fd)
        raise
    finally:
        for fd in theirs:  # the child holds its own copies; ours would keep the pipes from ever ending
            os.close(fd)
    return ChildProcess(popen, stdin_write, stdout_read, stderr_read, _open_pidfd(popen.pid))
