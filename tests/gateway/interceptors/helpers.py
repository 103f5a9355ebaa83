"""Shared by the interceptor tests: a catalog of labelled tools, contexts with a real live state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcpwarden.detect.secrets import mask_secrets
from mcpwarden.gateway.config import GatewayConfig
from mcpwarden.gateway.pipeline import InterceptorContext
from mcpwarden.gateway.testing import StaticCatalog
from mcpwarden.storage.state_sqlite import SqliteLiveState


def _tool(name: str, description: str, param: str, **extra: Any) -> dict[str, Any]:
    schema = {"type": "object", "properties": {param: {"type": "string"}}}
    return {"name": name, "description": description, "inputSchema": schema, **extra}


def catalog() -> StaticCatalog:
    """web/fetch (untrusted content, sink), mail/send_email (sink), files/delete_file (destructive), fx/echo."""
    cat = StaticCatalog()
    cat.add("web", "fetch", _tool("fetch", "Fetch a web page and return its content.", "url"))
    cat.add("mail", "send_email", _tool("send_email", "Send an email to a recipient.", "to"))
    cat.add("files", "delete_file", _tool("delete_file", "Delete a file.", "path"))
    cat.add("fx", "echo", _tool("echo", "Return the text unchanged.", "text", annotations={"readOnlyHint": True}))
    return cat


def context(
    tmp_path: Path | None = None, *, policy: Path | None = None, mode: str = "enforce", cat: StaticCatalog | None = None
) -> InterceptorContext:
    """A context over `catalog()`, with the database in `tmp_path` (none without it)."""
    config = GatewayConfig(
        upstreams=(),
        policy=policy,
        db_path=tmp_path / "warden.db" if tmp_path is not None else None,
        mode="monitor" if mode == "monitor" else "enforce",
        source="warden.yaml",
    )
    return InterceptorContext(cat or catalog(), source="warden.yaml", config=config)


def state(tmp_path: Path) -> SqliteLiveState:
    """A second connection to the same live state, as the CLI in another process would open it."""
    return SqliteLiveState(tmp_path / "warden.db", redact=mask_secrets, refresh_s=0.05)
