"""Detection quality on the labelled dev set: mcpwarden and baselines, same rows, same run.

    python bench/detect/quality.py                       # mcpwarden detect on ../shared/eval: rules only and
                                                         # rules + learned score, side by side
    python bench/detect/quality.py --ml off              # rules only (--ml on: the combined score only)
    python bench/detect/quality.py --baseline cisco      # … side by side with Cisco's YARA rules
    python bench/detect/quality.py --command "python bench/detect/keyword_baseline.py" --name keyword
    python bench/detect/quality.py --json                # machine-readable summary on stdout

Per kind and per source: precision, recall, F1 and false-positive rate of the detector's own
`flagged` decision, and the best recall reachable by moving the score threshold while the FPR
stays within the kind's target budget (with the threshold it needs). Misses and false alarms go to
bench/results/detect-errors-<name>.txt (id, source, first 100 characters escaped); stdout only
ever shows counts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from metrics import Confusion, best_recall_at_fpr, confusion, fmt_ratio, roc_auc
from runner import (
    DEFAULT_DATA,
    KINDS,
    REPO,
    Answer,
    DetectorFailed,
    DetectorSpec,
    Row,
    baseline_spec,
    check_runnable,
    load_rows,
    main_spec,
    run_detector,
    write_request,
)

from mcpwarden.types import escape_evidence


@dataclass(frozen=True)
class Target:
    """A kind's goal: at least `recall` while the false-positive rate stays <= `max_fpr`."""

    recall: float
    max_fpr: float


TARGETS = {"tool_output": Target(recall=0.90, max_fpr=0.01), "tool_description": Target(recall=0.95, max_fpr=0.02)}
SNIPPET = 100


def _counts(c: Confusion) -> dict[str, Any]:
    return {
        "tp": c.tp,
        "fp": c.fp,
        "tn": c.tn,
        "fn": c.fn,
        "precision": c.precision,
        "recall": c.recall,
        "f1": c.f1,
        "fpr": c.fpr,
    }


def evaluate(rows: Sequence[Row], answers: dict[str, Answer]) -> dict[str, Any]:
    """Per-kind and per-source figures for one detector's answers (JSON-ready)."""
    kinds: dict[str, Any] = {}
    for kind in KINDS:
        part = [r for r in rows if r.kind == kind]
        if not part:
            continue
        labels = [r.label for r in part]
        scores = [answers[r.id].score for r in part]
        fixed = confusion(labels, [answers[r.id].flagged for r in part])
        target = TARGETS[kind]
        best = best_recall_at_fpr(labels, scores, target.max_fpr)
        kinds[kind] = {
            "rows": len(part),
            "fixed": _counts(fixed),
            "target": {"recall": target.recall, "max_fpr": target.max_fpr},
            "at_target_fpr": {"threshold": best.threshold, **_counts(best.counts)},
            "auc": roc_auc(labels, scores),
            "meets_target_fixed": (fixed.recall or 0) >= target.recall and (fixed.fpr or 0) <= target.max_fpr,
            "meets_target_swept": (best.recall or 0) >= target.recall,
        }
    sources: dict[str, Any] = {}
    for source in sorted({r.source for r in rows}):
        part = [r for r in rows if r.source == source]
        fixed = confusion([r.label for r in part], [answers[r.id].flagged for r in part])
        sources[source] = {"kind": "/".join(sorted({r.kind for r in part})), "rows": len(part), **_counts(fixed)}
    return {"kinds": kinds, "sources": sources}


def write_errors(path: Path, spec: DetectorSpec, rows: Sequence[Row], answers: dict[str, Answer]) -> tuple[int, int]:
    """List misses and false alarms (escaped snippets only); return their counts."""
    misses = [r for r in rows if r.label == 1 and not answers[r.id].flagged]
    false_alarms = [r for r in rows if r.label == 0 and answers[r.id].flagged]
    lines = [f"# {spec.name}: {spec.command}", f"# {datetime.now(UTC).isoformat(timespec='seconds')}", ""]
    for title, part in (("MISSES (injected, not flagged)", misses), ("FALSE ALARMS (benign, flagged)", false_alarms)):
        lines.append(f"## {title}: {len(part)}")
        for r in part:
            a = answers[r.id]
            snippet = escape_evidence(r.text[:SNIPPET], limit=SNIPPET * 12)
            lines.append(f"{r.id}\t{r.kind}\t{r.source}\tscore={a.score:.3f}\trules={','.join(a.rules) or '-'}")
            lines.append(f"    {snippet}")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return len(misses), len(false_alarms)


def _threshold(value: float | None) -> str:
    return "none" if value is None else f"{value:.3f}"


def print_detector(name: str, result: dict[str, Any]) -> None:
    """The human report for one detector."""
    print(f"\n== {name}  ({result['command']})")
    if result.get("error"):
        print(f"   FAILED: {result['error']}")
        return
    fixed_head = f"{'kind':<18}{'rows':>5}{'prec':>7}{'recall':>8}{'F1':>7}{'FPR':>7}"
    print(f"{fixed_head}  | {'target':<11}{'recall@FPR':>11}{'thr':>8}{'FPR':>7}{'AUC':>7}  meets (fixed/swept)")
    for kind, k in result["kinds"].items():
        f, s, t = k["fixed"], k["at_target_fpr"], k["target"]
        goal = f"R≥{t['recall']:.2f}@≤{t['max_fpr']:.0%}"
        print(
            f"{kind:<18}{k['rows']:>5}{fmt_ratio(f['precision']):>7}{fmt_ratio(f['recall']):>8}"
            f"{fmt_ratio(f['f1']):>7}{fmt_ratio(f['fpr']):>7}  | {goal:<11}{fmt_ratio(s['recall']):>11}"
            f"{_threshold(s['threshold']):>8}{fmt_ratio(s['fpr']):>7}{fmt_ratio(k['auc']):>7}  "
            f"{'yes' if k['meets_target_fixed'] else 'no'}/{'yes' if k['meets_target_swept'] else 'no'}"
        )
    labels = {source: f"  {source} [{s['kind']}]" for source, s in result["sources"].items()}
    width = max(len(label) for label in labels.values()) + 1
    print(f"{'  by source':<{width}}{'rows':>5}{'inj':>5}{'ben':>5}{'prec':>7}{'recall':>8}{'FPR':>7}")
    for source, s in result["sources"].items():
        print(
            f"{labels[source]:<{width}}{s['rows']:>5}{s['tp'] + s['fn']:>5}{s['fp'] + s['tn']:>5}"
            f"{fmt_ratio(s['precision']):>7}{fmt_ratio(s['recall']):>8}{fmt_ratio(s['fpr']):>7}"
        )
    print(f"   errors: {result['misses']} misses, {result['false_alarms']} false alarms -> {result['errors_file']}")


def print_side_by_side(results: dict[str, dict[str, Any]]) -> None:
    """One column per detector that ran: fixed-threshold and swept figures per kind, then per source."""
    ok = {name: r for name, r in results.items() if not r.get("error")}
    if len(ok) < 2:
        return
    table: list[tuple[str, list[str]]] = []
    for kind in KINDS:
        if not all(kind in r["kinds"] for r in ok.values()):
            continue
        t = TARGETS[kind]
        getters = {
            "precision": lambda k: fmt_ratio(k["fixed"]["precision"]),
            "recall": lambda k: fmt_ratio(k["fixed"]["recall"]),
            "F1": lambda k: fmt_ratio(k["fixed"]["f1"]),
            "FPR": lambda k: fmt_ratio(k["fixed"]["fpr"]),
            f"recall @ FPR≤{t.max_fpr:.0%} (target ≥{t.recall:.2f})": lambda k: fmt_ratio(k["at_target_fpr"]["recall"]),
            "  threshold it needs": lambda k: _threshold(k["at_target_fpr"]["threshold"]),
            "AUC": lambda k: fmt_ratio(k["auc"]),
        }
        for label, get in getters.items():
            table.append((f"{kind} {label}", [get(r["kinds"][kind]) for r in ok.values()]))
    for source in sorted({s for r in ok.values() for s in r["sources"]}):
        for metric in ("recall", "fpr"):
            cells = [fmt_ratio(r["sources"].get(source, {}).get(metric)) for r in ok.values()]
            table.append((f"{source} {'FPR' if metric == 'fpr' else metric}", cells))
    label_width = max(len(label) for label, _ in table) + 2
    width = max(12, *(len(n) + 2 for n in ok))
    print("\n== side by side (same rows, same run; fixed = the detector's own `flagged`)")
    print(f"{'':<{label_width}}" + "".join(f"{n:>{width}}" for n in ok))
    for label, cells in table:
        print(f"{label:<{label_width}}" + "".join(f"{c:>{width}}" for c in cells))


def run_all(specs: Sequence[DetectorSpec], rows: Sequence[Row], timeout: float) -> dict[str, dict[str, Answer] | str]:
    """Run every detector concurrently over the same request file, each within `timeout` seconds.

    A failure is recorded as its message, not raised, so one broken detector does not hide the others.
    """
    outcomes: dict[str, dict[str, Answer] | str] = {}

    async def one(spec: DetectorSpec, request: Path) -> None:
        try:
            check_runnable(spec)
            with anyio.fail_after(timeout):
                outcomes[spec.name] = await run_detector(spec, request, rows)
        except TimeoutError:
            outcomes[spec.name] = f"no answer within {timeout:.0f} s"
        except DetectorFailed as exc:
            outcomes[spec.name] = str(exc)

    async def every(request: Path) -> None:
        async with anyio.create_task_group() as tg:
            for spec in specs:
                tg.start_soon(one, spec, request)

    with tempfile.TemporaryDirectory(prefix="mw-detect-") as tmp:
        request = Path(tmp) / "rows.jsonl"
        write_request(request, rows)
        anyio.run(every, request)
    return outcomes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", type=Path, default=[DEFAULT_DATA], help="JSONL files or directories")
    parser.add_argument("--command", help="detector command (JSONL protocol); default: mcpwarden detect per --ml")
    parser.add_argument("--name", default="mcpwarden", help="name of the detector under test (with --command)")
    parser.add_argument(
        "--ml",
        choices=("both", "on", "off"),
        default="both",
        help="mcpwarden with the learned score joined (on, `detect --ml`), rules only (off, `detect --no-ml`) or both",
    )
    parser.add_argument("--baseline", action="append", default=[], choices=("cisco", "keyword"))
    parser.add_argument("--kind", choices=KINDS, help="only rows of this kind")
    parser.add_argument("--results", type=Path, default=REPO / "bench" / "results", help="where error lists go")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds each detector may take")
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary instead")
    return parser


def mcpwarden_specs(args: argparse.Namespace) -> list[DetectorSpec]:
    """The detector(s) under test: `--command`, or mcpwarden rules-only and/or combined per `--ml`."""
    if args.command:
        return [main_spec(args.command, args.name)]
    specs = []
    if args.ml in ("both", "off"):
        specs.append(main_spec("mcpwarden detect --no-ml", "mcpwarden-rules"))
    if args.ml in ("both", "on"):
        specs.append(main_spec("mcpwarden detect --ml", "mcpwarden-combined"))
    return specs


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        rows = load_rows(args.data, args.kind)
        specs = [*mcpwarden_specs(args), *(baseline_spec(b) for b in dict.fromkeys(args.baseline))]
    except (OSError, ValueError, DetectorFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if len({s.name for s in specs}) != len(specs):
        print("error: two detectors share a name; pick another --name", file=sys.stderr)
        return 2
    outcomes = run_all(specs, rows, args.timeout)
    results: dict[str, dict[str, Any]] = {}
    for spec in specs:
        outcome = outcomes[spec.name]
        result: dict[str, Any] = {"command": spec.command, "note": spec.note}
        if isinstance(outcome, str):
            result["error"] = outcome
        else:
            errors_file = args.results / f"detect-errors-{spec.name}.txt"
            misses, false_alarms = write_errors(errors_file, spec, rows, outcome)
            result |= evaluate(rows, outcome)
            result |= {"misses": misses, "false_alarms": false_alarms, "errors_file": str(errors_file)}
        results[spec.name] = result
    per_kind = {k: [r.label for r in rows if r.kind == k] for k in KINDS}
    summary = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": [str(p) for p in args.data],
        "rows": {k: {"injected": sum(labels), "benign": len(labels) - sum(labels)} for k, labels in per_kind.items()},
        "targets": {k: {"recall": t.recall, "max_fpr": t.max_fpr} for k, t in TARGETS.items()},
        "detectors": results,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        counts = ", ".join(f"{k} {sum(v)} injected / {len(v) - sum(v)} benign" for k, v in per_kind.items())
        print(f"Detection quality — {len(rows)} rows ({counts}); data: {', '.join(summary['data'])}")
        for name, result in results.items():
            print_detector(name, result)
        print_side_by_side(results)
    return 1 if any(r.get("error") for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
