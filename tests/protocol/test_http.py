"""The no-credentials probe against real streamable-HTTP and SSE servers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mcpwarden.protocol.http import probe_authentication
from tests.conftest import free_port

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("server_args", "path", "transport", "expected"),
    [
        ((), "/mcp", "http", False),
        (("--json-response",), "/mcp", "http", False),
        (("--require-token", "s3cret"), "/mcp", "http", True),
        (("--transport", "sse"), "/sse", "sse", False),
        (("--transport", "sse", "--require-token", "s3cret"), "/sse", "sse", True),
        ((), "/not-an-endpoint", "http", None),
    ],
    ids=["open", "open-json", "token", "sse-open", "sse-token", "not-found"],
)
async def test_probe_authentication(
    http_server: Callable[..., str], server_args: tuple[str, ...], path: str, transport: str, expected: bool | None
) -> None:
    assert await probe_authentication(http_server(*server_args) + path, transport) is expected


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/mcp", "not a url", "ftp://127.0.0.1:{port}/"])
async def test_probe_authentication_is_none_when_nothing_answers(url: str) -> None:
    assert await probe_authentication(url.format(port=free_port()), "http", timeout=2.0) is None
