"""In-process speed measurement of a `detect(text, kind)` callable (stdlib only).

Shared by `speed.py` (mcpwarden, keyword stand-in) and `cisco_yara_detector.py --speed` (run
inside the baseline's own virtual environment), so every detector is timed by the same code on
the same workload file.

Workload file (JSON, written by speed.py):
    {"corpus": [{"text": …, "kind": …}, …], "min_bytes": N,
     "latency": {"<kind>": {"<sample>": [4 KB texts, …]}}, "repeat": R}
"""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from metrics import percentile

Detect = Callable[[str, str], Any]
MB = 1_000_000  # throughput is reported in MB = 10**6 bytes of UTF-8 text


@dataclass(frozen=True)
class Throughput:
    """Bytes of UTF-8 text scanned per second over whole passes of a corpus (wall time, and the
    process's CPU time, which other work on a shared machine does not inflate as much)."""

    bytes: int
    seconds: float
    passes: int
    documents: int
    cpu_seconds: float = 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / MB / self.seconds if self.seconds > 0 else float("inf")

    @property
    def cpu_mb_per_s(self) -> float:
        return self.bytes / MB / self.cpu_seconds if self.cpu_seconds > 0 else float("inf")


@dataclass(frozen=True)
class Latency:
    """Per-call wall time, in milliseconds."""

    calls: int
    median_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float


def pin_to_one_core() -> str:
    """Restrict this process to one CPU so "single core" holds even if the detector uses threads."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this platform)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def measure_throughput(detect: Detect, corpus: Sequence[tuple[str, str]], min_bytes: int) -> Throughput:
    """Run `detect` over whole passes of `corpus` until at least `min_bytes` of text were scanned."""
    if not corpus:
        raise ValueError("empty corpus")
    pass_bytes = sum(len(text.encode("utf-8")) for text, _ in corpus)
    passes = max(1, -(-min_bytes // pass_bytes))
    gc.collect()
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(passes):
        for text, kind in corpus:
            detect(text, kind)
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    return Throughput(
        bytes=pass_bytes * passes, seconds=seconds, passes=passes, documents=len(corpus) * passes, cpu_seconds=cpu
    )


def measure_latency(detect: Detect, texts: Sequence[str], kind: str, repeat: int) -> Latency:
    """Time `repeat` single calls, cycling through `texts` (distinct texts defeat any result cache)."""
    if not texts or repeat < 1:
        raise ValueError("need at least one text and one repetition")
    detect(texts[0], kind)  # warm-up: lazy compilation must not count as a call
    samples: list[float] = []
    gc.collect()
    for i in range(repeat):
        text = texts[i % len(texts)]
        start = time.perf_counter_ns()
        detect(text, kind)
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return Latency(
        calls=repeat,
        median_ms=percentile(samples, 50),
        p99_ms=percentile(samples, 99),
        mean_ms=sum(samples) / len(samples),
        max_ms=max(samples),
    )


def write_workload(
    path: Path, corpus: Sequence[tuple[str, str]], min_bytes: int, latency: dict[str, dict[str, list[str]]], repeat: int
) -> None:
    """Write the workload every detector is timed on (see the module docstring)."""
    data = {
        "corpus": [{"text": text, "kind": kind} for text, kind in corpus],
        "min_bytes": min_bytes,
        "latency": latency,
        "repeat": repeat,
    }
    path.write_text(json.dumps(data), encoding="utf-8")


def run_workload(detect: Detect, path: Path) -> dict[str, Any]:
    """Time `detect` on the workload at `path`; a JSON-ready result (throughput, then latency per kind)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    corpus = [(row["text"], row["kind"]) for row in data["corpus"]]
    # Warm-up: a detector may compile its patterns on first use; that is start-up cost, not throughput.
    start = time.perf_counter()
    detect(corpus[0][0], corpus[0][1])
    first_call_ms = (time.perf_counter() - start) * 1e3
    tput = measure_throughput(detect, corpus, int(data["min_bytes"]))
    result: dict[str, Any] = {
        "first_call_ms": first_call_ms,
        "throughput": {**asdict(tput), "mb_per_s": tput.mb_per_s, "cpu_mb_per_s": tput.cpu_mb_per_s},
        "latency": {},
    }
    for kind, samples in data["latency"].items():
        result["latency"][kind] = {
            name: asdict(measure_latency(detect, texts, kind, int(data["repeat"]))) for name, texts in samples.items()
        }
    return result
