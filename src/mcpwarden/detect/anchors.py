"""Which whole words a pattern cannot match without: the index that keeps hundreds of rules fast.

A single alternation of a hundred patterns scans about 1 MB/s in the `regex` module, far too slow for
tens of thousands of descriptions. Instead each pattern is analysed once, at engine build time, for
a set of *anchor words*: at least one of them appears as a whole word (a maximal run of `\\w`,
lower-cased) in any text the pattern matches. The engine splits a text into words at C speed and
runs only the rules whose anchors it contains.

The analysis is conservative: when it cannot prove a word is required and delimited on both sides
(by `\\b`, a text edge, or characters that can never be word characters) it gives no anchor for that
part, and a pattern with no provable anchor is run on every text. Write patterns with `\\b` around
their key words so they get anchors; a test checks every shipped pattern has some.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import regex

# Python's own regex parser (3.11 moved it to `re._parser`); used read-only at rule-load time.
_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

_CAP = 512  # largest finite language tracked for a sub-pattern
_WORD = regex.compile(r"\w+")
_WORD_CHAR = regex.compile(r"\w")
_BOUNDARY_AT = frozenset(
    {
        _c.AT_BOUNDARY,
        _c.AT_UNI_BOUNDARY,
        _c.AT_LOC_BOUNDARY,
        _c.AT_BEGINNING,
        _c.AT_BEGINNING_STRING,
        _c.AT_BEGINNING_LINE,
        _c.AT_END,
        _c.AT_END_STRING,
        _c.AT_END_LINE,
    }
)
_NONWORD_CATEGORIES = frozenset(
    {_c.CATEGORY_SPACE, _c.CATEGORY_UNI_SPACE, _c.CATEGORY_NOT_WORD, _c.CATEGORY_UNI_NOT_WORD, _c.CATEGORY_LINEBREAK}
)
_WORD_CATEGORIES = frozenset({_c.CATEGORY_WORD, _c.CATEGORY_UNI_WORD})
_REPEATS = frozenset({_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)})

# Words so frequent in tool documentation that an anchor on them would run the rule on most texts.
_COMMON_TEXT = """
    a an and or of to in for on with by from as at is are be been being was were this that these those it its use
    used uses using tool tools file files data user users value values name names path paths list lists get gets set
    sets read reads write writes return returns returned result results when if not no do does must should will can
    may all any each every new one only also more most first last before after then than which what how who your you
    we our their they them string number integer boolean object array optional required default example type id ids
    url urls query queries text content contents message messages request requests response responses server servers
    api key keys token tokens error errors output input inputs parameter parameters param params argument arguments
    field fields directory directories repository repositories call calls create creates update updates delete
    deletes search searches find finds run runs command commands execute send sends open load loads config
    configuration settings json yaml xml csv html markdown format page pages item items count limit offset cursor
    filter filters status state date time timestamp utc iso start end size length max min number line lines project
    projects account accounts access permission permissions scope scopes auth login session service services
    function functions method methods operation operations option options mode level version versions info
    information details detail description title label labels tag tags note notes comment comments issue issues
    branch branches commit commits pull push merge table tables record records row rows column columns database
    schema model models system systems resource resources event events task tasks job jobs workspace local remote
    current specified specific given provided available existing valid invalid true false null none empty full whole
    entire other another same such like e g i etc via per into out up down over about credentials cursor include
    included including add added provide provided pass passed previous default updated complete context history chat
    prompt prompts instructions important before after first next using the has have had without within while where
    there here so because since until unless either both
"""
COMMON_WORDS = frozenset(_COMMON_TEXT.split())


@dataclass(frozen=True)
class _Info:
    lang: frozenset[str] | None  # every string the node can match (lower-cased), when finite and small
    # Clauses, all required: every match contains, delimited, at least one word of each clause.
    anchors: tuple[frozenset[str], ...]
    nonword: bool  # consumes only non-word characters
    min_len: int
    bound: bool = False  # zero-width: a word boundary or a text edge
    transparent: bool = False  # zero-width and says nothing about neighbours (lookarounds, \B)


_UNKNOWN = _Info(None, (), False, 0)
_TRANSPARENT = _Info(frozenset({""}), (), True, 0, transparent=True)
_BOUND = _Info(frozenset({""}), (), True, 0, bound=True)
MAX_CLAUSES = 6


# Punctuation that patterns often require and texts rarely contain. Each counts as a one-character
# "word" (a mark), so a pattern needing `[` or `~` is only run on texts that contain one.
MARKS = frozenset("<>[]|~@{}`\\$%")


# Words in nearly every text: an anchor on one of these is no filter at all.
_STOP_TEXT = """
    a an and or of to in for on with by from as at is are be it its this that the you your not if can will use
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def word_cost(word: str) -> int:
    """How often a word is expected to appear: common words and short words cost more."""
    if word in MARKS:
        return 3
    if word in STOP_WORDS:
        return 200
    return 1 + (40 if word in COMMON_WORDS else 0) + 2 * max(0, 5 - len(word)) + (30 if len(word) <= 2 else 0)


def _set_cost(words: Iterable[str]) -> int:
    return sum(word_cost(w) for w in words)


def _product(left: frozenset[str], right: frozenset[str]) -> frozenset[str] | None:
    if len(left) * len(right) > _CAP:
        return None
    return frozenset(a + b for a in left for b in right)


def _indexable(word: str) -> bool:
    """Words the index can hold: ASCII, or letters whose case folding is plain lower-casing (Cyrillic,
    accented Latin), so the lower-cased words of a normalised text spell them the same way."""
    return word.isascii() or (word.isalnum() and word.lower() == word and word.casefold() == word)


def _is_word(ch: str) -> bool:
    return _WORD_CHAR.fullmatch(ch) is not None


def _class_info(members: list[tuple[Any, Any]]) -> _Info:
    negated = any(op is _c.NEGATE for op, _ in members)
    items = [(op, av) for op, av in members if op is not _c.NEGATE]
    if negated:
        # [^\w…] can only consume non-word characters
        nonword = any(op is _c.CATEGORY and av in _WORD_CATEGORIES for op, av in items)
        return _Info(None, (), nonword, 1)
    chars: set[str] | None = set()
    nonword = True
    for op, av in items:
        if op is _c.LITERAL:
            members_here = [chr(av)]
        elif op is _c.RANGE and av[1] - av[0] < 256:
            members_here = [chr(code) for code in range(av[0], av[1] + 1)]
        elif op is _c.CATEGORY:
            nonword = nonword and av in _NONWORD_CATEGORIES
            chars = None
            continue
        else:
            return _Info(None, (), False, 1)
        nonword = nonword and not any(_is_word(ch) for ch in members_here)
        chars = None if chars is None else chars | {ch.lower() for ch in members_here}
    lang = frozenset(chars) if chars is not None and len(chars) <= 8 else None
    return _Info(lang, (), nonword, 1)


def _repeat_info(lo: int, hi: int, inner: _Info) -> _Info:
    lang: frozenset[str] | None = None
    if inner.lang is not None and hi != _c.MAXREPEAT and hi <= 4:
        power: frozenset[str] | None = frozenset({""})
        collected: set[str] = set()
        for count in range(hi + 1):
            if power is None:
                break
            if count >= lo:
                collected |= power
            power = _product(power, inner.lang) if count < hi else power
        lang = frozenset(collected) if power is not None and len(collected) <= _CAP else None
    anchors = inner.anchors if lo >= 1 else ()
    return _Info(lang, anchors, inner.nonword, lo * inner.min_len)


def _node(op: Any, av: Any) -> _Info:
    if op is _c.LITERAL:
        ch = chr(av)
        return _Info(frozenset({ch.lower()}), (), not _is_word(ch), 1)
    if op is _c.IN:
        return _class_info(list(av))
    if op in _REPEATS:
        lo, hi, sub = av
        return _repeat_info(lo, hi, _sequence(sub))
    if op is _c.SUBPATTERN:
        return _sequence(av[-1])
    if op is getattr(_c, "ATOMIC_GROUP", None):
        return _sequence(av)
    if op is _c.BRANCH:
        return _branch([_sequence(alt) for alt in av[1]])
    if op is _c.AT:
        return _BOUND if av in _BOUNDARY_AT else _TRANSPARENT
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        return _TRANSPARENT
    return _UNKNOWN


def _branch(alts: list[_Info]) -> _Info:
    lang: frozenset[str] | None = None
    if all(a.lang is not None for a in alts):
        union = frozenset().union(*(a.lang for a in alts if a.lang is not None))
        lang = union if len(union) <= _CAP else None
    anchors: tuple[frozenset[str], ...] = ()
    if all(a.anchors for a in alts):
        # Every alternative must supply a word of its own best clause: their union is one clause.
        anchors = (frozenset().union(*(a.anchors[0] for a in alts)),)
    return _Info(lang, anchors, all(a.nonword for a in alts), min(a.min_len for a in alts))


def _delimited(infos: list[_Info], index: int, step: int) -> bool:
    """Is the position next to a run guaranteed to be a word boundary (looking in direction `step`)?"""
    while 0 <= index < len(infos):
        info = infos[index]
        if info.bound:
            return True
        if info.transparent:
            index += step
            continue
        if info.lang is not None:
            edges = [text[-1] if step < 0 else text[0] for text in info.lang if text]
            if any(_is_word(ch) for ch in edges):
                return False
            if "" not in info.lang:
                return True
        elif not info.nonword:
            return False
        elif info.min_len >= 1:
            return True
        index += step
    return False  # the edge of this sub-pattern: what surrounds it is unknown here


def _run_anchors(lang: frozenset[str], left: bool, right: bool) -> list[frozenset[str]]:
    """Clauses for a finite run of the pattern, given which of its edges are word boundaries.

    Marks every string contains come first; then word slots (the i-th complete word of every string,
    counted from the left and from the right); then greedy covers, each using words the earlier ones
    did not, for the rest.
    """
    clauses = [frozenset({mark}) for mark in sorted(MARKS) if all(mark in text for text in lang)]
    options: list[frozenset[str]] = []
    sequences: list[list[str]] = []
    for text in lang:
        complete = [
            m.group()
            for m in _WORD.finditer(text)
            if (m.start() > 0 or left) and (m.end() < len(text) or right) and _indexable(m.group())
        ]
        if not complete:
            return clauses
        options.append(frozenset(complete))
        sequences.append(complete)
    shortest = min(len(seq) for seq in sequences)
    clauses += [frozenset(seq[i] for seq in sequences) for i in range(shortest)]
    clauses += [frozenset(seq[-1 - i] for seq in sequences) for i in range(shortest)]
    used: set[str] = set()
    while len(clauses) < 2 * shortest + 3 and all(o - used for o in options):
        chosen: set[str] = set()
        uncovered = [o - used for o in options]
        while uncovered:
            candidates = sorted(frozenset().union(*uncovered))
            best = max(candidates, key=lambda w: (sum(w in o for o in uncovered) / word_cost(w), len(w)))
            chosen.add(best)
            uncovered = [o for o in uncovered if best not in o]
        clauses.append(frozenset(chosen))
        used |= chosen
    return clauses


def _sequence(items: Any) -> _Info:
    infos = [_node(op, av) for op, av in items]
    if len(infos) == 1:
        return infos[0]
    candidates = [clause for info in infos for clause in info.anchors]
    for index, info in enumerate(infos):
        # An item delimited on both sides (a word alternation between spaces) is a clause by itself.
        if info.lang and "" not in info.lang and not info.bound and not info.transparent:
            delimited = _delimited(infos, index - 1, -1) and _delimited(infos, index + 1, 1)
            candidates += _run_anchors(info.lang, delimited, delimited)
    start = 0
    while start < len(infos):
        if infos[start].lang is None or infos[start].bound or infos[start].transparent:
            start += 1
            continue
        end = start
        lang: frozenset[str] = frozenset({""})
        while end < len(infos):
            item = infos[end].lang
            if item is None or infos[end].bound:
                break
            extended = lang if infos[end].transparent else _product(lang, item)
            if extended is None:
                break
            lang = extended
            end += 1
        if end == start:  # a single item too large to combine: skip it
            start += 1
            continue
        candidates += _run_anchors(lang, _delimited(infos, start - 1, -1), _delimited(infos, end, 1))
        start = end
    whole: frozenset[str] | None = frozenset({""})
    for info in infos:
        whole = _product(whole, info.lang) if whole is not None and info.lang is not None else None
    clauses = _simplify(candidates)
    return _Info(whole, clauses, all(i.nonword for i in infos), sum(i.min_len for i in infos))


def _simplify(clauses: Iterable[frozenset[str]]) -> tuple[frozenset[str], ...]:
    """Cheapest clauses first, duplicates and weaker (superset) clauses dropped, at most MAX_CLAUSES."""
    ordered = sorted(set(clauses), key=lambda ws: (_set_cost(ws), sorted(ws)))
    kept: list[frozenset[str]] = []
    for clause in ordered:
        if not any(k <= clause for k in kept):
            kept.append(clause)
    return tuple(kept[:MAX_CLAUSES])


_MAX_WIDTH = 4096


@functools.lru_cache(maxsize=4096)
def max_width(pattern: str) -> int | None:
    """The most characters a match of `pattern` can span, or None when unbounded (or not provable)."""
    try:
        high = int(_parser.parse(pattern, 0).getwidth()[1])
    except Exception:  # syntax only the `regex` module knows
        return None
    return high if high <= _MAX_WIDTH else None


@functools.lru_cache(maxsize=4096)  # a pure function of the pattern; engines built later reuse the work
def requirements(pattern: str) -> tuple[frozenset[str], ...]:
    """What every match of `pattern` contains: for each clause, at least one of its words, whole.

    Clauses come cheapest (rarest) first; the engine indexes a pattern by its first clause and checks
    the others before running it. An empty tuple means nothing could be proven: run it on every text.
    """
    try:
        parsed = _parser.parse(pattern, 0)
    except Exception:  # syntax only the `regex` module knows: the pattern simply gets no anchors
        return ()
    return _sequence(list(parsed)).anchors
