"""Discovery: every MCP server a machine or repository is configured to use.

Each client family has its own module (where its files live, how its entries read); `registry.CLIENTS`
lists them in report order. `discover()` reads the user's files for every client, the project files
under each project directory, and any explicit files, and merges the same server found in several
places into one `ServerSpec` with several sources. File content never raises: unreadable or invalid
files come back as `ConfigProblem`s and discovery goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from mcpwarden.errors import UsageError
from mcpwarden.types import ConfigProblem, ServerSpec

from ._client import Client
from ._parse import MAX_FILE_BYTES, Document, Format, ParseResult, Scope, format_for, load_document
from ._paths import OsName, Platform, WalkLimits, expand_project_pattern, walk_project
from .explicit import EXPLICIT
from .registry import CLIENTS, client_by_id, client_for_path

__all__ = [
    "MAX_FILE_BYTES",
    "Discovery",
    "WalkLimits",
    "client_names",
    "discover",
    "merge_servers",
    "parse_config_file",
]

# A repository with more project config files than this is searched no further (and says so).
MAX_PROJECT_FILES = 500


@dataclass(frozen=True)
class Discovery:
    """What discovery found: merged servers, problems with files, and every config file read."""

    servers: tuple[ServerSpec, ...]
    problems: tuple[ConfigProblem, ...]
    files: tuple[str, ...]


def client_names() -> list[str]:
    """Ids of the clients discovery reads, in report order (`explicit` is accepted by
    `parse_config_file` as well, for a file read by its shape alone)."""
    return [client.id for client in CLIENTS]


def merge_servers(specs: Iterable[ServerSpec]) -> tuple[ServerSpec, ...]:
    """One spec per `identity`: the first one seen keeps its name and fields, sources are united in order."""
    merged: list[ServerSpec] = []
    index: dict[str, int] = {}
    for spec in specs:
        at = index.get(spec.identity)
        if at is None:
            index[spec.identity] = len(merged)
            merged.append(spec)
            continue
        known = merged[at]
        extra = tuple(s for s in spec.sources if s not in known.sources)
        merged[at] = replace(known, sources=known.sources + extra)
    return tuple(merged)


@dataclass
class _Collector:
    """Reads each file at most once and gathers what came of it, in discovery order."""

    specs: list[ServerSpec] = field(default_factory=list)
    problems: list[ConfigProblem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def read(self, path: Path, client: Client, scope: Scope, *, required: bool = False) -> bool:
        """Read one file as `client`'s; False when it does not exist (a problem too if `required`)."""
        key = os.path.normcase(os.path.realpath(path))
        if key in self.seen:
            return True
        fmt: Format = format_for(path, jsonc=client.jsonc)
        outcome = load_document(path, client.id, scope, fmt)
        if outcome is None:
            if required:
                self.problems.append(ConfigProblem(client.id, str(path), "file does not exist"))
            return False
        self.seen.add(key)
        if outcome.read:
            self.files.append(str(path))
        if outcome.document is None:
            if outcome.problem is not None:
                self.problems.append(outcome.problem)
            return True
        doc = outcome.document
        specs, problems = _safe_parse(client, doc)
        if not specs and not problems and client is not EXPLICIT and required:
            # An explicit file that is not in its client's usual shape: let the shape decide.
            specs, problems = _safe_parse(EXPLICIT, doc)
        self.specs.extend(specs)
        self.problems.extend(problems)
        return True


def _safe_parse(client: Client, doc: Document) -> ParseResult:
    try:
        return client.parse(doc)
    except Exception as exc:  # a parser bug on odd content must not hide every other client's servers
        reason = f"could not be interpreted ({type(exc).__name__}: {exc})"
        return [], [ConfigProblem(client.id, str(doc.path), reason)]


def discover(
    *,
    home: Path,
    os_name: OsName,
    env: Mapping[str, str] | None = None,
    project_dirs: Sequence[Path] = (),
    extra_configs: Sequence[Path] = (),
    include_user: bool = True,
    walk_limits: WalkLimits | None = None,
) -> Discovery:
    """Find every configured MCP server.

    Paths follow `os_name`'s conventions from `home` and `env` alone (`APPDATA`, `USERPROFILE`,
    `XDG_CONFIG_HOME`, `CODEX_HOME`, `CLAUDE_CONFIG_DIR`, `CONTINUE_GLOBAL_DIR`); `env=None` means no
    overrides, so callers that want the process environment pass `os.environ`. `project_dirs` are
    searched for project-level configs down to `walk_limits.max_depth`; `extra_configs` are read by
    the client their path reveals, or by shape.
    """
    platform = Platform(os_name=os_name, home=home, env=dict(env or {}))
    limits = walk_limits or WalkLimits()
    collector = _Collector()
    if include_user:
        for client in CLIENTS:
            for path in client.user_paths(platform):
                collector.read(path, client, "user")
    for root in project_dirs:
        _search_project(collector, root, limits)
    for path in extra_configs:
        collector.read(path, client_for_path(path), "user", required=True)
    return Discovery(
        servers=merge_servers(collector.specs),
        problems=tuple(collector.problems),
        files=tuple(collector.files),
    )


def _search_project(collector: _Collector, root: Path, limits: WalkLimits) -> None:
    if not root.is_dir():
        collector.problems.append(ConfigProblem("project", str(root), "project directory does not exist"))
        return
    directories, truncated = walk_project(root, limits)
    if truncated:
        reason = f"project search stopped after {limits.max_dirs} directories; deeper configs were not read"
        collector.problems.append(ConfigProblem("project", str(root), reason))
    found = 0
    for directory in directories:
        for client in CLIENTS:
            for pattern in client.project_paths:
                for path in expand_project_pattern(directory, pattern):
                    if found >= MAX_PROJECT_FILES:
                        reason = f"project search stopped after {MAX_PROJECT_FILES} config files"
                        collector.problems.append(ConfigProblem("project", str(root), reason))
                        return
                    if collector.read(path, client, "project"):
                        found += 1


def parse_config_file(path: Path, client: str | None = None) -> tuple[list[ServerSpec], list[ConfigProblem]]:
    """Read one explicitly named file (`--config PATH`): as `client` when given, else as the client its
    path reveals, else by its shape. A missing file is a problem here, since it was asked for.

    Raises UsageError only for an unknown `client` id.
    """
    if client is None:
        reader = client_for_path(path)
    else:
        try:
            reader = client_by_id(client)
        except KeyError:
            known = ", ".join([*client_names(), "explicit"])
            raise UsageError(f"unknown client {client!r}", hint=f"one of: {known}") from None
    collector = _Collector()
    collector.read(path, reader, "user", required=True)
    return collector.specs, collector.problems
