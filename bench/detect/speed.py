"""Detection speed, in process, single core: throughput over a mixed corpus and 4 KB latency per kind.

    python bench/detect/speed.py                      # mcpwarden.detect.detect
    python bench/detect/speed.py --baseline cisco     # … and Cisco's YARA rules (in their own venv)
    python bench/detect/speed.py --json

(a) MB/s: whole passes over the dev-set texts plus generated benign prose, JSON, code, logs and
    Markdown tables until at least --min-mb MB (10**6 bytes of UTF-8) were scanned.
(b) Latency: median and p99 of --repeat single calls on distinct 4096-byte texts, for each kind,
    benign and with one planted injection.
Targets: >= 20 MB/s and <= 1 ms median for 4 KB. Detectors run one after another, never at once,
so they do not compete for the core; each process is pinned to one CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keyword_baseline import KeywordMatcher
from runner import CISCO_PYTHON, DEFAULT_DATA, KINDS, REPO, DetectorFailed, load_rows, run_bounded
from speedlib import MB, pin_to_one_core, run_workload, write_workload
from textgen import benign_corpus, four_kb_samples

TARGET_MB_PER_S = 20.0
TARGET_MEDIAN_MS = 1.0
SEED = 20250601


def load_mcpwarden() -> tuple[Callable[[str, str], Any] | None, str]:
    """`mcpwarden.detect.detect` and how long importing it took, or None and why it is unavailable."""
    start = time.perf_counter()
    try:
        from mcpwarden.detect import detect  # type: ignore[attr-defined]
    except Exception as exc:  # any import failure (missing, or a half-built engine) means "not measurable"
        return None, f"mcpwarden.detect.detect is not available yet ({type(exc).__name__}: {exc})"
    return detect, f"import {(time.perf_counter() - start) * 1e3:.0f} ms"


def build_workload(path: Path, data: list[Path], min_mb: float, generated_mb: float, repeat: int) -> dict[str, Any]:
    """Write the shared workload file; return a description of it (no texts)."""
    rows = load_rows(data)
    corpus = [(r.text, r.kind) for r in rows]
    generated = benign_corpus(SEED, int(generated_mb * MB))
    corpus += [(text, "tool_output") for text in generated]
    latency = {
        kind: {
            "benign": four_kb_samples(SEED + i, repeat, kind),
            "injected": four_kb_samples(SEED + 100 + i, repeat, kind, injected=True),
        }
        for i, kind in enumerate(KINDS)
    }
    write_workload(path, corpus, int(min_mb * MB), latency, repeat)
    pass_bytes = sum(len(text.encode("utf-8")) for text, _ in corpus)
    return {"dev_rows": len(rows), "generated_docs": len(generated), "pass_mb": pass_bytes / MB, "repeat": repeat}


def run_cisco(workload: Path, timeout: float) -> dict[str, Any]:
    """Time the Cisco YARA rules inside their own venv on the same workload file, within `timeout` s."""
    if not CISCO_PYTHON.is_file():
        return {"error": f"{CISCO_PYTHON} not found (run: bash bench/detect/setup_baselines.sh)"}
    argv = [str(CISCO_PYTHON), str(REPO / "bench" / "detect" / "cisco_yara_detector.py"), "--speed", str(workload)]
    try:
        status, stdout, stderr = run_bounded(argv, {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}, timeout)
    except TimeoutError:
        return {"error": f"no result within {timeout:.0f} s"}
    except DetectorFailed as exc:
        return {"error": str(exc)}
    if status != 0:
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        return {"error": f"exited with status {status}: {' '.join(tail) or 'no message'}"}
    result: dict[str, Any] = json.loads(stdout)
    result["note"] = f"cisco-ai-mcp-scanner {result.pop('version')} YARA rules, yara-python {result.pop('yara_python')}"
    return result


def measure(detectors: dict[str, Callable[[str, str], Any]], workload: Path) -> dict[str, dict[str, Any]]:
    """Time each in-process detector on the workload, one after another."""
    return {name: run_workload(detect, workload) for name, detect in detectors.items()}


def _meets(result: dict[str, Any]) -> str:
    mbps = result["throughput"]["mb_per_s"] >= TARGET_MB_PER_S
    median = all(s["benign"]["median_ms"] <= TARGET_MEDIAN_MS for s in result["latency"].values())
    return f"{'yes' if mbps else 'no'}/{'yes' if median else 'no'}"


def print_table(results: dict[str, dict[str, Any]]) -> None:
    """One column per detector."""
    ok = {name: r for name, r in results.items() if "error" not in r}
    for name, r in results.items():
        if "error" in r:
            print(f"   {name}: FAILED: {r['error']}")
    if not ok:
        return
    tput = [r["throughput"] for r in ok.values()]
    rows: list[tuple[str, list[str]]] = [
        (f"MB/s (target ≥ {TARGET_MB_PER_S:.0f})", [f"{t['mb_per_s']:.2f}" for t in tput]),
        ("  MB/s on CPU time (shared machine)", [f"{t.get('cpu_mb_per_s', float('nan')):.2f}" for t in tput]),
        ("  MB scanned / seconds", [f"{t['bytes'] / MB:.0f}/{t['seconds']:.2f}" for t in tput]),
        ("first call (ms)", [f"{r['first_call_ms']:.1f}" for r in ok.values()]),
    ]
    for kind in KINDS:
        for sample in ("benign", "injected"):
            for stat in ("median_ms", "p99_ms"):
                label = f"4 KB {kind} {sample} {stat.replace('_ms', '')} (ms)"
                rows.append((label, [f"{r['latency'][kind][sample][stat]:.3f}" for r in ok.values()]))
    rows.append(("meets MB/s / median targets", [_meets(r) for r in ok.values()]))
    label_width = max(len(label) for label, _ in rows) + 2
    width = max(14, *(len(n) + 2 for n in ok))
    print(f"{'':<{label_width}}" + "".join(f"{n:>{width}}" for n in ok))
    for label, cells in rows:
        print(f"{label:<{label_width}}" + "".join(f"{c:>{width}}" for c in cells))
    for name, r in ok.items():
        if r.get("note"):
            print(f"   {name}: {r['note']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", type=Path, default=[DEFAULT_DATA], help="dev-set JSONL files or dirs")
    parser.add_argument("--baseline", action="append", default=[], choices=("cisco", "keyword"))
    parser.add_argument("--min-mb", type=float, default=20.0, help="MB each detector scans for MB/s (≥ 20)")
    parser.add_argument("--generated-mb", type=float, default=2.0, help="MB of generated benign text per pass")
    parser.add_argument("--repeat", type=int, default=1000, help="calls per 4 KB latency figure (≥ 500)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds the baseline venv run may take")
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary instead")
    args = parser.parse_args(argv)
    if args.repeat < 500 or args.min_mb < 20:
        print(
            "note: below the benchmark's minimum (--repeat 500, --min-mb 20): figures are indicative", file=sys.stderr
        )

    cpu = pin_to_one_core()
    detectors: dict[str, Callable[[str, str], Any]] = {}
    notes: dict[str, str] = {}
    detect, why = load_mcpwarden()
    if detect is not None:
        detectors["mcpwarden"], notes["mcpwarden"] = detect, why
    else:
        print(f"warning: {why}; timing the naive keyword stand-in in its place", file=sys.stderr)
        args.baseline.append("keyword")
    if "keyword" in args.baseline:
        detectors["keyword"], notes["keyword"] = KeywordMatcher(), "naive keyword stand-in (a floor, not a product)"

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="mw-speed-") as tmp:
        workload = Path(tmp) / "workload.json"
        try:
            described = build_workload(workload, args.data, args.min_mb, args.generated_mb, args.repeat)
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        results.update(measure(detectors, workload))
        for name, note in notes.items():
            results[name]["note"] = note
        if "cisco" in args.baseline:
            results["cisco-yara"] = run_cisco(workload, args.timeout)

    summary = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": cpu,
        "workload": described,
        "targets": {"mb_per_s": TARGET_MB_PER_S, "median_ms_4kb": TARGET_MEDIAN_MS},
        "mcpwarden_available": detect is not None,
        "detectors": results,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"Detection speed — one pass = {described['pass_mb']:.2f} MB ({described['dev_rows']} dev-set texts + "
            f"{described['generated_docs']} generated benign docs), ≥ {args.min_mb:.0f} MB per detector; "
            f"latency: {args.repeat} calls on distinct 4096-byte texts; single process, {cpu}"
        )
        print_table(results)
    failed = detect is None or any("error" in r for r in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
