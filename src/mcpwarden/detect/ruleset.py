"""Rules are data: YAML files under `detect/rules/`, loaded and validated here.

A rule file holds `rules: [...]`; each rule has an id (stable, never reused), a title, severity,
confidence, message, remediation, refs, and `cases` it must flag and must not flag. Text rules
carry `patterns`; rules implemented in code name a `check` instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mcpwarden.errors import RuleError
from mcpwarden.types import Confidence, Finding, Location, Severity, escape_evidence

# libyaml's safe loader is ~10x faster than the pure-Python one; both only build plain data.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

TEXT_KINDS = frozenset(
    {"tool_description", "parameter_description", "tool_output", "tool_arguments", "prompt", "resource"}
)
_REQUIRED = ("id", "title", "severity", "confidence", "message", "remediation", "refs", "cases")
_KNOWN = {*_REQUIRED, "kinds", "patterns", "check", "options"}


@dataclass(frozen=True)
class Rule:
    """One detection rule as declared in its YAML file."""

    id: str
    title: str
    severity: Severity
    confidence: Confidence
    message: str
    remediation: str
    refs: tuple[str, ...]
    kinds: frozenset[str]
    patterns: tuple[str, ...]
    check: str | None
    options: Mapping[str, Any]
    flag_cases: tuple[Any, ...]
    ok_cases: tuple[Any, ...]
    source: str


def _rule_from(raw: Any, source: str) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError("a rule must be a mapping", where=source)
    where = f"{source}:{raw.get('id', '?')}"
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise RuleError(f"missing keys {missing}", where=where)
    unknown = set(raw) - _KNOWN
    if unknown:
        raise RuleError(f"unknown keys {sorted(unknown)}", where=where)
    patterns = raw.get("patterns") or []
    check = raw.get("check")
    if bool(patterns) == bool(check):
        raise RuleError("a rule needs exactly one of `patterns` or `check`", where=where)
    kinds = frozenset(raw.get("kinds") or [])
    bad_kinds = kinds - TEXT_KINDS - {"config", "definition", "server", "inventory"}
    if bad_kinds:
        raise RuleError(f"unknown kinds {sorted(bad_kinds)}", where=where)
    cases = raw["cases"]
    if not isinstance(cases, dict) or not cases.get("flag") or not cases.get("ok"):
        raise RuleError("`cases` needs non-empty `flag` and `ok` lists", where=where)
    refs = tuple(str(r) for r in raw["refs"])
    if not refs:
        raise RuleError("`refs` must name at least one OWASP or CWE id", where=where)
    try:
        severity = Severity.parse(str(raw["severity"]))
        confidence = Confidence.parse(str(raw["confidence"]))
    except ValueError as exc:
        raise RuleError(str(exc), where=where) from None
    return Rule(
        id=str(raw["id"]),
        title=str(raw["title"]),
        severity=severity,
        confidence=confidence,
        message=str(raw["message"]).strip(),
        remediation=str(raw["remediation"]).strip(),
        refs=refs,
        kinds=kinds,
        patterns=tuple(str(p) for p in patterns),
        check=str(check) if check else None,
        options=dict(raw.get("options") or {}),
        flag_cases=tuple(cases["flag"]),
        ok_cases=tuple(cases["ok"]),
        source=source,
    )


def load_rule_file(path: Path) -> list[Rule]:
    """Load one YAML rule file; any defect is a RuleError naming the file and rule."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise RuleError(f"cannot read rule file: {exc}", where=str(path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RuleError("expected a top-level `rules:` list", where=str(path))
    return [_rule_from(raw, path.name) for raw in data["rules"]]


def _check_unique(rules: Iterable[Rule]) -> list[Rule]:
    seen: dict[str, str] = {}
    out = []
    for rule in rules:
        if rule.id in seen:
            raise RuleError(f"rule id {rule.id} is declared twice", where=f"{seen[rule.id]}, {rule.source}")
        seen[rule.id] = rule.source
        out.append(rule)
    return out


def builtin_rules() -> list[Rule]:
    """Every rule shipped in the package, ids unique."""
    root = resources.files("mcpwarden.detect") / "rules"
    files = sorted((p for p in root.iterdir() if p.name.endswith((".yaml", ".yml"))), key=lambda p: p.name)
    rules: list[Rule] = []
    for item in files:
        rules.extend(load_rule_file(Path(str(item))))
    return _check_unique(rules)


def rules_by_id() -> dict[str, Rule]:
    return {r.id: r for r in builtin_rules()}


def make_finding(
    rule: Rule,
    location: Location,
    evidence: str = "",
    *,
    detail: str | None = None,
    severity: Severity | None = None,
    escape: bool = True,
) -> Finding:
    """A Finding for `rule` at `location`; evidence is escaped unless the caller already did so."""
    message = f"{rule.message} {detail}".strip() if detail else rule.message
    return Finding(
        rule_id=rule.id,
        title=rule.title,
        severity=severity if severity is not None else rule.severity,
        confidence=rule.confidence,
        location=location,
        message=message,
        evidence=escape_evidence(evidence) if escape else evidence,
        remediation=rule.remediation,
        refs=rule.refs,
    )
