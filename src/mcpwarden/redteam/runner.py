"""Run the red team against one target: connect, list, decide what is safe to attack, run each attack
of the chosen suites in registry order within the run's bounds, and collect Findings."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import anyio

from mcpwarden.detect import default_engine
from mcpwarden.detect.ruleset import builtin_rules
from mcpwarden.errors import ConnectError, WardenError
from mcpwarden.redteam.attack import Context, Outcome, RunOptions, Target
from mcpwarden.redteam.canary import CanaryListener
from mcpwarden.redteam.registry import attacks_for
from mcpwarden.redteam.safety import unsafe_reasons
from mcpwarden.redteam.tokens import TestTokens, mint
from mcpwarden.redteam.transcript import TRANSCRIPT_VERSION, Masker, Transcript
from mcpwarden.redteam.wire import BudgetExhausted, require
from mcpwarden.types import DefinitionKind, Finding, ToolDef

MAX_PAGES = 20
_HARD_STOP_GRACE_S = 30.0
_LISTINGS: tuple[tuple[DefinitionKind, str, str, str, str], ...] = (
    ("tool", "tools", "tools/list", "tools", "name"),
    ("resource", "resources", "resources/list", "resources", "uri"),
    ("resource_template", "resources", "resources/templates/list", "resourceTemplates", "uriTemplate"),
)


@dataclass(frozen=True)
class RedTeamReport:
    """What a run proved, which probes held, what it could not do, and what it cost."""

    target: str
    findings: tuple[Finding, ...]
    outcomes: Mapping[str, Outcome]
    skipped_tools: Mapping[str, tuple[str, ...]]
    attacked_tools: tuple[str, ...]
    requests: int
    duration_s: float
    seed: int
    stopped: str | None = None
    errors: tuple[str, ...] = field(default_factory=tuple)


def _target_line(target: Target) -> dict[str, Any]:
    # Header *names* only: values are credentials, given again to `replay`.
    return {
        "transport": target.transport,
        "url": target.url,
        "header_names": sorted(target.headers),
        "command": list(target.command),
        "cwd": target.cwd,
    }


def _options_line(options: RunOptions) -> dict[str, Any]:
    return {
        "suites": list(options.suites),
        "allow_destructive": options.allow_destructive,
        "max_requests": options.max_requests,
        "time_limit": options.time_limit,
        "request_timeout": options.request_timeout,
        "issuer": options.issuer,
        "audience": options.audience,
        "key_id": options.key_id,
        "scope": options.scope,
        "signing_key": options.signing_key is not None,
        "other_token": options.other_token is not None,
    }


async def _inventory(ctx: Context) -> None:
    session = await ctx.session()
    result = session.initialize_result or {}
    ctx.inventory.server_info = result.get("serverInfo") or {}
    ctx.inventory.capabilities = result.get("capabilities") or {}
    for kind, capability, method, member, identity in _LISTINGS:
        if capability not in ctx.inventory.capabilities:
            continue
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            exchange, reply = await session.request(method, {"cursor": cursor} if cursor else {})
            if reply is not None and "error" in reply and method != "tools/list":
                break  # resources declared but (this listing) not implemented
            page = require(exchange, method)
            items = page.get(member)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and isinstance(item.get(identity), str):
                    definition = ToolDef(ctx.target.name, kind, item[identity], item)
                    {"tool": ctx.inventory.tools, "resource": ctx.inventory.resources}.get(
                        kind, ctx.inventory.templates
                    ).append(definition)
            next_cursor = page.get("nextCursor")
            if not isinstance(next_cursor, str) or not next_cursor:
                break
            cursor = next_cursor


def _choose_tools(ctx: Context) -> dict[str, tuple[str, ...]]:
    skipped: dict[str, tuple[str, ...]] = {}
    for tool in ctx.inventory.tools:
        reasons = unsafe_reasons(tool)
        if reasons and not ctx.options.allow_destructive:
            skipped[tool.name] = tuple(reasons)
            key = f"skip:{tool.name}"
            ctx.judge(
                key,
                "MW790",
                {"reasons": reasons},
                request=f"tools/list → {tool.name}",
                tool=tool.name,
                kind="tool",
                proven="skipped",
            )
        else:
            ctx.safe_tools.append(tool)
    return skipped


def _with_minted_token(target: Target, options: RunOptions) -> tuple[Target, TestTokens | None]:
    """With `--signing-key`, mint the test tokens; the valid one authenticates the run unless a token is given."""
    if options.signing_key is None or target.url is None:
        return target, None
    tokens = mint(
        options.signing_key,
        issuer=options.issuer,
        audience=options.audience or target.url,
        kid=options.key_id,
        scope=options.scope,
    )
    if any(k.lower() == "authorization" for k in target.headers):
        return target, tokens
    return replace(target, headers={**target.headers, "Authorization": f"Bearer {tokens.valid}"}), tokens


def _prepare_detection() -> None:
    default_engine().prepare()


async def run_redteam(target: Target, options: RunOptions) -> RedTeamReport:
    """Attack `target` within `options`' bounds; raises ConnectError when it cannot even be listed."""
    if target.transport == "stdio" and not target.command:
        raise ConnectError("no server command given")
    seed = options.seed if options.seed is not None else secrets.randbits(48)
    target, tokens = _with_minted_token(target, options)
    rules = {r.id: r for r in builtin_rules() if r.id.startswith("MW7")}
    if "output" in options.suites:
        # The detection engine's one-time set-up (its compiled prefilter, loaded from the on-disk cache or
        # compiled once per rule set) is done before the clock starts: it is not the server's time, and
        # done inside the run it could eat the whole time budget.
        await anyio.to_thread.run_sync(_prepare_detection)
    transcript = Transcript(options.record, Masker([*target.secret_values(), *(tokens.all() if tokens else ())]))
    started = time.perf_counter()
    transcript.write(
        {
            "type": "run",
            "version": TRANSCRIPT_VERSION,
            "seed": seed,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "target": _target_line(target),
            "options": _options_line(options),
        }
    )
    errors: list[str] = []
    skipped: dict[str, tuple[str, ...]] = {}
    canary = CanaryListener()
    failure: WardenError | None = None
    try:
        with anyio.move_on_after(options.time_limit + _HARD_STOP_GRACE_S):
            async with anyio.create_task_group() as tg:
                await canary.start(tg)
                ctx = Context(target, options, rules, transcript, canary, seed, tg)
                ctx.state["tokens"] = tokens
                try:
                    await _run_attacks(ctx, skipped, errors)
                except WardenError as exc:  # raised below, outside the task group (not as a group)
                    failure = exc
                finally:
                    await ctx.aclose()
                    await canary.aclose()
                    tg.cancel_scope.cancel()
        if failure is not None:
            raise failure
        report = RedTeamReport(
            target=transcript.masker.text(target.name),
            findings=tuple(ctx.findings),
            outcomes=dict(ctx.outcomes),
            skipped_tools=skipped,
            attacked_tools=tuple(t.name for t in ctx.safe_tools),
            requests=ctx.budget.spent,
            duration_s=time.perf_counter() - started,
            seed=seed,
            stopped=ctx.budget.exhausted,
            errors=tuple(errors),
        )
        transcript.write(
            {
                "type": "end",
                "findings": len(report.findings),
                "requests": report.requests,
                "stopped": report.stopped,
                "duration_s": round(report.duration_s, 3),
                "errors": list(report.errors),
            }
        )
        return report
    finally:
        transcript.close()


async def _run_attacks(ctx: Context, skipped: dict[str, tuple[str, ...]], errors: list[str]) -> None:
    try:
        with ctx.probe("inventory"):
            await _inventory(ctx)
    except BudgetExhausted:
        return
    skipped.update(_choose_tools(ctx))
    for attack in attacks_for(ctx.options.suites, ctx.target.transport):
        try:
            await attack.run(ctx)
        except BudgetExhausted:
            return
        except WardenError as exc:
            errors.append(f"{attack.id}: {exc.one_line()}")
        except Exception as exc:  # one attack's surprise must not lose the others' findings
            errors.append(f"{attack.id}: {type(exc).__name__}: {exc}")
