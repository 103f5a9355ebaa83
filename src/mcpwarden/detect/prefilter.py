"""A Hyperscan multi-pattern prefilter: one linear-time pass says which patterns can match a text.

Benign text is the common case, and most of it contains some word a pattern is anchored on
(`anchors.py`), so the anchor index alone would still send it through word splitting and `regex`
searches. Hyperscan scans all patterns at once, in time linear in the text, and on benign text
usually reports none: the engine then knows the answer without splitting or searching anything.

Every pattern is rewritten (`prefilter_patterns.py`) and compiled in Hyperscan's prefilter mode, both
of which only ever widen what matches: a pattern the prefilter does not report cannot match, one it
reports is confirmed by `regex` as before, so findings and evidence are exactly the `regex` module's.
Hyperscan runs on bytes, without UTF-8 or Unicode properties (compiling with them takes minutes), so
it is asked about ASCII text, where ASCII `\\w`, `\\b` and case folding agree with the `regex`
module's Unicode ones, or about ASCII stand-ins of other text. Patterns whose rewrite can never
match ASCII text (a rule written in Cyrillic) are known absent from every ASCII text.

Patterns over the whitespace-collapsed view are scanned on the view (several views may be joined by
line breaks and scanned at once), `lines` patterns on the text as it came, before its line view is
built; a second pair of databases serves text that is not ASCII, through ASCII stand-ins for its
other characters. Databases are cached on disk (`hyperscan_db.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import hyperscan

from mcpwarden.detect import hyperscan_db
from mcpwarden.detect.hyperscan_db import Compiled
from mcpwarden.detect.prefilter_patterns import Unsupported, rewrite
from mcpwarden.detect.words import ascii_stand_in, ascii_view

_FLAGS = (
    hyperscan.HS_FLAG_CASELESS
    | hyperscan.HS_FLAG_MULTILINE
    | hyperscan.HS_FLAG_PREFILTER
    | hyperscan.HS_FLAG_SINGLEMATCH
)
_NEVER_MATCHES = "never match"  # Hyperscan's compile error for a pattern no input can match


@functools.lru_cache(maxsize=16)  # compiling takes seconds: engines over the same patterns share it
def _compile(wanted: tuple[tuple[int, str], ...], never: frozenset[int]) -> Compiled:
    """A database for `wanted` (id, rewritten pattern); `never` are covered without one."""
    if not wanted:
        return Compiled(None, never)
    database = hyperscan_db.load(wanted, _FLAGS)
    if database is not None:
        return Compiled(database, never | {i for i, _ in wanted})
    compiled = hyperscan_db.compile_patterns(wanted, _FLAGS)
    if not isinstance(compiled, str):
        hyperscan_db.store(wanted, _FLAGS, compiled)
        return Compiled(compiled, never | {i for i, _ in wanted})
    # Some pattern is beyond Hyperscan: find which, once, and leave it out (uncached: rare, custom rules).
    kept = []
    for item in wanted:
        error = hyperscan_db.compile_patterns([item], _FLAGS)
        if not isinstance(error, str):
            kept.append(item)
        elif _NEVER_MATCHES in error.lower():
            never = never | {item[0]}
    compiled = hyperscan_db.compile_patterns(kept, _FLAGS) if kept else "nothing left to compile"
    if isinstance(compiled, str):
        return Compiled(None, never)
    return Compiled(compiled, never | {i for i, _ in kept})


def _rewritten(
    patterns: Sequence[str | None], lines: Sequence[bool], *, raw: bool, stand_in: bool
) -> tuple[tuple[tuple[int, str], ...], frozenset[int]]:
    """The rewrites of the patterns one database serves, and those that cannot match its input."""
    wanted = []
    never = []
    for index, (pattern, is_lines) in enumerate(zip(patterns, lines, strict=True)):
        if pattern is None or is_lines != raw:
            continue
        try:
            rewritten = rewrite(pattern, raw=raw, lines=is_lines, stand_in=stand_in)
        except Unsupported:
            continue
        if rewritten is None:
            never.append(index)
        else:
            wanted.append((index, rewritten))
    return tuple(wanted), frozenset(never)


class Prefilter:
    """Which of an engine's patterns may match a text; compiled on first use, then shared."""

    def __init__(
        self, patterns: Sequence[str | None], lines: Sequence[bool] | None = None, probes: Sequence[str] = ()
    ) -> None:
        """`patterns[i]` is pattern i's source, or None for a pattern the prefilter must leave alone;
        `lines[i]` says it matches the line view (default: none does). `probes` are Hyperscan
        patterns looked for in the text as it came (see `line_hits`), with ids after the patterns'."""
        self._patterns = tuple(patterns)
        self._lines = tuple(lines) if lines is not None else (False,) * len(self._patterns)
        if len(self._lines) != len(self._patterns):
            raise ValueError("one `lines` flag per pattern")
        self._probes = tuple((len(self._patterns) + number, probe) for number, probe in enumerate(probes))
        self._databases: dict[tuple[bool, bool], Compiled] = {}

    def _get(self, raw: bool, stand_in: bool) -> Compiled:
        compiled = self._databases.get((raw, stand_in))
        if compiled is None:
            wanted, never = _rewritten(self._patterns, self._lines, raw=raw, stand_in=stand_in)
            compiled = _compile(wanted + self._probes if raw and not stand_in else wanted, never)
            self._databases[raw, stand_in] = compiled
        return compiled

    def prepare(self) -> None:
        """Compile (or load from the cache) every database now rather than on first use."""
        for raw in (False, True):
            for stand_in in (False, True):
                self._get(raw, stand_in)

    @property
    def covered(self) -> frozenset[int]:
        """Indices of the patterns (and probes) whose absence from the hits proves they cannot match."""
        return self._get(False, False).covered | self._get(True, False).covered

    def view_hits(self, view: bytes, *, stand_in: bool = False) -> set[int]:
        """Covered view patterns that may match a view (or one of several joined by b"\\n"): an
        ASCII one, or with `stand_in`, the `ascii_stand_in` of any."""
        return self._get(False, stand_in).scan(view)

    def line_hits(self, text: bytes, *, stand_in: bool = False) -> set[int]:
        """Covered `lines` patterns that may match the line view of a text (or of several joined by
        b"\\n"), given as it came (whitespace not collapsed): ASCII, or with `stand_in`, the
        `ascii_stand_in` of any. For ASCII, also the probes found in it."""
        return self._get(True, stand_in).scan(text)

    def hits(self, text: str) -> set[int] | None:
        """Covered patterns that may match `text`: its view or, for `lines` patterns, its line view
        (None for the rare text `ascii_stand_in` gives no stand-in for)."""
        if text.isascii():
            raw = text.encode("ascii")
            return self.view_hits(ascii_view(raw)) | self.line_hits(raw)
        view, lines = ascii_stand_in(" ".join(text.split())), ascii_stand_in(text)
        if view is None or lines is None:
            return None
        return self.view_hits(view, stand_in=True) | self.line_hits(lines, stand_in=True)
