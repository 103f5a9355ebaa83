"""Code checks over what normalisation revealed."""

from __future__ import annotations

import pytest

from mcpwarden.detect.normalize import Normalizer
from mcpwarden.detect.textchecks import TEXT_CHECKS
from mcpwarden.types import Severity

NORMALIZER = Normalizer()


@pytest.mark.parametrize(
    ("check", "text", "in_detail"),
    [
        ("hidden_payload", "x" + "".join(chr(0xE0000 + ord(c)) for c in "leak it"), "leak it"),
        ("invisible_characters", "a\u200bb", "U+200B"),
        ("bidi_controls", "a\u202eb", "overrides"),
        ("terminal_controls", "a\x1b[2Jb", "cursor"),
        ("confusable_characters", "ign\u043ere", "ignore"),
        ("hidden_markup", "<!-- two words -->", "two words"),
    ],
)
def test_each_check_fires_on_its_trick_and_explains_it(check: str, text: str, in_detail: str) -> None:
    hit = TEXT_CHECKS[check](NORMALIZER.normalize(text), {})
    assert hit is not None and in_detail in hit.detail


@pytest.mark.parametrize("check", sorted(TEXT_CHECKS))
def test_checks_stay_quiet_on_plain_text(check: str) -> None:
    assert TEXT_CHECKS[check](NORMALIZER.normalize("A plain description of a tool."), {}) is None


def test_options_tune_checks() -> None:
    norm = NORMALIZER.normalize("<!-- one -->")
    assert TEXT_CHECKS["hidden_markup"](norm, {"min_words": 2}) is None
    assert TEXT_CHECKS["hidden_markup"](norm, {"min_words": 1}) is not None


def test_bidi_marks_without_overrides_are_medium() -> None:
    hit = TEXT_CHECKS["bidi_controls"](NORMALIZER.normalize("a\u200fb"), {})
    assert hit is not None and hit.severity == Severity.MEDIUM
