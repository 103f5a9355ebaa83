"""Searching one compiled pattern and turning its first match into a `Match` with evidence."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

import regex

from mcpwarden.detect.normalize import Normalized, Segment
from mcpwarden.detect.results import Match
from mcpwarden.detect.ruleset import Rule
from mcpwarden.types import Severity

if TYPE_CHECKING:
    from mcpwarden.detect.patterns import Pattern

_CONTEXT = 40
_MAX_SPAN = 160  # evidence shows at most this much of a long match
_MAX_WINDOWS = 64
_QUOTES = frozenset("'\"“”‘’`«»")
_QUOTED = "Quoted, as when a text mentions the phrase rather than addresses the model."
_ORIGIN_DETAIL = MappingProxyType(
    {
        "tag_characters": "text hidden with Unicode tag characters",
        "variation_selectors": "text hidden in variation selectors",
        "ansi_escape": "a terminal escape sequence",
        "html_comment": "an HTML comment",
        "hidden_element": "a hidden HTML element",
        "markdown_comment": "a Markdown comment",
        "markup_attribute": "an HTML attribute or Markdown title",
        "base64": "base64-decoded text",
        "hex": "hex-decoded text",
        "url_encoding": "URL-decoded text",
        "html_entities": "text decoded from HTML entities",
    }
)


def search(
    rx: regex.Pattern[str], text: str, spans: list[tuple[int, int]] | None, timeout: float
) -> regex.Match[str] | None:
    if spans is None:
        return rx.search(text, timeout=timeout)
    for start, end in spans:
        found = rx.search(text, start, end, timeout=timeout)
        if found is not None:
            return found
    return None


def windows(pattern: Pattern, spaced: bytes) -> list[tuple[int, int]] | None:
    """The stretches of a view that can hold a match: around each word of the pattern's first clause.

    `spaced` is the view translated by FAST_TABLE with a space added at each end, so a word `w` at
    view offset i appears as b" w " at offset i. None means: search the whole view.
    """
    width = pattern.width
    if width is None or not pattern.clauses or len(spaced) < 4 * width:
        return None
    spans: list[tuple[int, int]] = []
    limit = len(spaced) - 2
    for word in pattern.clauses[0]:
        if not (word.isalnum() or b"_" in word):
            return None  # a punctuation mark: not in the translated view
        needle = b" " + word + b" "
        at = spaced.find(needle)
        while at >= 0:
            spans.append((max(0, at - width), min(limit, at + len(word) + width)))
            if len(spans) > _MAX_WINDOWS:
                return None
            at = spaced.find(needle, at + len(word) + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def line_view(text: str) -> str:
    """The text with spaces collapsed inside each line and line breaks kept (for `lines` patterns)."""
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def make_match(rule: Rule, source: Segment, found: regex.Match[str], norm: Normalized, lines: bool = False) -> Match:
    origin = source.origin
    if origin == "text" and not lines:
        inside = [r for r in norm.regions() if r.span and r.span[0] <= found.start() < r.span[1]]
        origin = inside[0].kind if inside else "text"
    text = source.text
    start, end = max(0, found.start() - _CONTEXT), min(found.end(), found.start() + _MAX_SPAN) + _CONTEXT
    evidence = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    if origin == "text" and _quoted(text, found.start(), found.end()):
        # Quoted in plain view: an article or a scanner's documentation mentioning the phrase. Still
        # reported, but as a hint: hidden channels and unquoted text keep the rule's severity.
        return Match(rule, evidence, _QUOTED, origin, Severity.LOW if rule.severity > Severity.LOW else None)
    return Match(rule, evidence, origin_detail(origin), origin)


def _quoted(text: str, start: int, end: int) -> bool:
    """Whether a match sits inside quotation marks that open right before it and close right after."""
    before = text[max(0, start - 2) : start].rstrip()
    after = text[end : end + 3].lstrip(" .,;:!?")
    return bool(before) and before[-1] in _QUOTES and bool(after) and after[0] in _QUOTES


def origin_detail(origin: str) -> str:
    """Where a match was hidden, in words: "Found in base64-decoded text (inside URL-decoded text)."."""
    channels = [_ORIGIN_DETAIL.get(part, "") for part in reversed(origin.split(">")) if part != "text"]
    channels = [c for c in channels if c]
    if not channels:
        return ""
    inner, outer = channels[0], channels[1:]
    return f"Found in {inner}" + "".join(f" (inside {c})" for c in outer) + "."
