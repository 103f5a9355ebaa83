"""Rules implemented in code over what normalisation revealed (`check:` names in the rule files).

Each check reads the `Reveal`s of one normalised text and says whether its rule fires, with the
evidence (raw, escaped later by `make_finding`) and a detail line for the message.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import regex

from mcpwarden.detect.normalize import Normalized, Reveal
from mcpwarden.types import Severity, escape_evidence


@dataclass(frozen=True)
class CheckHit:
    """A check that fired: evidence (unescaped), a detail for the message, and an optional severity."""

    evidence: str
    detail: str = ""
    severity: Severity | None = None


CheckFn = Callable[[Normalized, Mapping[str, Any]], CheckHit | None]


def _of(norm: Normalized, *kinds: str) -> list[Reveal]:
    return [r for r in norm.reveals if r.kind in kinds]


def _quote(text: str, limit: int = 200) -> str:
    return f"“{escape_evidence(text, limit)}”"


def hidden_payload(norm: Normalized, options: Mapping[str, Any]) -> CheckHit | None:
    """Tag characters or variation-selector runs that spell out text nobody sees."""
    found = _of(norm, "tag_characters", "variation_selectors")
    if not found:
        return None
    count = sum(r.count for r in found)
    payload = " ".join(r.payload for r in found if r.payload)
    how = "Unicode tag characters" if found[0].kind == "tag_characters" else "variation selectors"
    detail = f"{count} invisible characters ({how}) spell out hidden text: {_quote(payload)}."
    return CheckHit(found[0].sample, detail)


def invisible_characters(norm: Normalized, options: Mapping[str, Any]) -> CheckHit | None:
    """Zero-width and other format characters outside the places scripts and emoji need them."""
    found = _of(norm, "invisible_characters")
    if not found or found[0].count < int(options.get("min_count", 1)):
        return None
    return CheckHit(
        found[0].sample, f"{found[0].count} invisible characters ({found[0].note}) removed before matching."
    )


def bidi_controls(norm: Normalized, options: Mapping[str, Any]) -> CheckHit | None:
    """Bidirectional overrides anywhere, or other bidi controls in text with no right-to-left script."""
    found = _of(norm, "bidi_controls")
    if not found:
        return None
    reveal = found[0]
    severity = None if "overrides" in reveal.note else Severity.MEDIUM
    return CheckHit(reveal.sample, f"{reveal.count} bidirectional control characters ({reveal.note}).", severity)


def terminal_controls(norm: Normalized, options: Mapping[str, Any]) -> CheckHit | None:
    """ANSI escape sequences and raw control characters that rewrite what a terminal shows."""
    escapes = _of(norm, "ansi_escape")
    controls = _of(norm, "control_characters")
    if not escapes and not controls:
        return None
    parts = [f"{r.count} ANSI escape sequences ({r.note})" for r in escapes]
    parts += [f"{r.count} control characters (backspace, carriage return, …)" for r in controls]
    styling_only = not controls and all(r.note == "styling" for r in escapes)
    severity = Severity.LOW if styling_only else None
    sample = (escapes or controls)[0].sample
    return CheckHit(sample, "; ".join(parts) + ".", severity)


def confusable_characters(norm: Normalized, options: Mapping[str, Any]) -> CheckHit | None:
    """Look-alike letters from other scripts inside Latin words, or styled letters standing in for plain ones."""
    found = _of(norm, "confusables", "styled_characters")
    if not found:
        return None
    reveal = found[0]
    if reveal.kind == "confusables":
        detail = f"{reveal.count} words mix look-alike letters from other scripts: {escape_evidence(reveal.payload)}."
    else:
        detail = f"{reveal.count} styled or full-width letters read as {_quote(reveal.payload)}."
    return CheckHit(reveal.sample, detail)


def hidden_markup(norm: Normalized, options: Mapping[str, Any]) -> CheckHit | None:
    """HTML comments, hidden elements and Markdown comments that hold words."""
    min_words = int(options.get("min_words", 2))
    for reveal in _of(norm, "html_comment", "hidden_element", "markdown_comment"):
        if len(reveal.payload.split()) < min_words or reveal.span is None:
            continue
        where = reveal.kind.replace("_", " ")
        evidence = norm.view[reveal.span[0] : reveal.span[1]]
        return CheckHit(evidence, f"Text hidden in an {where}: {_quote(reveal.payload)}.")
    return None


def analysis_limit(norm: Normalized, options: Mapping[str, Any]) -> CheckHit | None:
    """The text was too large or too deeply encoded to analyse completely, or matching timed out."""
    found = _of(norm, "truncated", "depth_limit", "timeout")
    if not found:
        return None
    notes = []
    for reveal in found:
        if reveal.kind == "truncated":
            notes.append(f"{reveal.count} characters long, {reveal.note}")
        elif reveal.kind == "depth_limit":
            notes.append(f"hidden text nested beyond the decoding limit ({reveal.note})")
        else:
            notes.append(f"matching timed out ({reveal.note})")
        if len(notes) >= 3:
            break
    return CheckHit(found[0].sample, "; ".join(notes) + ".")


@functools.lru_cache(maxsize=64)  # a rule's phrase list is compiled once per process
def _phrases(patterns: tuple[str, ...]) -> regex.Pattern[str]:
    return regex.compile("|".join(f"(?:{p})" for p in patterns), regex.IGNORECASE)


def script_phrases(norm: Normalized, options: Mapping[str, Any]) -> CheckHit | None:
    """Phrases in scripts written without spaces (Chinese, Japanese, Korean), which the word index
    cannot anchor: searched in non-ASCII views and hidden segments only, so plain text costs nothing."""
    patterns = tuple(str(p) for p in options.get("patterns", ()))
    if not patterns:
        return None
    for text in (norm.view, *(s.text for s in norm.segments)):
        if text.isascii():
            continue
        try:
            found = _phrases(patterns).search(text, timeout=0.5)
        except TimeoutError:
            return None
        if found is not None:
            start = max(0, found.start() - 40)
            return CheckHit(text[start : found.end() + 40])
    return None


def encoded_text(norm: Normalized, options: Mapping[str, Any]) -> CheckHit | None:
    """Base64, hex, URL or entity encoding that hides readable prose (not JSON, paths or binary data)."""
    min_words = int(options.get("min_words", 5))
    for reveal in _of(norm, "decoded"):
        words = [w for w in reveal.payload.split() if w.isalpha()]
        if len(words) >= min_words and len(words) * 2 >= len(reveal.payload.split()):
            how = reveal.note.replace(">", " inside ").replace("_", " ")
            return CheckHit(reveal.sample, f"Decoded ({how}): {_quote(reveal.payload)}.")
    return None


TEXT_CHECKS: Mapping[str, CheckFn] = MappingProxyType(
    {
        "hidden_payload": hidden_payload,
        "invisible_characters": invisible_characters,
        "bidi_controls": bidi_controls,
        "terminal_controls": terminal_controls,
        "confusable_characters": confusable_characters,
        "hidden_markup": hidden_markup,
        "analysis_limit": analysis_limit,
        "script_phrases": script_phrases,
        "encoded_text": encoded_text,
    }
)
