"""Description scanning: tools and prompts whose definitions carry instructions for the model leave the listings.

A poisoned definition works without ever being called: the model reads tools/list and prompts/list
before it acts. So each listed tool and prompt is analysed as `mcpwarden scan` analyses it: every
text of the definition the model sees (name, title, description, parameter names and descriptions,
enum values, defaults, output schema, prompt arguments; not `_meta` or icons) goes through the
detection engine with the kind that fits it. Findings at or above `description_severity` are handled
per `descriptions`, set with the other scanning options:

    interceptors:
      scanning:
        descriptions: hide            # hide | warn | off
        description_severity: high    # info | low | medium | high | critical

- `hide` (default): the definition leaves tools/list and prompts/list, and a call to it is refused
  with the rule ids as reasons.
- `warn`: it stays listed and callable; the audit record of every listing and call carries the findings.
- `off`: nothing is analysed (and so is it when `scanning` has `enabled: false`).

In `monitor` mode nothing is hidden or refused; listing records say what would have been hidden.

This is its own chain slot, right after the kill switch, so a call to a hidden definition is refused
before anything else (approval above all) spends time on it. Findings are cached by the definition's
canonical hash (`types.definition_hash`) and by the listed definition object, so after the first
listing a listing or a call costs dictionary lookups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from mcpwarden.detect import Engine, default_engine
from mcpwarden.detect.definitions import LIMIT_CHECK
from mcpwarden.detect.fields import TextField, definition_fields, definition_texts, locate
from mcpwarden.detect.normalize import Normalized
from mcpwarden.detect.ruleset import make_finding
from mcpwarden.gateway.interceptors.common import choice, definition_of, failer
from mcpwarden.gateway.pipeline import DefinitionKey, InterceptorContext, ToolCatalog
from mcpwarden.types import Finding, Location, Principal, Severity, ToolCall, ToolDef, Verdict, escape_evidence

NAME = "descriptions"
SECTION = "scanning"  # where the options live
ACTIONS = ("hide", "warn", "off")
DEFAULT_SEVERITY = Severity.HIGH
MAX_CACHED = 4096  # definitions remembered (by hash, and by listed object)
_Found = tuple[Finding, ...]


def scan_definitions(definitions: Sequence[ToolDef], engine: Engine) -> list[_Found]:
    """Every finding of each definition's texts, in order, located by JSON pointer.

    As the scanner does it: the texts of all definitions are screened together in one pass, and only
    the texts the screen finds hot go through `detect`; a definition too odd or too large for the
    cheap pass is walked whole, and what the walk had to leave out is reported (MW399).
    """
    texts = [definition_texts(d) for d in definitions]
    cheap = [i for i, t in enumerate(texts) if t is not None]
    screens = engine.screen_many([texts[i] or [] for i in cheap])
    out: list[_Found] = [()] * len(definitions)
    for i, screen in zip(cheap, screens, strict=True):
        if screen.hot:
            located = zip(screen.hot, locate(definitions[i], screen.hot), strict=True)
            out[i] = _detect(definitions[i], ((f, screen.normalized.get(p)) for p, f in located), engine)
    for i, t in enumerate(texts):
        if t is None:
            out[i] = _walked(definitions[i], engine)
    return out


def _walked(definition: ToolDef, engine: Engine) -> _Found:
    """Every text of a definition the cheap pass gave up on, and MW399 where the walk stopped early."""
    walk = definition_fields(definition)
    found = list(_detect(definition, ((f, None) for f in walk.fields), engine))
    limit_rule = next((r for r in engine.rules if r.check == LIMIT_CHECK), None)
    if limit_rule is not None:
        for pointer, reason in walk.limits:
            location = Location(definition.server, definition.kind, definition.name, pointer)
            found.append(make_finding(limit_rule, location, "", detail=reason[:1].upper() + reason[1:] + "."))
    return tuple(found)


def _detect(definition: ToolDef, fields: Iterable[tuple[TextField, Normalized | None]], engine: Engine) -> _Found:
    found: list[Finding] = []
    for text_field, normalized in fields:
        result = engine.detect(text_field.text, text_field.kind, normalized=normalized)
        if result.matches:
            location = Location(definition.server, definition.kind, definition.name, text_field.pointer)
            found.extend(m.finding(location) for m in result.matches)
    return tuple(found)


class DescriptionScan:
    """Hides (or flags) tool and prompt definitions the detection engine finds instructions in."""

    name = NAME

    def __init__(
        self,
        catalog: ToolCatalog,
        *,
        action: str = "hide",
        min_severity: Severity = DEFAULT_SEVERITY,
        monitor: bool = False,
        engine: Engine | None = None,
    ) -> None:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        self.catalog = catalog
        self.action = action
        self.min_severity = min_severity
        self.monitor = monitor
        self.engine = engine or default_engine()
        self._by_hash: dict[str, _Found] = {}
        self._by_key: dict[DefinitionKey, tuple[ToolDef, _Found]] = {}

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: InterceptorContext) -> DescriptionScan | None:
        """Built from `interceptors.scanning`; None (left out of the chain) when turned off."""
        if options:
            key = str(next(iter(options)))
            message = "description scanning is configured in interceptors.scanning (descriptions, description_severity)"
            raise context.option_error(NAME, key, message)
        config = context.config
        section = config.interceptors.get(SECTION, {}) if config is not None else {}
        fail = failer(context, SECTION)
        action = choice(section.get("descriptions", "hide"), "descriptions", fail, ACTIONS)
        try:
            severity = Severity.parse(str(section.get("description_severity", DEFAULT_SEVERITY.label)))
        except ValueError as exc:
            raise fail("description_severity", str(exc)) from None
        if action == "off" or section.get("enabled", True) is False:
            return None
        monitor = config is not None and config.mode == "monitor"
        return cls(context.catalog, action=action, min_severity=severity, monitor=monitor)

    # --- findings

    def judge(self, definitions: Sequence[ToolDef]) -> list[_Found]:
        """The findings at or above `min_severity` of each definition; analysed once per canonical hash."""
        out: list[_Found] = []
        todo: list[tuple[int, ToolDef, str]] = []
        for index, definition in enumerate(definitions):
            key = (definition.server, definition.kind, definition.name)
            cached = self._by_key.get(key)
            if cached is not None and cached[0] is definition:
                out.append(cached[1])
                continue
            digest = definition.hash
            found = self._by_hash.get(digest)
            if found is None:
                todo.append((index, definition, digest))
                out.append(())
                continue
            found = _at(found, definition.server)  # the same definition served by another upstream
            self._remember(key, definition, found)
            out.append(found)
        if todo:
            scanned = scan_definitions([d for _, d, _ in todo], self.engine)
            for (index, definition, digest), found in zip(todo, scanned, strict=True):
                kept = tuple(f for f in found if f.severity >= self.min_severity)
                _bounded_put(self._by_hash, digest, kept)
                self._remember((definition.server, definition.kind, definition.name), definition, kept)
                out[index] = kept
        return out

    def _remember(self, key: DefinitionKey, definition: ToolDef, found: _Found) -> None:
        _bounded_put(self._by_key, key, (definition, found))

    def _found(self, definition: ToolDef) -> _Found:
        cached = self._by_key.get((definition.server, definition.kind, definition.name))
        if cached is not None and cached[0] is definition:
            return cached[1]
        return self.judge([definition])[0]

    # --- hooks

    async def request(self, call: ToolCall) -> Verdict | None:
        definition = definition_of(self.catalog, call)
        if definition is None:
            return None
        found = self._found(definition)
        if not found:
            return None
        call.findings.extend(found)
        if self.action == "warn":
            return None
        message = f"{_what(definition)} is hidden because its definition matched {_matched(found)}"
        return Verdict("deny", source=NAME, reasons=_rule_ids(found), message=message)

    async def response(self, call: ToolCall) -> Verdict | None:
        return None

    async def hide(self, definitions: Sequence[ToolDef], principal: Principal) -> set[DefinitionKey]:
        if self.action != "hide":
            return set()
        judged = self.judge(definitions)
        return {(d.server, d.kind, d.name) for d, found in zip(definitions, judged, strict=True) if found}

    async def listing_verdicts(self, definitions: Sequence[ToolDef]) -> list[Verdict]:
        """One verdict per flagged definition, for the listing's audit record (deny: hidden, allow: warned)."""
        out: list[Verdict] = []
        for definition, found in zip(definitions, self.judge(definitions), strict=True):
            if not found:
                continue
            matched = _matched(found, where=True)
            if self.action == "warn":
                message = f"warning: {_what(definition)} is listed although its definition matched {matched}"
                out.append(Verdict("allow", source=NAME, reasons=_rule_ids(found), message=message))
                continue
            hidden = "would be hidden (monitor mode)" if self.monitor else "is hidden"
            message = f"{_what(definition)} {hidden}: its definition matched {matched}"
            out.append(Verdict("deny", source=NAME, reasons=_rule_ids(found), message=message))
        return out


def _bounded_put(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if key not in cache and len(cache) >= MAX_CACHED:
        del cache[next(iter(cache))]  # oldest first: listings keep their own definitions fresh
    cache[key] = value


def _at(found: _Found, server: str) -> _Found:
    if all(f.location.server == server for f in found):
        return found
    return tuple(replace(f, location=replace(f.location, server=server)) for f in found)


def _rule_ids(found: _Found) -> tuple[str, ...]:
    return tuple(sorted({f.rule_id for f in found}))


def _what(definition: ToolDef) -> str:
    return f"{definition.kind} {definition.server}/{escape_evidence(definition.name, 120)}"


def _matched(found: _Found, *, where: bool = False) -> str:
    """`MW301 (title) at /description, …`: rule ids and titles, never the matched text (the model reads refusals)."""
    parts: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    for f in found:
        titles.setdefault(f.rule_id, f.title)
        pointers = parts.setdefault(f.rule_id, [])
        if f.location.pointer and f.location.pointer not in pointers:
            pointers.append(f.location.pointer)
    shown = []
    for rule_id in sorted(parts):
        at = f" at {', '.join(parts[rule_id])}" if where and parts[rule_id] else ""
        shown.append(f"{rule_id} ({titles[rule_id]}){at}")
    return "; ".join(shown)
