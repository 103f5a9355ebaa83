"""Rule patterns rewritten for the Hyperscan prefilter: patterns that match wherever the rule can.

Rules match the whitespace-collapsed view of a text (or, for `lines` rules, its line view) with the
`regex` module's Unicode semantics and case folding. Hyperscan matches bytes, with ASCII semantics
only (Unicode properties make compiling take minutes), so each pattern is rewritten from its parse
tree into a pattern that matches *at least* wherever the rule can, on one of three inputs:

- the view, when it is ASCII (`rewrite(p)`): every one-character item (literal, class, `.`) becomes
  the set of ASCII characters it matches under `regex`'s IGNORECASE, so a non-ASCII letter or quote
  drops out; an item, branch or sequence that is left unable to match any ASCII text drops out too,
  and a pattern that cannot match ASCII text at all is reported as None;
- a view that is not ASCII, with every non-ASCII character replaced by an ASCII stand-in of the same
  kind (`stand_in=True`, see `words.ascii_stand_in`): `_` for a word character, a space or line
  break for whitespace, DEL for anything else; an item that may match a non-ASCII character of a
  kind also matches its stand-in, and `\\b` keeps its meaning because the stand-ins keep word
  characters apart from the rest (the four non-ASCII letters that `regex` matches with ASCII ones,
  such as the Kelvin sign, get no stand-in: a text holding one has no prefilter answer);
- the text as it came, before its line view is built (`raw=True`, for `lines` patterns): an item that
  can match the view's whitespace also matches a whole run of any whitespace, since one space or
  line break of the line view stands for such a run, and `^` and `$` allow whitespace next to them.

Everywhere, lookarounds and `\\B` (which only ever remove matches) are dropped, and atomic groups,
possessive and lazy quantifiers become plain ones. Constructs outside this list (backreferences,
syntax only `regex` knows) raise `Unsupported`: such a pattern is simply not prefiltered.
"""

from __future__ import annotations

import functools
import importlib
import warnings
from typing import Any

import regex

_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

_WHITESPACE = frozenset(b" \t\n\r\x0b\x0c")
# The stand-ins of non-ASCII characters (see `words.ascii_stand_in`), by kind.
WORD_STAND_IN = ord("_")
OTHER_STAND_IN = 0x7F
_SPACE_STAND_INS = frozenset(b" \n")
_ALL_KINDS = (True, True, True)  # may match a non-ASCII word character, whitespace, anything else
_NO_KIND = (False, False, False)
_WORD_CHAR = regex.compile(r"\w")
_CATEGORIES = {
    _c.CATEGORY_DIGIT: r"\d",
    _c.CATEGORY_NOT_DIGIT: r"\D",
    _c.CATEGORY_SPACE: r"\s",
    _c.CATEGORY_NOT_SPACE: r"\S",
    _c.CATEGORY_WORD: r"\w",
    _c.CATEGORY_NOT_WORD: r"\W",
    _c.CATEGORY_UNI_DIGIT: r"\d",
    _c.CATEGORY_UNI_NOT_DIGIT: r"\D",
    _c.CATEGORY_UNI_SPACE: r"\s",
    _c.CATEGORY_UNI_NOT_SPACE: r"\S",
    _c.CATEGORY_UNI_WORD: r"\w",
    _c.CATEGORY_UNI_NOT_WORD: r"\W",
}
# Which kinds of non-ASCII characters each category matches (word, whitespace, other).
_CATEGORY_KINDS = {
    r"\d": (True, False, False),
    r"\w": (True, False, False),
    r"\s": (False, True, False),
    r"\W": (False, True, True),
    r"\S": (True, False, True),
    r"\D": _ALL_KINDS,
}
_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT))
_STARTS = (_c.AT_BEGINNING, _c.AT_BEGINNING_STRING, _c.AT_BEGINNING_LINE)
_ENDS = (_c.AT_END, _c.AT_END_STRING, _c.AT_END_LINE)


class Unsupported(ValueError):
    """The pattern uses a construct the rewrite does not handle; leave it out of the prefilter."""


def _char(code: int) -> str:
    return f"\\U{code:08x}"


@functools.lru_cache(maxsize=4096)
def _ascii_members(source: str, dotall: bool) -> frozenset[int]:
    """The ASCII characters a one-character `regex` pattern matches (case-insensitively)."""
    flags = regex.IGNORECASE | regex.V0 | (regex.DOTALL if dotall else 0)
    compiled = regex.compile(source, flags)
    return frozenset(code for code in range(128) if compiled.fullmatch(chr(code)) is not None)


def _kinds(code: int) -> tuple[bool, bool, bool]:
    """The kind of one non-ASCII character: word character, whitespace, or anything else."""
    char = chr(code)
    if _WORD_CHAR.match(char):
        return (True, False, False)
    return (False, True, False) if char.isspace() else (False, False, True)


def _union(*kinds: tuple[bool, bool, bool]) -> tuple[bool, bool, bool]:
    return (any(k[0] for k in kinds), any(k[1] for k in kinds), any(k[2] for k in kinds))


def _class_source(items: list[tuple[Any, Any]]) -> tuple[str, tuple[bool, bool, bool]]:
    """A one-character `regex` pattern for a parsed class, and the kinds of non-ASCII it may match."""
    parts: list[str] = []
    kinds = _NO_KIND
    for op, av in items:
        if op is _c.NEGATE:
            parts.insert(0, "^")
            kinds = _ALL_KINDS
        elif op is _c.LITERAL:
            parts.append(_char(av))
            kinds = _union(kinds, _kinds(av)) if av >= 0x80 else kinds
        elif op is _c.RANGE:
            parts.append(f"{_char(av[0])}-{_char(av[1])}")
            kinds = _ALL_KINDS if av[1] >= 0x80 else kinds
        elif op is _c.CATEGORY and av in _CATEGORIES:
            parts.append(_CATEGORIES[av])
            kinds = _union(kinds, _CATEGORY_KINDS[_CATEGORIES[av]])
        else:
            raise Unsupported(f"class item {op}")
    return "[" + "".join(parts) + "]", kinds


def _ascii_class(members: frozenset[int]) -> str:
    letters = {code | 0x20 for code in members if chr(code).isalpha()}
    if len(members) <= 2 and len(letters) == 1 and all(chr(c).isalpha() for c in members):
        return chr(next(iter(letters)))  # one letter in either case: the caseless flag covers both
    if members == _WHITESPACE:
        return r"\s"
    if len(members) == 1:
        return f"\\x{next(iter(members)):02x}"
    ranges: list[list[int]] = []
    for code in sorted(members):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "[" + "".join(f"\\x{a:02x}" if a == b else f"\\x{a:02x}-\\x{b:02x}" for a, b in ranges) + "]"


class _Emitter:
    """Writes the rewrite of one parse tree (see `rewrite`); None stands for "cannot match"."""

    def __init__(self, *, raw: bool, lines: bool, stand_in: bool) -> None:
        self.raw = raw
        self.stand_in = stand_in
        # Whitespace the view can hold: spaces, and line breaks in the line view.
        self.kept = frozenset(b" \n") if lines else frozenset(b" ")

    def char(self, members: frozenset[int], kinds: tuple[bool, bool, bool]) -> tuple[str, bool] | None:
        """An item for one character: `members` (ASCII codes), and with stand-ins, those of the kinds
        of non-ASCII character it may match; and whether it must also match a run of whitespace
        (raw input, where it can match the view's whitespace)."""
        if self.stand_in:
            word, space, other = kinds
            members = members | ({WORD_STAND_IN} if word else set()) | ({OTHER_STAND_IN} if other else set())
            members = members | _SPACE_STAND_INS if space else members
        members = members - (_WHITESPACE - self.kept)  # the view holds no other whitespace
        spaces = self.raw and bool(members & self.kept)
        if spaces:
            members = members | _WHITESPACE
        return (_ascii_class(members), spaces) if members else None

    def single(self, op: Any, av: Any, dotall: bool) -> tuple[str, bool] | bool | None:
        """The item for a one-character node (None: it matches nothing), or False for other nodes."""
        if op is _c.LITERAL:
            return self.char(_ascii_members(_char(av), dotall), _kinds(av) if av >= 0x80 else _NO_KIND)
        if op is _c.NOT_LITERAL:
            return self.char(_ascii_members(f"[^{_char(av)}]", dotall), _ALL_KINDS)
        if op is _c.ANY:
            return self.char(_ascii_members(".", dotall), _ALL_KINDS)
        if op is _c.IN:
            source, kinds = _class_source(list(av))
            return self.char(_ascii_members(source, dotall), kinds)
        return False

    def sequence(self, items: Any, dotall: bool) -> str | None:
        parts = []
        for op, av in items:
            part = self.node(op, av, dotall)
            if part is None:
                return None
            parts.append(part)
        return "".join(parts)

    def node(self, op: Any, av: Any, dotall: bool) -> str | None:
        single = self.single(op, av, dotall)
        if single is None or isinstance(single, tuple):
            return None if single is None else single[0] + "+" if single[1] else single[0]
        if op is _c.BRANCH:
            alternatives = [a for a in (self.sequence(alt, dotall) for alt in av[1]) if a is not None]
            return "(?:" + "|".join(alternatives) + ")" if alternatives else None
        if op is _c.SUBPATTERN:
            _group, add, remove, sub = av
            inner = (dotall or bool(add & _c.SRE_FLAG_DOTALL)) and not remove & _c.SRE_FLAG_DOTALL
            body = self.sequence(sub, inner)
            return None if body is None else f"(?:{body})"
        if op is getattr(_c, "ATOMIC_GROUP", None):
            body = self.sequence(av, dotall)
            return None if body is None else f"(?:{body})"
        if op in _REPEATS:
            low, high, sub = av
            return self.repeat(low, high, sub, dotall)
        if op is _c.AT:
            return self.anchor(av)
        if op in (_c.ASSERT, _c.ASSERT_NOT):
            return ""  # lookarounds only remove matches
        raise Unsupported(f"construct {op}")

    def anchor(self, at: Any) -> str:
        if at in _STARTS:
            return r"^\s*" if self.raw else "^"
        if at in _ENDS:
            return r"\s*$" if self.raw else "$"
        if at in (_c.AT_BOUNDARY, _c.AT_UNI_BOUNDARY):
            return r"\b"
        return ""  # \B only removes matches

    def repeat(self, low: int, high: int, sub: Any, dotall: bool) -> str | None:
        bound = "" if high == _c.MAXREPEAT else str(high)
        items = list(sub)
        single = self.single(items[0][0], items[0][1], dotall) if len(items) == 1 else False
        if isinstance(single, tuple) and single[1]:
            # One character that may stand for a whitespace run: runs of any length, no upper bound.
            return f"{single[0]}{{{low},}}"
        if isinstance(single, tuple):
            body: str | None = single[0]
        elif single is None:
            body = None
        else:
            inner = self.sequence(sub, dotall)
            body = None if inner is None else f"(?:{inner})"
        if body is None:
            return "" if low == 0 else None  # only the empty repetition is left
        return f"{body}{{{low},{bound}}}"


@functools.lru_cache(maxsize=4096)
def rewrite(pattern: str, *, raw: bool = False, lines: bool = False, stand_in: bool = False) -> str | None:
    """The prefilter form of a rule pattern (see the module docstring), or None when the pattern
    cannot match such input at all; Unsupported when the rewrite does not handle the pattern.

    `raw=False`: for the view itself (whitespace already collapsed). `raw=True`: for the text as it
    came, in which each space of the view (and line break of the line view, with `lines`) may be a
    run of whitespace. `stand_in`: for text whose non-ASCII characters were replaced by stand-ins.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possible nested set" and similar: the parse is what counts
            parsed = _parser.parse(pattern, 0)
    except Exception as exc:  # syntax only the `regex` module knows
        raise Unsupported(f"not parseable: {exc}") from None
    emitter = _Emitter(raw=raw, lines=lines, stand_in=stand_in)
    return emitter.sequence(list(parsed), bool(parsed.state.flags & _c.SRE_FLAG_DOTALL))
