"""`mcpwarden detect`: is someone trying to instruct the model through this text?

Reads JSONL (one `{"id", "text", "kind"?}` per line) and answers one
`{"id", "flagged", "score", "rules"}` per line, streaming, with the engine built once; or judges one
`--text`. A bad input line gets an error object for its id and a message on stderr; the run goes on
and exits 2 at the end.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from mcpwarden.detect import DetectResult, Engine, default_engine
from mcpwarden.detect.results import escape
from mcpwarden.detect.ruleset import TEXT_KINDS
from mcpwarden.errors import UsageError

EPILOG = """[bold]Examples[/bold]

  mcpwarden detect --text "Ignore all previous instructions" --kind tool_output
  mcpwarden detect --text "Returns the weather" --kind tool_description --json
  mcpwarden detect --input rows.jsonl --kind tool_output > answers.jsonl
  cat rows.jsonl | mcpwarden detect --input -

Input lines: {"id": "r1", "text": "…", "kind": "tool_output"} (kind optional; --kind is the default).
Output lines: {"id": "r1", "flagged": true, "score": 0.75, "rules": ["MW300"]}.
Kinds: tool_description, parameter_description, tool_output, tool_arguments, prompt, resource.

Exit codes: 0 done (with --text: nothing flagged), 1 the --text was flagged, 2 a bad input line or
usage error."""


def answer(row_id: Any, result: DetectResult) -> dict[str, Any]:
    """The protocol object for one detected text."""
    rules = sorted(result.rule_ids)
    return {"id": row_id, "flagged": result.flagged, "score": result.score, "rules": rules}


def _check_kind(kind: str, where: str) -> str:
    if kind not in TEXT_KINDS:
        raise UsageError(f"unknown kind {kind!r} (one of: {', '.join(sorted(TEXT_KINDS))})", where=where)
    return kind


def _row(line: str, default_kind: str) -> tuple[Any, str, str]:
    """(id, text, kind) of one input line; ValueError says what is wrong with it."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    if "id" not in raw:
        raise ValueError("no `id`")
    text, kind = raw.get("text"), raw.get("kind", default_kind)
    if not isinstance(text, str):
        raise ValueError("`text` must be a string")
    if not isinstance(kind, str) or kind not in TEXT_KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    return raw["id"], text, kind


def _line_id(line: str, number: int) -> Any:
    """The id of a bad line when it can be read, else its line number."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError:
        return f"line:{number}"
    return raw["id"] if isinstance(raw, dict) and "id" in raw else f"line:{number}"


def run_lines(lines: Iterable[str], default_kind: str, engine: Engine, out: IO[str], err: IO[str]) -> int:
    """Answer every JSONL line on `out`; return how many lines were bad (each reported on `err`)."""
    bad = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row_id, text, kind = _row(line, default_kind)
        except ValueError as exc:
            bad += 1
            row_id = _line_id(line, number)
            err.write(f"mcpwarden detect: line {number}: {exc}\n")
            out.write(json.dumps({"id": row_id, "error": str(exc)}) + "\n")
            continue
        out.write(json.dumps(answer(row_id, engine.detect(text, kind))) + "\n")
    out.flush()
    return bad


def _open_lines(path: Path) -> Iterator[str]:
    """Lines of `path` (or stdin for `-`), decoded leniently: a bad byte must not end the run."""
    if str(path) == "-":
        stream = open(sys.stdin.fileno(), encoding="utf-8", errors="surrogateescape", closefd=False)  # noqa: SIM115
        yield from stream
        return
    try:
        handle = path.open(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise UsageError(f"cannot read input: {exc.strerror}", where=str(path)) from None
    with handle:
        yield from handle


def _describe(result: DetectResult) -> str:
    verdict = "FLAGGED" if result.flagged else "not flagged"
    lines = [f"{verdict}: score {result.score:.3f} (threshold {result.threshold:.3f} for {result.kind})"]
    for match in result.matches:
        where = f" {match.detail}" if match.detail else ""
        lines.append(f"  {match.rule_id} [{match.effective_severity.label}] {match.rule.title}:{where}")
        lines.append(f"      {escape(match.evidence)}")
    return "\n".join(lines)


def detect(
    text: Annotated[str | None, typer.Option("--text", "-t", help="Judge this one text.")] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input", "-i", help="JSONL file of {id, text, kind?} rows ('-' for stdin).")
    ] = None,
    kind: Annotated[
        str, typer.Option("--kind", "-k", help="Kind of text (the default for rows without one).")
    ] = "tool_output",
    as_json: Annotated[bool, typer.Option("--json", help="With --text: print the protocol object.")] = False,
    learned: Annotated[
        bool | None,
        typer.Option(
            "--ml/--no-ml",
            help="Join the learned scorer's score to the rules' (default: when the mcpwarden[ml] extra is "
            "installed; --ml requires it, --no-ml scores with the rules alone).",
        ),
    ] = None,
) -> None:
    """Detect instructions aimed at the model (prompt injection, tool poisoning) in text."""
    _check_kind(kind, "--kind")
    if (text is None) == (input_file is None):
        raise UsageError("give exactly one of --text or --input", hint="see mcpwarden detect --help")
    # Without the extra, the default falls back to the rules alone; an explicit --ml fails instead.
    engine = default_engine(learned is not False)
    if learned and engine.scorer is None:
        raise UsageError("the learned scorer is not installed", hint="pip install 'mcpwarden[ml]'")
    if text is not None:
        result = engine.detect(text, kind)
        typer.echo(json.dumps(answer("text", result)) if as_json else _describe(result))
        raise typer.Exit(1 if result.flagged else 0)
    assert input_file is not None
    bad = run_lines(_open_lines(input_file), kind, engine, sys.stdout, sys.stderr)
    if bad:
        typer.echo(f"mcpwarden detect: {bad} bad input line(s)", err=True)
        raise typer.Exit(2)
