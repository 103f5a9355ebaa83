"""`mcpwarden wrap --install CLIENT`: route every stdio server of a client through `mcpwarden wrap`.

Discovery finds the client's user config files and the key of each server entry. Each stdio entry's
`command`/`args` become `mcpwarden wrap --name NAME -- <original command> <original args>`; env,
cwd and every other field stay. The original file is kept next to it as `<file>.mcpwarden-backup`
(written once, never overwritten) and `--uninstall` puts it back. Only JSON and JSONC files are
rewritten (comments in JSONC are not kept in the rewritten file; the backup has them).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import json5

from mcpwarden.discovery import client_names, discover
from mcpwarden.errors import UsageError

BACKUP_SUFFIX = ".mcpwarden-backup"
OsName = Literal["linux", "darwin", "windows"]


@dataclass
class FileChange:
    """What installing did to one config file."""

    path: Path
    backup: Path
    wrapped: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def wrapper_command() -> list[str]:
    """How a client should start mcpwarden: the installed script, else this Python with the module."""
    found = shutil.which("mcpwarden")
    return [found] if found else [sys.executable, "-m", "mcpwarden.cli.main"]


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + BACKUP_SUFFIX)


def _unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


def _entry(data: Any, pointer: str) -> dict[str, Any] | None:
    node = data
    for segment in pointer.split("/")[1:]:
        key = _unescape(segment)
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            return None
    return node if isinstance(node, dict) else None


def _is_wrapped(command: Any, args: Any, wrapper: Sequence[str]) -> bool:
    words = [command, *(args or [])] if isinstance(command, str) else []
    return "wrap" in words[: len(wrapper) + 1] and "--" in words


def _rewrite(entry: dict[str, Any], name: str, wrapper: Sequence[str], config: Path | None) -> str | None:
    """Wrap one entry in place; returns why it was skipped, or None when it was wrapped."""
    command: Any = entry.get("command")
    args: Any = entry.get("args") or []
    nested = isinstance(command, dict)  # Zed: "command": {"path": …, "args": […]}
    if isinstance(command, dict):
        args = command.get("args") or []
        command = command.get("path")
    if not isinstance(command, str) or not isinstance(args, list):
        return "the entry's command is not in a form mcpwarden can rewrite"
    if _is_wrapped(command, args, wrapper):
        return "already routed through mcpwarden"
    options = ["--config", str(config)] if config is not None else []
    new_args = [*wrapper[1:], "wrap", "--name", name, *options, "--", command, *[str(a) for a in args]]
    if nested:
        entry["command"] = {**entry["command"], "path": wrapper[0], "args": new_args}
    else:
        entry["command"] = wrapper[0]
        entry["args"] = new_args
    return None


def _load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8-sig")
    try:
        return json.loads(text)
    except ValueError:
        return json5.loads(text)


def install(
    client: str,
    *,
    home: Path,
    os_name: OsName,
    env: Mapping[str, str],
    config: Path | None = None,
    wrapper: Sequence[str] | None = None,
) -> list[FileChange]:
    """Rewrite `client`'s user config files so each stdio server runs through `mcpwarden wrap`."""
    if client not in client_names():
        raise UsageError(f"unknown client {client!r}", hint=f"one of: {', '.join(client_names())}")
    wrapper = list(wrapper or wrapper_command())
    found = discover(home=home, os_name=os_name, env=env)
    by_file: dict[str, list[tuple[str, str, str]]] = {}
    for spec in found.servers:
        for source in spec.sources:
            if source.client == client and source.scope == "user":
                by_file.setdefault(source.path, []).append((spec.name, source.key, spec.transport))
    if not by_file:
        raise UsageError(f"no MCP servers are configured for {client} on this machine")
    changes: list[FileChange] = []
    for file, entries in by_file.items():
        path = Path(file)
        change = FileChange(path, backup_path(path))
        changes.append(change)
        if path.suffix.lower() not in (".json", ".jsonc", ""):
            change.skipped += [(name, f"{path.suffix} files are not rewritten (only JSON)") for name, _, _ in entries]
            continue
        if change.backup.exists():
            raise UsageError(
                "a backup from an earlier install exists", where=str(change.backup), hint="run `wrap --uninstall` first"
            )
        data = _load(path)
        for name, key, transport in entries:
            entry = _entry(data, key)
            if transport != "stdio":
                change.skipped.append((name, "a remote server: route it through `mcpwarden gateway` instead"))
            elif entry is None:
                change.skipped.append((name, f"entry {key} not found"))
            elif (why := _rewrite(entry, name, wrapper, config)) is not None:
                change.skipped.append((name, why))
            else:
                change.wrapped.append(name)
        if change.wrapped:
            shutil.copy2(path, change.backup)
            temp = path.with_name(path.name + ".mcpwarden-tmp")
            temp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            os.replace(temp, path)
    return changes


def uninstall(client: str, *, home: Path, os_name: OsName, env: Mapping[str, str]) -> list[Path]:
    """Put back every config file of `client` that `install` changed; returns the restored paths."""
    if client not in client_names():
        raise UsageError(f"unknown client {client!r}", hint=f"one of: {', '.join(client_names())}")
    found = discover(home=home, os_name=os_name, env=env)
    files = {Path(s.path) for spec in found.servers for s in spec.sources if s.client == client}
    restored = []
    for path in sorted(files):
        backup = backup_path(path)
        if backup.exists():
            os.replace(backup, path)
            restored.append(path)
    if not restored:
        raise UsageError(f"nothing to uninstall: no {client} config file has an mcpwarden backup")
    return restored
