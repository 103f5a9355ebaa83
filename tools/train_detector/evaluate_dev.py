"""Score the dev set (../shared/eval/) with the packaged learned scorer, after training is frozen.

Usage: python tools/train_detector/evaluate_dev.py [--eval ../shared/eval] [--work tools/train_detector/work]

Reports per kind: precision/recall/FPR at the calibrated 0.5 threshold, the best recall at
FPR <= 1% (tool outputs) / <= 2% (tool descriptions), ROC AUC, recall and FPR per source, and how
many dev rows share most of their word 8-grams with a training row (public upstream text can
appear in both; those rows are also reported apart). Then speed: texts/s over the dev rows and the
median latency for a 4 KB text, on one core. Nothing here feeds back into training.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import zlib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from bench.detect.metrics import best_recall_at_fpr, confusion, roc_auc  # noqa: E402

from mcpwarden.detect.ml import Scorer, load_scorer  # noqa: E402
from mcpwarden.detect.ml.scorer import LinearScorer  # noqa: E402

MAX_FPR = {"tool_output": 0.01, "tool_description": 0.02}
OVERLAP = 0.5


def shingles(text: str) -> set[int]:
    words = text.lower().split()
    return {zlib.crc32(" ".join(words[i : i + 8]).encode()) for i in range(max(1, len(words) - 7))}


def figures(labels: list[int], scores: list[float], max_fpr: float) -> dict[str, Any]:
    counts = confusion(labels, [s >= 0.5 for s in scores])
    point = best_recall_at_fpr(labels, scores, max_fpr)
    r = lambda v: None if v is None else round(v, 3)  # noqa: E731
    return {
        "rows": len(labels),
        "positives": counts.positives,
        "negatives": counts.negatives,
        "precision@0.5": r(counts.precision),
        "recall@0.5": r(counts.recall),
        "fpr@0.5": r(counts.fpr),
        f"best_recall@fpr<={max_fpr}": r(point.recall),
        "its_threshold": r(point.threshold),
        "its_fpr": r(point.fpr),
        "roc_auc": r(roc_auc(labels, scores)),
    }


def speed(scorer: Scorer, texts: list[str]) -> dict[str, float]:
    start = time.perf_counter()
    for text in texts:
        scorer.score(text, "tool_output")
    elapsed = time.perf_counter() - start
    sample = (Path(json.__file__).read_text(encoding="utf-8") * 3)[:4096]
    times = []
    for _ in range(300):
        t0 = time.perf_counter()
        scorer.score(sample, "tool_output")
        times.append(time.perf_counter() - t0)
    return {
        "texts_per_s": round(len(texts) / elapsed, 1),
        "mb_per_s": round(sum(map(len, texts)) / elapsed / 1e6, 3),
        "median_ms_4kb": round(statistics.median(times) * 1e3, 3),
        "p95_ms_4kb": round(sorted(times)[int(len(times) * 0.95)] * 1e3, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", type=Path, default=REPO.parent / "shared/eval")
    parser.add_argument("--work", type=Path, default=HERE / "work")
    parser.add_argument("--weights", type=Path, help="a weights file other than the packaged one")
    args = parser.parse_args()
    scorer = LinearScorer.from_file(args.weights) if args.weights else load_scorer()
    if scorer is None:
        raise SystemExit("the learned scorer does not load (is numpy installed and the weights file present?)")
    train_shingles: set[int] = set()
    dataset = args.work / "dataset.jsonl"
    if dataset.exists():
        for line in dataset.read_text(encoding="utf-8").splitlines():
            train_shingles |= shingles(json.loads(line)["text"])
    report: dict[str, Any] = {"scorer": f"{scorer.name} {scorer.version}"}
    all_texts = []
    for path in sorted(args.eval.glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        kind = rows[0]["kind"]
        scores = [scorer.score(row["text"], kind) for row in rows]
        labels = [int(row["label"]) for row in rows]
        all_texts += [row["text"] for row in rows]
        overlap = [len(shingles(row["text"]) & train_shingles) / len(shingles(row["text"])) > OVERLAP for row in rows]
        entry = figures(labels, scores, MAX_FPR[kind])
        entry["rows_overlapping_training_text"] = sum(overlap)
        if any(overlap):
            keep = [i for i, o in enumerate(overlap) if not o]
            entry["without_overlapping_rows"] = figures(
                [labels[i] for i in keep], [scores[i] for i in keep], MAX_FPR[kind]
            )
        per_source: dict[str, dict[str, Any]] = {}
        for row, score in zip(rows, scores, strict=True):
            src = per_source.setdefault(str(row["source"]).split(":")[0], {"pos": 0, "hit": 0, "neg": 0, "fp": 0})
            if row["label"]:
                src["pos"] += 1
                src["hit"] += score >= 0.5
            else:
                src["neg"] += 1
                src["fp"] += score >= 0.5
        entry["by_source"] = {
            k: {
                "recall@0.5": round(v["hit"] / v["pos"], 3) if v["pos"] else None,
                "fpr@0.5": round(v["fp"] / v["neg"], 3) if v["neg"] else None,
                "rows": v["pos"] + v["neg"],
            }
            for k, v in sorted(per_source.items())
        }
        report[kind] = entry
    report["speed_one_core"] = speed(scorer, all_texts)
    text = json.dumps(report, indent=1)
    print(text)
    (args.work / "dev_eval.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
