"""Detection quality metrics: confusion counts, precision/recall/F1/FPR, and a threshold sweep.

Stdlib only, so the baseline detectors' own virtual environments can import it too.

Conventions:
- label 1 = injected/poisoned (positive), 0 = benign (negative).
- A row counts as flagged at threshold t when its score >= t.
- A ratio whose denominator is zero is undefined and returned as None (never silently 0 or 1):
  a source with no benign rows has no false-positive rate, one with no injected rows has no recall.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass(frozen=True)
class Confusion:
    """Counts of one detector's decisions against the labels."""

    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    @property
    def positives(self) -> int:
        return self.tp + self.fn

    @property
    def negatives(self) -> int:
        return self.fp + self.tn

    @property
    def precision(self) -> float | None:
        """Share of flagged rows that are injected; None when nothing was flagged."""
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        """Share of injected rows that were flagged (true-positive rate); None without injected rows."""
        return _ratio(self.tp, self.positives)

    @property
    def fpr(self) -> float | None:
        """Share of benign rows that were flagged (false-positive rate); None without benign rows."""
        return _ratio(self.fp, self.negatives)

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall; 0 when both are 0, None when either is undefined."""
        p, r = self.precision, self.recall
        if p is None or r is None:
            # Nothing flagged but injected rows exist: the detector found none of them.
            return 0.0 if p is None and r == 0.0 else None
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def confusion(labels: Sequence[int], flagged: Sequence[bool]) -> Confusion:
    """Count true/false positives/negatives of `flagged` against `labels` (same order and length)."""
    if len(labels) != len(flagged):
        raise ValueError(f"{len(labels)} labels but {len(flagged)} decisions")
    tp = fp = tn = fn = 0
    for label, flag in zip(labels, flagged, strict=True):
        if label not in (0, 1):
            raise ValueError(f"label must be 0 or 1, got {label!r}")
        if label == 1:
            tp, fn = (tp + 1, fn) if flag else (tp, fn + 1)
        else:
            fp, tn = (fp + 1, tn) if flag else (fp, tn + 1)
    return Confusion(tp=tp, fp=fp, tn=tn, fn=fn)


@dataclass(frozen=True)
class OperatingPoint:
    """One threshold on the score and what it yields.

    `threshold` is None when no threshold beats "flag nothing" within the FPR budget
    (then recall is 0 and nothing is flagged).
    """

    threshold: float | None
    counts: Confusion

    @property
    def recall(self) -> float | None:
        return self.counts.recall

    @property
    def fpr(self) -> float | None:
        return self.counts.fpr


def roc_points(labels: Sequence[int], scores: Sequence[float]) -> list[OperatingPoint]:
    """Every distinct operating point, from "flag nothing" down to the lowest score (ROC order).

    Rows with equal scores are flagged together, so each distinct score is one point.
    """
    if len(labels) != len(scores):
        raise ValueError(f"{len(labels)} labels but {len(scores)} scores")
    pos = sum(1 for label in labels if label == 1)
    neg = len(labels) - pos
    ranked = sorted(zip(scores, labels, strict=True), key=lambda pair: pair[0], reverse=True)
    points = [OperatingPoint(threshold=None, counts=Confusion(tp=0, fp=0, tn=neg, fn=pos))]
    tp = fp = 0
    i = 0
    while i < len(ranked):
        threshold = ranked[i][0]
        # Take the whole run of equal scores: a threshold cannot split them.
        while i < len(ranked) and ranked[i][0] == threshold:
            if ranked[i][1] == 1:
                tp += 1
            else:
                fp += 1
            i += 1
        points.append(OperatingPoint(threshold=threshold, counts=Confusion(tp=tp, fp=fp, tn=neg - fp, fn=pos - tp)))
    return points


def best_recall_at_fpr(labels: Sequence[int], scores: Sequence[float], max_fpr: float) -> OperatingPoint:
    """The threshold with the highest recall whose FPR stays <= `max_fpr`.

    Among thresholds with equal recall, the highest (fewest false alarms) wins. Without benign
    rows the FPR is taken as 0, so the lowest threshold is admissible.
    """
    best: OperatingPoint | None = None
    for point in roc_points(labels, scores):
        fpr = point.fpr or 0.0
        if fpr > max_fpr + 1e-12:
            # FPR only grows as the threshold falls: no later point can be admissible.
            break
        if best is None or (point.recall or 0.0) > (best.recall or 0.0):
            best = point
    assert best is not None  # the "flag nothing" point always has FPR 0
    return best


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve (trapezoids; ties count half); None without both classes."""
    points = roc_points(labels, scores)
    if points[0].counts.positives == 0 or points[0].counts.negatives == 0:
        return None
    area = 0.0
    for prev, cur in itertools.pairwise(points):
        x0, x1 = prev.fpr or 0.0, cur.fpr or 0.0
        y0, y1 = prev.recall or 0.0, cur.recall or 0.0
        area += (x1 - x0) * (y0 + y1) / 2
    return area


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def fmt_ratio(value: float | None, digits: int = 3) -> str:
    """A ratio for a table: fixed digits, or an em dash when undefined."""
    return "—" if value is None else f"{value:.{digits}f}"
