"""Baseline: the YARA rules shipped in Cisco's mcp-scanner (PyPI cisco-ai-mcp-scanner), behind the
`mcpwarden detect` JSONL protocol. Runs INSIDE bench/.venvs/cisco (bash bench/detect/setup_baselines.sh).

Only the rule files are used: they are read from the installed package's `data/yara_rules/` and
compiled with yara-python the way the scanner's own YaraAnalyzer does (every *.yara/*.yar file, one
namespace per file, matched against the text as given). The package itself is never imported, so
neither its LLM/API analyzers nor LiteLLM's start-up network fetch can run.

flagged = any rule matched; score = 1.0 or 0.0 (YARA gives no graded score); rules = rule names.

    bench/.venvs/cisco/bin/python bench/detect/cisco_yara_detector.py --input rows.jsonl
    bench/.venvs/cisco/bin/python bench/detect/cisco_yara_detector.py --list-rules
    bench/.venvs/cisco/bin/python bench/detect/cisco_yara_detector.py --speed WORKLOAD.json
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from detector_protocol import Verdict, add_protocol_args, serve
from speedlib import pin_to_one_core, run_workload

PACKAGE = "cisco-ai-mcp-scanner"


def rules_dir() -> Path:
    """The installed package's YARA rule directory, found without importing the package."""
    spec = importlib.util.find_spec("mcpscanner")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            f"error: {PACKAGE} is not installed in this interpreter ({sys.executable}); "
            "run: bash bench/detect/setup_baselines.sh"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "yara_rules"


class CiscoYara:
    """The compiled rule set and a matcher with the protocol's signature."""

    def __init__(self, directory: Path) -> None:
        import yara  # only in the baseline's venv

        self.files = sorted(p for p in directory.iterdir() if p.suffix in (".yara", ".yar"))
        if not self.files:
            raise SystemExit(f"error: no YARA rule files in {directory}")
        self._rules = yara.compile(sources={p.name: p.read_text(encoding="utf-8") for p in self.files})
        self.rule_names = sorted(r.identifier for r in self._rules)

    def __call__(self, text: str, kind: str) -> Verdict:
        names = sorted({m.rule for m in self._rules.match(data=text)}) if text else []
        return Verdict(flagged=bool(names), score=1.0 if names else 0.0, rules=names)


def describe(directory: Path, detector: CiscoYara, load_ms: float) -> dict[str, Any]:
    return {
        "package": PACKAGE,
        "version": importlib.metadata.version(PACKAGE),
        "yara_python": importlib.metadata.version("yara-python"),
        "rules_dir": str(directory),
        "files": [p.name for p in detector.files],
        "rules": detector.rule_names,
        "load_ms": load_ms,
    }


def main(argv: list[str] | None = None) -> int:
    # Belt and braces: nothing here imports LiteLLM, but if anything ever did, it must stay offline.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_protocol_args(parser)
    parser.add_argument("--list-rules", action="store_true", help="print the rule files and names as JSON")
    parser.add_argument("--speed", type=Path, metavar="WORKLOAD", help="time the rules on a speed.py workload")
    args = parser.parse_args(argv)

    directory = rules_dir()
    start = time.perf_counter()
    detector = CiscoYara(directory)
    load_ms = (time.perf_counter() - start) * 1e3
    if args.list_rules:
        print(json.dumps(describe(directory, detector, load_ms), indent=2))
        return 0
    if args.speed:
        pinned = pin_to_one_core()
        result = {**describe(directory, detector, load_ms), "cpu": pinned, **run_workload(detector, args.speed)}
        del result["rules"], result["files"]
        print(json.dumps(result))
        return 0
    return serve(args, detector)


if __name__ == "__main__":
    sys.exit(main())
