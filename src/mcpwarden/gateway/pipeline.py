"""The interceptor chain: the `Interceptor` Protocol, its checks at registration, and the default order.

Every proxied call (tools/call, prompts/get, resources/read) passes the chain twice: `request` hooks
before it is forwarded, `response` hooks after the upstream answered. The order is one explicit
list, `SLOTS`: DESIGN.md's order, with the description check right after the kill switch:

    kill switch → descriptions → authz → argument constraints → rate limit → flow control
        → approval → pin check → injection/secret detection in arguments             (request side)
    injection/secret detection and redaction in results                              (response side)

Each slot is filled by a factory; the gateway ships one for every slot (`interceptors.BUILTIN_FACTORIES`)
and `GatewayDeps.factories` may replace any of them; a factory that returns None leaves its slot out
(`descriptions` does when description scanning is off). Rules:
- An interceptor that raises denies the call (fail closed); the exception is recorded as the
  verdict's error.
- In `enforce` mode the first denial stops the chain; in `monitor` mode every verdict is recorded,
  nothing is refused and nothing is modified.
- `modify` means the interceptor changed `call.arguments` (request) or `call.result` (response) in
  place; the gateway then re-serialises that part, and only that part.
- `ask` stands until a later verdict from the `approval` slot answers it; unanswered, it denies.

Listings: an interceptor may also define `async def hide(definitions, principal) -> set of (server, kind, name)`
(the `ListingFilter` Protocol) to take tools and prompts out of tools/list and prompts/list (the
kill switch hides quarantined tools, descriptions poisoned ones, authz what the policy does not let
the principal list, the pin check rug-pulled ones). A filter that raises hides the whole batch (fail
closed); in `monitor` mode nothing is hidden. An interceptor may also define `async def
listing_verdicts(definitions) -> list of Verdict` (`ListingAuditor`): verdicts for the listing's
audit record (what it hid and why, what it let through with a warning), asked in `monitor` mode too.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

from mcpwarden.errors import ConfigError
from mcpwarden.gateway.config import GatewayConfig, Mode
from mcpwarden.types import DefinitionKind, Principal, ToolCall, ToolDef, Verdict

log = logging.getLogger("mcpwarden.gateway.pipeline")

HOOKS = ("request", "response")
SLOTS = (
    "kill_switch",
    "descriptions",
    "authz",
    "constraints",
    "rate_limit",
    "flow_control",
    "approval",
    "pin_check",
    "scanning",
)
APPROVAL_SOURCE = "approval"


@runtime_checkable
class Interceptor(Protocol):
    """One step of the chain. Return None to abstain, or a Verdict (allow, deny, modify, ask)."""

    name: str

    async def request(self, call: ToolCall) -> Verdict | None: ...

    async def response(self, call: ToolCall) -> Verdict | None: ...


class ToolCatalog(Protocol):
    """What interceptors may look up about the upstreams' definitions (the router implements it)."""

    def definition(self, upstream: str, kind: DefinitionKind, name: str) -> ToolDef | None: ...


DefinitionKey = tuple[str, DefinitionKind, str]
"""(server, kind, upstream name) of a listed tool or prompt."""


@runtime_checkable
class ListingFilter(Protocol):
    """An interceptor that also hides definitions from listings: return the keys to hide."""

    async def hide(self, definitions: Sequence[ToolDef], principal: Principal) -> set[DefinitionKey]: ...


@runtime_checkable
class ListingAuditor(Protocol):
    """An interceptor with something to say about a listing for its audit record (monitor mode included)."""

    async def listing_verdicts(self, definitions: Sequence[ToolDef]) -> list[Verdict]: ...


@dataclass(frozen=True)
class ListingReview:
    """What the chain decided about one listing: the keys to leave out, and verdicts for its audit record."""

    hidden: set[DefinitionKey]
    verdicts: tuple[Verdict, ...] = ()


@dataclass(frozen=True)
class InterceptorContext:
    """What a factory gets besides its options: the catalog, where its options came from, shared helpers.

    `config` is the whole gateway configuration (policy file, database path); `shared` is one dict
    per chain where interceptors keep what they share (one live-state connection for all of them).
    """

    catalog: ToolCatalog
    source: str = "<config>"
    services: Mapping[str, Any] = field(default_factory=dict)
    config: GatewayConfig | None = None
    shared: dict[str, Any] = field(default_factory=dict)

    def option_error(self, interceptor: str, key: str, message: str) -> ConfigError:
        """A ConfigError naming `interceptors.<interceptor>.<key>` in the config file."""
        where = f"{self.source}: interceptors.{interceptor}" + (f".{key}" if key else "")
        return ConfigError(message, where=where)


InterceptorFactory = Callable[[Mapping[str, Any], InterceptorContext], Interceptor | None]


def check_interceptor(obj: object) -> Interceptor:
    """Verify `obj` implements the Protocol exactly; a missing or misspelt hook is a ConfigError now."""
    label = type(obj).__name__
    name = getattr(obj, "name", None)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"interceptor {label} has no `name`")
    for hook in HOOKS:
        method = getattr(obj, hook, None)
        if method is None:
            raise ConfigError(f"interceptor {name} has no `{hook}` hook (both `request` and `response` are required)")
        if not inspect.iscoroutinefunction(method):
            raise ConfigError(f"interceptor {name}: `{hook}` must be an `async def`")
        try:
            inspect.signature(method).bind(None)
        except TypeError:
            raise ConfigError(f"interceptor {name}: `{hook}` must take exactly one argument, the call") from None
    for attr in dir(type(obj)):
        if attr.startswith("_") or attr in HOOKS or not inspect.iscoroutinefunction(getattr(obj, attr, None)):
            continue
        close = difflib.get_close_matches(attr, [*HOOKS, *(f"on_{h}" for h in HOOKS)], n=1, cutoff=0.75)
        if close:
            raise ConfigError(f"interceptor {name}: method `{attr}` looks like a misspelt hook (the hooks are {HOOKS})")
    return obj  # type: ignore[return-value]  # checked structurally above


@dataclass(frozen=True)
class Outcome:
    """What one side of the chain decided: the refusal to send (enforce mode), and whether data changed."""

    refusal: Verdict | None = None
    modified: bool = False


_ALLOW = Outcome()


class Pipeline:
    """The checked chain of interceptors, run in order with fail-closed error handling."""

    def __init__(self, interceptors: Sequence[Interceptor], *, mode: Mode = "enforce") -> None:
        checked = [check_interceptor(i) for i in interceptors]
        names = [i.name for i in checked]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"interceptor(s) registered twice: {', '.join(duplicates)}")
        self.interceptors = tuple(checked)
        self.mode = mode
        # Bound hooks and timing keys made once: the chain runs twice per call.
        self._hooks = {
            hook: tuple((i, getattr(i, hook), f"{hook}.{i.name}") for i in self.interceptors) for hook in HOOKS
        }

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.interceptors)

    @property
    def filters_listings(self) -> bool:
        """Whether listings need `review`: an interceptor hides definitions (and the mode lets it) or audits them."""
        return any(
            isinstance(i, ListingAuditor) or (self.mode == "enforce" and isinstance(i, ListingFilter))
            for i in self.interceptors
        )

    async def review(self, definitions: Sequence[ToolDef], principal: Principal) -> ListingReview:
        """`hidden`, with the verdicts every `ListingAuditor` gives for the listing's audit record."""
        hidden = await self.hidden(definitions, principal)
        verdicts: list[Verdict] = []
        for interceptor in self.interceptors:
            if not isinstance(interceptor, ListingAuditor):
                continue
            try:
                verdicts.extend(await interceptor.listing_verdicts(definitions))
            except Exception as exc:  # fail closed, as a filter that raises
                log.exception("interceptor %s failed to review a listing; the listing is hidden", interceptor.name)
                error = f"{type(exc).__name__}: {exc}"
                verdicts.append(
                    Verdict("deny", source=interceptor.name, reasons=(f"{interceptor.name}.error",), errors=(error,))
                )
                if self.mode == "enforce":
                    hidden = {(d.server, d.kind, d.name) for d in definitions}
        return ListingReview(hidden, tuple(verdicts))

    async def hidden(self, definitions: Sequence[ToolDef], principal: Principal) -> set[DefinitionKey]:
        """Keys of the definitions some interceptor hides; all of them when a filter fails."""
        out: set[DefinitionKey] = set()
        if self.mode != "enforce":
            return out
        for interceptor in self.interceptors:
            if not isinstance(interceptor, ListingFilter):
                continue
            try:
                out |= await interceptor.hide(definitions, principal)
            except Exception:  # fail closed: a filter that cannot decide hides the batch
                log.exception("interceptor %s failed to filter a listing; the listing is hidden", interceptor.name)
                return {(d.server, d.kind, d.name) for d in definitions}
        return out

    async def on_request(self, call: ToolCall) -> Outcome:
        return await self._run("request", call)

    async def on_response(self, call: ToolCall) -> Outcome:
        return await self._run("response", call)

    async def _run(self, hook: str, call: ToolCall) -> Outcome:
        if not self.interceptors:
            return _ALLOW
        enforce = self.mode == "enforce"
        modified = False
        pending_ask: Verdict | None = None
        timings = call.timings
        for interceptor, run, timing_key in self._hooks[hook]:
            started = time.perf_counter()
            try:
                verdict = await run(call)
                if verdict is not None and not isinstance(verdict, Verdict):
                    raise TypeError(f"returned {type(verdict).__name__}, not a Verdict or None")
            except Exception as exc:  # fail closed: an interceptor that cannot decide denies
                log.exception("interceptor %s failed on %s; the call is denied", interceptor.name, hook)
                verdict = Verdict(
                    "deny",
                    source=interceptor.name,
                    reasons=(f"{interceptor.name}.error",),
                    message=f"interceptor {interceptor.name} failed, so the call is refused",
                    errors=(f"{type(exc).__name__}: {exc}",),
                )
            timings[timing_key] = time.perf_counter() - started
            if verdict is None:
                continue
            call.verdicts.append(verdict)
            if interceptor.name == APPROVAL_SOURCE and pending_ask is not None and not verdict.denies:
                pending_ask = None
            if verdict.denies:
                if enforce:
                    return Outcome(refusal=verdict)
            elif verdict.decision == "ask":
                pending_ask = pending_ask or verdict
            elif verdict.decision == "modify":
                modified = True
        if pending_ask is not None and enforce:
            refusal = Verdict(
                "deny",
                source="pipeline",
                reasons=pending_ask.reasons,
                message=f"{pending_ask.source} asked for approval and no approval was given"
                + (f": {pending_ask.message}" if pending_ask.message else ""),
            )
            call.verdicts.append(refusal)
            return Outcome(refusal=refusal)
        return Outcome(modified=modified and enforce)


def default_interceptors(
    config: GatewayConfig,
    context: InterceptorContext,
    factories: Mapping[str, InterceptorFactory] | None = None,
) -> list[Interceptor]:
    """The default chain in `SLOTS` order, built from `config.interceptors` options.

    `factories` adds or replaces slot factories (authz, rate limit, … as their modules land). A slot
    configured in the file with no factory available is an error: a policy the user asked for must
    not silently not run.
    """
    from mcpwarden.gateway.interceptors import BUILTIN_FACTORIES

    if context.config is None:
        context = replace(context, config=config)
    available: dict[str, InterceptorFactory] = {**BUILTIN_FACTORIES, **(factories or {})}
    unknown = sorted(set(config.interceptors) - set(SLOTS))
    if unknown:
        raise context.option_error(unknown[0], "", f"unknown interceptor (the chain is: {', '.join(SLOTS)})")
    chain: list[Interceptor] = []
    for slot in SLOTS:
        options = dict(config.interceptors.get(slot, {}))
        enabled = options.pop("enabled", True)
        if not isinstance(enabled, bool):
            raise context.option_error(slot, "enabled", f"must be true or false, found {enabled!r}")
        factory = available.get(slot)
        if factory is None:
            if slot in config.interceptors and enabled:
                raise context.option_error(slot, "", "this interceptor is not available in this installation")
            continue
        built = factory(options, context) if enabled else None
        if built is not None:
            chain.append(check_interceptor(built))
    return chain
