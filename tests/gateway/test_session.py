"""Session store: ids, idle expiry on use and by the reaper, DELETE."""

from __future__ import annotations

import time

from mcpwarden.gateway.session import SessionStore
from mcpwarden.types import Principal

ALICE = Principal(id="alice", kind="user")


def test_an_idle_session_is_gone_on_its_next_use() -> None:
    store = SessionStore(max_sessions=10, idle_timeout=0.05)
    session = store.create(ALICE, "2025-06-18", {})
    assert store.get(session.id or "") is session  # used: the idle clock restarts
    time.sleep(0.1)
    assert store.get(session.id or "") is None
    assert len(store) == 0


def test_a_session_in_use_is_kept() -> None:
    store = SessionStore(max_sessions=10, idle_timeout=0.2)
    session = store.create(ALICE, "2025-06-18", {})
    for _ in range(4):
        time.sleep(0.08)
        assert store.get(session.id or "") is session


def test_reap_closes_only_idle_sessions() -> None:
    store = SessionStore(max_sessions=10, idle_timeout=10)
    old, fresh = (store.create(ALICE, "2025-06-18", {}) for _ in range(2))
    old.last_seen -= 60
    assert store.reap() == 1
    assert store.get(old.id or "") is None and store.get(fresh.id or "") is fresh


def test_close_ends_a_session() -> None:
    store = SessionStore(max_sessions=10, idle_timeout=10)
    session = store.create(ALICE, "2025-06-18", {})
    assert store.close(session.id or "") is session
    assert store.get(session.id or "") is None
