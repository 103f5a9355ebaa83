"""What a containerised server's `docker run` gives away: privileges, host namespaces, host paths.

Each function reads one `argv` (already unwrapped by `launchers.command_lines`) with its rule's
options and returns the issues found; `config.py` turns them into findings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mcpwarden.detect.launchers import DockerRun, parse_docker_run
from mcpwarden.detect.ruleset import Rule

_TRUE = (None, "true", "1", "yes")


@dataclass(frozen=True)
class ContainerIssue:
    """One problem in a container command line: the option as written and what it means."""

    evidence: str
    detail: str


def _option_list(rule: Rule, key: str) -> list[str]:
    value = rule.options.get(key) or []
    return [str(v) for v in value]


def privileged(rule: Rule, argv: Sequence[str]) -> list[ContainerIssue]:
    """`--privileged`, dangerous `--cap-add`, security profiles switched off, host user namespace."""
    run = parse_docker_run(argv)
    if run is None:
        return []
    issues = []
    if any(v is None or v.lower() in _TRUE for v in run.values("--privileged")):
        issues.append(ContainerIssue("--privileged", "The container runs privileged: every capability and device."))
    dangerous = {c.upper().removeprefix("CAP_") for c in _option_list(rule, "capabilities")}
    for value in run.values("--cap-add"):
        for cap in (value or "").split(","):
            if cap.strip().upper().removeprefix("CAP_") in dangerous:
                issues.append(ContainerIssue(f"--cap-add {cap.strip()}", f"Capability {cap.strip()} is added."))
    unconfined = {s.lower().replace(":", "=") for s in _option_list(rule, "security_opts")}
    for value in run.values("--security-opt"):
        if value and value.lower().replace(":", "=") in unconfined:
            issues.append(ContainerIssue(f"--security-opt {value}", "A kernel security profile is switched off."))
    for value in run.values("--userns"):
        if (value or "").lower() == "host":
            issues.append(ContainerIssue("--userns host", "User namespace remapping is disabled."))
    return issues


def host_namespaces(rule: Rule, argv: Sequence[str]) -> list[ContainerIssue]:
    """`--network host`, `--pid host` and friends: the container shares the host's view."""
    run = parse_docker_run(argv)
    if run is None:
        return []
    issues = []
    for option in _option_list(rule, "namespaces"):
        flag = f"--{option}"
        for value in run.values(flag):
            if (value or "").lower() == "host":
                issues.append(ContainerIssue(f"{flag} host", f"The container shares the host's {option} namespace."))
    return issues


_HOME_VARS = re.compile(
    r"^(?:\$HOME|\$\{HOME\}|\$\{env:HOME\}|\$\{env:USERPROFILE\}|\$\{userHome\}|%USERPROFILE%|%HOMEPATH%|~)(?=/|$)",
    re.IGNORECASE,
)
_HOME_DIR = re.compile(r"^(?:~|/home/[^/]+|/Users/[^/]+|/root|[A-Za-z]:/Users/[^/]+)$", re.IGNORECASE)
_UNDER_HOME = re.compile(r"^(?:~|/home/[^/]+|/Users/[^/]+|/root|[A-Za-z]:/Users/[^/]+)/(.+)$", re.IGNORECASE)


def normalize_host_path(path: str) -> str:
    """`$HOME/.ssh/`, `${env:USERPROFILE}\\.ssh` → `~/.ssh`; slashes unified, trailing slash dropped."""
    path = _HOME_VARS.sub("~", path.strip().replace("\\", "/"))
    path = re.sub(r"(?<=.)/{2,}", "/", path)
    stripped = path.rstrip("/")
    return stripped if stripped or not path else "/"


def _host_sources(run: DockerRun) -> list[tuple[str, str, bool]]:
    """(as written, host path, read-only) for every bind mount."""
    out = []
    for value in run.values("--volume"):
        if not value:
            continue
        parts = value.split(":")
        if len(parts) > 2 and len(parts[0]) == 1 and parts[0].isalpha():  # C:\Users\me:/data
            parts = [f"{parts[0]}:{parts[1]}", *parts[2:]]
        if len(parts) < 2:
            continue  # anonymous volume: no host path
        out.append((f"-v {value}", parts[0], "ro" in (parts[2].split(",") if len(parts) > 2 else [])))
    for value in run.values("--mount"):
        fields: dict[str, str] = {}
        for item in (value or "").split(","):
            key, _, val = item.partition("=")
            fields[key.strip().lower()] = val.strip()
        if fields.get("type", "volume").lower() != "bind":
            continue
        source = fields.get("source") or fields.get("src") or ""
        read_only = any(fields[k].lower() in ("", "true", "1") for k in ("readonly", "ro") if k in fields)
        out.append((f"--mount {value}", source, read_only))
    return out


def sensitive_mounts(rule: Rule, argv: Sequence[str]) -> list[ContainerIssue]:
    """Bind mounts of `/`, system directories, the home directory, credential dirs, the engine socket."""
    run = parse_docker_run(argv)
    if run is None:
        return []
    system = {normalize_host_path(p) for p in _option_list(rule, "system_paths")}
    sockets = {normalize_host_path(p) for p in _option_list(rule, "socket_paths")}
    secrets = [s.strip("/") for s in _option_list(rule, "home_secrets")]
    issues = []
    if any(v is None or v.lower() in _TRUE for v in run.values("--use-api-socket")):
        issues.append(
            ContainerIssue("--use-api-socket", "The container gets the engine socket: full control of the host.")
        )
    for written, source, read_only in _host_sources(run):
        path = normalize_host_path(source)
        under_home = _UNDER_HOME.match(path)
        if path in sockets:
            what = "the container engine socket (full control of the host)"
        elif path == "/":
            what = "the host's root filesystem"
        elif path in system:
            what = f"the host's {path}"
        elif _HOME_DIR.match(path):
            what = "a home directory (keys, tokens and shell history)"
        elif under_home and any(under_home.group(1) == s or under_home.group(1).startswith(s + "/") for s in secrets):
            what = f"a credentials location ({path})"
        else:
            continue
        note = " Read-only still exposes every secret in it." if read_only else ""
        issues.append(ContainerIssue(written, f"Mounts {what}.{note}"))
    return issues
