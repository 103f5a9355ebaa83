"""Replay: the same probes again, and every changed outcome listed (the CI regression check)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest

from mcpwarden.errors import UsageError
from mcpwarden.redteam import replay
from mcpwarden.redteam.replay import Change, compare, replay_plan
from tests.redteam.conftest import HARDENED, VULNERABLE, run, stdio_target


def test_replay_against_a_fixed_server_reports_changed_outcomes(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    first = run(stdio_target(VULNERABLE), suites=("output",), record=record)
    assert first.outcomes["output.results:latest_news"] == "vulnerable"
    result = anyio.run(
        lambda: replay(record, headers={}, command=[sys.executable, str(HARDENED)], record=tmp_path / "again.jsonl")
    )
    changed = {c.key: (c.before, c.after) for c in result.changes}
    assert changed["output.results:latest_news"] == ("vulnerable", "held")
    assert "output.descriptions:get_settings" in changed
    assert "output.results:read_note" not in changed  # held before and after
    # Same seed, same payloads: the reflection marker sent is identical in both transcripts.
    markers = []
    for path in (record, tmp_path / "again.jsonl"):
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        markers.append([ln["request"]["line"] for ln in lines if ln.get("probe") == "output.reflection:read_note"])
    assert markers[0] == markers[1] and markers[0]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({"a": "held"}, {"a": "held"}, []),
        ({"a": "held"}, {"a": "vulnerable"}, [Change("a", "held", "vulnerable")]),
        ({"a": "vulnerable"}, {}, [Change("a", "vulnerable", "not run")]),
        ({}, {"b": "vulnerable"}, [Change("b", "not run", "vulnerable")]),
        ({}, {"b": "held"}, []),
    ],
)
def test_compare(before: dict[str, str], after: dict[str, str], expected: list[Change]) -> None:
    assert compare(before, after) == expected


def test_replay_needs_the_recorded_headers_again(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    run_line = {
        "type": "run",
        "version": 1,
        "seed": 7,
        "options": {"suites": ["auth"]},
        "target": {"url": "http://127.0.0.1:9/mcp", "header_names": ["Authorization"]},
    }
    record.write_text(json.dumps(run_line) + "\n")
    with pytest.raises(UsageError, match="Authorization"):
        replay_plan(record, headers={})
    target, options, _ = replay_plan(record, headers={"Authorization": "Bearer x"})
    assert target.url == "http://127.0.0.1:9/mcp" and options.seed == 7 and options.suites == ("auth",)


def test_replay_rejects_a_file_that_is_not_a_transcript(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"type": "exchange"}\n')
    with pytest.raises(UsageError, match="not a red-team transcript"):
        replay_plan(path, headers={})
