"""A Hyperscan multi-pattern prefilter: one linear-time pass says which patterns can match a text.

The anchor-word index (`anchors.py`) keeps a pattern out of texts that lack its key words, but common
words still wake many patterns, and each then costs a backtracking `regex` search. Hyperscan scans all
patterns at once, in time linear in the text, so only patterns it reports are searched with `regex`.

Every pattern is compiled in Hyperscan's prefilter mode, which accepts a superset of the pattern's
matches: a pattern it does not report cannot match, one it reports is confirmed by `regex` as before,
so findings and evidence are exactly the `regex` module's. Hyperscan runs on bytes, without UTF-8 or
Unicode properties (compiling with them takes minutes), so it only covers ASCII patterns and is only
asked about ASCII texts, where ASCII `\\w`, `\\b` and case folding agree with the `regex` module's
Unicode ones; other patterns and texts keep the anchor path alone. Compiling still takes seconds, so
the database is cached on disk (`MCPWARDEN_CACHE_DIR`, else the user cache directory), keyed by the
patterns, flags and Hyperscan version.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import hyperscan

_FLAGS = (
    hyperscan.HS_FLAG_CASELESS
    | hyperscan.HS_FLAG_MULTILINE
    | hyperscan.HS_FLAG_PREFILTER
    | hyperscan.HS_FLAG_SINGLEMATCH
)


@dataclass(frozen=True, slots=True)
class _Compiled:
    database: hyperscan.Database | None
    covered: frozenset[int]  # pattern indices the database answers for


def _cache_file(patterns: Sequence[tuple[int, str]]) -> Path:
    base = os.environ.get("MCPWARDEN_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mcpwarden"
    )
    key = json.dumps([_FLAGS, hyperscan.__version__, list(patterns)]).encode()
    return Path(base) / f"prefilter-{hashlib.sha256(key).hexdigest()[:32]}.hsdb"


def _load(path: Path) -> hyperscan.Database | None:
    try:
        database = hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
        database.scratch = hyperscan.Scratch(database)  # a loaded database comes without one
    except (OSError, hyperscan.error):
        return None
    return database


def _store(path: Path, database: hyperscan.Database) -> None:
    # A cache that cannot be written only costs the next process the compile time.
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(hyperscan.dumpb(database))
        os.replace(tmp, path)


def _try(patterns: Sequence[tuple[int, str]]) -> hyperscan.Database | None:
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        database.compile(
            expressions=[p.encode() for _, p in patterns],
            ids=[i for i, _ in patterns],
            flags=[_FLAGS] * len(patterns),
        )
    except hyperscan.error:
        return None
    return database


@functools.lru_cache(maxsize=8)  # compiling takes seconds: engines over the same patterns share it
def _compile(patterns: tuple[str | None, ...]) -> _Compiled:
    wanted = [(i, p) for i, p in enumerate(patterns) if p is not None and p.isascii()]
    if not wanted:
        return _Compiled(None, frozenset())
    cache = _cache_file(wanted)
    database = _load(cache)
    if database is not None:
        return _Compiled(database, frozenset(i for i, _ in wanted))
    database = _try(wanted)
    if database is not None:
        _store(cache, database)
    else:  # some pattern is beyond Hyperscan: find which, once, and leave it out
        wanted = [(i, p) for i, p in wanted if _try([(i, p)]) is not None]
        database = _try(wanted) if wanted else None
    if database is None:
        return _Compiled(None, frozenset())
    return _Compiled(database, frozenset(i for i, _ in wanted))


class Prefilter:
    """Which of an engine's patterns may match an ASCII text; compiled on first use, then shared."""

    def __init__(self, patterns: Sequence[str | None]) -> None:
        """`patterns[i]` is pattern i's source, or None for a pattern the prefilter must leave alone."""
        self._patterns = tuple(patterns)
        self._compiled: _Compiled | None = None

    def _get(self) -> _Compiled:
        if self._compiled is None:
            self._compiled = _compile(self._patterns)
        return self._compiled

    @property
    def covered(self) -> frozenset[int]:
        """Indices of the patterns whose absence from `hits` proves they cannot match."""
        return self._get().covered

    def hits(self, text: str) -> set[int] | None:
        """Covered patterns that may match `text`; None when the text is not ASCII (no answer)."""
        if not text.isascii():
            return None
        compiled = self._get()
        found: set[int] = set()
        if compiled.database is None or not text:
            return found

        def on_match(pattern: int, start: int, end: int, flags: int, context: object) -> None:
            found.add(pattern)

        compiled.database.scan(text.encode("ascii"), match_event_handler=on_match)
        return found
