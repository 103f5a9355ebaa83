"""`mcpwarden gateway --demo`: the bundled demo servers behind the gateway, with a demo config."""

from __future__ import annotations

import json
from pathlib import Path

from mcpwarden.demo import write_demo_config
from mcpwarden.gateway.config import GatewayConfig, Listen
from mcpwarden.types import ServerSpec


def demo_config(workdir: Path, *, host: str = "127.0.0.1", port: int = 8765) -> GatewayConfig:
    """A gateway config over the demo servers (started from `workdir`); the full default chain runs."""
    entries = json.loads(write_demo_config(workdir).read_text(encoding="utf-8"))["mcpServers"]
    upstreams = tuple(
        ServerSpec(
            name=name,
            transport="stdio",
            command=entry["command"],
            args=tuple(entry.get("args", ())),
            env=dict(entry.get("env", {})),
        )
        for name, entry in entries.items()
    )
    return GatewayConfig(
        upstreams=upstreams,
        listen=Listen(host=host, port=port),
        db_path=workdir / "mcpwarden-demo.db",
        source="<demo>",
    )
