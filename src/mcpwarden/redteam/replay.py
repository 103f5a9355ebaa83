"""Replay a recorded run: the same attacks with the same seed (so the same payloads and canaries go
out; only what the server or the run assigns anew, such as session ids and the canary's port,
differs), then compare each probe's outcome with the recorded one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mcpwarden.errors import UsageError
from mcpwarden.redteam.attack import RunOptions, Target
from mcpwarden.redteam.registry import validate_suites
from mcpwarden.redteam.runner import RedTeamReport, run_redteam
from mcpwarden.redteam.transcript import read_transcript

NOT_RUN = "not run"


@dataclass(frozen=True)
class Change:
    key: str
    before: str
    after: str


@dataclass(frozen=True)
class ReplayResult:
    report: RedTeamReport
    changes: tuple[Change, ...]
    compared: int


def recorded_outcomes(lines: Sequence[Mapping[str, object]]) -> dict[str, str]:
    """The last recorded outcome of every probe."""
    return {str(line["key"]): str(line["outcome"]) for line in lines if line.get("type") == "probe"}


def compare(before: Mapping[str, str], after: Mapping[str, str]) -> list[Change]:
    """Probes whose outcome changed, probes no longer run, and new probes that proved something."""
    changes = [Change(k, v, after.get(k, NOT_RUN)) for k, v in before.items() if after.get(k, NOT_RUN) != v]
    changes += [Change(k, NOT_RUN, v) for k, v in after.items() if k not in before and v == "vulnerable"]
    return sorted(changes, key=lambda c: c.key)


def replay_plan(
    path: Path,
    *,
    headers: Mapping[str, str],
    command: Sequence[str] | None = None,
    signing_key: str | None = None,
    other_token: str | None = None,
    record: Path | None = None,
) -> tuple[Target, RunOptions, dict[str, str]]:
    """The target and options of a recorded run, with the credentials given again."""
    lines = read_transcript(path)
    run = lines[0]
    recorded_target = run.get("target") or {}
    options = run.get("options") or {}
    if not isinstance(recorded_target, dict) or not isinstance(options, dict):
        raise UsageError("the `run` line lacks target or options", where=str(path))
    missing = [name for name in recorded_target.get("header_names") or [] if name not in headers]
    if missing:
        raise UsageError(f"the recorded run sent header(s) {', '.join(missing)}: give them again with --header/--token")
    if command:
        target = Target(command=tuple(command))
    elif recorded_target.get("url"):
        target = Target(url=str(recorded_target["url"]), headers=dict(headers))
    else:
        target = Target(command=tuple(recorded_target.get("command") or ()), cwd=recorded_target.get("cwd"))
    if options.get("signing_key") and signing_key is None:
        raise UsageError("the recorded run minted tokens: give --signing-key again")
    run_options = RunOptions(
        suites=validate_suites(options.get("suites") or ()),
        allow_destructive=bool(options.get("allow_destructive")),
        max_requests=int(options.get("max_requests") or 800),
        time_limit=float(options.get("time_limit") or 180.0),
        request_timeout=float(options.get("request_timeout") or 10.0),
        seed=int(run["seed"]) if isinstance(run.get("seed"), int) else None,
        other_token=other_token,
        signing_key=signing_key,
        issuer=options.get("issuer"),
        audience=options.get("audience"),
        key_id=options.get("key_id"),
        scope=options.get("scope"),
        record=record,
    )
    return target, run_options, recorded_outcomes(lines)


async def replay(
    path: Path,
    *,
    headers: Mapping[str, str],
    command: Sequence[str] | None = None,
    signing_key: str | None = None,
    other_token: str | None = None,
    record: Path | None = None,
) -> ReplayResult:
    """Run the recorded attacks again and list every probe whose outcome changed."""
    target, options, before = replay_plan(
        path, headers=headers, command=command, signing_key=signing_key, other_token=other_token, record=record
    )
    report = await run_redteam(target, options)
    return ReplayResult(report=report, changes=tuple(compare(before, report.outcomes)), compared=len(before))
