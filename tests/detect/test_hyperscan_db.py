"""Hyperscan databases: cached on disk between processes, scanned safely from many threads."""

from __future__ import annotations

import threading
from pathlib import Path

import hyperscan
import pytest

from mcpwarden.detect import hyperscan_db
from mcpwarden.detect.hyperscan_db import Compiled

PATTERNS = [(0, r"\bignore\b"), (3, r"secret\d+")]
FLAGS = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH


def test_a_compiled_database_is_cached_and_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPWARDEN_CACHE_DIR", str(tmp_path))
    assert hyperscan_db.load(PATTERNS, FLAGS) is None
    database = hyperscan_db.compile_patterns(PATTERNS, FLAGS)
    assert not isinstance(database, str)
    hyperscan_db.store(PATTERNS, FLAGS, database)
    loaded = hyperscan_db.load(PATTERNS, FLAGS)
    assert loaded is not None
    assert Compiled(loaded, frozenset({0, 3})).scan(b"IGNORE the secret42") == {0, 3}
    assert hyperscan_db.load([(0, r"\bother\b")], FLAGS) is None  # keyed by the patterns


def test_a_bad_pattern_gives_the_error_message() -> None:
    assert isinstance(hyperscan_db.compile_patterns([(0, r"(unclosed")], FLAGS), str)


def test_scans_from_many_threads_do_not_share_scratch_space() -> None:
    database = hyperscan_db.compile_patterns(PATTERNS, FLAGS)
    assert not isinstance(database, str)
    compiled = Compiled(database, frozenset({0, 3}))
    data = b"x " * 50_000 + b"ignore secret7"
    failures: list[str] = []

    def work() -> None:
        try:
            for _ in range(30):
                if compiled.scan(data) != {0, 3}:
                    failures.append("wrong answer")
        except Exception as exc:  # a scratch collision raises: that is the failure under test
            failures.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=100)
    assert failures == []


def test_an_empty_database_finds_nothing() -> None:
    assert Compiled(None, frozenset()).scan(b"anything") == set()
