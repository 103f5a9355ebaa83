"""Secrets in a server entry's fields: which field, masked evidence, and the values used for scrubbing."""

from __future__ import annotations

from typing import Any

import pytest

from mcpwarden.detect.secret_fields import scan_spec_secrets, spec_secret_values
from mcpwarden.types import ServerSpec

TOKEN = "Q7xk2LmP9vR4tZ8wN3bY6cH1"  # fake, made up for these tests
GITHUB = "ghp_" + "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"


def _spec(**fields: Any) -> ServerSpec:
    transport = "http" if fields.get("url") else "stdio"
    return ServerSpec(name="s", transport=transport, **fields)


@pytest.mark.parametrize(
    ("spec", "fields"),
    [
        (_spec(command="node", env={"API_TOKEN": TOKEN}), [("env", "API_TOKEN")]),
        (_spec(command="node", env={"X": GITHUB}), [("env", "X")]),
        (_spec(command="node", args=("--api-key", TOKEN)), [("args", 1)]),
        (_spec(command="node", args=("--api-key=" + TOKEN,)), [("args", 0)]),
        (_spec(command="node", args=("--verbose", TOKEN)), []),  # the flag does not name a credential
        (
            _spec(url="https://h.example/mcp", headers={"Authorization": "token " + TOKEN}),
            [("headers", "Authorization")],
        ),
        (_spec(url="https://h.example/mcp", headers={"Authorization": "Bearer ${T}"}), []),
        (_spec(url="https://h.example/mcp", headers={"Authorization": "Bearer short"}), []),
        (_spec(url=f"https://h.example/mcp?api_key={TOKEN}"), [("url",)]),
        (_spec(command=f"/opt/run --token={TOKEN}"), [("command",)]),
        (
            _spec(command="node", raw={"command": {"path": "node", "env": {"SECRET": TOKEN}}}),
            [("command", "env", "SECRET")],
        ),
        (
            _spec(command="node", env={"SECRET": TOKEN}, raw={"command": "node", "env": {"SECRET": TOKEN}}),
            [("env", "SECRET")],  # the raw copy of a value already read is not reported twice
        ),
    ],
)
def test_fields_holding_secrets(spec: ServerSpec, fields: list[tuple[str | int, ...]]) -> None:
    hits = scan_spec_secrets(spec)
    assert [h.field for h in hits] == fields
    for hit in hits:
        assert TOKEN not in hit.evidence and GITHUB not in hit.evidence


def test_thresholds_come_from_the_caller() -> None:
    spec = _spec(command="node", env={"API_TOKEN": TOKEN})
    assert scan_spec_secrets(spec, min_length=len(TOKEN) + 1) == []
    assert scan_spec_secrets(spec, min_entropy=6.0) == []
    assert len(scan_spec_secrets(spec, min_length=len(TOKEN))) == 1


def test_secret_values_cover_named_fields_and_formats() -> None:
    spec = _spec(
        command="node",
        args=(f"--gh={GITHUB}",),
        env={"DB_PASSWORD": "hunter2hunter2", "LOG_LEVEL": "debug", "API_KEY": "${KEY}"},
    )
    values = spec_secret_values(spec)
    assert set(values) == {"hunter2hunter2", GITHUB}
    assert values == sorted(values, key=len, reverse=True)
