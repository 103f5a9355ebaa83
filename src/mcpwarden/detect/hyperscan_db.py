"""Compiled Hyperscan databases: compiled once, cached on disk, scanned with one scratch per thread.

Hyperscan needs a scratch space for each scan in progress, and one scratch must never serve two
scans at once: the engine is shared across threads, so each thread gets its own (a clone, made on
its first scan). Compiling a large database takes seconds, so it is cached on disk
(`MCPWARDEN_CACHE_DIR`, else the user cache directory), keyed by the patterns, flags and Hyperscan
version; a cache that cannot be read or written only costs the compile time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import hyperscan


@dataclass(frozen=True, slots=True)
class Compiled:
    """A block-mode database (None: nothing compiled) and the ids whose absence from a scan means
    "no match" (`covered`)."""

    database: hyperscan.Database | None
    covered: frozenset[int]
    _local: threading.local = field(default_factory=threading.local, compare=False, repr=False)

    def scan(self, data: bytes) -> set[int]:
        """The ids of the patterns that match somewhere in `data`."""
        found: set[int] = set()
        if self.database is None or not data:
            return found
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self.database)
        add: Callable[[int], None] = found.add

        def on_match(pattern: int, start: int, end: int, flags: int, context: object) -> None:
            add(pattern)

        self.database.scan(data, match_event_handler=on_match, scratch=scratch)
        return found


def _cache_file(patterns: Sequence[tuple[int, str]], flags: int) -> Path:
    base = os.environ.get("MCPWARDEN_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mcpwarden"
    )
    key = json.dumps([flags, getattr(hyperscan, "__version__", ""), list(patterns)]).encode()
    return Path(base) / f"prefilter-{hashlib.sha256(key).hexdigest()[:32]}.hsdb"


def load(patterns: Sequence[tuple[int, str]], flags: int) -> hyperscan.Database | None:
    """The cached database for these (id, pattern) pairs, if there is one."""
    try:
        database = hyperscan.loadb(_cache_file(patterns, flags).read_bytes(), hyperscan.HS_MODE_BLOCK)
        database.scratch = hyperscan.Scratch(database)  # a loaded database comes without one
    except (OSError, hyperscan.error):
        return None
    return database


def store(patterns: Sequence[tuple[int, str]], flags: int, database: hyperscan.Database) -> None:
    """Cache a database compiled from these (id, pattern) pairs."""
    path = _cache_file(patterns, flags)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(hyperscan.dumpb(database))
        os.replace(tmp, path)


def compile_patterns(patterns: Sequence[tuple[int, str]], flags: int) -> hyperscan.Database | str:
    """A block-mode database for (id, pattern) pairs, all with `flags`, or Hyperscan's error message."""
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        database.compile(
            expressions=[p.encode() for _, p in patterns],
            ids=[i for i, _ in patterns],
            flags=[flags] * len(patterns),
        )
    except hyperscan.error as exc:
        return str(exc)
    return database
