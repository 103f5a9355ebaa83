"""Which kinds of special character a text holds, in one Hyperscan pass over its UTF-8 bytes.

Each normalisation step looks for its own characters (tag characters, invisible ones, controls,
styled letters, look-alikes) with a `regex` character-class search, and on text without them each
search is a full pass at a few million characters a second. One Hyperscan scan answers for all the
classes at once, and the normaliser skips the steps whose characters are absent. The classes are
the normaliser's own (`charsets.py`), so "absent" here means the step's search would find nothing.
"""

from __future__ import annotations

import functools

import hyperscan

from mcpwarden.detect import charsets
from mcpwarden.detect.hyperscan_db import Compiled, compile_patterns


def _hs_class(body: str) -> str:
    """A `regex` character-class body of literal characters and `-` ranges, in Hyperscan's syntax."""
    return "[" + "".join(ch if ch == "-" else f"\\x{{{ord(ch):x}}}" for ch in body) + "]"


# The searches of `normalize.py`, by step (CONTROLS also matches a `\r` before `\n`: a superset).
KINDS = (
    ("tags", _hs_class("\U000e0000-\U000e007f")),
    ("selectors", _hs_class("\ufe00-\ufe0f\U000e0100-\U000e01ef") + "{2,}"),
    ("invisible", _hs_class(charsets.INVISIBLE_CLASS)),
    ("controls", r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x{9f}]|\r"),
    ("styled", _hs_class(charsets.STYLED_CLASS)),
    ("silent", _hs_class("".join(charsets.SILENT_FOLDS))),
    ("confusables", _hs_class("".join(charsets.CONFUSABLES))),
)
_FLAGS = hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_SINGLEMATCH


@functools.lru_cache(maxsize=1)
def _database() -> Compiled | None:
    compiled = compile_patterns(list(enumerate(pattern for _, pattern in KINDS)), _FLAGS)
    return None if isinstance(compiled, str) else Compiled(compiled, frozenset(range(len(KINDS))))


def special_kinds(text: str) -> frozenset[str] | None:
    """The KINDS of character `text` holds; None when that cannot be told (no database, or a lone
    surrogate, which is not UTF-8)."""
    database = _database()
    if database is None:
        return None
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return frozenset(KINDS[i][0] for i in database.scan(data))
