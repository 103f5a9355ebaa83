"""Pinning: trust each definition on first use, then report when it changes (a rug pull).

A server that was enumerated successfully is compared with its pins; a server that could not
be reached is skipped, since a dead server has not "removed all its tools". Findings:

- MW401: a definition's hash differs from its pin. The pin is kept, so the finding repeats on
  every scan until the user accepts the new definition. Evidence is a readable diff.
- MW402: a server that already has pins exposes a definition it did not have.
- MW403: a pinned definition is gone from a server that answered.

A server seen for the first time is pinned whole without findings (trust on first use).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from mcpwarden.detect.ruleset import Rule, load_rule_file, make_finding
from mcpwarden.storage.base import InventoryStore, Pin
from mcpwarden.types import DefinitionKind, Finding, Location, ServerInventory, ToolDef, escape_evidence

_RULE_FILE = "pinning.yaml"
_LINE_LIMIT = 300  # one diff line, after escaping
_VALUE_LIMIT = 160  # one old/new value in a pointer-level change
_EVIDENCE_LIMIT = 4000  # the whole diff
_SHORT_TEXT = 80  # longer strings are shown as a text diff rather than old → new
# Split after sentence-ending punctuation, before the space: a sentence appended to a one-line
# description then shows as one added line instead of the whole paragraph replaced.
_SENTENCE_END = re.compile(r"(?<=[.!?])(?=[ \t])")

_Key = tuple[DefinitionKind, str]
_Change = tuple[str, str, Any, Any]  # (op "+", "-" or "~", JSON pointer, old value, new value)


def pinning_rules() -> dict[str, Rule]:
    """The MW401–MW403 rules from `detect/rules/pinning.yaml`."""
    path = Path(str(resources.files("mcpwarden.detect") / "rules" / _RULE_FILE))
    return {rule.id: rule for rule in load_rule_file(path)}


# -- diff


def _pointer(parent: str, key: str | int) -> str:
    token = str(key).replace("~", "~0").replace("/", "~1")
    return f"{parent}/{token}"


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _walk(old: Any, new: Any, ptr: str, out: list[_Change]) -> None:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(set(old) | set(new), key=str):
            if ptr == "" and key == "_meta":
                continue  # excluded from the hash too: transport metadata the model does not see
            child = _pointer(ptr, key)
            if key not in new:
                out.append(("-", child, old[key], None))
            elif key not in old:
                out.append(("+", child, None, new[key]))
            else:
                _walk(old[key], new[key], child, out)
    elif isinstance(old, list) and isinstance(new, list) and any(isinstance(v, dict | list) for v in old + new):
        for i in range(max(len(old), len(new))):
            child = _pointer(ptr, i)
            if i >= len(new):
                out.append(("-", child, old[i], None))
            elif i >= len(old):
                out.append(("+", child, None, new[i]))
            else:
                _walk(old[i], new[i], child, out)
    elif _json(old) != _json(new):  # not `!=`: 1 == 1.0 == True in Python, yet they hash apart
        out.append(("~", ptr, old, new))


def definition_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[_Change]:
    """Every JSON pointer where two definitions differ, as (op, pointer, old, new); `_meta` ignored."""
    out: list[_Change] = []
    _walk(old, new, "", out)
    return out


def _segments(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        out.extend(part for part in _SENTENCE_END.split(line) if part)
    return out


def text_diff(old: str, new: str) -> list[str]:
    """A unified diff of two texts, one sentence or line per row, every row escaped for display.

    Hidden characters appear as `\\u{…}`, so a change invisible on screen is visible here.
    """
    rows: list[str] = []
    for row in difflib.unified_diff(_segments(old), _segments(new), lineterm="", n=1):
        if row.startswith(("---", "+++")):
            continue
        if row.startswith("@@"):
            if rows:
                rows.append("  …")
            continue
        rows.append(f"  {row[0]}{escape_evidence(row[1:], limit=_LINE_LIMIT)}")
    return rows


def _value(value: Any) -> str:
    return escape_evidence(_json(value), limit=_VALUE_LIMIT)


def _is_text_change(change: _Change) -> bool:
    op, ptr, old, new = change
    if op != "~" or not isinstance(old, str) or not isinstance(new, str):
        return False
    return ptr == "/description" or "\n" in old + new or max(len(old), len(new)) > _SHORT_TEXT


def render_changes(changes: Sequence[_Change]) -> str:
    """Evidence for MW401: text diffs for prose, `+`/`-`/`~ pointer: old → new` for structure."""
    rows: list[str] = []
    for change in changes:
        op, ptr, old, new = change
        where = ptr or "/"
        if _is_text_change(change):
            rows.append(f"{where}:")
            rows.extend(text_diff(old, new))
        elif op == "~":
            rows.append(f"~ {where}: {_value(old)} → {_value(new)}")
        elif op == "+":
            rows.append(f"+ {where}: {_value(new)}")
        else:
            rows.append(f"- {where}: {_value(old)}")
    kept: list[str] = []
    size = 0
    for i, row in enumerate(rows):
        size += len(row) + 1
        if size > _EVIDENCE_LIMIT:
            kept.append(f"… ({len(rows) - i} more lines)")
            break
        kept.append(row)
    return "\n".join(kept)


# -- comparison


def _enumerated(inventories: Sequence[ServerInventory]) -> dict[str, dict[_Key, ToolDef]]:
    """Definitions of every server that answered, keyed by server name; first of any duplicate wins."""
    out: dict[str, dict[_Key, ToolDef]] = {}
    for inv in inventories:
        if not inv.ok:
            continue
        server = inv.spec.name
        defs = out.setdefault(server, {})
        for d in inv.definitions:
            d = d if d.server == server else replace(d, server=server)
            defs.setdefault((d.kind, d.name), d)
    return out


def _changed(rule: Rule, pin: Pin, current: ToolDef) -> Finding:
    changes = definition_changes(pin.definition, current.definition)
    evidence = render_changes(changes) if changes else f"hash {pin.hash[:12]} → {current.hash[:12]}"
    pointers = [ptr or "/" for _, ptr, _, _ in changes]
    shown = ", ".join(pointers[:5]) + (f" and {len(pointers) - 5} more" if len(pointers) > 5 else "")
    location = Location(
        server=pin.server, kind=pin.kind, tool=pin.name, pointer=pointers[0] if len(pointers) == 1 else None
    )
    detail = f"Changed: {shown or 'canonical form'} (pinned {pin.accepted_at})."
    return make_finding(rule, location, evidence, detail=detail, escape=False)


def _added(rule: Rule, current: ToolDef) -> Finding:
    location = Location(server=current.server, kind=current.kind, tool=current.name)
    evidence = current.description or _json(dict(current.definition))
    return make_finding(rule, location, evidence)


def _removed(rule: Rule, pin: Pin) -> Finding:
    location = Location(server=pin.server, kind=pin.kind, tool=pin.name)
    detail = f"Last seen {pin.last_seen}."
    return make_finding(rule, location, pin.as_tooldef().description, detail=detail)


def _compare(
    pins: Sequence[Pin], enumerated: Mapping[str, Mapping[_Key, ToolDef]], rules: Mapping[str, Rule]
) -> list[Finding]:
    by_server: dict[str, dict[_Key, Pin]] = {}
    for pin in pins:
        active = by_server.setdefault(pin.server, {})
        if pin.status == "active":
            active[(pin.kind, pin.name)] = pin
    findings: list[Finding] = []
    for server, current in enumerated.items():
        if server not in by_server:
            continue  # never pinned: trust on first use
        active = by_server[server]
        for key, d in current.items():
            pinned = active.get(key)
            if pinned is None:
                findings.append(_added(rules["MW402"], d))
            elif pinned.hash != d.hash:
                findings.append(_changed(rules["MW401"], pinned, d))
        findings.extend(_removed(rules["MW403"], gone) for key, gone in active.items() if key not in current)
    return findings


def compare_with_pins(
    store: InventoryStore, inventories: Sequence[ServerInventory], *, rules: Mapping[str, Rule] | None = None
) -> list[Finding]:
    """Findings for every difference between what the servers expose now and their pins; writes nothing."""
    return _compare(store.get_pins(), _enumerated(inventories), rules or pinning_rules())


def pin_scan(
    store: InventoryStore,
    inventories: Sequence[ServerInventory],
    *,
    scan_id: int,
    auto_accept_new: bool = True,
    rules: Mapping[str, Rule] | None = None,
) -> list[Finding]:
    """Compare with the pins, record what scan `scan_id` observed, then pin what had no pin.

    A server seen for the first time is always pinned whole (trust on first use). A definition
    new on an already pinned server is pinned right away when `auto_accept_new` (MW402 is then
    reported once); otherwise it stays unpinned and MW402 repeats until `accept`. Changed and
    removed definitions are never accepted here.
    """
    pins = store.get_pins()
    enumerated = _enumerated(inventories)
    findings = _compare(pins, enumerated, rules or pinning_rules())
    identities = {inv.spec.name: inv.spec.identity for inv in inventories if inv.ok}
    observed = [d for defs in enumerated.values() for d in defs.values()]
    store.observe(scan_id, observed, servers=identities)
    known = {pin.server for pin in pins}
    pinned = {(pin.server, pin.kind, pin.name) for pin in pins if pin.status == "active"}
    fresh = [
        d for d in observed if (d.server, d.kind, d.name) not in pinned and (auto_accept_new or d.server not in known)
    ]
    if fresh:
        store.accept(current=fresh)
    return findings
