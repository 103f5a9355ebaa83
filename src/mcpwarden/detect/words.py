"""Splitting text into the lower-case words (and marks) that the rule index is keyed by.

Plain text (ASCII without control characters, `<` or Markdown comments) needs no normalisation: its
words come from one `bytes.translate` and `split`, which run at C speed. A word is a maximal run of
`[a-z0-9_]`, exactly what `\\w` matches in ASCII, so the index agrees with `\\b` in the patterns.
"""

from __future__ import annotations

from collections.abc import Iterable

import regex

# Characters that need normalisation first: C0 controls other than tab and newline (carriage returns
# included: a lone one can overwrite a terminal line), DEL, and '<' (HTML comments and hidden elements).
_SPECIAL = frozenset([*range(0, 9), 11, 12, *range(13, 32), 127, ord("<")])
# Word characters kept (upper case folded), separators become spaces, specials become \x01.
FAST_TABLE = bytes(
    c + 32 if 65 <= c <= 90 else c if (chr(c).isalnum() and c < 128) or c == 95 else 1 if c in _SPECIAL else 32
    for c in range(256)
)
# Several texts screened at once are joined with a record separator, groups of texts with a group
# separator; the screening table keeps both, and marks every non-ASCII byte as needing normalisation.
SEPARATOR = "\x1e"
SEPARATOR_BYTE = b"\x1e"
GROUP_SEPARATOR = "\x1d"
GROUP_SEPARATOR_BYTE = b"\x1d"
SCREEN_TABLE = bytes(1 if c >= 128 else c if c in (0x1D, 0x1E) else FAST_TABLE[c] for c in range(256))
_WORDS = regex.compile(r"\w+")
# Every ASCII character `str.split()` treats as whitespace becomes a space (for `ascii_view`); the
# second table keeps the separators, the third turns them into line breaks.
_SPACES = bytes(32 if c in b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f " else c for c in range(256))
_SPACES_BUT_SEPARATORS = bytes(30 if c == 29 else 30 if c == 30 else _SPACES[c] for c in range(256))
_SEPARATORS_TO_LINES = bytes(10 if c in (29, 30) else c for c in range(256))
# Words (as FAST_TABLE spells them) separated by spaces, every other byte a space.
WORD_TABLE = bytes(32 if c == 1 else c for c in FAST_TABLE)


def plain_bytes(text: str, table: bytes = FAST_TABLE) -> tuple[bytes, bytes] | None:
    """(raw, translated) bytes of a text that needs no normalisation; None when it does."""
    if not text.isascii():
        return None
    raw = text.encode("ascii")
    translated = raw.translate(table)
    if b"\x01" in translated or b"]:" in raw:  # `[//]: # (…)` is a Markdown comment
        return None
    return raw, translated


def ascii_view(raw: bytes) -> bytes:
    """`" ".join(text.split())` for ASCII text, as bytes: whitespace runs become one space, ends are
    stripped. Runs of C-speed byte operations instead of one string object per word."""
    view = raw.translate(_SPACES)
    if b"  " not in view:
        return view.strip(b" ")
    # One split and join: halving runs with `replace` until none is left takes a pass (about 20 µs
    # per 4 KB) per halving, several for indented code or padded columns. After the translation
    # only spaces are left of what `bytes.split()` splits at.
    return b" ".join(view.split())


def ascii_views(raw: bytes) -> bytes:
    """The `ascii_view` of each of several ASCII texts joined by SEPARATOR or GROUP_SEPARATOR, joined
    by line breaks instead (so `^` and `$` hold at each text's ends, as in its own view)."""
    view = raw.translate(_SPACES_BUT_SEPARATORS)
    while b"  " in view:
        view = view.replace(b"  ", b" ")
    view = view.replace(b" \x1e", b"\x1e").replace(b"\x1e ", b"\x1e").strip(b" ")
    return view.translate(_SEPARATORS_TO_LINES)


_NON_ASCII_RUN = regex.compile(r"[^\x00-\x7f]+")
_WORD_CHAR = regex.compile(r"\w")
_LINE_BREAKS = "\x85\u2028\u2029"  # where `str.splitlines` breaks beyond ASCII
# Letters `regex` matches case-insensitively with ASCII ones (İ ı ſ and the Kelvin sign): no stand-in
# keeps that, so a text holding one gets none (a test checks the list against the `regex` module).
FOLDS_TO_ASCII = "\u0130\u0131\u017f\u212a"
_FOLDS_TO_ASCII = regex.compile(f"[{FOLDS_TO_ASCII}]")


class _StandIns(dict[int, str]):
    """The stand-in of each non-ASCII character, worked out on first sight (a `str.translate` table)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if _WORD_CHAR.match(char):
            stand_in = "_"
        elif char.isspace():
            stand_in = "\n" if char in _LINE_BREAKS else " "
        else:
            stand_in = "\x7f"
        self[code] = stand_in
        return stand_in


_STAND_INS = _StandIns()


def _stand_in_run(run: regex.Match[str]) -> str:
    return str(run.group()).translate(_STAND_INS)


def ascii_stand_in(text: str) -> bytes | None:
    """`text` as ASCII bytes, each non-ASCII character replaced by one of the same kind for the
    prefilter (`prefilter_patterns.py`): `_` for a word character (as `regex` sees it), a line break
    or space for what `str.splitlines` and `str.split` break at, DEL for anything else. None when
    the text holds one of FOLDS_TO_ASCII."""
    if text.isascii():
        return text.encode("ascii")
    if _FOLDS_TO_ASCII.search(text):
        return None
    return str(_NON_ASCII_RUN.sub(_stand_in_run, text)).encode("ascii")


def words_of(raw: bytes, translated: bytes, marks: Iterable[bytes]) -> frozenset[bytes]:
    """The words of plain text, plus those of `marks` (punctuation anchors) it contains."""
    words = frozenset(translated.split())
    present = [m for m in marks if m in raw]
    return words.union(present) if present else words


def view_words(texts: Iterable[str], marks: Iterable[bytes]) -> frozenset[bytes]:
    """The words (and marks) of normalised texts, spelled as the index spells them."""
    found: set[bytes] = set()
    wanted = [(m, m.decode()) for m in marks]
    for text in texts:
        found.update(w.encode() for w in _WORDS.findall(text.lower()))
        found.update(m for m, ch in wanted if ch in text)
    return frozenset(found)
