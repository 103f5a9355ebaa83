"""Small helpers shared by the CLI commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from mcpwarden.errors import UsageError
from mcpwarden.settings import Settings
from mcpwarden.storage.sqlite import SqliteStore
from mcpwarden.types import Severity

OsName = Literal["linux", "darwin", "windows"]


def current_os() -> OsName:
    if sys.platform == "darwin":
        return "darwin"
    if sys.platform.startswith("win"):
        return "windows"
    return "linux"


def parse_fail_on(value: str) -> Severity | None:
    """`--fail-on` value: a severity name, or `none` to never fail on findings."""
    if value.strip().lower() in {"none", "never", "off"}:
        return None
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise UsageError(str(exc), where="--fail-on") from None


def open_store(db: Path | None) -> SqliteStore:
    settings = Settings.build(db)
    return SqliteStore(settings.db_path)
