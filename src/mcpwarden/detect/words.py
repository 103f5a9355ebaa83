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


def plain_bytes(text: str, table: bytes = FAST_TABLE) -> tuple[bytes, bytes] | None:
    """(raw, translated) bytes of a text that needs no normalisation; None when it does."""
    if not text.isascii():
        return None
    raw = text.encode("ascii")
    translated = raw.translate(table)
    if b"\x01" in translated or b"]:" in raw:  # `[//]: # (…)` is a Markdown comment
        return None
    return raw, translated


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
