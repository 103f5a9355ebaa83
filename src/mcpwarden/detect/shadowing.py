"""Cross-server checks: one server's definitions steering another server's tools, and name collisions.

These need every inventory at once, so they run after the per-text rules. A mention counts when a
definition names a tool that only *other* servers offer; a plain-word name (`search`) counts only in
tool-reference form (`search`, "the search tool", search()). The mention becomes a finding when the
same sentence gives the model a directive (the rule's `options.directives`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import regex

from mcpwarden.detect.engine import Engine
from mcpwarden.detect.fields import Walk
from mcpwarden.detect.ruleset import Rule, make_finding
from mcpwarden.types import DefinitionKind, Finding, Location, ServerInventory, ToolDef

REFERENCE_CHECK = "cross_server_tool_reference"
COLLISION_CHECK = "cross_server_name_collision"
INVENTORY_CHECKS = frozenset({REFERENCE_CHECK, COLLISION_CHECK})
_WORDS = regex.compile(r"\w+")
_SENTENCE_END = regex.compile(r"[.!?](?=\s|$)|\n")
_DISTINCTIVE = regex.compile(r"[_.\-/:]|[a-z][A-Z]|\d")


@dataclass(frozen=True, slots=True)
class DefinitionText:
    """One definition (or a server's own texts): its words, and how to walk its located texts if needed."""

    server: str
    kind: DefinitionKind | None
    name: str | None
    words: frozenset[bytes]
    walk: Callable[[], Walk]


def _name_pattern(name: str) -> regex.Pattern[str]:
    quoted = regex.escape(name)
    if _DISTINCTIVE.search(name):
        return regex.compile(rf"(?<![\w.-]){quoted}(?![\w-])", regex.IGNORECASE)
    # A plain word is only a tool reference when it is written as one.
    return regex.compile(
        rf"[`'\"‘“]{quoted}[`'\"’”]|\b{quoted}\(|\b{quoted} (?:tool|function|command)\b"
        rf"|\b(?:tool|function) [`'\"‘“]?{quoted}\b",
        regex.IGNORECASE,
    )


def _directive_pattern(rule: Rule) -> regex.Pattern[str]:
    words = [str(w) for w in rule.options.get("directives", ["always", "never", "must", "instead"])]
    return regex.compile(r"\b(?:" + "|".join(regex.escape(w) for w in words) + r")\b", regex.IGNORECASE)


def _sentence(view: str, start: int, end: int, window: int) -> tuple[int, int]:
    lo = max(0, start - window)
    before = [m.end() for m in _SENTENCE_END.finditer(view, lo, start)]
    after = _SENTENCE_END.search(view, end, min(len(view), end + window))
    return (before[-1] if before else lo), (after.start() if after else min(len(view), end + window))


@dataclass(frozen=True, slots=True)
class ToolIndex:
    """Every tool name across the inventories: who offers it, names by first word, names offered twice."""

    servers_by_name: Mapping[str, tuple[str, ...]]  # lower-cased tool name → servers offering it
    names_by_word: Mapping[bytes, tuple[str, ...]]  # first word of a name → names
    first_words: frozenset[bytes]
    shared: Mapping[str, tuple[tuple[ServerInventory, ToolDef], ...]]  # exact names several servers offer

    def may_name_another(self, words: frozenset[bytes], own_name: str | None) -> bool:
        """Could a definition with these words name a tool other than itself? (cheap pre-check)"""
        hits = self.first_words.intersection(words)
        if len(hits) != 1:
            return bool(hits)
        names = self.names_by_word[next(iter(hits))]
        return len(names) > 1 or names[0] != (own_name or "").lower()

    @classmethod
    def build(cls, inventories: Sequence[ServerInventory]) -> ToolIndex:
        servers: dict[str, tuple[str, ...]] = {}
        first_offer: dict[str, tuple[ServerInventory, ToolDef]] = {}
        shared: dict[str, list[tuple[ServerInventory, ToolDef]]] = {}
        for inventory in inventories:
            server = inventory.spec.name
            for definition in inventory.definitions:
                if definition.kind != "tool":
                    continue
                lower = definition.name.lower()
                known = servers.get(lower, ())
                if server not in known:
                    servers[lower] = (*known, server)
                offer = first_offer.setdefault(definition.name, (inventory, definition))
                if offer[0] is not inventory:
                    shared.setdefault(definition.name, [offer]).append((inventory, definition))
        by_word: dict[bytes, list[str]] = {}
        for name in servers:
            first = _WORDS.search(name)
            if first is not None and len(name) >= 3:
                by_word.setdefault(first.group().encode(), []).append(name)
        return cls(
            MappingProxyType(servers),
            MappingProxyType({w: tuple(ns) for w, ns in by_word.items()}),
            frozenset(by_word),
            MappingProxyType({n: tuple(offers) for n, offers in shared.items()}),
        )


def tool_references(
    definitions: Sequence[DefinitionText], index: ToolIndex, rule: Rule, engine: Engine
) -> list[Finding]:
    """Definitions that name another server's tool in a sentence that directs the model.

    Each definition's `words` must include the first words of tool names (`ToolIndex.first_words`).
    """
    directive = _directive_pattern(rule)
    window = int(rule.options.get("window", 160))
    patterns: dict[str, regex.Pattern[str]] = {}
    findings: list[Finding] = []
    for item in definitions:
        words = index.first_words.intersection(item.words)
        if not words:
            continue
        own = (item.name or "").lower()
        candidates = [
            name
            for word in words
            for name in index.names_by_word[word]
            if name != own and item.server not in index.servers_by_name[name]
        ]
        for name in sorted(candidates):
            pattern = patterns.setdefault(name, _name_pattern(name))
            for text_field in item.walk().fields:
                view = engine.view(text_field.text)
                hit = _directed_mention(view, pattern, directive, window)
                if hit is None:
                    continue
                others = ", ".join(sorted(index.servers_by_name[name]))
                location = Location(item.server, item.kind, item.name, text_field.pointer)
                detail = f"It names `{name}`, a tool of {others}."
                findings.append(make_finding(rule, location, hit, detail=detail))
                break
    return findings


def _directed_mention(view: str, name: regex.Pattern[str], directive: regex.Pattern[str], window: int) -> str | None:
    for mention in name.finditer(view):
        start, end = _sentence(view, mention.start(), mention.end(), window)
        if directive.search(view, start, end):
            return view[start:end].strip()
    return None


def name_collisions(index: ToolIndex, rule: Rule) -> list[Finding]:
    """Tools offered under the same name by several servers with different definitions."""
    findings: list[Finding] = []
    for name, entries in sorted(index.shared.items()):
        servers = {inventory.spec.name for inventory, _ in entries}
        # Hash only names that collide: hashing every definition would dominate the scan.
        if len(servers) < 2 or len({d.hash for _, d in entries}) < 2:
            continue
        if len({inventory.spec.identity for inventory, _ in entries}) < 2:
            continue  # the same server configured under two names
        for server in sorted(servers):
            others = ", ".join(sorted(servers - {server}))
            location = Location(server, "tool", name, "/name")
            findings.append(make_finding(rule, location, name, detail=f"Also offered by: {others}."))
    return findings


def inventory_findings(definitions: Sequence[DefinitionText], engine: Engine, index: ToolIndex) -> list[Finding]:
    """Run every inventory-level rule in the engine's rule set."""
    findings: list[Finding] = []
    rules: dict[str, Any] = {r.check: r for r in engine.all_rules if r.check in INVENTORY_CHECKS}
    if REFERENCE_CHECK in rules:
        findings += tool_references(definitions, index, rules[REFERENCE_CHECK], engine)
    if COLLISION_CHECK in rules:
        findings += name_collisions(index, rules[COLLISION_CHECK])
    return findings
