"""Run `mcpwarden redteam` against MCP reference servers that nobody in this project wrote.

Each server is installed at a pinned version from its registry into its own virtual environment or
npm prefix under the cache directory (never into mcpwarden's environment), started over stdio in a
fresh temporary directory with a temporary HOME, and attacked with the default suites and limits:

    mcpwarden redteam --format json --output R.json --record R.jsonl --fail-on none -- env -C DIR … SERVER …

Configured safely:
- every server gets a temporary working directory (the git server a throw-away repository it is
  confined to, the filesystem server a throw-away directory with two files) and a temporary HOME, so
  no user configuration (git credential helpers, npm tokens) is read;
- nothing can leave the machine: the red team only sends 127.0.0.1 URLs (its canary listener) and
  `file:///etc/passwd`; the servers' HTTP(S)/ALL proxy variables point at an *egress trap* this script
  listens with on 127.0.0.1 (it answers 403 to everything and counts what reached it) and NO_PROXY lets
  only loopback through directly. Before the fetch runs, the fetch server's own HTTP code is asked for a
  `.invalid` host (must land at the trap, as a proxy request) and for a loopback URL (must arrive
  directly): the run stops if either is not so. Tools that may send or change things (including
  server-everything's URL-downloading `gzip-file-as-resource`) are not called at all by default.

    python bench/redteam_reference.py                    # all servers
    python bench/redteam_reference.py --only git --only time
    python bench/redteam_reference.py --list

Results (report, transcript, summary.json) go to bench/results/redteam-reference/ (not in git);
installs are cached under bench/.venvs/reference/ (re-used while the pinned version is unchanged).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".venvs" / "reference"
RESULTS = ROOT / "bench" / "results" / "redteam-reference"
INSTALL_TIMEOUT_S = 600
RUN_GRACE_S = 120  # beyond mcpwarden's own --time-limit (default 180 s) before the run is killed
MEMORY_LIMIT = 8 * 1024**3  # address space of mcpwarden and its server: a runaway run fails, not the machine
_SUMMARY = re.compile(r"redteam: (\d+) requests in ([\d.]+)s")


@dataclass(frozen=True)
class Reference:
    """One reference server configuration: what to install and how to start it safely."""

    key: str
    registry: str  # "pypi" or "npm"
    package: str
    version: str
    note: str
    command: Callable[[Path, Path], list[str]]  # (install dir, work dir) -> argv
    prepare: Callable[[Path], None] = lambda work: None
    env: dict[str, str] = field(default_factory=dict)
    needs_egress_check: bool = False


def _pypi_bin(name: str) -> Callable[[Path, Path], list[str]]:
    return lambda install, work: [str(install / "bin" / name)]


def _node_main(package: str, *extra: str, work_arg: bool = False) -> Callable[[Path, Path], list[str]]:
    def command(install: Path, work: Path) -> list[str]:
        entry = install / "node_modules" / package / "dist" / "index.js"
        return ["node", str(entry), *extra, *([str(work)] if work_arg else [])]

    return command


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=mcpwarden bench", "-c", "user.email=bench@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=30,
    )


def _prepare_repository(work: Path) -> None:
    """A throw-away repository with one commit, a second branch and an unstaged change."""
    (work / "README.md").write_text("# scratch repository\n", encoding="utf-8")
    _git("init", "-q", "-b", "main", cwd=work)
    _git("add", "README.md", cwd=work)
    _git("commit", "-q", "-m", "initial commit", cwd=work)
    _git("branch", "feature", cwd=work)
    (work / "README.md").write_text("# scratch repository\n\nan unstaged line\n", encoding="utf-8")


def _prepare_files(work: Path) -> None:
    (work / "README.md").write_text("# scratch directory\n", encoding="utf-8")
    (work / "docs").mkdir()
    (work / "docs" / "note.txt").write_text("a note\n", encoding="utf-8")


def _fake_key() -> str:
    # Shaped like an OpenAI key (mixed-case random body) so it looks real to a detector; made up per run.
    return "sk-" + secrets.token_urlsafe(36)


REFERENCES: tuple[Reference, ...] = (
    Reference(
        "time",
        "pypi",
        "mcp-server-time",
        "2026.10.19",
        "--local-timezone UTC",
        lambda install, work: [str(install / "bin" / "mcp-server-time"), "--local-timezone", "UTC"],
    ),
    Reference(
        "fetch",
        "pypi",
        "mcp-server-fetch",
        "2026.10.24",
        "defaults (private, loopback and link-local destinations refused)",
        _pypi_bin("mcp-server-fetch"),
        needs_egress_check=True,
    ),
    Reference(
        "fetch-allow-private",
        "pypi",
        "mcp-server-fetch",
        "2026.10.24",
        "--allow-private-ips (the documented opt-in: loopback becomes reachable)",
        lambda install, work: [str(install / "bin" / "mcp-server-fetch"), "--allow-private-ips"],
        needs_egress_check=True,
    ),
    Reference(
        "git",
        "pypi",
        "mcp-server-git",
        "2026.10.19",
        "--repository <temporary repository>, started in it",
        lambda install, work: [str(install / "bin" / "mcp-server-git"), "--repository", str(work)],
        prepare=_prepare_repository,
    ),
    Reference(
        "filesystem",
        "npm",
        "@modelcontextprotocol/server-filesystem",
        "2026.8.31",
        "one allowed directory: a temporary one with two files, started in it",
        _node_main("@modelcontextprotocol/server-filesystem", work_arg=True),
        prepare=_prepare_files,
    ),
    Reference(
        "everything",
        "npm",
        "@modelcontextprotocol/server-everything",
        "2026.8.31",
        "stdio; a fake OPENAI_API_KEY in its environment, as client configs pass keys to servers",
        _node_main("@modelcontextprotocol/server-everything", "stdio"),
        env={"OPENAI_API_KEY": _fake_key()},
    ),
)


class EgressTrap:
    """A listener on 127.0.0.1 that every proxy variable points at: it refuses (403) and records each request.

    A request that reached it through a proxy variable carries an absolute URL or CONNECT in its request
    line; one that came directly (NO_PROXY) carries only a path.
    """

    def __init__(self) -> None:
        self.hits: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2.0)
                try:
                    data = conn.recv(8192)
                    self.hits.append(data.split(b"\r\n", 1)[0].decode("latin-1", "replace")[:300])
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


def proxy_env(trap: EgressTrap) -> dict[str, str]:
    """Proxy variables (both spellings) that send everything but loopback to the trap."""
    env: dict[str, str] = {}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = trap.url
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,::1"
    return env


def install(ref: Reference) -> Path:
    """The install directory of `ref` at its pinned version (installed on first use)."""
    safe = ref.package.replace("@", "").replace("/", "__")
    target = CACHE / ref.registry / f"{safe}-{ref.version}"
    marker = target / ".installed"
    if marker.exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n", encoding="utf-8")
    print(f"== installing {ref.package}=={ref.version} into {target.relative_to(ROOT)}", flush=True)
    if ref.registry == "pypi":
        # Without PYTHONPATH: pip would count a source tree on it (mcpwarden's src/) as installed.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        subprocess.run([sys.executable, "-m", "venv", str(target)], check=True, timeout=INSTALL_TIMEOUT_S)
        pip = [str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, f"{ref.package}=={ref.version}"], check=True, timeout=INSTALL_TIMEOUT_S, env=env)
    else:
        target.mkdir(parents=True)
        # --ignore-scripts: no package's install hook runs; the servers ship built JavaScript.
        npm = ["npm", "install", "--prefix", str(target), "--no-audit", "--no-fund", "--ignore-scripts"]
        subprocess.run([*npm, "--save-exact", f"{ref.package}@{ref.version}"], check=True, timeout=INSTALL_TIMEOUT_S)
    marker.write_text(f"{ref.package} {ref.version}\n", encoding="utf-8")
    return target


_EGRESS_CHECK = """
import asyncio, sys
from mcp_server_fetch.server import fetch_url
from mcp.server.mcpserver.exceptions import ToolError

async def main(url):
    try:
        await fetch_url(url, "mcpwarden-bench-egress-check", allow_private_ips=True)
    except ToolError as exc:
        print(f"refused: {exc}"[:300])
    else:
        print("fetched")

asyncio.run(main(sys.argv[1]))
"""


def resolved_versions(ref: Reference, install_dir: Path) -> list[str]:
    """Every package the pinned server pulled in, as installed (`pip freeze` / `npm ls --all`)."""
    if ref.registry == "pypi":
        argv = [str(install_dir / "bin" / "python"), "-m", "pip", "freeze", "--disable-pip-version-check"]
    else:
        argv = ["npm", "ls", "--all", "--prefix", str(install_dir)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    return [line.strip(" │├└─┬") for line in done.stdout.splitlines() if line.strip()]


def egress_check(install_dir: Path, trap: EgressTrap, env: dict[str, str]) -> str:
    """Prove with the fetch server's own HTTP code and proxy handling that only loopback leaves directly."""
    python = str(install_dir / "bin" / "python")
    before = len(trap.hits)
    outside = "http://mcpwarden-egress-check.invalid/probe"
    inside = f"{trap.url}/direct-check"
    for url in (outside, inside):
        subprocess.run(
            [python, "-c", _EGRESS_CHECK, url], env=env, check=True, timeout=60, capture_output=True, text=True
        )
    hits = trap.hits[before:]
    proxied = any(h.startswith("GET http://mcpwarden-egress-check.invalid/") for h in hits)
    direct = any(h.startswith("GET /direct-check ") for h in hits)
    if not (proxied and direct):
        raise SystemExit(f"egress check failed (trap saw {hits!r}): refusing to run the fetch server")
    return "a non-loopback URL reached only the trap (as a proxy request); a loopback URL went direct"


def server_env(ref: Reference, home: Path, trap: EgressTrap) -> dict[str, str]:
    return {"HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", **proxy_env(trap), **ref.env}


def run_one(ref: Reference, trap: EgressTrap, mcpwarden: list[str]) -> dict[str, object]:
    install_dir = install(ref)
    RESULTS.mkdir(parents=True, exist_ok=True)
    report_path, transcript_path = RESULTS / f"{ref.key}.json", RESULTS / f"{ref.key}.jsonl"
    with tempfile.TemporaryDirectory(prefix=f"mw-ref-{ref.key}-") as scratch:
        work, home = Path(scratch) / "work", Path(scratch) / "home"
        work.mkdir()
        home.mkdir()
        ref.prepare(work)
        env = server_env(ref, home, trap)
        egress = egress_check(install_dir, trap, {**os.environ, **env}) if ref.needs_egress_check else None
        server = ["env", "-C", str(work), *(f"{k}={v}" for k, v in env.items()), *ref.command(install_dir, work)]
        argv = [*mcpwarden, "redteam", "--format", "json", "--output", str(report_path)]
        argv += ["--record", str(transcript_path), "--fail-on", "none", "--", *server]
        trap_before = len(trap.hits)
        started = time.perf_counter()
        with subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        ) as process:
            # Set from outside (preexec_fn is unsafe beside the trap's thread); the server inherits it.
            resource.prlimit(process.pid, resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
            try:
                _, stderr = process.communicate(timeout=180 + RUN_GRACE_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its own group: mcpwarden and the server it started
                raise SystemExit(f"{ref.key}: mcpwarden redteam did not stop by itself") from None
        wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{ref.key}: mcpwarden redteam exited {process.returncode}: {stderr.strip()[-500:]}")
    findings = json.loads(report_path.read_text(encoding="utf-8"))["findings"]
    versions = resolved_versions(ref, install_dir)
    (RESULTS / f"{ref.key}.versions.txt").write_text("\n".join(versions) + "\n", encoding="utf-8")
    sdk = sorted({v for v in versions if re.match(r"(?:mcp==|@modelcontextprotocol/sdk@)", v)})
    summary = _SUMMARY.search(stderr)
    skipped = re.search(r"not attacked \(may change or send things\): (.*)", stderr)
    return {
        "server": ref.key,
        "package": f"{ref.package}=={ref.version}" if ref.registry == "pypi" else f"{ref.package}@{ref.version}",
        "config": ref.note,
        "sdk": ", ".join(sdk),
        "requests": int(summary.group(1)) if summary else None,
        "duration_s": float(summary.group(2)) if summary else None,
        "wall_s": round(wall, 1),
        "findings": dict(sorted(Counter(f"{f['rule_id']} {f['severity']}" for f in findings).items())),
        "not_attacked": skipped.group(1).strip() if skipped else "",
        "egress_check": egress,
        "trap_hits_during_run": trap.hits[trap_before:],
        "report": str(report_path.relative_to(ROOT)),
        "transcript": str(transcript_path.relative_to(ROOT)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=[r.key for r in REFERENCES], help="run only these")
    parser.add_argument("--list", action="store_true", help="list the servers and pinned versions")
    args = parser.parse_args()
    if args.list:
        for ref in REFERENCES:
            print(f"{ref.key:<20} {ref.registry:<5} {ref.package}=={ref.version}  ({ref.note})")
        return 0
    chosen = [r for r in REFERENCES if not args.only or r.key in args.only]
    if any(r.registry == "npm" for r in chosen) and not (shutil.which("node") and shutil.which("npm")):
        print("node/npm not found: skipping the npm servers", file=sys.stderr)
        chosen = [r for r in chosen if r.registry != "npm"]
    mcpwarden = [sys.executable, "-m", "mcpwarden.cli.main"]
    trap = EgressTrap()
    rows = []
    try:
        for ref in chosen:
            print(f"== {ref.key}: {ref.package} {ref.version} ({ref.note})", flush=True)
            row = run_one(ref, trap, mcpwarden)
            rows.append(row)
            found = ", ".join(f"{k} ×{v}" for k, v in dict(row["findings"]).items()) or "none"  # type: ignore[call-overload]
            print(f"   {row['requests']} requests, {row['duration_s']} s (wall {row['wall_s']} s); findings: {found}")
            print(f"   not attacked: {row['not_attacked'] or 'none'}; egress trap hits: {row['trap_hits_during_run']}")
            if row["egress_check"]:
                print(f"   egress check: {row['egress_check']}")
    finally:
        trap.close()
    summary_path = RESULTS / "summary.json"
    # --only updates its servers' rows and keeps the others of an earlier run.
    earlier = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else []
    ran = {row["server"] for row in rows}
    merged = [row for row in earlier if row.get("server") not in ran] + rows
    summary_path.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    node = (
        subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        if shutil.which("node")
        else "-"
    )
    print(f"\nPython {sys.version.split()[0]}, Node {node}; summary: {summary_path.relative_to(ROOT)}")
    return 1 if any(row["trap_hits_during_run"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
