"""The built-in demo: example MCP servers started as real stdio subprocesses from a temporary config.

One clean server, one with a poisoned tool, one that shadows another server's tool, one with hidden
Unicode, and one that changes its tool between two scans (a rug pull).
"""

from __future__ import annotations

import json
import secrets
import string
import sys
from pathlib import Path

SERVERS_DIR = Path(__file__).parent / "servers"

DEMO_SERVERS: dict[str, str] = {
    "mail": "mail_clean.py",
    "weather": "weather_poisoned.py",
    "calculator": "calculator_shadowing.py",
    "translator": "translator_hidden_unicode.py",
    "facts": "facts_rug_pull.py",
}


def _fake_token() -> str:
    # Random each run, so no token-shaped literal lives in the source; it shows secret masking.
    alphabet = string.ascii_letters + string.digits
    return "ghp_" + "".join(secrets.choice(alphabet) for _ in range(36))


def write_demo_config(workdir: Path) -> Path:
    """Write a Claude-Desktop-style config for the demo servers into `workdir` and return its path."""
    workdir.mkdir(parents=True, exist_ok=True)
    servers: dict[str, dict[str, object]] = {}
    for name, script in DEMO_SERVERS.items():
        entry: dict[str, object] = {"command": sys.executable, "args": [str(SERVERS_DIR / script)]}
        if name == "facts":
            entry["env"] = {"MCPWARDEN_DEMO_STATE": str(workdir / "facts.state")}
        if name == "mail":
            entry["env"] = {"MAIL_API_TOKEN": _fake_token()}
        servers[name] = entry
    path = workdir / "claude_desktop_config.json"
    path.write_text(json.dumps({"mcpServers": servers}, indent=2), encoding="utf-8")
    return path
