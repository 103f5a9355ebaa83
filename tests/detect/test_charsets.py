"""Character tables: the invisible class covers every format character Unicode defines here."""

from __future__ import annotations

import sys
import unicodedata

import regex

from mcpwarden.detect import charsets


def test_every_format_character_is_in_the_invisible_class() -> None:
    invisible = regex.compile(f"[{charsets.INVISIBLE_CLASS}]")
    missing = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) == "Cf" and not invisible.match(chr(code))
    ]
    assert missing == []


def test_confusables_map_to_single_ascii_letters() -> None:
    for source, target in (*charsets.CONFUSABLES.items(), *charsets.SILENT_FOLDS.items()):
        assert not source.isascii() and target.isascii() and len(target) == 1 and target.isalpha()
