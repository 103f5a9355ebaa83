"""`mcpwarden redteam` against mcpwarden's own gateway, as real processes: the gateway in its default
configuration, and the gateway as an OAuth resource server of the real test authorization server
(tests/fixtures/oauth) with the forged-token probes on. Every suite must run and nothing of medium
severity or above may be proven; the transcript shows that the probes that must run did run.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from mcpwarden.detect import default_engine
from mcpwarden.redteam import SUITES, attacks_for
from tests.conftest import free_port
from tests.fixtures.oauth.harness import AuthServer, start_authorization_server
from tests.gateway.conftest import _stop, cli_command, upstream_entry

SCOPE = "mcp:tools"
START_TIMEOUT_S = 30.0
# Bounds with room to spare: a full run here is ~125 requests in 8-15 s on 2 loaded cores. The test
# fails if the run stops early, so a slower machine shows up as a failure, never as skipped probes.
MAX_REQUESTS = 400
TIME_LIMIT_S = 60
RUN_TIMEOUT_S = 90  # a run that overstays its limit is killed well inside pytest's 120 s
FAILING = frozenset({"medium", "high", "critical"})
FORGED = ("expired", "wrong_audience", "alg_none", "bad_signature")

# Attacks that must be judged (not skipped, not inconclusive) against the fixture upstream. The
# arguments attacks that need a URL parameter, SQL-looking tool or resource template have no target here.
JUDGED_ALWAYS = frozenset(
    {
        "transport.origin",
        "transport.host",
        "transport.protocol_version",
        "auth.no_credentials",
        "session.ids",
        "session.terminated",
        "args.path_traversal",
        "args.command_injection",
        "args.template_injection",
        "output.descriptions",
        "output.results",
        "output.reflection",
        "output.secrets",
        "protocol.malformed",
        "protocol.arguments",
    }
)
JUDGED_WITH_AUTH = JUDGED_ALWAYS | {"auth.query_token", "auth.jwt", "session.without_token"}


@dataclass(frozen=True)
class Run:
    """One finished red-team run: exit code, stderr, the JSON report's findings and the transcript."""

    returncode: int
    stderr: str
    findings: list[dict[str, Any]]
    transcript: list[dict[str, Any]]
    seconds: float

    def outcomes(self) -> dict[str, str]:
        return {line["key"]: line["outcome"] for line in self.transcript if line.get("type") == "probe"}

    def exchanges(self, probe: str) -> list[dict[str, Any]]:
        return [line for line in self.transcript if line.get("type") == "exchange" and line.get("probe") == probe]

    def explain(self) -> str:
        """Every finding (and the run's own report lines), so a failing assertion says what broke."""
        lines = [
            f"{f['rule_id']} {f['severity']} {f['location'].get('tool') or f['location'].get('pointer')}: "
            f"{f['title']} | {f['evidence']}"
            for f in self.findings
        ]
        return "\n".join([f"exit {self.returncode}; {len(self.findings)} findings:", *lines, self.stderr.strip()])


def _wait_ready(base: str, process: subprocess.Popen[bytes], headers: Mapping[str, str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gateway exited with {process.returncode}")
        try:
            upstreams = httpx2.get(f"{base}/healthz", timeout=1, headers=dict(headers)).json()["upstreams"]
            if upstreams and all(state["ready"] for state in upstreams.values()):
                return
        except (httpx2.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise RuntimeError("gateway did not become ready in time")


@contextmanager
def gateway(workdir: Path, port: int, extra: Mapping[str, Any], headers: Mapping[str, str]) -> Iterator[str]:
    """`mcpwarden gateway` over the fixture upstream with `extra` config keys; yields its MCP URL."""
    config = {"listen": {"port": port}, "upstreams": {"fx": upstream_entry("fx")}, **extra}
    path = workdir / "warden.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
    with (workdir / "gateway.log").open("wb") as log:
        process = subprocess.Popen(
            cli_command("gateway", "--config", str(path)),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env={**os.environ, "MCPWARDEN_HOME": str(workdir)},
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, process, headers)
        yield f"{base}/mcp"
    finally:
        _stop(process)


def redteam(workdir: Path, url: str, *options: str) -> Run:
    """`mcpwarden redteam --url URL --format json` as a subprocess, with every suite and a transcript."""
    report, record = workdir / "report.json", workdir / "run.jsonl"
    args = ["--url", url, "--format", "json", "-o", str(report), "--record", str(record), "--fail-on", "medium"]
    started = time.monotonic()
    done = subprocess.run(
        cli_command("redteam", *args, "--max-requests", str(MAX_REQUESTS), "--time-limit", str(TIME_LIMIT_S), *options),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    seconds = time.monotonic() - started
    assert report.exists(), f"no report (exit {done.returncode}): {done.stderr[-2000:]}"
    findings = json.loads(report.read_text(encoding="utf-8"))["findings"]
    transcript = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines() if line.strip()]
    return Run(done.returncode, done.stderr, findings, transcript, seconds)


def assert_passes(run: Run, must_judge: frozenset[str]) -> None:
    """Nothing of medium or above; the run finished by itself; every suite and each named attack was judged."""
    failing = [f for f in run.findings if f["severity"] in FAILING]
    assert not failing, run.explain()
    assert run.returncode == 0, run.explain()
    assert "stopped early" not in run.stderr and "attack failed" not in run.stderr, run.explain()
    judged = {key for key, outcome in run.outcomes().items() if outcome in ("held", "vulnerable")}
    ran = {attack.id for attack in attacks_for(SUITES, "http") if any(k.startswith(attack.id) for k in judged)}
    assert must_judge <= ran, f"not judged: {sorted(must_judge - ran)}; outcomes: {run.outcomes()}"
    assert {attack.suite for attack in attacks_for(SUITES, "http") if attack.id in ran} == set(SUITES)


@pytest.fixture(scope="module", autouse=True)
def detection_cache() -> None:
    """Fill the detection engine's on-disk cache before any process starts: the gateway and the red team
    both load it, and a cold compile (once per rule set) would count against their start and run bounds."""
    default_engine().prepare()


def test_default_gateway_passes_every_probe(tmp_path: Path) -> None:
    with gateway(tmp_path, free_port(), {}, {}) as url:
        run = redteam(tmp_path, url)
    assert_passes(run, JUDGED_ALWAYS)
    # Loopback without auth is the default: proven low (only local processes), never hidden.
    no_auth = [f for f in run.findings if f["rule_id"] == "MW750"]
    assert [f["severity"] for f in no_auth] == ["low"], run.explain()
    print(f"default gateway: red team ran {run.seconds:.1f} s\n{run.explain()}")


@pytest.fixture(scope="module")
def idp() -> Iterator[AuthServer]:
    with start_authorization_server() as server:
        yield server


def test_gateway_with_auth_passes_every_probe_including_forged_tokens(idp: AuthServer, tmp_path: Path) -> None:
    port = free_port()
    resource = f"http://127.0.0.1:{port}/mcp"
    auth = {
        "resource": resource,
        "authorization_servers": [idp.issuer],
        "required_scopes": [SCOPE],
        "allow_loopback_metadata": True,
    }
    token = idp.mint({"sub": "alice", "aud": resource, "scope": SCOPE}, lifetime_s=600)
    other = idp.mint({"sub": "bob", "aud": resource, "scope": SCOPE}, lifetime_s=600)
    key = tmp_path / "idp.pem"
    key.write_bytes(idp.private_pem())
    forging = ["--signing-key", str(key), "--key-id", idp.current_kid(), "--issuer", idp.issuer, "--scope", SCOPE]
    with gateway(tmp_path, port, {"auth": auth}, {"Authorization": f"Bearer {token}"}) as url:
        assert url == resource
        run = redteam(tmp_path, url, "--token", token, "--other-token", other, *forging)
    assert_passes(run, JUDGED_WITH_AUTH)
    outcomes = run.outcomes()
    # The valid minted token was accepted, so each forged one was refused for its one defect: a 401.
    assert outcomes.get("auth.jwt:baseline") != "inconclusive", run.outcomes()
    assert [e["response"]["status"] for e in run.exchanges("auth.jwt:baseline")][:1] == [200]
    for name in FORGED:
        probe = f"auth.jwt:{name}"
        assert outcomes.get(probe) == "held", (probe, outcomes)
        assert [e["response"]["status"] for e in run.exchanges(probe)] == [401], (probe, run.exchanges(probe))
    # No token: 401 with a challenge, for initialize and for calls that skip it (2025 and 2026 era);
    # a token in the query: 400 invalid_request (RFC 6750 section 3.1).
    expected = (
        ("auth.no_credentials", 401),
        ("auth.no_credentials:tools_call", 401),
        ("auth.no_credentials:tools_call_modern", 401),
        ("auth.query_token", 400),
    )
    for probe, status in expected:
        assert outcomes.get(probe) == "held", (probe, outcomes)
        assert run.exchanges(probe)[0]["response"]["status"] == status, run.exchanges(probe)
    for probe in ("session.without_token", "session.without_token:other_principal"):
        assert outcomes.get(probe) == "held", (probe, outcomes)
    for probe in ("challenge", "metadata", "resource", "authorization_servers"):
        assert f"auth.no_credentials:{probe}" in outcomes, outcomes
    # Tokens never reach the transcript in clear.
    text = json.dumps(run.transcript)
    assert token not in text and other not in text
    print(f"gateway with auth: red team ran {run.seconds:.1f} s\n{run.explain()}")
