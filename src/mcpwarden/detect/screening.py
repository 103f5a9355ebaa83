"""Screening: which of many texts need `detect` at all, decided in a few C-speed passes.

The scanner reads every text of every definition, and nearly all of them are clean. `Screener`
takes many groups of texts (one group per definition), learns the vocabulary words each group holds,
and calls a text hot only if it needs normalisation or some pattern matches it, so a cold text is
certainly clean. Plain texts are not normalised: their words come from one translate and split, one
Hyperscan pass over all of them says which patterns may match anywhere, and only patterns that both
may match and have all their word clauses in a group are searched with `regex`, in the texts that
hold their words.

`TextAnalysis` is the same idea for one text the gateway detects as several kinds and masks secrets
in: one pass, whose answer every later step reads (see `Engine.analyze`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from mcpwarden.detect import secrets
from mcpwarden.detect.matching import line_view
from mcpwarden.detect.normalize import Normalized
from mcpwarden.detect.patterns import Index, Pattern, build_index, live_patterns
from mcpwarden.detect.prefilter import Prefilter
from mcpwarden.detect.results import Screen
from mcpwarden.detect.words import (
    GROUP_SEPARATOR,
    GROUP_SEPARATOR_BYTE,
    SCREEN_TABLE,
    SEPARATOR,
    SEPARATOR_BYTE,
    ascii_views,
    plain_bytes,
    view_words,
)


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    """The kind-independent part of detecting one text (see `Engine.analyze`): the prefilter's answer
    for plain text (None otherwise), and whether the text may hold a secret `mask_secrets` would find."""

    text: str
    prefilter: Prefilter | None
    found: set[int] | None  # hits in the text as it came (`lines` patterns and probes)
    view_found: set[int] | None  # hits in its view; None when not plain or when a decoder may apply
    may_hold_secret: bool


def secret_probes() -> tuple[str, ...]:
    """The patterns `find_secrets` runs, as Hyperscan probes over the text as it came. Hyperscan's
    prefilter mode and the caseless flag only widen them, so a plain text none of them reaches holds
    no secret. Every pattern is taken (a new one joins by itself); one Hyperscan cannot compile is
    left out of the database, which then no longer speaks for secrets (see `Engine.analyze`)."""
    return (*(p.regex.pattern for p in secrets._PATTERNS), secrets._ASSIGNMENT.pattern)


_BREAKS = frozenset(b" \x1e")  # what can surround a word in translated bytes
_TO_LINES = bytes(10 if c in (0x1D, 0x1E) else c for c in range(256))


class Screener:
    """Screens texts for the patterns `screened` (indices into `patterns`); built by the engine."""

    def __init__(
        self,
        patterns: Sequence[Pattern],
        screened: Sequence[int],
        marks: tuple[bytes, ...],
        *,
        max_chars: int,
        timeout_s: float,
        decodable: Callable[[bytes, frozenset[int] | None], bool],
        decoders_monotone: bool = False,
        normalize: Callable[[str], Normalized],
        prefilter: Prefilter | None,
    ) -> None:
        self._patterns = patterns
        self._screened = frozenset(screened)
        self._index: Index = build_index(patterns, screened)
        self.vocabulary = frozenset(w for i in screened for clause in patterns[i].clauses for w in clause)
        self._marks = marks
        self._not_marks = bytes(c for c in range(256) if bytes([c]) not in marks)  # delete-table
        self._max_chars = max_chars
        self._timeout_s = timeout_s
        self._decodable = decodable
        # Whether a decoder that applies to a text also applies to any text containing it (the
        # shipped ones do): then one test of all groups together can clear each group.
        self._decoders_monotone = decoders_monotone
        self._normalize = normalize
        self._prefilter = prefilter
        self._open: frozenset[int] | None = None  # screened patterns the prefilter does not answer for

    def _raw_hits(self, raw: bytes) -> frozenset[int] | None:
        """What the prefilter finds in separator-joined texts as they came: `lines` patterns that
        may match one of them, and decoder probes; None without a prefilter."""
        if self._prefilter is None:
            return None
        return frozenset(self._prefilter.line_hits(raw.translate(_TO_LINES)))

    def _hits(self, raw: bytes, raw_hits: frozenset[int] | None) -> Index | None:
        """The screened patterns that may match one of the plain texts among these separator-joined
        ones (one more Hyperscan pass, over their views), indexed by their words; None without a
        prefilter. Other texts in the scan can only add patterns."""
        if self._prefilter is None or raw_hits is None:
            return None
        if self._open is None:
            self._open = self._screened - self._prefilter.covered
        found = self._prefilter.view_hits(ascii_views(raw))
        return build_index(self._patterns, sorted(self._open.union(found.union(raw_hits).intersection(self._screened))))

    def screen_many(self, groups: Sequence[Sequence[str]], vocabulary: frozenset[bytes]) -> list[Screen]:
        """See `Engine.screen_many`."""
        raw = GROUP_SEPARATOR_BYTE.join(SEPARATOR.join(g).encode("utf-8", "surrogatepass") for g in groups)
        translated = raw.translate(SCREEN_TABLE)
        raw_groups = raw.split(GROUP_SEPARATOR_BYTE)
        if len(raw_groups) != len(groups):  # a text contains the group separator itself
            return [self._screen_each(group, vocabulary, None, None) for group in groups]
        translated_groups = translated.split(GROUP_SEPARATOR_BYTE)
        word_groups = translated.replace(SEPARATOR_BYTE, b" ").split(GROUP_SEPARATOR_BYTE)
        raw_hits = self._raw_hits(raw)
        hits = self._hits(raw, raw_hits)
        decodable = not self._decoders_monotone or self._decodable(raw, raw_hits)
        plain = [
            b"\x01" not in translated_group
            and b"]:" not in raw_group
            and translated_group.count(SEPARATOR_BYTE) == max(0, len(group) - 1)
            and len(raw_group) <= self._max_chars
            and not (decodable and self._decodable(raw_group, raw_hits))
            for group, raw_group, translated_group in zip(groups, raw_groups, translated_groups, strict=True)
        ]
        marked = bool(self._marks) and bool(raw.translate(None, self._not_marks))  # any mark in any group
        results = []
        for number, group in enumerate(groups):
            if plain[number]:
                screen = self._screen_plain(
                    group, raw_groups[number], translated_groups[number], word_groups[number], vocabulary, hits, marked
                )
            else:
                screen = self._screen_each(group, vocabulary, hits, raw_hits)
            results.append(screen)
        return results

    def _screen_plain(
        self,
        texts: Sequence[str],
        raw: bytes,
        translated: bytes,
        spaced: bytes,
        vocabulary: frozenset[bytes],
        hits: Index | None,
        marked: bool = True,
    ) -> Screen:
        present = raw.translate(None, self._not_marks) if marked and self._marks else b""
        marks = [m for m in self._marks if m in present] if present else []
        words = vocabulary.intersection(spaced.split())
        words = words.union(marks) if marks else words
        # Screened patterns whose every clause `words` satisfies, less those the prefilter ruled out.
        candidates = live_patterns(self._index if hits is None else hits, words)
        if not candidates:
            return Screen(words, ())
        # Some pattern's words all occur somewhere. Find the texts holding a word of a candidate's first
        # clause (byte search: the translated text has only word bytes, spaces and separators), then
        # check those texts alone.
        clauses = [self._patterns[i].clauses for i in candidates]
        if not all(clauses):  # a pattern with no clause may match any text
            positions = set(range(len(texts)))
        else:
            first = words.intersection(frozenset().union(*(c[0] for c in clauses)))
            positions = _texts_holding(first, raw, translated)
        hot = []
        parts = translated.split(SEPARATOR_BYTE)
        raw_parts = raw.split(SEPARATOR_BYTE) if marks else []
        for index in sorted(positions):
            own_marks = [m for m in marks if m in raw_parts[index]] if marks else []
            if self._text_matches(texts[index], candidates, frozenset(parts[index].split()).union(own_marks)):
                hot.append(index)
        return Screen(words, tuple(hot))

    def _screen_each(
        self,
        texts: Sequence[str],
        vocabulary: frozenset[bytes],
        hits: Index | None,
        raw_hits: frozenset[int] | None,
    ) -> Screen:
        """Screen plain texts together and normalise the rest, which are hot. `hits` and `raw_hits`:
        the prefilter's answers for scans that took in these texts, if there were any."""
        plain = [i for i, t in enumerate(texts) if len(t) <= self._max_chars and plain_bytes(t) is not None]
        plain = [i for i in plain if SEPARATOR not in texts[i] and GROUP_SEPARATOR not in texts[i]]
        plain = [i for i in plain if not self._decodable(texts[i].encode("ascii"), raw_hits)]
        words: set[bytes] = set()
        hot: list[int] = []
        if plain:
            group = [texts[i] for i in plain]
            raw = SEPARATOR.join(group).encode("ascii")
            translated = raw.translate(SCREEN_TABLE)
            spaced = translated.replace(SEPARATOR_BYTE, b" ")
            if hits is None:
                hits = self._hits(raw, self._raw_hits(raw))
            sub = self._screen_plain(group, raw, translated, spaced, vocabulary, hits)
            words |= sub.words
            hot += [plain[i] for i in sub.hot]
        normalized: dict[int, Normalized] = {}
        for index in sorted(set(range(len(texts))) - set(plain)):
            norm = normalized[index] = self._normalize(texts[index])
            words |= vocabulary.intersection(view_words([norm.view, *(s.text for s in norm.segments)], self._marks))
            hot.append(index)
        return Screen(frozenset(words), tuple(sorted(hot)), MappingProxyType(normalized))

    def _text_matches(self, text: str, candidates: list[int], words: frozenset[bytes]) -> bool:
        live = [i for i in candidates if all(not c.isdisjoint(words) for c in self._patterns[i].clauses)]
        if not live:
            return False
        view = " ".join(text.split())
        try:
            return any(
                self._patterns[i].regex.search(
                    line_view(text) if self._patterns[i].lines else view, timeout=self._timeout_s
                )
                for i in live
            )
        except TimeoutError:
            return True


def _texts_holding(words: Iterable[bytes], raw: bytes, translated: bytes) -> set[int]:
    """Indices of the separator-joined texts that contain one of `words` (whole) or of the marks."""
    found: set[int] = set()
    end = len(translated)
    for word in words:
        is_mark = len(word) == 1 and not word.isalnum() and word != b"_"
        haystack = raw if is_mark else translated
        start = haystack.find(word)
        while start >= 0:
            stop = start + len(word)
            if is_mark or (
                (start == 0 or translated[start - 1] in _BREAKS) and (stop == end or translated[stop] in _BREAKS)
            ):
                found.add(translated.count(SEPARATOR_BYTE, 0, start))
            start = haystack.find(word, stop)
    return found
