"""Rules over what servers declare: every text of every tool, prompt and resource, plus cross-server checks.

`analyze_inventories` is what the scanner calls. Each text goes through the engine with the kind that
fits it (tool text → tool_description, schema text → parameter_description, prompts → prompt,
resources → resource, server instructions → tool_description).

It runs in two passes so that clean definitions, the vast majority, cost almost nothing: first every
definition's texts are gathered without locating them and screened together in one C-speed pass
(`Engine.screen_many`); then only definitions with a hot text are walked with JSON pointers, and only
their hot texts go through `detect`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mcpwarden.detect.engine import Engine, default_engine
from mcpwarden.detect.fields import Walk, definition_fields, definition_texts, locate, server_fields
from mcpwarden.detect.results import Screen
from mcpwarden.detect.ruleset import Rule, make_finding
from mcpwarden.detect.shadowing import DefinitionText, ToolIndex, inventory_findings
from mcpwarden.types import DefinitionKind, Finding, Location, ServerInventory, ToolDef

LIMIT_CHECK = "analysis_limit"


class _Findings:
    """Findings deduplicated per (rule, location), keeping the most severe."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, Location], Finding] = {}

    def add(self, finding: Finding) -> None:
        key = (finding.rule_id, finding.location)
        kept = self._by_key.get(key)
        if kept is None or finding.severity > kept.severity:
            self._by_key[key] = finding

    def extend(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self.add(finding)

    def sorted(self) -> list[Finding]:
        def order(f: Finding) -> tuple[int, str, str, str, str]:
            loc = f.location
            return (-f.severity, loc.server or "", loc.tool or "", loc.pointer or "", f.rule_id)

        return sorted(self._by_key.values(), key=order)


@dataclass(frozen=True, slots=True)
class _Item:
    """One definition (or a server's own texts) waiting to be analysed."""

    server: str
    kind: DefinitionKind | None
    name: str | None
    texts: list[str] | None  # None: the cheap pass gave up (limits, odd shapes); walk everything
    source: ToolDef | ServerInventory
    walked: list[Walk] = field(default_factory=list)  # the walk, once done (detection and shadowing share it)

    def walk(self) -> Walk:
        if not self.walked:
            source = self.source
            self.walked.append(
                server_fields(source) if isinstance(source, ServerInventory) else definition_fields(source)
            )
        return self.walked[0]


def _items(inventory: ServerInventory) -> list[_Item]:
    server = inventory.spec.name
    items = [_Item(server, None, None, [f.text for f in server_fields(inventory).fields], inventory)]
    for definition in inventory.definitions:
        items.append(_Item(server, definition.kind, definition.name, definition_texts(definition), definition))
    return items


def _limit_rule(engine: Engine) -> Rule | None:
    return next((r for r in engine.rules if r.check == LIMIT_CHECK), None)


def _detect_item(item: _Item, screen: Screen | None, engine: Engine, out: _Findings) -> None:
    """`detect` a definition's hot texts (every text when there is no screen) and record findings."""
    if screen is not None and isinstance(item.source, ToolDef):
        located = zip(screen.hot, locate(item.source, screen.hot), strict=True)  # pointers for hot texts only
        limits: tuple[tuple[str, str], ...] = ()
    else:
        walk = item.walk()
        positions = range(len(walk.fields)) if screen is None else screen.hot
        located = zip(positions, (walk.fields[p] for p in positions), strict=True)
        limits = walk.limits
    for position, text_field in located:
        normalized = screen.normalized.get(position) if screen is not None else None
        result = engine.detect(text_field.text, text_field.kind, normalized=normalized)
        if result.matches:
            location = Location(item.server, item.kind, item.name, text_field.pointer)
            out.extend(m.finding(location) for m in result.matches)
    limit_rule = _limit_rule(engine) if limits else None
    if limit_rule is not None:
        for pointer, reason in limits:
            location = Location(item.server, item.kind, item.name, pointer)
            out.add(make_finding(limit_rule, location, "", detail=reason[:1].upper() + reason[1:] + "."))


def analyze_inventories(inventories: Sequence[ServerInventory], engine: Engine | None = None) -> list[Finding]:
    """Findings for every text of every definition of every server, then cross-server shadowing.

    Locations carry the server, the definition kind and name, and an RFC 6901 pointer to the text
    (`/inputSchema/properties/path/description`). Hostile input is bounded, never fatal: each text is
    analysed up to 256 Ki characters, each definition to 32 levels of nesting, 4096 texts and 4 Mi
    characters; anything cut is reported as MW399. Findings are deduplicated per (rule, location).
    """
    engine = engine or default_engine()
    tools = ToolIndex.build(inventories)
    vocabulary = engine.vocabulary | tools.first_words
    out = _Findings()
    texts: list[DefinitionText] = []
    # One server at a time: its definitions are screened together, and nothing per definition outlives
    # the server unless the shadowing check needs it.
    for inventory in inventories:
        items = _items(inventory)
        screened = [item for item in items if item.texts is not None]
        screens = engine.screen_many([item.texts or [] for item in screened], vocabulary)
        for item, screen in zip(screened, screens, strict=True):
            if screen.hot:
                _detect_item(item, screen, engine, out)
            if tools.may_name_another(screen.words, item.name):  # kept for the shadowing check
                texts.append(DefinitionText(item.server, item.kind, item.name, screen.words, item.walk))
        for item in items:
            if item.texts is None:  # odd or oversized definition: analyse every located text
                _detect_item(item, None, engine, out)
                found = engine.screen([f.text for f in item.walk().fields], vocabulary).words
                texts.append(DefinitionText(item.server, item.kind, item.name, found, item.walk))
    out.extend(inventory_findings(texts, engine, tools))
    return out.sorted()
