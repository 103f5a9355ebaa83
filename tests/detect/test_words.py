"""Splitting text into index words: plain text at C speed, everything else after normalisation."""

from __future__ import annotations

import random

import pytest

from mcpwarden.detect.words import ascii_stand_in, ascii_view, ascii_views, plain_bytes, view_words, words_of


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


def _texts(seed: int, count: int, alphabet: str) -> list[str]:
    chance = random.Random(seed)
    return ["".join(chance.choice(alphabet) for _ in range(chance.randint(0, 14))) for _ in range(count)]


def test_ascii_view_is_the_whitespace_collapsed_text() -> None:
    for text in [*_texts(1, 3000, " \t\n\x0b\x0c\r\x1c\x1fab."), "  many    spaces   ", "x" + " " * 1000 + "y"]:
        assert ascii_view(text.encode()) == " ".join(text.split()).encode()


def test_ascii_views_join_each_texts_view_with_line_breaks() -> None:
    chance = random.Random(2)
    for _ in range(2000):
        texts = _texts(chance.randint(0, 10**6), chance.randint(1, 5), " \t\nab")
        raw = "\x1e".join(texts).encode()
        assert ascii_views(raw) == "\n".join(" ".join(t.split()) for t in texts).encode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", b"plain"),
        ("caf\u00e9 \u6771\u4eac", b"caf_ __"),  # word characters
        ("a\u3000b\u00a0c", b"a b c"),  # whitespace `str.split` breaks at
        ("a\u2028b\x85c", b"a\nb\nc"),  # what `str.splitlines` breaks at
        ("\u201cq\u201d \u2014 \u2022", b"\x7fq\x7f \x7f \x7f"),  # anything else
        ("\ud800", b"\x7f"),  # a lone surrogate
        ("\u212a", None),  # the Kelvin sign matches k: no stand-in keeps that
    ],
)
def test_ascii_stand_ins_keep_the_kind_of_each_character(text: str, expected: bytes | None) -> None:
    assert ascii_stand_in(text) == expected
