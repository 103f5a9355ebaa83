"""Load the labelled rows and run a detector command over them through the JSONL protocol.

The detector is a subprocess (`mcpwarden detect` or a baseline in its own venv), run once over all
rows with `--input FILE.jsonl`; every row carries its own `kind`. Its answers are checked strictly:
one well-formed answer per input id, or the run fails with a message saying what was wrong.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import anyio

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "eval"
CISCO_PYTHON = REPO / "bench" / ".venvs" / "cisco" / "bin" / "python"
KINDS = ("tool_output", "tool_description")


class DetectorFailed(Exception):
    """A detector could not be run, or answered outside the protocol."""


@dataclass(frozen=True)
class Row:
    """One labelled dev-set text."""

    id: str
    text: str
    label: int
    kind: str
    source: str


@dataclass(frozen=True)
class Answer:
    """One detector answer, as the protocol defines it."""

    flagged: bool
    score: float
    rules: tuple[str, ...]


@dataclass(frozen=True)
class DetectorSpec:
    """How to start one detector: its argv (without `--input FILE`) and extra environment."""

    name: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    note: str = ""

    @property
    def command(self) -> str:
        return shlex.join(self.argv)


def main_spec(command: str, name: str) -> DetectorSpec:
    """The detector under test, from a shell-like command string such as `mcpwarden detect`."""
    argv = tuple(shlex.split(command))
    if not argv:
        raise DetectorFailed("--command is empty")
    return DetectorSpec(name=name, argv=argv)


def baseline_spec(name: str) -> DetectorSpec:
    """A named baseline: `cisco` (YARA rules of cisco-ai-mcp-scanner) or `keyword` (naive stand-in)."""
    here = REPO / "bench" / "detect"
    if name == "keyword":
        return DetectorSpec(
            name="keyword",
            argv=(sys.executable, str(here / "keyword_baseline.py")),
            note="naive keyword list, a floor to beat",
        )
    if name == "cisco":
        # LiteLLM (pulled in by the scanner) fetches a price list from the internet at import unless told not to.
        return DetectorSpec(
            name="cisco-yara",
            argv=(str(CISCO_PYTHON), str(here / "cisco_yara_detector.py")),
            env={"LITELLM_LOCAL_MODEL_COST_MAP": "True"},
            note="cisco-ai-mcp-scanner YARA rules",
        )
    raise DetectorFailed(f"unknown baseline {name!r} (one of: cisco, keyword)")


def _data_files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.jsonl")))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    if not files:
        raise FileNotFoundError(f"no *.jsonl files in {', '.join(map(str, paths))}")
    return files


def load_rows(paths: Sequence[Path], kind: str | None = None) -> list[Row]:
    """Every labelled row in the given files or directories (`*.jsonl`), optionally of one kind."""
    rows: list[Row] = []
    seen: set[str] = set()
    for file in _data_files(paths):
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                row = Row(str(raw["id"]), raw["text"], int(raw["label"]), raw["kind"], str(raw["source"]))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{file}:{number}: malformed row ({type(exc).__name__}: {exc})") from None
            if row.label not in (0, 1) or row.kind not in KINDS or not isinstance(row.text, str):
                raise ValueError(f"{file}:{number}: label must be 0/1, kind one of {KINDS}, text a string")
            if row.id in seen:
                raise ValueError(f"{file}:{number}: duplicate id {row.id}")
            seen.add(row.id)
            if kind is None or row.kind == kind:
                rows.append(row)
    return rows


def parse_answers(stdout: str, rows: Sequence[Row]) -> dict[str, Answer]:
    """Check the detector's output against the protocol; a DetectorFailed lists what was wrong."""
    wanted = {row.id for row in rows}
    answers: dict[str, Answer] = {}
    problems: list[str] = []
    for number, line in enumerate(stdout.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            row_id, flagged, score, rules = str(obj["id"]), obj["flagged"], obj["score"], obj["rules"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            problems.append(f"line {number}: not a protocol object ({type(exc).__name__})")
            continue
        if row_id not in wanted:
            problems.append(f"line {number}: unknown id {row_id!r}")
        elif row_id in answers:
            problems.append(f"line {number}: second answer for id {row_id!r}")
        elif not isinstance(flagged, bool) or isinstance(score, bool) or not isinstance(score, int | float):
            problems.append(f"line {number}: flagged must be a boolean and score a number")
        elif not 0.0 <= score <= 1.0:
            problems.append(f"line {number}: score {score} outside 0..1")
        elif not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            problems.append(f"line {number}: rules must be a list of strings")
        else:
            answers[row_id] = Answer(flagged=flagged, score=float(score), rules=tuple(rules))
    missing = wanted - answers.keys()
    if missing:
        problems.append(f"{len(missing)} of {len(wanted)} rows got no answer")
    if problems:
        shown = "; ".join(problems[:5]) + (f"; … {len(problems) - 5} more" if len(problems) > 5 else "")
        raise DetectorFailed(f"output breaks the JSONL protocol: {shown}")
    return answers


def check_runnable(spec: DetectorSpec) -> None:
    """Fail early, with what to do, when the detector's program does not exist."""
    program = spec.argv[0]
    if shutil.which(program) is None and not Path(program).is_file():
        hint = " (run: bash bench/detect/setup_baselines.sh)" if "/.venvs/" in program else ""
        raise DetectorFailed(f"{program}: not found{hint}")


def write_request(path: Path, rows: Sequence[Row]) -> None:
    """The protocol input every detector reads: one {id, text, kind} object per line."""
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({"id": row.id, "text": row.text, "kind": row.kind}) + "\n")


async def collect(argv: Sequence[str], env: dict[str, str]) -> tuple[int, bytes, bytes]:
    """Run `argv` in its own process group and return (status, stdout, stderr).

    It waits as long as the process runs, so the caller bounds it (`anyio.fail_after`); when that
    cancels it, the whole group is killed, so a wrapper script's children do not linger.
    """
    out, err = bytearray(), bytearray()

    async def drain(stream: AsyncIterable[bytes], sink: bytearray) -> None:
        async for chunk in stream:
            sink.extend(chunk)

    try:
        proc = await anyio.open_process(
            list(argv), stdin=subprocess.DEVNULL, env={**os.environ, **env}, cwd=REPO, start_new_session=True
        )
    except OSError as exc:
        raise DetectorFailed(f"cannot start {shlex.join(argv)}: {exc}") from None
    try:
        assert proc.stdout is not None and proc.stderr is not None  # both are pipes by default
        async with anyio.create_task_group() as tg:
            tg.start_soon(drain, proc.stdout, out)
            tg.start_soon(drain, proc.stderr, err)
        return await proc.wait(), bytes(out), bytes(err)
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        with anyio.CancelScope(shield=True):
            await proc.aclose()


def run_bounded(argv: Sequence[str], env: dict[str, str], timeout: float) -> tuple[int, bytes, bytes]:
    """`collect` from synchronous code, within `timeout` seconds (TimeoutError after that)."""

    async def bounded() -> tuple[int, bytes, bytes]:
        with anyio.fail_after(timeout):
            return await collect(argv, env)

    return anyio.run(bounded)


async def run_detector(spec: DetectorSpec, request: Path, rows: Sequence[Row]) -> dict[str, Answer]:
    """Run `spec` once over the request file holding `rows`; return its checked answers by id.

    Unbounded in time: the caller wraps it in `anyio.fail_after`.
    """
    status, stdout, stderr = await collect([*spec.argv, "--input", str(request)], spec.env)
    if status != 0:
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise DetectorFailed(f"exited with status {status}: {' | '.join(tail) or 'no message'}")
    return parse_answers(stdout.decode("utf-8", "replace"), rows)
