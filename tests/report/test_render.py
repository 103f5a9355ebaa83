from __future__ import annotations

import json

import pytest

from mcpwarden.report import FORMATS, Format, findings_only, render
from mcpwarden.types import ScanResult, Severity

from .factories import ARG_API_KEY, BEARER_TOKEN, GITHUB_TOKEN, URL_TOKEN, finding, full_scan, scan, stdio_server


def _leaky_scan() -> ScanResult:
    """Secrets everywhere a careless writer could print them: env, headers, args, URL, error, stderr, evidence."""
    base = full_scan()
    leak = finding("MW210", Severity.HIGH, tool=None, title="Secret in env", evidence=f"GITHUB_TOKEN={GITHUB_TOKEN}")
    relay = finding("MW211", Severity.LOW, server="remote", tool=None, message=f"server echoed {BEARER_TOKEN}")
    return ScanResult(
        servers=base.servers,
        findings=(*base.findings, leak, relay),
        config_files=base.config_files,
        started_at=base.started_at,
    )


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("secret", [GITHUB_TOKEN, BEARER_TOKEN, ARG_API_KEY, URL_TOKEN])
def test_secrets_never_appear_in_any_format(fmt: Format, secret: str) -> None:
    assert secret not in render(_leaky_scan(), fmt, color=True, width=300)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("secret", [GITHUB_TOKEN, BEARER_TOKEN, ARG_API_KEY, URL_TOKEN])
def test_configured_secrets_stay_masked_whatever_redact_does(fmt: Format, secret: str) -> None:
    # These are secrets by the config's structure (env, header, --api-key value, ?token=), so they
    # are scrubbed even from free text such as the error message with an identity redactor.
    assert secret not in render(_leaky_scan(), fmt, redact=lambda text: text, width=300)


def test_given_redactor_is_applied_to_args_url_and_errors() -> None:
    result = scan(stdio_server("s", ok=False, error="failed in server.js", args=("server.js",)))
    doc = json.loads(render(result, "json", redact=lambda text: text.replace("server.js", "<redacted>")))
    server = doc["servers"][0]
    assert server["args"] == ["<redacted>"]
    assert server["error"] == "failed in <redacted>"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("result", [full_scan(), scan(), findings_only([finding()])], ids=["full", "empty", "bare"])
def test_every_format_renders_text_ending_in_a_newline(fmt: Format, result: ScanResult) -> None:
    out = render(result, fmt)
    assert out.endswith("\n")
    if fmt != "table":
        json.loads(out)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        render(full_scan(), "xml")  # type: ignore[arg-type]
