"""`policy/` stays a pure decision layer: it loads nothing above types, errors and settings."""

from __future__ import annotations

import json
import subprocess
import sys

ALLOWED = ("mcpwarden.policy", "mcpwarden.types", "mcpwarden.errors")


def test_policy_imports_only_lower_layers() -> None:
    code = "import json, sys, mcpwarden.policy; print(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    loaded = [m for m in json.loads(proc.stdout) if m.startswith("mcpwarden.")]
    assert loaded and all(m.startswith(ALLOWED) for m in loaded), loaded
