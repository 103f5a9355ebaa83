"""Transcript masking: secrets never written, the run's own probe keys never mangled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcpwarden.redteam.transcript import REDACTED, Masker, Transcript


@pytest.mark.parametrize(
    "key",
    [
        "auth.jwt:wrong_audience",
        "auth.jwt:bad_signature",
        "session.without_token:other_principal",
        "auth.no_credentials:authorization_servers",
    ],
)
def test_probe_keys_survive_masking_but_secrets_do_not(tmp_path: Path, key: str) -> None:
    path = tmp_path / "run.jsonl"
    transcript = Transcript(path, Masker(["configured-token-123"]))
    leak = "ghp_" + "a1B2c3D4e5" * 3 + "f6G7h8"  # GitHub-token shaped, built so no literal sits in the source
    transcript.write({"type": "probe", "key": key, "outcome": "held", "evidence": leak})
    transcript.write({"type": "exchange", "probe": key, "request": {"body": "configured-token-123"}})
    transcript.close()
    probe, exchange = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    assert probe["key"] == key and exchange["probe"] == key
    assert leak not in probe["evidence"]
    assert exchange["request"]["body"] == REDACTED
