"""One settings object, built once by the CLI from flags and environment, then passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

DB_FILENAME = "mcpwarden.db"


def default_home(environ: dict[str, str] | None = None) -> Path:
    """`MCPWARDEN_HOME` when set, otherwise the platform's user data directory."""
    env = os.environ if environ is None else environ
    explicit = env.get("MCPWARDEN_HOME")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_data_dir("mcpwarden", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Where mcpwarden keeps its state."""

    home: Path
    db_path: Path

    @classmethod
    def build(cls, db: str | Path | None = None, environ: dict[str, str] | None = None) -> Settings:
        home = default_home(environ)
        db_path = Path(db).expanduser() if db else home / DB_FILENAME
        return cls(home=home, db_path=db_path)
