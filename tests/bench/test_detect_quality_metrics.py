"""The detection benchmark's metrics, on a hand-made table whose answers are worked out below."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# bench/ is not an installed package: make the repo root importable so `bench.detect` resolves.
REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.detect.metrics import (  # noqa: E402
    Confusion,
    best_recall_at_fpr,
    confusion,
    percentile,
    roc_auc,
    roc_points,
)

# Ten rows: 4 injected (label 1), 6 benign. `flagged` is the detector's own decision.
#          r1    r2    r3    r4    r5    r6    r7    r8    r9    r10
LABELS = [1, 1, 0, 1, 0, 1, 0, 0, 0, 0]
SCORES = [0.9, 0.8, 0.7, 0.6, 0.6, 0.3, 0.2, 0.1, 0.1, 0.0]
FLAGGED = [True, True, True, False, False, False, False, False, False, False]


def test_fixed_threshold_figures_match_the_hand_count() -> None:
    # Flagged: r1, r2 (injected) and r3 (benign) -> TP 2, FP 1; missed r4, r6 -> FN 2; TN 5.
    c = confusion(LABELS, FLAGGED)
    assert (c.tp, c.fp, c.tn, c.fn) == (2, 1, 5, 2)
    assert c.precision == pytest.approx(2 / 3)
    assert c.recall == pytest.approx(1 / 2)
    assert c.fpr == pytest.approx(1 / 6)
    # F1 = 2PR/(P+R) = 2 * (2/3 * 1/2) / (2/3 + 1/2) = (2/3) / (7/6) = 4/7
    assert c.f1 == pytest.approx(4 / 7)


@pytest.mark.parametrize(
    ("counts", "precision", "recall", "fpr", "f1"),
    [
        # nothing flagged, injected rows exist: precision undefined, recall and F1 are 0
        (Confusion(tp=0, fp=0, tn=5, fn=3), None, 0.0, 0.0, 0.0),
        # a benign-only source: no recall, no F1; every flag is a false alarm
        (Confusion(tp=0, fp=2, tn=8, fn=0), 0.0, None, 0.2, None),
        # an injected-only source: no false-positive rate
        (Confusion(tp=3, fp=0, tn=0, fn=1), 1.0, 0.75, None, pytest.approx(6 / 7)),
        # flags only benign rows while injected rows exist: P = R = 0, F1 = 0 (not a division by zero)
        (Confusion(tp=0, fp=1, tn=1, fn=1), 0.0, 0.0, 0.5, 0.0),
    ],
)
def test_undefined_ratios_are_none_not_zero(
    counts: Confusion, precision: float | None, recall: float | None, fpr: float | None, f1: object
) -> None:
    assert counts.precision == precision
    assert counts.recall == recall
    assert counts.fpr == fpr
    assert counts.f1 == f1


def test_roc_points_flag_equal_scores_together() -> None:
    # Threshold -> (TP, FP), flagging score >= threshold. r4 (injected) and r5 (benign) tie at 0.6.
    expected = [
        (None, 0, 0),
        (0.9, 1, 0),
        (0.8, 2, 0),
        (0.7, 2, 1),
        (0.6, 3, 2),
        (0.3, 4, 2),
        (0.2, 4, 3),
        (0.1, 4, 5),
        (0.0, 4, 6),
    ]
    got = [(p.threshold, p.counts.tp, p.counts.fp) for p in roc_points(LABELS, SCORES)]
    assert got == expected


@pytest.mark.parametrize(
    ("max_fpr", "threshold", "recall", "fpr"),
    [
        (0.0, 0.8, 0.5, 0.0),  # r1, r2 before the first benign row
        # 0.7 is admissible (FPR 1/6) but adds no recall: the higher threshold wins
        (1 / 6, 0.8, 0.5, 0.0),
        # the 0.6 tie would take r4 and r5 together (FPR 2/6): not admissible at 0.2
        (0.2, 0.8, 0.5, 0.0),
        (1 / 3, 0.3, 1.0, 1 / 3),  # 0.3 reaches every injected row with 2 false alarms
        (0.5, 0.3, 1.0, 1 / 3),
        (1.0, 0.3, 1.0, 1 / 3),
    ],
)
def test_best_recall_at_fpr_sweeps_the_threshold(max_fpr: float, threshold: float, recall: float, fpr: float) -> None:
    point = best_recall_at_fpr(LABELS, SCORES, max_fpr)
    assert point.threshold == threshold
    assert point.recall == pytest.approx(recall)
    assert point.fpr == pytest.approx(fpr)


@pytest.mark.parametrize(
    ("labels", "scores", "max_fpr", "threshold", "recall"),
    [
        # the top-scored row is benign: with no FPR budget nothing may be flagged
        ([0, 1, 1], [0.9, 0.5, 0.4], 0.0, None, 0.0),
        # no benign rows: FPR counts as 0, the lowest score is admissible
        ([1, 1], [0.2, 0.1], 0.0, 0.1, 1.0),
        # a binary detector (scores 1/0) has one real operating point
        ([1, 0, 1, 0], [1.0, 0.0, 0.0, 0.0], 0.0, 1.0, 0.5),
    ],
)
def test_best_recall_at_fpr_edges(
    labels: list[int], scores: list[float], max_fpr: float, threshold: float | None, recall: float
) -> None:
    point = best_recall_at_fpr(labels, scores, max_fpr)
    assert point.threshold == threshold
    assert point.recall == pytest.approx(recall)


def test_roc_auc_matches_pairwise_count() -> None:
    # Pairs (injected, benign) ranked right: r1 beats all 6, r2 all 6, r4 beats 4 and ties r5 (0.5),
    # r6 beats 4 -> 20.5 of 24 pairs = 41/48.
    assert roc_auc(LABELS, SCORES) == pytest.approx(41 / 48)
    assert roc_auc([1, 1], [0.3, 0.2]) is None


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([4.0, 1.0, 3.0, 2.0], 50, 2.5),
        ([4.0, 1.0, 3.0, 2.0], 0, 1.0),
        ([4.0, 1.0, 3.0, 2.0], 100, 4.0),
        ([float(v) for v in range(1, 101)], 99, 99.01),  # rank 98.01 of 0..99 -> 99 + 0.01
        ([7.0], 99, 7.0),
    ],
)
def test_percentile_interpolates_between_ranks(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("labels", "flagged"),
    [([1, 0], [True]), ([2], [True])],
)
def test_confusion_rejects_bad_input(labels: list[int], flagged: list[bool]) -> None:
    with pytest.raises(ValueError):
        confusion(labels, flagged)
