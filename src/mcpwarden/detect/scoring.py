"""From matches to one 0..1 score per text, and from the score to the decision to flag (block).

The formula, for the rules that fired on a text (one match per rule):

    rule_score = 1 - Π_r (1 - w_r),     w_r = SEVERITY_WEIGHT[severity_r] × CONFIDENCE_WEIGHT[confidence_r]

a noisy-OR: each rule is an independent chance that the text is an attack, so one strong rule is
enough and several weak ones add up (two medium/medium rules, 0.36 each, give 0.59). When the optional
learned scorer (`mcpwarden.detect.ml`) is installed, its probability `ml` joins as one more signal:

    combine(rule_score, ml, kind) = 1 - (1 - rule_score) × (1 - ml_weight[kind] × ml)

and without it the score is the rule score. A text is flagged when `score >= threshold[kind]`: one
threshold per kind serves both. The thresholds and ML weights are data (`thresholds.yaml`), chosen by
`bench/detect/calibrate.py` on the held-out calibration split of the learned detector's training set
(never an evaluation set): the threshold keeps the rules alone within three quarters of the kind's
false-positive budget, and the weight is the largest with which the learned score adds at most a
quarter more (so `ml` alone flags at `ml >= threshold / ml_weight`).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import yaml

from mcpwarden.detect.ruleset import TEXT_KINDS
from mcpwarden.errors import RuleError

DEFAULT_THRESHOLD = 0.5
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Scorer(Protocol):
    """A learned classifier: the probability (0..1) that `text`, read as `kind`, is an injection."""

    def score(self, text: str, kind: str) -> float: ...


@dataclass(frozen=True)
class Thresholds:
    """One flagging threshold per text kind, and how much the learned score counts per kind."""

    by_kind: Mapping[str, float] = field(default_factory=dict)
    ml_weight: Mapping[str, float] = field(default_factory=dict)
    default: float = DEFAULT_THRESHOLD

    def threshold(self, kind: str) -> float:
        return self.by_kind.get(kind, self.default)


def combine(rule_score: float, ml_score: float | None, kind: str, thresholds: Thresholds | None = None) -> float:
    """The text's score: the rule score, joined by the learned score (noisy-OR) when there is one.

    Out-of-range or non-finite learned scores are clamped to 0..1 (NaN counts as 0): a broken model
    must not raise the score to 1 everywhere, nor hide a rule match.
    """
    if ml_score is None:
        return rule_score
    ml = ml_score if 0.0 <= ml_score <= 1.0 else (1.0 if ml_score > 1.0 else 0.0)  # NaN fails both tests
    weight = (thresholds or Thresholds()).ml_weight.get(kind, 1.0)
    return round(1.0 - (1.0 - rule_score) * (1.0 - weight * ml), 4)


def calibrate(benign_scores: Sequence[float], max_fpr: float) -> float:
    """The lowest threshold at which at most `max_fpr` of `benign_scores` are flagged (`score >= t`).

    Only observed scores are candidates, so the result is the score of some benign text, or just
    above the highest one when even that would flag too many.
    """
    if not benign_scores or not 0.0 <= max_fpr < 1.0:
        raise ValueError("need benign scores and a false-positive budget in [0, 1)")
    ordered = sorted(benign_scores)
    allowed = int(max_fpr * len(ordered))  # benign texts that may be flagged
    for candidate in sorted(set(ordered)):
        if candidate <= 0.0:
            continue
        flagged = len(ordered) - bisect.bisect_left(ordered, candidate)
        if flagged <= allowed:
            return candidate
    return min(1.0, round(ordered[-1] + 1e-4, 4))


def _kind_map(raw: Any, where: str, *, low: float, high: float) -> Mapping[str, float]:
    if not isinstance(raw, dict):
        raise RuleError("expected a mapping of text kind to number", where=where)
    out: dict[str, float] = {}
    for kind, value in raw.items():
        if kind not in TEXT_KINDS:
            raise RuleError(f"unknown text kind {kind!r}", where=where)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise RuleError(f"{kind}: expected a number in [{low}, {high}], found {value!r}", where=where)
        out[kind] = float(value)
    return MappingProxyType(out)


def load_thresholds(path: Path | None = None) -> Thresholds:
    """Thresholds from `path`, or the shipped `detect/thresholds.yaml`; a bad file is a RuleError."""
    where = str(path) if path else "detect/thresholds.yaml"
    try:
        text = (
            path.read_text("utf-8")
            if path
            else (resources.files("mcpwarden.detect") / "thresholds.yaml").read_text("utf-8")
        )
        data = yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise RuleError(f"cannot read thresholds: {exc}", where=where) from None
    if not isinstance(data, dict) or not isinstance(data.get("thresholds"), dict):
        raise RuleError("expected a top-level `thresholds:` mapping", where=where)
    by_kind = _kind_map(data["thresholds"], f"{where}:thresholds", low=0.0001, high=1.0)
    ml_weight = _kind_map(data.get("ml_weight") or {}, f"{where}:ml_weight", low=0.0, high=1.0)
    return Thresholds(by_kind, ml_weight)
