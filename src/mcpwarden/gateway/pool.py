"""The supervised pool of upstreams: one `Upstream` per configured server, all run in one task group."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import anyio
from anyio.abc import TaskStatus

from mcpwarden.gateway.upstream import NotificationHandler, Upstream
from mcpwarden.gateway.upstream_http import SseUpstream, StreamableHttpUpstream
from mcpwarden.gateway.upstream_stdio import StdioUpstream
from mcpwarden.types import ServerSpec


def make_upstream(
    spec: ServerSpec, *, on_notification: NotificationHandler, startup_timeout: float, max_message_bytes: int
) -> Upstream:
    """The `Upstream` for a spec's transport."""
    kinds: dict[str, type[Upstream]] = {"stdio": StdioUpstream, "http": StreamableHttpUpstream, "sse": SseUpstream}
    return kinds[spec.transport](
        spec, on_notification=on_notification, startup_timeout=startup_timeout, max_message_bytes=max_message_bytes
    )


class UpstreamPool:
    """Every upstream by name, in config order (which decides resource-URI collisions)."""

    def __init__(
        self,
        specs: Sequence[ServerSpec],
        *,
        on_notification: NotificationHandler,
        startup_timeout: float,
        max_message_bytes: int,
    ) -> None:
        self.upstreams: dict[str, Upstream] = {
            spec.name: make_upstream(
                spec,
                on_notification=on_notification,
                startup_timeout=startup_timeout,
                max_message_bytes=max_message_bytes,
            )
            for spec in specs
        }

    def __iter__(self) -> Iterator[Upstream]:
        return iter(self.upstreams.values())

    def get(self, name: str) -> Upstream | None:
        return self.upstreams.get(name)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Supervise every upstream until cancelled (the caller's task group owns the lifetime)."""
        async with anyio.create_task_group() as tg:
            for upstream in self.upstreams.values():
                await tg.start(upstream.run)
            task_status.started()

    async def wait_ready(self, timeout: float) -> None:  # noqa: ASYNC109 - bounded by move_on_after
        """Wait until every upstream is connected, or `timeout` passes (those still down stay down)."""
        with anyio.move_on_after(timeout):
            for upstream in self.upstreams.values():
                if not upstream.ready:
                    await upstream._ready.wait()
