"""The detector JSONL protocol, for stand-in and baseline detectors (stdlib only).

It is the contract of `mcpwarden detect`:
- `--input FILE.jsonl [--kind KIND]`: read one JSON object per line (`id`, `text`, optional `kind`;
  `--kind` is the default for rows without one) and write one JSON object per line to stdout:
  `{"id": …, "flagged": true|false, "score": 0..1, "rules": [rule ids]}`, in input order.
- `--text "…" [--kind KIND]`: the same object for one text (id null).

A baseline supplies `match(text, kind) -> Verdict`; `serve()` does the rest.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

KINDS = ("tool_output", "tool_description")


@dataclass(frozen=True)
class Verdict:
    """One detector answer for one text."""

    flagged: bool
    score: float
    rules: list[str] = field(default_factory=list)


Matcher = Callable[[str, str], Verdict]


def add_protocol_args(parser: argparse.ArgumentParser) -> None:
    """Add the `mcpwarden detect` arguments (`--input`, `--text`, `--kind`) to `parser`."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--input", type=Path, help="JSONL file: one {id, text, kind?} object per line")
    group.add_argument("--text", help="one text to check")
    parser.add_argument("--kind", default="tool_output", choices=KINDS, help="kind for rows that name none")


def iter_requests(path: Path, default_kind: str) -> Iterator[tuple[Any, str, str]]:
    """Yield (id, text, kind) per input line; a malformed line is an error naming its line number."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text, kind = row["text"], row.get("kind") or default_kind
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a {{id, text, kind?}} object ({exc})") from None
            if not isinstance(text, str) or kind not in KINDS:
                raise ValueError(f"{path}:{number}: text must be a string and kind one of {KINDS}")
            yield row.get("id"), text, kind


def answer(row_id: Any, verdict: Verdict) -> str:
    """The output line for one row."""
    return json.dumps({"id": row_id, "flagged": verdict.flagged, "score": verdict.score, "rules": verdict.rules})


def serve(args: argparse.Namespace, match: Matcher, out: TextIO = sys.stdout) -> int:
    """Answer `--input` or `--text` with `match`; return the process exit code."""
    if args.text is not None:
        out.write(answer(None, match(args.text, args.kind)) + "\n")
        return 0
    if args.input is None:
        print("error: give --input FILE.jsonl or --text TEXT", file=sys.stderr)
        return 2
    try:
        for row_id, text, kind in iter_requests(args.input, args.kind):
            out.write(answer(row_id, match(text, kind)) + "\n")
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
