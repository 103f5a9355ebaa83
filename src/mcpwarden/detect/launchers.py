"""Reading server launch commands: what a package launcher fetches, and what `docker run` asks for.

Parsing is deliberately argv-level and forgiving: a flag we do not know is taken as boolean (so its
value may be misread as the package, which at worst reports an unpinned "package" that is a flag
value), and nothing here raises for odd input.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

_MAX_DEPTH = 4


def program_name(arg: str) -> str:
    """`/usr/bin/npx`, `C:\\nodejs\\npx.cmd` → `npx`."""
    base = re.split(r"[\\/]", arg.strip())[-1].lower()
    return re.sub(r"\.(exe|cmd|bat|ps1|sh)$", "", base)


def _split_shell(script: str) -> list[list[str]]:
    """A shell string as simple commands (split at `&&`, `||`, `;`, `|`, `&` and newlines)."""
    out: list[list[str]] = []
    for segment in re.split(r"&&|\|\||[;|&\n]", script):
        try:
            words = shlex.split(segment)
        except ValueError:  # unbalanced quotes: still look at the words
            words = segment.split()
        if words:
            out.append(words)
    return out


_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "ash", "fish"})
_POWERSHELLS = frozenset({"powershell", "pwsh"})


def _unwrap(argv: list[str], out: list[list[str]], depth: int) -> None:
    if not argv:
        return
    name = program_name(argv[0])
    rest = argv[1:]
    if depth < _MAX_DEPTH:
        if name in ("env", "sudo", "doas", "nohup", "exec", "time") or "=" in argv[0]:
            # Skip the wrapper, its flags and VAR=value assignments.
            i = 0 if "=" in argv[0] else 1
            while i < len(argv) and (argv[i].startswith("-") or "=" in argv[i]):
                i += 2 if argv[i] in ("-u", "--user", "-g", "--group", "-C", "--chdir") else 1
            _unwrap(argv[i:], out, depth + 1)
            return
        if name == "cmd":
            for i, arg in enumerate(rest):
                if arg.lower() in ("/c", "/k"):
                    tail = rest[i + 1 :]
                    for words in _split_shell(" ".join(tail)) if len(tail) == 1 else [tail]:
                        _unwrap(words, out, depth + 1)
                    return
        if name in _SHELLS or name in _POWERSHELLS:
            for i, arg in enumerate(rest[:-1]):
                is_c = re.fullmatch(r"-[a-z]*c", arg) if name in _SHELLS else arg.lower() in ("-c", "-command")
                if is_c:
                    for words in _split_shell(rest[i + 1]):
                        _unwrap(words, out, depth + 1)
                    return
    out.append(argv)


def command_lines(command: str | None, args: Sequence[str]) -> list[list[str]]:
    """The simple commands a server entry runs, with `cmd /c`, `sh -c`, `env`, `sudo` wrappers removed.

    A `command` holding a whole command line (some clients allow `"command": "npx -y pkg"`) is split
    when its first word is a program we know how to read.
    """
    argv = [command, *args] if command else list(args)
    if command and re.search(r"\s", command.strip()):
        words = _split_shell(command)
        if len(words) == 1 and _is_known(program_name(words[0][0])):
            argv = [*words[0], *args]
    out: list[list[str]] = []
    _unwrap(argv, out, 0)
    return out


def _is_known(name: str) -> bool:
    return name in _LAUNCHERS or name in _ENGINES or name in _SHELLS or name in ("cmd", "env", "npm", "pnpm", "bun")


@dataclass(frozen=True)
class LaunchedPackage:
    """A package or image a launcher fetches at start, and whether the config pins it."""

    launcher: str
    spec: str
    pinned: bool
    reason: str = ""


_EXACT_SEMVER = re.compile(r"v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
_GIT_COMMIT = re.compile(r"#([0-9a-fA-F]{7,40})$")
_LOCAL = re.compile(r"(?:\.{0,2}[/\\]|~|[A-Za-z]:[/\\]|file:)")
_REFERENCE = re.compile(r"\$\{|\$[A-Za-z_]|%[A-Za-z_]")


def npm_pin(spec: str) -> tuple[bool, str] | None:
    """(pinned, why not) for an npm package spec; None for local paths, tarballs and references."""
    if _LOCAL.match(spec) or _REFERENCE.search(spec) or spec.startswith(("http://", "https://")):
        return None
    if spec.startswith(("git+", "git:", "github:", "gitlab:", "bitbucket:")) or re.fullmatch(
        r"[\w.-]+/[\w.-]+(#.*)?", spec
    ):
        return (True, "") if _GIT_COMMIT.search(spec) else (False, "git reference without a commit hash")
    scoped = spec.startswith("@")
    name, _, version = spec[1:].partition("@") if scoped else spec.partition("@")
    if not name or (scoped and "/" not in name):
        return None
    if not version:
        return False, "no version"
    if _EXACT_SEMVER.fullmatch(version):
        return True, ""
    if re.fullmatch(r"[A-Za-z][\w.-]*", version):
        return False, f"dist-tag {version!r} (moves with every release)"
    return False, f"version range {version!r}"


def python_pin(spec: str) -> tuple[bool, str] | None:
    """(pinned, why not) for a Python requirement (`pkg==1.2`, `pkg@1.2`, `git+…@ref`); None for local paths."""
    spec = spec.strip()
    if _LOCAL.match(spec) or _REFERENCE.search(spec) or spec.endswith((".whl", ".tar.gz", ".zip")):
        return None
    if "://" in spec:
        location = spec.split("://", 1)[1]
        return (True, "") if re.search(r"@[^/@]+$", location) else (False, "VCS URL without a ref")
    match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)", spec)
    if match is None:
        return None
    rest = match.group(3).strip()
    if not rest:
        return False, "no version"
    if rest.startswith("@"):
        version = rest[1:].strip()
        if version.startswith(("git+", "http")):
            return python_pin(version)
        if re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version):
            return True, ""
        return False, f"version {version!r}"
    if re.fullmatch(r"===?\s*[0-9][0-9A-Za-z.+!-]*", rest):
        return True, ""
    return False, f"version range {rest!r}"


def image_pin(image: str) -> tuple[bool, str, bool] | None:
    """(pinned, why not, by digest) for a container image reference; None for references."""
    if _REFERENCE.search(image):
        return None
    if re.search(r"@sha(256|384|512):[0-9a-fA-F]{32,}$", image):
        return True, "", True
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return False, "no tag (means 'latest')", False
    tag = last.split(":", 1)[1]
    if tag.lower() == "latest":
        return False, "tag 'latest'", False
    return True, "", False


@dataclass(frozen=True)
class _Launcher:
    value_flags: frozenset[str]
    package_flags: frozenset[str]
    extra_flags: frozenset[str] = frozenset()
    python: bool = False


_NPX = _Launcher(
    value_flags=frozenset({"-p", "--package", "-c", "--call", "--registry", "--cache", "--userconfig", "-w"})
    | frozenset({"--workspace", "--prefix", "--loglevel", "--node-options"}),
    package_flags=frozenset({"-p", "--package"}),
)
_DLX = _Launcher(
    value_flags=frozenset({"-p", "--package", "--registry", "--cache-dir", "--reporter", "-C", "--dir"}),
    package_flags=frozenset({"-p", "--package"}),
)
_UVX = _Launcher(
    value_flags=frozenset({"--from", "--with", "-w", "--with-editable", "--with-requirements", "--python", "-p"})
    | frozenset({"--index", "--index-url", "-i", "--extra-index-url", "--default-index", "--find-links", "-f"})
    | frozenset({"--constraints", "-c", "--overrides", "--build-constraints", "-b", "--directory", "--project"})
    | frozenset({"--config-file", "--cache-dir", "--color", "--env-file", "--python-platform", "--exclude-newer"})
    | frozenset({"--upgrade-package", "-P", "--reinstall-package", "--refresh-package", "--index-strategy"})
    | frozenset({"--keyring-provider", "--resolution", "--prerelease", "--link-mode", "--allow-insecure-host"}),
    package_flags=frozenset({"--from"}),
    extra_flags=frozenset({"--with", "-w"}),
    python=True,
)
_PIPX = _Launcher(
    value_flags=frozenset({"--spec", "--python", "--pip-args", "--index-url", "-i", "--backend", "--fetch-python"}),
    package_flags=frozenset({"--spec"}),
    python=True,
)
_LAUNCHERS = {"npx": _NPX, "bunx": _NPX, "pnpx": _DLX, "uvx": _UVX}
# Two-word launchers: (program, subcommand) → parser.
_SUBCOMMANDS = {
    ("npm", "exec"): _NPX,
    ("npm", "x"): _NPX,
    ("bun", "x"): _NPX,
    ("pnpm", "dlx"): _DLX,
    ("yarn", "dlx"): _DLX,
    ("pipx", "run"): _PIPX,
    ("uv", "tool"): _UVX,
}


def _parse_launcher(spec: _Launcher, args: Sequence[str]) -> tuple[list[str], list[str], str | None]:
    """(packages from flags, extra packages, first positional)."""
    packages: list[str] = []
    extras: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return packages, extras, args[i + 1] if i + 1 < len(args) else None
        if not arg.startswith("-") or arg == "-":
            return packages, extras, arg
        flag, eq, inline = arg.partition("=")
        value: str | None = inline if eq else None
        if not eq and flag in spec.value_flags and i + 1 < len(args):
            value = args[i + 1]
            i += 1
        if value is not None and flag in spec.package_flags:
            packages.append(value)
        elif value is not None and flag in spec.extra_flags:
            extras.extend(v for v in value.split(",") if v)
        i += 1
    return packages, extras, None


def launched_packages(argv: Sequence[str]) -> list[LaunchedPackage]:
    """Packages (npx/bunx/pnpm dlx/yarn dlx/uvx/pipx run) or images (docker/podman run) `argv` fetches."""
    if not argv:
        return []
    name = program_name(argv[0])
    if name in _ENGINES:
        run = parse_docker_run(argv)
        if run is None or run.image is None:
            return []
        image = image_pin(run.image)
        return [] if image is None else [LaunchedPackage(name, run.image, image[0], image[1])]
    launcher = _LAUNCHERS.get(name)
    label = name
    rest = list(argv[1:])
    if launcher is None:
        # `pnpm --silent dlx pkg`: global flags may precede the subcommand.
        while rest and rest[0].startswith("-"):
            rest.pop(0)
        if not rest or (name, rest[0]) not in _SUBCOMMANDS:
            return []
        launcher, label = _SUBCOMMANDS[(name, rest[0])], f"{name} {rest[0]}"
        rest = rest[1:]
        if label == "uv tool":
            if not rest or rest[0] != "run":
                return []
            rest, label = rest[1:], "uv tool run"
    packages, extras, positional = _parse_launcher(launcher, rest)
    if not packages and positional is not None:
        packages = [positional]
    pin_of = python_pin if launcher.python else npm_pin
    out: list[LaunchedPackage] = []
    for package in [*packages, *extras]:
        pin = pin_of(package)
        if pin is not None:
            out.append(LaunchedPackage(label, package, pin[0], pin[1]))
    return out


_ENGINES = frozenset({"docker", "podman", "nerdctl"})
_ENGINE_GLOBAL_VALUE = frozenset({"--context", "-c", "-H", "--host", "--config", "--log-level", "-l", "--tlscacert"})
_SHORT_ALIASES = {
    "e": "--env",
    "v": "--volume",
    "p": "--publish",
    "u": "--user",
    "w": "--workdir",
    "l": "--label",
    "m": "--memory",
    "h": "--hostname",
    "a": "--attach",
    "c": "--cpu-shares",
    "d": "--detach",
    "i": "--interactive",
    "t": "--tty",
    "P": "--publish-all",
    "q": "--quiet",
}
_SHORT_WITH_VALUE = frozenset("evpuwlmhac")
_LONG_ALIASES = {"--net": "--network", "--net-alias": "--network-alias", "--dns-opt": "--dns-option"}
# Options of `docker|podman run` that take a value; unknown ones are taken as boolean.
_RUN_VALUE_WORDS = (
    "add-host annotation arch attach blkio-weight blkio-weight-device cap-add cap-drop cgroup-parent cgroupns "
    "cidfile cpu-count cpu-percent cpu-period cpu-quota cpu-rt-period cpu-rt-runtime cpu-shares cpus cpuset-cpus "
    "cpuset-mems detach-keys device device-cgroup-rule device-read-bps device-read-iops device-write-bps "
    "device-write-iops dns dns-option dns-search domainname entrypoint env env-file expose gpus group-add "
    "health-cmd health-interval health-retries health-start-interval health-start-period health-timeout hostname "
    "ip ip6 ipc isolation kernel-memory label label-file link link-local-ip log-driver log-opt mac-address memory "
    "memory-reservation memory-swap memory-swappiness mount name network network-alias oom-score-adj os pid "
    "pids-limit platform pod publish pull restart runtime secret security-opt shm-size stop-signal stop-timeout "
    "storage-opt sysctl tmpfs ulimit user userns uts variant volume volume-driver volumes-from workdir"
)
_RUN_VALUE_FLAGS = frozenset(_RUN_VALUE_WORDS.split())


@dataclass(frozen=True)
class DockerRun:
    """A `docker|podman|nerdctl run` command: its options (long names, `None` for boolean) and image."""

    engine: str
    options: tuple[tuple[str, str | None], ...]
    image: str | None
    command: tuple[str, ...]

    def values(self, *names: str) -> list[str | None]:
        """Every value given to any of the option `names` (`None` for a bare boolean flag)."""
        return [value for name, value in self.options if name in names]


def parse_docker_run(argv: Sequence[str]) -> DockerRun | None:
    """Parse a container `run` command line; None when `argv` is not one."""
    if not argv or program_name(argv[0]) not in _ENGINES:
        return None
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in _ENGINE_GLOBAL_VALUE else 1
    if i < len(argv) and argv[i] == "container":
        i += 1
    if i >= len(argv) or argv[i] != "run":
        return None
    i += 1
    options: list[tuple[str, str | None]] = []
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if not arg.startswith("-") or arg == "-":
            break
        if arg.startswith("--"):
            flag, eq, inline = arg.partition("=")
            flag = _LONG_ALIASES.get(flag, flag)
            if eq:
                options.append((flag, inline))
            elif flag[2:] in _RUN_VALUE_FLAGS and i + 1 < len(argv):
                options.append((flag, argv[i + 1]))
                i += 1
            else:
                options.append((flag, None))
        else:
            # A cluster of short flags (`-it`, `-dit`, `-eKEY=v`): the first one taking a value ends it.
            for pos, ch in enumerate(arg[1:], start=1):
                long = _SHORT_ALIASES.get(ch, f"-{ch}")
                if ch in _SHORT_WITH_VALUE:
                    if pos + 1 < len(arg):
                        options.append((long, arg[pos + 1 :]))
                    elif i + 1 < len(argv):
                        options.append((long, argv[i + 1]))
                        i += 1
                    break
                options.append((long, None))
        i += 1
    image = argv[i] if i < len(argv) else None
    return DockerRun(program_name(argv[0]), tuple(options), image, tuple(argv[i + 1 :]))


# Download-and-execute: a fetch piped into an interpreter, fed to one by process or command
# substitution, or PowerShell's Invoke-Expression over a web request.
_FETCH = r"(?:curl|wget|fetch|iwr|irm|invoke-webrequest|invoke-restmethod)"
_INTERPRETER = (
    r"(?:sudo\s+(?:-\S+\s+)*)?"
    r"(?:sh|bash|zsh|dash|ksh|fish|python[0-9.]*|node|perl|ruby|php|iex|invoke-expression|pwsh|powershell)"
)
# A fetch counts only in command position (line start, after a separator, `-c`, `/c` or sudo), so
# `echo curl | sh` is not a download.
_START_TOKENS = r"[;&|(`'\"]|\$\(|\s-[a-z]*c\s|\s-command\s|\s/c\s|\bsudo(?:\s+-\S+)*\s"
_COMMAND_START = rf"(?:^|{_START_TOKENS})\s*"
_DOWNLOAD_EXECUTE = re.compile(
    rf"{_COMMAND_START}{_FETCH}\b[^|;&\n]{{0,400}}\|\s*{_INTERPRETER}\b"
    rf"|\b(?:sh|bash|zsh|dash|ksh|source|python[0-9.]*)\s+(?:-\S+\s+)*<\(\s*{_FETCH}\b[^)]{{0,400}}\)"
    rf"|\b(?:eval|sh|bash|zsh|dash|ksh|python[0-9.]*\s+-c)\b[\s\"']*\$\(\s*{_FETCH}\b[^)]{{0,400}}\)"
    rf"|\b(?:iex|invoke-expression)\b[\s(]*(?:{_FETCH}\b|\(?\s*new-object\s+(?:system\.)?net\.webclient\))[^\n]{{0,400}}"
    rf"|{_COMMAND_START}{_FETCH}\b[^;&|\n]{{0,400}}\s(?:-o|-O|--output|--output-document|-outfile)\s*(\S+)"
    rf"[^\n]{{0,40}}?(?:&&|;)\s*(?:chmod\s+\S+\s+\S+\s*(?:&&|;)\s*)?(?:sudo\s+)?(?:sh|bash|zsh|python[0-9.]*|\./)",
    re.IGNORECASE,
)
_LEADING_START = re.compile(rf"^\s*(?:{_START_TOKENS})\s*", re.IGNORECASE)


def download_and_execute(text: str) -> str | None:
    """The part of a command line that downloads code and runs it unchecked, or None."""
    match = _DOWNLOAD_EXECUTE.search(text)
    if match is None:
        return None
    return _LEADING_START.sub("", match.group(0), count=1).strip()
