"""Running the gateway: the HTTP front under uvicorn, or the stdio front, with the upstream pool.

Signals are handled here rather than by uvicorn (which re-raises them after its shutdown and would
end the process before the upstreams' process groups are stopped).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
from collections.abc import Iterator

import anyio
import uvicorn

from mcpwarden.errors import ConfigError
from mcpwarden.gateway.config import GatewayConfig
from mcpwarden.gateway.core import Gateway
from mcpwarden.gateway.deps import GatewayDeps
from mcpwarden.gateway.http_front import HttpFront

log = logging.getLogger("mcpwarden.gateway")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0 picks a free one); ConfigError when the address cannot be used."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when the protocol
    # says TCP, and without it Nagle's algorithm meets delayed ACKs (40 ms on every response).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", where="listen") from None
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


async def _stop_on_signals(server: uvicorn.Server) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            server.should_exit = True
            return


async def serve_http(config: GatewayConfig, deps: GatewayDeps | None = None) -> None:
    """Serve the gateway over streamable HTTP until SIGINT/SIGTERM."""
    sock = bind(config.listen.host, config.listen.port)
    port = sock.getsockname()[1]
    config = config.with_listen(port=port)
    gateway = Gateway(config, deps)
    listen = config.listen
    if not listen.is_loopback and not config.authenticated:
        log.warning(
            "INSECURE: the gateway listens beyond this machine without authentication (--insecure); "
            "anyone who can reach the port can call every upstream tool",
            extra={"fields": {"host": listen.host, "port": port}},
        )
    tls = {}
    if listen.tls_cert is not None and listen.tls_key is not None:
        tls = {"ssl_certfile": str(listen.tls_cert), "ssl_keyfile": str(listen.tls_key)}
    uv_config = uvicorn.Config(
        HttpFront(gateway),
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=5,
        **tls,
    )
    server = _Server(uv_config)
    host = f"[{config.listen.host}]" if ":" in config.listen.host else config.listen.host
    url = f"{listen.scheme}://{host}:{port}{listen.path}"
    async with anyio.create_task_group() as tg:
        await tg.start(gateway.run)
        tg.start_soon(_stop_on_signals, server)
        log.info(
            "gateway listening",
            extra={"fields": {"url": url, "mode": config.mode, "interceptors": list(gateway.pipeline.names)}},
        )
        try:
            await server.serve(sockets=[sock])
        finally:
            tg.cancel_scope.cancel()
    log.info("gateway stopped")
