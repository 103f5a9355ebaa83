"""Quarantine targets: parsing and which entry blocks which call."""

from __future__ import annotations

import pytest

from mcpwarden.errors import UsageError
from mcpwarden.storage.state import QuarantineEntry, match_quarantine, parse_target


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("github", ("github", None)),
        ("github/delete_repo", ("github", "delete_repo")),
        (" fs/read ", ("fs", "read")),
        ("fs/dir/read", ("fs", "dir/read")),
        ("*", ("*", None)),
    ],
)
def test_parse_target(target: str, expected: tuple[str, str | None]) -> None:
    assert parse_target(target) == expected


@pytest.mark.parametrize(
    "target", ["", "/", "/tool", "server/", "two words", "tab\there", "n\nl", "esc\x1b[31m", "*/tool"]
)
def test_parse_target_refuses_malformed_targets(target: str) -> None:
    with pytest.raises(UsageError, match="quarantine target"):
        parse_target(target)


def entries(*targets: str) -> dict[str, QuarantineEntry]:
    return {t: QuarantineEntry(target=t, reason=f"why {t}", by="ops", created=0.0) for t in targets}


@pytest.mark.parametrize(
    ("blocked", "server", "tool", "expected"),
    [
        ((), "fs", "read", None),
        (("fs",), "fs", "read", "fs"),
        (("fs",), "fs", None, "fs"),
        (("fs",), "fsx", "read", None),
        (("fs/write",), "fs", "write", "fs/write"),
        (("fs/write",), "fs", "read", None),
        (("fs/write",), "fs", None, None),
        (("*",), "anything", "at_all", "*"),
        (("fs/write", "fs"), "fs", "write", "fs"),
        (("fs", "*"), "fs", "write", "*"),
    ],
)
def test_match_quarantine_most_general_first(
    blocked: tuple[str, ...], server: str, tool: str | None, expected: str | None
) -> None:
    found = match_quarantine(entries(*blocked), server, tool)
    assert (found.target if found else None) == expected
