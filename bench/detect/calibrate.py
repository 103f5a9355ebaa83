"""Calibrate the per-kind flagging thresholds and learned-score weights (detect/thresholds.yaml).

    python bench/detect/calibrate.py            # report the thresholds and weights the budgets allow
    python bench/detect/calibrate.py --write    # … and write them to thresholds.yaml
    python bench/detect/calibrate.py --show 20  # list the 20 highest-scoring benign texts per kind

Data: the held-out `calib` split of the learned detector's training set
(tools/train_detector/work/dataset.jsonl, built by tools/train_detector/build_dataset.py), never the
dev set ../shared/eval. Its benign rows are real documents (READMEs, man pages, docs, e-mails, code)
and the project's synthetic tool results; its injected rows are public attack texts and the
project's synthetic injections planted in such carriers.

One threshold per kind serves both modes of the engine (scoring.py):
1. Rules only: the threshold is the lowest rule score at which at most three quarters of the kind's
   false-positive budget (tool_output 1%, tool_description 2%) of the benign rows is flagged, and
   never below 0.5, so that one medium-weight rule alone does not block.
2. Rules and learned score: with that threshold fixed, the learned score's weight in the noisy-OR is
   the largest for which the combined score flags at most a quarter of the budget *more* benign
   rows than the rules alone, counted separately on the real documents and on the synthetic benign
   texts (each must stay within it). So the rules and the learned score together stay within the
   budget, and rules-only mode keeps its threshold. The benign rows include the generators'
   deliberate look-alikes, which are harder than ordinary text: that is the margin for data unlike
   the calibration set. A weight w means the learned
   score alone flags at `ml >= threshold / w`.
Kinds without rows of their own reuse the nearest kind's values.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mcpwarden.detect import Engine
from mcpwarden.detect.engine import learned_scorer
from mcpwarden.detect.ruleset import builtin_rules
from mcpwarden.detect.scoring import DEFAULT_THRESHOLD, Scorer, Thresholds, calibrate, combine

REPO = Path(__file__).resolve().parents[2]
DATASET = REPO / "tools" / "train_detector" / "work" / "dataset.jsonl"
THRESHOLDS = REPO / "src" / "mcpwarden" / "detect" / "thresholds.yaml"
BUDGETS = {"tool_description": 0.02, "tool_output": 0.01}
MARGIN = 0.75  # calibrate the rules to this share of the budget (the learned score may add the rest)
ML_SHARE = 0.25  # the share of the budget the learned score may add
FLOOR = DEFAULT_THRESHOLD  # never lower: one medium-weight rule alone must not block
SHARES = {  # kinds without rows of their own: which kind stands for them
    "parameter_description": "tool_description",
    "prompt": "tool_description",
    "tool_arguments": "tool_output",
    "resource": "tool_output",
}
WEIGHTS = [round(0.30 + 0.0025 * i, 4) for i in range(281)]  # 0.30 .. 1.00


@dataclass(frozen=True)
class Row:
    text: str
    label: int
    real: bool  # a real document (not one of the generators' texts)
    source: str


@dataclass(frozen=True)
class Scored:
    rows: list[Row]
    rules: list[float]
    ml: list[float] | None


def load_calib(path: Path, kind: str) -> list[Row]:
    """The `calib` split's rows of one kind."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            raw = json.loads(line)
            if raw["split"] == "calib" and raw["kind"] == kind:
                source = str(raw["source"])
                rows.append(Row(raw["text"], int(raw["label"]), not source.startswith("synthetic"), source))
    return rows


def score_rows(rows: Sequence[Row], kind: str, engine: Engine, scorer: Scorer | None) -> Scored:
    """Rule scores (the engine without a learned scorer) and learned scores, as the engine computes them."""
    rules = [engine.detect(r.text, kind).score for r in rows]
    ml = [float(scorer.score(r.text[: engine.max_chars], kind)) for r in rows] if scorer else None
    return Scored(list(rows), rules, ml)


def _flag_rate(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def choose(scored: Scored, budget: float) -> dict[str, object]:
    """The kind's threshold (rules only) and the learned score's largest safe weight."""
    benign = [i for i, r in enumerate(scored.rows) if r.label == 0]
    positives = [i for i, r in enumerate(scored.rows) if r.label == 1]
    threshold = max(FLOOR, calibrate([scored.rules[i] for i in benign], budget * MARGIN))
    rule_flags = [scored.rules[i] >= threshold for i in range(len(scored.rows))]
    out: dict[str, object] = {
        "rows": len(scored.rows),
        "benign": len(benign),
        "injected": len(positives),
        "threshold": threshold,
        "rules_only": {
            "fpr": round(_flag_rate([rule_flags[i] for i in benign]), 4),
            "recall": round(_flag_rate([rule_flags[i] for i in positives]), 4),
        },
    }
    if scored.ml is None:
        return out
    ml = scored.ml
    groups = {
        "real": [i for i in benign if scored.rows[i].real],
        "synthetic": [i for i in benign if not scored.rows[i].real],
    }
    best: tuple[float, dict[str, object]] | None = None
    for weight in WEIGHTS:
        thresholds = Thresholds(ml_weight={"k": weight})
        combined = [combine(scored.rules[i], ml[i], "k", thresholds) >= threshold for i in range(len(scored.rows))]
        fprs = {name: _flag_rate([combined[i] for i in members]) for name, members in groups.items()}
        extra = {
            name: _flag_rate([combined[i] and not rule_flags[i] for i in members]) for name, members in groups.items()
        }
        if any(rate > budget * ML_SHARE for rate in extra.values()):
            break  # more weight only flags more
        best = (
            weight,
            {
                "ml_weight": weight,
                "ml_alone_flags_at": round(threshold / weight, 4),
                "fpr": round(_flag_rate([combined[i] for i in benign]), 4),
                "fpr_real_documents": round(fprs["real"], 4),
                "fpr_synthetic": round(fprs["synthetic"], 4),
                "fpr_added_real": round(extra["real"], 4),
                "fpr_added_synthetic": round(extra["synthetic"], 4),
                "recall": round(_flag_rate([combined[i] for i in positives]), 4),
            },
        )
    out["combined"] = best[1] if best else {"ml_weight": 0.0, "note": "no weight keeps the FPR within budget"}
    return out


def show(scored: Scored, kind: str, count: int, weight: float, threshold: float) -> None:
    """The highest-scoring benign rows (combined score), on stderr."""
    thresholds = Thresholds(ml_weight={kind: weight})
    ranked = sorted(
        (
            (combine(r_score, scored.ml[i] if scored.ml else None, kind, thresholds), scored.rows[i])
            for i, r_score in enumerate(scored.rules)
            if scored.rows[i].label == 0
        ),
        key=lambda x: -x[0],
    )
    for value, row in ranked[:count]:
        mark = "*" if value >= threshold else " "
        print(f"{mark}{kind} {value:.4f} {row.source} {json.dumps(row.text[:160])}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATASET, help="the training set (its calib split is used)")
    parser.add_argument("--write", action="store_true", help="write the thresholds and weights to thresholds.yaml")
    parser.add_argument("--show", type=int, default=0, help="list this many top-scoring benign texts per kind")
    parser.add_argument("--no-ml", action="store_true", help="rules only (leave the learned weights at 0)")
    parser.add_argument("--weights", type=Path, help="a learned weights file other than the packaged one")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"error: {args.data} is missing; build it with tools/train_detector/build_dataset.py", file=sys.stderr)
        return 2
    engine = Engine(builtin_rules(), thresholds=Thresholds())
    scorer = None if args.no_ml else learned_scorer()
    if args.weights and not args.no_ml:
        from mcpwarden.detect.ml.scorer import LinearScorer  # needs the ml extra

        scorer = LinearScorer.from_file(args.weights)
    if scorer is None and not args.no_ml:
        print("error: the learned scorer does not load (install the ml extra) or pass --no-ml", file=sys.stderr)
        return 2
    thresholds: dict[str, float] = {}
    weights: dict[str, float] = {}
    report: dict[str, object] = {}
    for kind, budget in BUDGETS.items():
        scored = score_rows(load_calib(args.data, kind), kind, engine, scorer)
        found = choose(scored, budget)
        thresholds[kind] = float(found["threshold"])  # type: ignore[arg-type]
        combined = found.get("combined")
        weights[kind] = float(combined["ml_weight"]) if isinstance(combined, dict) else 0.0
        report[kind] = found
        if args.show:
            show(scored, kind, args.show, weights[kind], thresholds[kind])
    for kind, base in SHARES.items():
        thresholds[kind], weights[kind] = thresholds[base], weights[base]
    print(json.dumps(report, indent=2))
    if args.write:
        write(thresholds, weights)
        print(f"wrote {THRESHOLDS}")
    return 0


def write(thresholds: dict[str, float], weights: dict[str, float]) -> None:
    """Rewrite thresholds.yaml with the chosen thresholds and learned-score weights."""
    lines = [
        "# One flagging threshold per text kind: a text is flagged (the gateway blocks or redacts it) when its",
        "# score (detect/scoring.py) is at least the threshold of its kind. Written by bench/detect/calibrate.py",
        "# from the held-out calib split of the learned detector's training set (never the evaluation set): the",
        "# lowest rule score at which at most three quarters of the kind's false-positive budget (tool_output 1%,",
        "# tool_description 2%) is flagged, and never below 0.5.",
        "thresholds:",
        *(f"  {kind}: {thresholds[kind]}" for kind in sorted(thresholds)),
        "# Weight of the optional learned scorer's probability in the noisy-OR (detect/scoring.py combine): the",
        "# largest with which the combined score flags at most a quarter of the budget more benign texts than the",
        "# rules alone, on real documents and on synthetic benign texts alike. The learned score alone flags at",
        "# ml >= threshold / weight.",
        "ml_weight:",
        *(f"  {kind}: {weights[kind]}" for kind in sorted(weights)),
        "",
    ]
    THRESHOLDS.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
