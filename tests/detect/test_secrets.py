"""Secret detection and masking in free text: formats, keyed values, look-alikes, entropy, offsets."""

from __future__ import annotations

import random
import string

import pytest

from mcpwarden.detect.secrets import (
    find_secrets,
    is_reference,
    is_secret_name,
    looks_random,
    mask_secrets,
    shannon_entropy,
)

# Fake credentials are assembled at run time from a seeded generator, so no token-shaped literal sits
# in the repository and every run sees the same values.
_RNG = random.Random(20250618)
_ALNUM = string.ascii_letters + string.digits


def _rand(n: int, alphabet: str = _ALNUM) -> str:
    # Guarantee mixed classes so "looks generated" checks see what real tokens look like.
    body = "".join(_RNG.choice(alphabet) for _ in range(n - 2))
    return "aZ"[: n - len(body)] + body if n >= 2 else body


GITHUB = "ghp_" + _rand(36)
GITHUB_PAT = "github_pat_" + _rand(22) + "_" + _rand(59)
GITLAB = "glpat-" + _rand(20)
SLACK = "xoxb-" + "1234567890" + "-" + _rand(24)
AWS_ID = "AKIA" + "".join(_RNG.choice(string.ascii_uppercase + string.digits) for _ in range(16))
AWS_SECRET = _rand(40, _ALNUM + "/+")
OPENAI = "sk-proj-" + _rand(48, _ALNUM + "_-")
ANTHROPIC = "sk-ant-api03-" + _rand(64, _ALNUM + "_-")
STRIPE = "sk_" + "live_" + _rand(24)
GOOGLE = "AIza" + _rand(35)
NPM = "npm_" + _rand(36)
HF = "hf_" + _rand(34)
JWT = "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiJhZ2VudCJ9." + _rand(43, _ALNUM + "_-")
BEARER = _rand(40, _ALNUM + "._-")
KEYED = _rand(24)
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\n" + _rand(64) + "\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        (f"export GITHUB_TOKEN={GITHUB}", GITHUB, "github_token"),
        (f"token {GITHUB_PAT} here", GITHUB_PAT, "github_token"),
        (f"GITLAB={GITLAB}", GITLAB, "gitlab_token"),
        (f"slack: {SLACK}", SLACK, "slack_token"),
        (f"id={AWS_ID}", AWS_ID, "aws_access_key_id"),
        (f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET, "aws_secret_key"),
        (f'{{"key": "{OPENAI}"}}', OPENAI, "openai_key"),
        (f"x {ANTHROPIC} y", ANTHROPIC, "anthropic_key"),
        (f"stripe {STRIPE}", STRIPE, "stripe_key"),
        (f"maps={GOOGLE}", GOOGLE, "google_api_key"),
        (f"//registry.npmjs.org/:_authToken={NPM}", NPM, "npm_token"),
        (f"hf {HF}", HF, "huggingface_token"),
        (f"jwt: {JWT}", JWT, "jwt"),
        (f"Authorization: Bearer {BEARER}", BEARER, "bearer_token"),
        (f"AUTHORIZATION: BEARER {BEARER}", BEARER, "bearer_token"),
        ("Authorization: Basic YWRtaW46aHVudGVyMg==", "YWRtaW46aHVudGVyMg==", "basic_auth"),
        ("db postgresql://app:Pr0d-Passw0rd@db.internal:5432/app", "Pr0d-Passw0rd", "url_password"),
        ("redis://:s3cret99@cache:6379/0", "s3cret99", "url_password"),
        (f'{{"client_secret": "{KEYED}"}}', KEYED, "secret_assignment"),
        (f"password={KEYED}&user=bob", KEYED, "secret_assignment"),
        (f"apiKey: '{KEYED}'", KEYED, "secret_assignment"),
        (f"key:\n{PRIVATE_KEY}\nafter", PRIVATE_KEY, "private_key"),
        (PRIVATE_KEY[:80] + "… (truncated)", PRIVATE_KEY[:80], "private_key"),
        (f"Authorization: token {KEYED}", KEYED, "token_credential"),
    ],
)
def test_find_secrets_recognises_format(text: str, secret: str, kind: str) -> None:
    matches = find_secrets(text)
    assert [(m.kind, text[m.start : m.end]) for m in matches] == [(kind, secret)]
    assert secret not in matches[0].masked
    masked = mask_secrets(text)
    assert secret not in masked
    assert masked.replace(matches[0].masked, secret) == text


@pytest.mark.parametrize(
    "text",
    [
        "request id 550e8400-e29b-41d4-a716-446655440000 done",
        '{"id": "4363e5d9-00ed-6b02-7221-8fdc44df96ff", "project_id": "4363e5d9-00ed-6b02-7221-8fdc44df96ff"}',
        "Authorization: Bearer ${MCP_TOKEN}",
        "Bearer authentication is described in RFC 6750",
        "the task-abcdefghijklmnopqrstuvwxyz0123456789 finished",  # "sk-" inside a word
        'next_page_token: "CiAKGjBpNDd2Nmp2Zml1bXRhYmxl"',
        "author: JohnSmith1234567",
        "max_tokens: 4096, token_count: 12345",
        "the token is required; token expired at 2025-06-18T10:00:00Z",
        "postgresql://app:${PGPASSWORD}@db.internal:5432/app",
        "https://example.com/path?query=1#frag",
        "password: ${DB_PASSWORD}",
        "api_key=<your-api-key>",
        "token: xxxxxxxxxxxxxxxxxxxxxxxx",
        "secret_key_path=/etc/ssl/private/server.key",
        "commit 072014b3ce107f80e222f828767efc2f91624a8940f1f836f99eee3692f09e2e",
        "image@sha256:072014b3ce107f80e222f828767efc2f91624a8940f1f836f99eee3692f09e2e",
        "sk-learn-pipeline-configuration",
        "",
    ],
)
def test_look_alikes_are_left_alone(text: str) -> None:
    assert find_secrets(text) == []
    assert mask_secrets(text) is text


def test_mask_secrets_on_mixed_text_masks_each_secret_and_keeps_the_rest() -> None:
    text = (
        f"Connecting with {GITHUB} to https://api.github.com ...\n"
        f'config = {{"api_key": "{KEYED}", "region": "eu-west-1", "request": "4363e5d9-00ed-6b02-7221-8fdc44df96ff"}}\n'
        f"curl -H 'Authorization: Bearer {BEARER}' https://user:{KEYED[:10]}@host.example/x\n"
        f"Grüße İstanbul {OPENAI} ünïcödé"
    )
    masked = mask_secrets(text)
    for secret in (GITHUB, KEYED, BEARER, KEYED[:10], OPENAI):
        assert secret not in masked
    for kept in (
        "https://api.github.com",
        "eu-west-1",
        "4363e5d9-00ed-6b02-7221-8fdc44df96ff",
        "Grüße İstanbul",
        "ünïcödé",
    ):
        assert kept in masked
    assert mask_secrets(masked) == masked


def test_offsets_survive_characters_that_lowercase_longer() -> None:
    # "İ".lower() is two code points; spans must still index the original text.
    text = f"İİİ Authorization: Bearer {BEARER} İ password={KEYED}"
    assert [text[m.start : m.end] for m in find_secrets(text)] == [BEARER, KEYED]


def test_overlapping_patterns_report_one_match() -> None:
    # A JWT after "Bearer" is both a bearer token and a JWT: one span, masked once.
    text = f"Authorization: Bearer {JWT}"
    matches = find_secrets(text)
    assert len(matches) == 1
    assert text[matches[0].start : matches[0].end] == JWT


def test_one_megabyte_of_text_is_masked_completely() -> None:
    filler = "".join(_RNG.choice(string.ascii_lowercase + "  \n{}:,=\"'") for _ in range(4096))
    block = filler + f' "token": "{KEYED}" {GITHUB} '
    text = (block * (1_000_000 // len(block) + 1))[:1_000_000]
    expected = text.count(GITHUB) + text.count(KEYED)
    masked = mask_secrets(text)
    assert GITHUB not in masked and KEYED not in masked
    assert len(find_secrets(text)) == expected


@pytest.mark.parametrize(
    ("value", "bits"),
    [
        ("", 0.0),
        ("aaaa", 0.0),
        ("ab", 1.0),
        ("aabb", 1.0),
        ("abcd", 2.0),
        ("0123456789abcdef", 4.0),
    ],
)
def test_shannon_entropy(value: str, bits: float) -> None:
    assert shannon_entropy(value) == pytest.approx(bits)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (KEYED, True),
        (KEYED[:12], True),  # exactly the minimum length
        (KEYED[:11], False),  # one short
        ("abcdefghijklmnopqrstuvwxyz", False),  # one character class
        ("aaaaaaaaaaaa1111", False),  # two classes, low entropy
        ("Password1234", True),  # a human password is still a literal secret
        ("/home/me/.config/a1B2c3D4", False),
        ("C:\\Users\\me\\key4Bx9.json", False),
        ("https://a1b2C3d4.example.com", False),
        ("<your-token-here-1234>", False),
        ("${env:GITHUB_TOKEN}x9Z", False),
        ("a1B2 c3D4 e5F6 g7H8", False),
    ],
)
def test_looks_random(value: str, expected: bool) -> None:
    assert looks_random(value) is expected


@pytest.mark.parametrize(
    ("name", "strict", "expected"),
    [
        ("GITHUB_PERSONAL_ACCESS_TOKEN", False, True),
        ("apiKey", False, True),
        ("x-api-key", True, True),
        ("OPENAI_KEY", False, True),
        ("OPENAI_KEY", True, False),  # free text needs a qualifier before "key"
        ("DB_PASSWORD", True, True),
        ("GITHUB_PAT", False, True),
        ("AUTH_TYPE", False, False),
        ("TOKEN_URL", False, False),
        ("AWS_ACCESS_KEY_ID", False, False),
        ("PROJECT_ID", False, False),
        ("next_page_token", True, False),
        ("PUBLIC_KEY", False, False),
        ("PATH", False, False),
        ("author", True, False),
        ("", False, False),
    ],
)
def test_is_secret_name(name: str, strict: bool, expected: bool) -> None:
    assert is_secret_name(name, strict=strict) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("${GITHUB_TOKEN}", True),
        ("${env:GITHUB_TOKEN}", True),
        ("${input:api-key}", True),
        ("$TOKEN", True),
        ("%API_KEY%", True),
        ("{{ secrets.TOKEN }}", True),
        (" ${A}${B} ", True),
        ("Bearer ${TOKEN}", False),
        ("abc$", False),
        ("", False),
    ],
)
def test_is_reference(value: str, expected: bool) -> None:
    assert is_reference(value) is expected
