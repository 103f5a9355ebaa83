"""End to end against real processes: the vulnerable fixture shows every planted weakness, each with
the request that proves it; the hardened twin shows nothing of medium severity or above."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mcpwarden.redteam import Target
from mcpwarden.redteam.runner import RedTeamReport
from mcpwarden.types import Severity
from tests.redteam.conftest import HARDENED, ISSUER, VULNERABLE, run, stdio_target


@pytest.fixture(scope="module")
def vulnerable_stdio(tmp_path_factory: pytest.TempPathFactory) -> tuple[RedTeamReport, Path]:
    record = tmp_path_factory.mktemp("rt") / "vulnerable.jsonl"
    return run(stdio_target(VULNERABLE), record=record), record


def _find(report: RedTeamReport, rule_id: str, tool: str | None) -> list[str]:
    return [f.evidence for f in report.findings if f.rule_id == rule_id and f.location.tool == tool]


# rule, tool (or template), text the evidence must hold: the request that proves it, and the proof.
STDIO_PLANTS = [
    ("MW700", "read_note", ["tools/call read_note", "etc/passwd", "root:x:0:0"]),
    ("MW701", "ping_host", ["tools/call ping_host", "echo"]),
    ("MW702", "render_greeting", ["tools/call render_greeting", "*"]),
    ("MW703", "find_customer", ["tools/call find_customer", "OperationalError"]),
    ("MW704", "fetch_url", ["tools/call fetch_url", "the canary listener received: GET /mw-ssrf-"]),
    ("MW705", "notes://{+name}", ["resources/read", "root:x:0:0"]),
    ("MW711", "measure_text", ["measure_text", "bytes)"]),
    ("MW712", "parse_date", ["parse_date", "Traceback"]),
    ("MW712", "word_count", ["word_count", "bytes)", "/opt/notes-app/notes/limits.py"]),
    ("MW712", "sync_status", ['"name":"sync_status"', "password in URL"]),
    ("MW720", "render_greeting", ["tools/call render_greeting", "SYSTEM NOTE mw-"]),
    ("MW721", "get_settings", ["tools/call get_settings", "OpenAI API key"]),
    ("MW721", "sync_status", ["tools/call sync_status", "password in URL"]),
    ("MW722", "get_settings", ["tools/list", "MW3"]),
    ("MW723", "latest_news", ["tools/call latest_news", "Ignore all previous instructions"]),
    ("MW790", "delete_note", ["name says delete"]),
    ("MW790", "purge_cache", ["name says purge"]),
]


@pytest.mark.parametrize(("rule_id", "tool", "needles"), STDIO_PLANTS, ids=[f"{r}-{t}" for r, t, _ in STDIO_PLANTS])
def test_vulnerable_stdio_plant_is_found_with_its_proof(
    vulnerable_stdio: tuple[RedTeamReport, Path], rule_id: str, tool: str, needles: list[str]
) -> None:
    report, _ = vulnerable_stdio
    evidence = _find(report, rule_id, tool)
    assert evidence, [(f.rule_id, f.location.tool) for f in report.findings]
    assert all(needle in evidence[0] for needle in needles), evidence[0]


@pytest.mark.parametrize(
    ("tool", "pointer", "in_error"), [("get_settings", "/result", False), ("sync_status", "/error", True)]
)
def test_secret_findings_say_whether_a_result_or_an_error_carried_it(
    vulnerable_stdio: tuple[RedTeamReport, Path], tool: str, pointer: str, in_error: bool
) -> None:
    report, _ = vulnerable_stdio
    (finding,) = [f for f in report.findings if f.rule_id == "MW721" and f.location.tool == tool]
    assert finding.location.pointer == pointer
    assert ("(in an error message)" in finding.message) is in_error
    # Masked in the report: the made-up password never appears in clear.
    assert "nR8vXe5Lk2Tz" not in finding.evidence


def test_stdio_invalid_messages_get_no_json_rpc_error(vulnerable_stdio: tuple[RedTeamReport, Path]) -> None:
    # The SDK's stdio loop drops unparseable lines silently: a real (low) finding for both fixtures.
    report, _ = vulnerable_stdio
    assert any(f.rule_id == "MW710" and '"method": "ping"' in f.evidence for f in report.findings)


def test_destructive_tools_are_never_called_by_default(vulnerable_stdio: tuple[RedTeamReport, Path]) -> None:
    report, record = vulnerable_stdio
    assert set(report.skipped_tools) == {"delete_note", "purge_cache"}
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    sent = [c["request"].get("line", "") for c in calls if c["type"] == "exchange"]
    assert any('"name":"read_note"' in s for s in sent)
    assert not any('"name":"delete_note"' in s or '"name":"purge_cache"' in s for s in sent)


def test_allow_destructive_attacks_them_too() -> None:
    report = run(stdio_target(VULNERABLE), suites=("arguments",), allow_destructive=True)
    assert {"delete_note", "purge_cache"} <= set(report.attacked_tools)
    assert report.outcomes.get("args.command_injection:delete_note:name:0") == "held"


def test_transcript_masks_secrets(vulnerable_stdio: tuple[RedTeamReport, Path]) -> None:
    _, record = vulnerable_stdio
    text = record.read_text()
    assert "Zq8vR2mK9tX4wB7nL1pS6yH3" not in text  # the fixture's fake key, sent in a result
    assert "nR8vXe5Lk2Tz" not in text  # the fixture's fake database password, sent in an error
    assert "OPENAI_API_KEY=sk-p" in text


def test_hardened_stdio_twin_has_nothing_medium_or_above() -> None:
    report = run(stdio_target(HARDENED))
    serious = [(f.rule_id, f.location.tool, f.evidence) for f in report.findings if f.severity >= Severity.MEDIUM]
    assert not serious
    assert report.attacked_tools and not report.errors


HTTP_PLANTS = [
    ("MW730", "Origin: http://mcpwarden-foreign-origin.example"),
    ("MW731", "Host: mcpwarden-rebind.example"),
    ("MW732", "MCP-Protocol-Version: 1999-01-01"),
    ("MW733", "also answers on"),
    ("MW740", "sequential"),
    ("MW741", "DELETE"),
    ("MW750", "initialize without credentials"),
]


@pytest.fixture(scope="module")
def vulnerable_http(http_fixture: Callable[..., str]) -> RedTeamReport:
    # Bound to every interface on purpose: the MW733 plant. The fixture runs only for this module.
    url = http_fixture(VULNERABLE, "--host", "0.0.0.0")
    return run(Target(url=url), suites=("transport", "auth", "session"))


@pytest.mark.parametrize(("rule_id", "needle"), HTTP_PLANTS, ids=[r for r, _ in HTTP_PLANTS])
def test_vulnerable_http_plant_is_found(vulnerable_http: RedTeamReport, rule_id: str, needle: str) -> None:
    evidence = [f.evidence for f in vulnerable_http.findings if f.rule_id == rule_id]
    assert evidence and needle in evidence[0], [(f.rule_id, f.evidence) for f in vulnerable_http.findings]


AUTH_PLANTS = [
    ("weak", "MW751", "challenge without resource_metadata"),
    ("weak", "MW753", "https://mcp.example.com/mcp"),
    ("weak", "MW754", "169.254.169.254"),
    ("weak", "MW755", "access_token"),
    ("weak", "MW756", "expired"),
    ("weak", "MW757", "wrong_audience"),
    ("weak", "MW758", "alg_none"),
    ("weak", "MW759", "bad_signature"),
    ("weak", "MW742", "no Authorization"),
    ("weak", "MW743", "another principal"),
    ("weak-nometa", "MW752", "no metadata document"),
    # A token checked on `initialize` only: calls that skip it, in either protocol era, are answered.
    ("initialize-only", "MW750", "POST tools/call get_settings without credentials (no Mcp-Session-Id)"),
    ("initialize-only", "MW750", "without credentials (MCP-Protocol-Version: 2026-07-28, per-request envelope)"),
]


@pytest.fixture(scope="module")
def weak_auth(http_fixture: Callable[..., str], key_pair: tuple[str, Path]) -> dict[str, RedTeamReport]:
    private, _ = key_pair
    reports = {}
    for mode in ("weak", "weak-nometa", "initialize-only"):
        url = http_fixture(VULNERABLE, "--auth", mode)
        reports[mode] = run(Target(url=url), suites=("auth", "session"), signing_key=private, issuer=ISSUER)
    return reports


@pytest.mark.parametrize(("mode", "rule_id", "needle"), AUTH_PLANTS, ids=[f"{m}-{r}" for m, r, _ in AUTH_PLANTS])
def test_weak_auth_plant_is_found(weak_auth: dict[str, RedTeamReport], mode: str, rule_id: str, needle: str) -> None:
    evidence = [f.evidence for f in weak_auth[mode].findings if f.rule_id == rule_id]
    assert any(needle in e for e in evidence), [(f.rule_id, f.evidence) for f in weak_auth[mode].findings]


def test_stateless_calls_without_a_token_hold_where_every_request_is_checked(
    weak_auth: dict[str, RedTeamReport],
) -> None:
    outcomes = weak_auth["weak"].outcomes
    assert outcomes["auth.no_credentials"] == "held"
    assert outcomes["auth.no_credentials:tools_call"] == "held"
    assert outcomes["auth.no_credentials:tools_call_modern"] == "held"


def test_hardened_http_twin_with_auth_has_nothing_medium_or_above(
    http_fixture: Callable[..., str], key_pair: tuple[str, Path], tmp_path: Path
) -> None:
    private, public = key_pair
    url = http_fixture(HARDENED, "--public-key", str(public))
    record = tmp_path / "hardened.jsonl"
    report = run(Target(url=url), signing_key=private, issuer=ISSUER, record=record)
    serious = [(f.rule_id, f.location.tool, f.evidence) for f in report.findings if f.severity >= Severity.MEDIUM]
    assert not serious
    probes = {
        json.loads(line)["key"]: json.loads(line)["outcome"]
        for line in record.read_text().splitlines()
        if '"type": "probe"' in line
    }
    # The auth probes really ran (the valid token was accepted) and held.
    assert probes["auth.jwt:alg_none"] == "held" and probes["session.without_token"] == "held"
    assert probes["auth.no_credentials:tools_call"] == probes["auth.no_credentials:tools_call_modern"] == "held"
    assert private.splitlines()[1] not in record.read_text()


def test_request_budget_stops_the_run() -> None:
    report = run(stdio_target(VULNERABLE), max_requests=12)
    assert report.stopped == "request limit of 12 reached"
    assert report.requests == 12


def test_time_limit_stops_the_run() -> None:
    report = run(stdio_target(VULNERABLE), time_limit=5.0)
    assert report.stopped == "time limit reached"
    assert report.duration_s < 5.0 + 12.0  # the limit, plus one answer's wait and shutdown
