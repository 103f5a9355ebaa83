from __future__ import annotations

import json

import pytest

from mcpwarden.report.redact import (
    SecretScrubber,
    default_redact,
    looks_random,
    printable,
    redact_args,
    safe_json_dumps,
)
from mcpwarden.types import ServerSpec, escape_evidence, mask_secret

SECRET = "sk_live_51HxYzAbCdEf9876543210"


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        (f"Authorization: Bearer {SECRET}", SECRET, "Authorization"),
        ("https://alice:hunter2pass@db.example.com/x", "hunter2pass", "alice"),
        ("https://h.example.com/mcp?api_key=abc123def&page=2", "abc123def", "page=2"),
        (f"GITHUB_TOKEN={SECRET}", SECRET, "GITHUB_TOKEN="),
        (f"connecting with {SECRET} now", SECRET, "connecting with"),
        ("password: correcthorse", "correcthorse", "password"),
    ],
)
def test_default_redact_masks_secrets(text: str, secret: str, kept: str) -> None:
    out = default_redact(text)
    assert secret not in out
    assert kept in out


@pytest.mark.parametrize(
    "text",
    [
        "npx -y @modelcontextprotocol/server-filesystem@0.6.2 /tmp/pytest-of-root/pytest-12/test0",
        "/home/user/projects/my-mcp-server/dist/index.js",
        "connection refused (127.0.0.1:8080)",
        "uvx mcp-server-fetch --ignore-robots-txt",
    ],
)
def test_default_redact_leaves_ordinary_text(text: str) -> None:
    assert default_redact(text) == text


@pytest.mark.parametrize(
    ("args", "secret"),
    [
        (["--api-key", SECRET], SECRET),
        (["--token", "short"], "short"),
        (["--client-secret=abcdefgh"], "abcdefgh"),
        (["-e", f"OPENAI_API_KEY={SECRET}"], SECRET),
        (["run", SECRET], SECRET),
    ],
)
def test_redact_args_masks_flag_values(args: list[str], secret: str) -> None:
    out = redact_args(args, default_redact)
    assert len(out) == len(args)
    assert all(secret not in a for a in out)


def test_redact_args_keeps_ordinary_args_and_uses_the_given_redactor() -> None:
    args = ["-y", "server@1.0", "--port", "8080"]
    assert redact_args(args, default_redact) == args
    assert redact_args(["a", "b"], str.upper) == ["A", "B"]


@pytest.mark.parametrize(
    ("hostile", "escaped"),
    [
        ("\x1b[31mred", "\\u{1B}[31mred"),
        ("a\u200bb", "a\\u{200B}b"),
        ("\u202eevil", "\\u{202E}evil"),
        ("tag\U000e0041", "tag\\u{E0041}"),
        ("c1\x9b31m", "c1\\u{9B}31m"),
        ("bell\x07", "bell\\u{7}"),
        ("cr\roverwrite", "cr\\u{D}overwrite"),
        ("vs\ufe0f", "vs\\u{FE0F}"),
    ],
)
def test_printable_makes_hidden_characters_visible(hostile: str, escaped: str) -> None:
    assert printable(hostile) == escaped


def test_printable_keeps_newlines_and_is_idempotent_on_escaped_evidence() -> None:
    assert printable("a\nb") == "a\nb"
    assert printable("a\nb", keep_newlines=False) == "a\\u{A}b"
    evidence = escape_evidence("ignore\u200b all \x1b[2J previous\u202e")
    assert printable(evidence) == evidence


@pytest.mark.parametrize("value", ["\x1b[2J", "\x9b", "\u202e", "\u200b", "\U000e0041", "\u2028", "é ü 漢字", "\x7f"])
def test_safe_json_dumps_is_lossless_and_shows_no_hidden_character(value: str) -> None:
    text = safe_json_dumps({"v": value, "nested": [value]})
    assert json.loads(text) == {"v": value, "nested": [value]}
    assert printable(text) == text
    assert text.endswith("\n")


def test_safe_json_dumps_keeps_visible_unicode_readable() -> None:
    assert "漢字" in safe_json_dumps({"v": "漢字"})


def test_looks_random_separates_keys_from_words() -> None:
    assert looks_random(SECRET)
    assert not looks_random("modelcontextprotocol-server-filesystem")
    assert not looks_random("short1")


def test_scrubber_removes_header_and_secret_env_values_everywhere() -> None:
    spec = ServerSpec(
        name="s",
        transport="http",
        url="https://x",
        headers={"Authorization": "Bearer abcdefgh12345678", "X-Plain": "plainvalue"},
        env={"MY_TOKEN": "tok1", "DEBUG": "1", "RANDOM": SECRET},
    )
    scrub = SecretScrubber.for_servers([spec])
    text = scrub("bearer abcdefgh12345678 / plainvalue / tok1 / 1 / " + SECRET)
    for secret in ("abcdefgh12345678", "plainvalue", "tok1", SECRET):
        assert secret not in text
    assert mask_secret(SECRET) in text
    assert scrub.tree({"k": ["tok1", {"x": "tok1"}], "n": 3}) == {"k": ["****", {"x": "****"}], "n": 3}
