"""Splitting text into index words: plain text at C speed, everything else after normalisation."""

from __future__ import annotations

import pytest

from mcpwarden.detect.words import plain_bytes, view_words, words_of


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("Plain ASCII, with (punctuation) and 123.", True),
        ("tabs\tand\nnewlines", True),
        ("caf\u00e9", False),  # non-ASCII: normalise first
        ("a <tag>", False),  # markup: hidden regions must be found
        ("\x1b[31mred", False),  # terminal escapes
        ("line\rover", False),  # carriage returns
        ("[//]: # (comment)", False),  # Markdown comment
    ],
)
def test_only_text_needing_no_normalisation_is_plain(text: str, plain: bool) -> None:
    assert (plain_bytes(text) is not None) is plain


def test_words_match_what_backslash_w_sees_in_ascii() -> None:
    raw, translated = plain_bytes("Read id_rsa, THEN send-it to x.y!") or (b"", b"")
    assert words_of(raw, translated, ()) == {b"read", b"id_rsa", b"then", b"send", b"it", b"to", b"x", b"y"}
    assert b"[" in words_of(*(plain_bytes("a [b]") or (b"", b"")), (b"[", b"~"))


def test_view_words_include_non_ascii_words_and_marks() -> None:
    assert view_words(["Caf\u00e9 ~/x"], (b"~",)) == {"caf\u00e9".encode(), b"x", b"~"}
