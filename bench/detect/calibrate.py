"""Calibrate the per-kind flagging thresholds (src/mcpwarden/detect/thresholds.yaml) on benign text.

    python bench/detect/calibrate.py            # report scores and the thresholds the budgets allow
    python bench/detect/calibrate.py --write    # … and write them to thresholds.yaml
    python bench/detect/calibrate.py --show 20  # list the 20 highest-scoring benign texts per kind

The benign corpus is collected on this machine, never from ../shared/eval:
- tool descriptions: docstrings of public functions and classes in the installed Python packages
  (what FastMCP-style servers turn into tool descriptions), first paragraph up to 1,000 characters;
- tool outputs: chunks (<= 4,000 characters) of the packages' README/METADATA and Markdown/reST docs,
  the e-mails in CPython's email test data, Python source files, JSON files, and a small set of
  look-alikes generated here (e-mails that ask to forward things, urgent tickets, articles about prompt
  injection, API examples with system roles).
A kind's threshold is the lowest score at which at most half its false-positive budget of this corpus
is flagged (the margin is for data unlike it), and never below 0.5, so that one medium-weight rule alone
does not block. Kinds without their own corpus reuse the nearest one.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

from mcpwarden.detect import Engine
from mcpwarden.detect.ruleset import builtin_rules
from mcpwarden.detect.scoring import DEFAULT_THRESHOLD, Thresholds, calibrate

BUDGETS = {"tool_description": 0.02, "tool_output": 0.01}
MARGIN = 0.5  # calibrate to this share of the budget
FLOOR = DEFAULT_THRESHOLD  # never lower: one medium-weight rule alone must not block
SHARES = {  # kinds without a corpus of their own: which corpus and budget stand for them
    "parameter_description": "tool_description",
    "prompt": "tool_description",
    "tool_arguments": "tool_output",
    "resource": "tool_output",
}
SEED = 20261122
THRESHOLDS = Path(__file__).resolve().parents[2] / "src" / "mcpwarden" / "detect" / "thresholds.yaml"


def _site_packages() -> list[Path]:
    paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    return [Path(p) for p in sorted(paths) if Path(p).is_dir()]


def docstrings(limit: int, rng: random.Random) -> list[str]:
    """Docstrings of public functions and classes in installed packages (parsed, never imported)."""
    files = [f for root in _site_packages() for f in root.rglob("*.py") if "mcpwarden" not in f.parts]
    rng.shuffle(files)
    out: list[str] = []
    for path in files:
        try:
            tree = ast.parse(path.read_text("utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and not node.name.startswith(
                "_"
            ):
                doc = ast.get_docstring(node)
                if doc and len(doc) >= 30:
                    out.append(doc.split("\n\n")[0][:1000] if rng.random() < 0.5 else doc[:1000])
        if len(out) >= limit:
            break
    return out[:limit]


def _chunks(text: str, size: int = 4000) -> Iterator[str]:
    for start in range(0, len(text), size):
        piece = text[start : start + size]
        if len(piece.strip()) >= 200:
            yield piece


def documents(limit: int, rng: random.Random) -> list[str]:
    """Chunks of real documents, e-mails, source and JSON files found on this machine."""
    roots = _site_packages()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    docs = [f for r in roots for pattern in ("*.md", "*.rst", "METADATA", "*.txt") for f in r.rglob(pattern)]
    mails = sorted((stdlib / "test" / "test_email" / "data").glob("msg_*.txt"))
    code = [f for r in roots for f in r.rglob("*.py")]
    data = [f for r in roots for f in r.rglob("*.json")]
    for group in (docs, code, data):
        rng.shuffle(group)
    out: list[str] = []
    quota = {"docs": limit // 2, "mails": len(mails), "code": limit // 4, "data": limit // 8}
    for name, files in (("docs", docs), ("mails", mails), ("code", code), ("data", data)):
        taken = 0
        for path in files:
            try:
                text = path.read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            for piece in _chunks(text):
                out.append(piece)
                taken += 1
                if taken >= quota[name]:
                    break
            if taken >= quota[name]:
                break
    return out + lookalikes(rng)


def lookalikes(rng: random.Random) -> list[str]:
    """Benign texts written to resemble injections: the cases the rules must leave alone."""
    people = ["Dana", "Lee", "Priya", "Marco", "Sam", "Ines"]
    topics = ["the Q3 budget", "the offsite", "the release notes", "invoice 4471", "the hiring plan"]
    templates = [
        "Hi {p},\n\nPlease forward this to the team before Friday. If anything about {t} is unclear, "
        "send your questions to finance@example.com.\n\nThanks,\n{q}",
        "URGENT: {t} needs sign-off today. Please ignore my previous email, the numbers in it were wrong. "
        "The corrected file is attached.\n\n{q}",
        "Ticket #{n}: Customer reports the export fails. IMPORTANT!! They need it for an audit tomorrow. "
        "Steps: open Settings, click Export, choose CSV. Please escalate to the on-call engineer.",
        "Prompt injection is an attack where text such as 'ignore previous instructions' is hidden in a web "
        "page or e-mail so that an AI assistant reading it follows the attacker. Defences include separating "
        "instructions from data and asking the user before sending e-mail.",
        'Example request:\n{{"model": "gpt-4o", "messages": [{{"role": "system", "content": "You are a helpful '
        'assistant."}}, {{"role": "user", "content": "Summarise {t}."}}]}}',
        "To reset your password, click the link in this e-mail. If you did not request this, you can ignore "
        "this message. Never share your password with anyone, including our staff.",
        "Reminder from the admin team: the VPN certificate expires on Monday. Install the new one from the "
        "intranet before then, otherwise remote access will stop working.",
        "Our scanner flags tool descriptions that tell the model to 'not tell the user' or to read ~/.ssh; "
        "this article explains each rule and how to test your own server.",
        "Please keep this confidential until the announcement. {p} will send the agenda for {t} tomorrow; "
        "reply to this thread if you cannot attend.",
        "Note: the assistant feature in our app summarises {t}. Users can turn it off in Settings > AI.",
    ]
    out = []
    for template in templates:
        p, q = rng.sample(people, 2)
        out.append(template.format(p=p, q=q, t=rng.choice(topics), n=rng.randint(1000, 9999)))
    return out


def corpus(rng: random.Random, descriptions: int, outputs: int) -> dict[str, list[str]]:
    return {"tool_description": docstrings(descriptions, rng), "tool_output": documents(outputs, rng)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--descriptions", type=int, default=6000, help="docstrings to collect")
    parser.add_argument("--outputs", type=int, default=4000, help="document chunks to collect")
    parser.add_argument("--write", action="store_true", help="write the thresholds to thresholds.yaml")
    parser.add_argument("--show", type=int, default=0, help="list this many top-scoring benign texts per kind")
    args = parser.parse_args(argv)
    rng = random.Random(SEED)
    engine = Engine(builtin_rules(), thresholds=Thresholds())
    chosen: dict[str, float] = {}
    report: dict[str, object] = {}
    for kind, texts in corpus(rng, args.descriptions, args.outputs).items():
        results = [engine.detect(text, kind) for text in texts]
        scores = [r.score for r in results]
        threshold = max(FLOOR, calibrate(scores, BUDGETS[kind] * MARGIN))
        chosen[kind] = threshold
        flagged = sum(s >= threshold for s in scores)
        report[kind] = {"texts": len(texts), "threshold": threshold, "flagged": flagged, "fpr": flagged / len(texts)}
        if args.show:
            ranked = sorted(zip(scores, texts, results, strict=True), key=lambda x: -x[0])[: args.show]
            for score, text, result in ranked:
                print(f"{kind} {score:.3f} {sorted(result.rule_ids)} {json.dumps(text[:160])}", file=sys.stderr)
    for kind, base in SHARES.items():
        chosen[kind] = chosen[base]
    print(json.dumps(report, indent=2))
    if args.write:
        write(chosen)
        print(f"wrote {THRESHOLDS}")
    return 0


def write(chosen: dict[str, float]) -> None:
    """Rewrite thresholds.yaml with the chosen values, keeping its ML weights."""
    lines = [
        "# One flagging threshold per text kind: a text is flagged (the gateway blocks or redacts it) when its",
        "# score (detect/scoring.py) is at least the threshold of its kind. Written by bench/detect/calibrate.py",
        "# from benign text collected on the machine (never the evaluation set): the lowest score at which at",
        "# most half the kind's false-positive budget (tool_output 1%, tool_description 2%) is flagged.",
        "thresholds:",
        *(f"  {kind}: {chosen[kind]}" for kind in sorted(chosen)),
        "# Weight of the optional learned scorer's probability in the noisy-OR (detect/scoring.py combine).",
        "ml_weight:",
        *(f"  {kind}: 1.0" for kind in sorted(chosen)),
        "",
    ]
    THRESHOLDS.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
