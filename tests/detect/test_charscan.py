"""One Hyperscan pass tells which normalisation steps have characters to work on: never one too few."""

from __future__ import annotations

import random

import pytest

from mcpwarden.detect import normalize
from mcpwarden.detect.charscan import KINDS, special_kinds

# Each kind, and the normaliser's own search that it stands for.
SEARCHES = {
    "tags": lambda t: normalize._TAG_RUN.search(t),
    "selectors": lambda t: normalize._VS_RUN.search(t),
    "invisible": lambda t: normalize._INVISIBLE_RUN.search(t),
    "controls": lambda t: normalize._CONTROL.search(t) or "\x1b" in t,
    "styled": lambda t: normalize._STYLED.search(t),
    "silent": lambda t: normalize._SILENT.search(t),
    "confusables": lambda t: normalize._CONFUSABLE.search(t),
}
SPECIAL = "\U000e0041\ufe00\ufe01\U000e0100\u200b\u202e\u00ad\x1b\x08\r\n\x9b\U0001d400\uff41\u0131\u0430\u03bf"


def test_every_kind_has_its_search() -> None:
    assert {name for name, _ in KINDS} == set(SEARCHES)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_kind_is_reported_whenever_its_search_finds_something(seed: int) -> None:
    chance = random.Random(seed)
    for _ in range(3000):
        text = "".join(chance.choice("ab é—" + SPECIAL) for _ in range(chance.randint(0, 8)))
        kinds = special_kinds(text)
        assert kinds is not None
        for name, search in SEARCHES.items():
            if search(text):
                assert name in kinds, (name, text)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("plain words", frozenset()),
        ("café — naïve “quoted”", frozenset()),
        ("zero\u200bwidth", frozenset({"invisible"})),
        ("\x1b[31mred", frozenset({"controls"})),
        ("раураl", frozenset({"confusables"})),
    ],
)
def test_kinds_of_common_texts(text: str, kinds: frozenset[str]) -> None:
    assert special_kinds(text) == kinds


def test_a_lone_surrogate_has_no_answer() -> None:
    assert special_kinds("a\ud800b") is None
