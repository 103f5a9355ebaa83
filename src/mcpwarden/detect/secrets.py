"""Finding and masking secrets in text: known token formats, credentials in URLs, keyed assignments.

Used by the config checks (MW201) and by the gateway to mask audit logs and tool results, so the
scan must stay linear and cheap: every pattern starts with a literal or a small character set (the
regex engine skips ahead to it), boundaries are checked in Python after a match rather than with a
leading lookbehind (which would defeat that skip), and text without any candidate is returned as is.

A UUID alone is not a secret: UUIDs are everywhere as identifiers, and masking them in a tool
result would break the agent's work. Under a credential-named key (`API_KEY=<uuid>`, `"token": "<uuid>"`)
it is one, since several services issue UUID-shaped keys; under `PROJECT_ID` it is not.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from mcpwarden.types import mask_secret

# Defaults for "random enough to be a credential": random keys of 12+ characters mixing two
# character classes reach 3.0 bits/char; words, identifiers and most sentences of that length do not.
DEFAULT_MIN_LENGTH = 12
DEFAULT_MIN_ENTROPY = 3.0


@dataclass(frozen=True)
class SecretMatch:
    """One secret in a text: what it looks like, where it is, and its masked form (never the clear value)."""

    kind: str
    start: int
    end: int
    masked: str

    @property
    def label(self) -> str:
        """A human name for the kind, e.g. "GitHub token"."""
        return secret_label(self.kind)


@dataclass(frozen=True)
class _Pattern:
    kind: str
    label: str
    regex: re.Pattern[str]
    group: int = 0
    # The secret must not continue a longer word on the left ("task-…" is not "sk-…").
    boundary: bool = True
    # Match against the ASCII-lowercased text (see `_fold`).
    fold: bool = False
    accept: Callable[[str], bool] | None = None


def shannon_entropy(value: str) -> float:
    """Bits per character of `value`'s own character distribution (0.0 for empty or uniform text)."""
    if not value:
        return 0.0
    size = len(value)
    # H = log2(N) - sum(n log2 n) / N: one log per distinct character, not per division.
    return math.log2(size) - sum(n * math.log2(n) for n in Counter(value).values()) / size


_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")


def _char_classes(chars: set[str]) -> int:
    """How many of lower, upper, digit and other (symbols, non-ASCII) occur."""
    lower, upper, digits = bool(chars & _LOWER), bool(chars & _UPPER), bool(chars & _DIGITS)
    return lower + upper + digits + bool(chars - _LOWER - _UPPER - _DIGITS)


_REFERENCE = re.compile(
    r"\$\{[^}]*\}"  # ${VAR}, ${env:VAR}, ${input:id}, ${workspaceFolder}
    r"|\$[A-Za-z_][A-Za-z0-9_]*"  # $VAR
    r"|%[A-Za-z_][A-Za-z0-9_]*%"  # %VAR% (Windows)
    r"|\{\{[^}]*\}\}"  # {{ secrets.X }} templating
)
_PLACEHOLDER = re.compile(
    r"(?i)your[_-]|<[^>]*>|xxxx|\*\*\*\*|\.\.\.|changeme|change[_-]me|placeholder|replace[_-]?me|example|dummy|redacted"
)
_PATH_LIKE = re.compile(r"(?:~|\.{1,2})?[/\\]|[A-Za-z]:[/\\]")
_URL = re.compile(r"(?i)[a-z][a-z0-9+.-]*://")
_SPACE = re.compile(r"\s")


def strip_references(value: str) -> str:
    """`value` without its environment/input references (`${VAR}`, `${env:VAR}`, `${input:x}`, `$VAR`)."""
    return _REFERENCE.sub("", value)


def is_reference(value: str) -> bool:
    """True when `value` is only references and whitespace: it names a secret kept elsewhere."""
    return bool(value.strip()) and not strip_references(value).strip()


def is_placeholder(value: str) -> bool:
    """`<your-token>`, `xxxx`, `changeme`, `sk-...`: text standing in for a secret."""
    return _PLACEHOLDER.search(value) is not None


def looks_random(value: str, min_length: int = DEFAULT_MIN_LENGTH, min_entropy: float = DEFAULT_MIN_ENTROPY) -> bool:
    """Long, high-entropy and mixing character classes: what a generated credential looks like.

    Paths, URLs, placeholders (`<your-token>`, `xxxx`) and references are excluded by the caller's
    intent: they are configuration, not credentials.
    """
    if len(value) < min_length or _SPACE.search(value):
        return False
    if _PATH_LIKE.match(value) or _URL.match(value) or _PLACEHOLDER.search(value) or _REFERENCE.search(value):
        return False
    return _char_classes(set(value)) >= 2 and shannon_entropy(value) >= min_entropy


# Words that make a key name a credential's name; "key" alone only with a qualifier in free text,
# since `"key": "…"` is everywhere in JSON.
_SECRET_WORDS = frozenset(
    {"token", "secret", "password", "passwd", "pwd", "pass", "passphrase", "apikey", "credential", "credentials"}
    | {"auth", "authorization", "bearer", "pat", "cookie"}
)
_KEY_QUALIFIERS = frozenset(
    {"api", "access", "private", "secret", "client", "master", "signing", "encryption", "account", "service", "app"}
)
# Keys whose value describes a secret without being one (`TOKEN_URL`, `AUTH_TYPE`, `KEY_ID`).
_NOT_VALUE_WORDS = frozenset(
    {"id", "ids", "url", "uri", "path", "file", "dir", "directory", "host", "hostname", "port", "name", "user"}
    | {"username", "type", "region", "endpoint", "mode", "method", "scope", "scopes", "header", "prefix", "length"}
    | {"size", "timeout", "ttl", "expiry", "expires", "version", "location", "email", "provider", "enabled"}
    | {"count", "limit", "format", "env", "issuer", "audience", "algorithm", "kind", "field", "var", "variable"}
)
# Words anywhere in a key that rule it out: continuation cursors an agent needs intact
# (`next_page_token`), public material (`PUBLIC_KEY`) and counters (`max_tokens`, `token_usage`).
_NEVER_SECRET_WORDS = frozenset({"page", "cursor", "next", "continuation", "sync", "public", "max", "num", "usage"})
_WORD_SPLIT = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def key_words(name: str) -> list[str]:
    """`GITHUB_PERSONAL_ACCESS_TOKEN` / `apiKey` / `x-api-key` → lowercase words."""
    return [w.lower() for w in _WORD_SPLIT.findall(name)]


def is_secret_name(name: str, *, strict: bool = False) -> bool:
    """Whether a key, flag or header name says its value is a credential.

    `strict` (free text) requires a qualifier before "key" (`api_key`, `private-key`); config env
    and header names accept "key" alone (`OPENAI_KEY`).
    """
    words = key_words(name)
    if not words or words[-1] in _NOT_VALUE_WORDS or _NEVER_SECRET_WORDS.intersection(words):
        return False
    for i, word in enumerate(words):
        if word in _SECRET_WORDS:
            return True
        if word == "key" and (not strict or (i > 0 and words[i - 1] in _KEY_QUALIFIERS)):
            return True
    return False


def _body_random(start: int) -> Callable[[str], bool]:
    """Generated key bodies mix upper, lower and digits; `sk-learn-pipeline-config` does not."""

    def accept(value: str) -> bool:
        chars = set(value[start:])
        return bool(chars & _LOWER and chars & _UPPER and chars & _DIGITS) and looks_random(value[start:], 16)

    return accept


_P = _Pattern
_PATTERNS: tuple[_Pattern, ...] = (
    _P(
        "private_key",
        "private key block",
        re.compile(
            r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]{16,16384}?-----END[A-Z0-9 ]{0,40}-----"
        ),
    ),
    # A key block cut short (a truncated log line) still starts with enough key material to mask.
    _P(
        "private_key",
        "private key block",
        re.compile(r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s]|\\n){32,16384}"),
    ),
    _P("github_token", "GitHub token", re.compile(r"gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9])")),
    _P("github_token", "GitHub token", re.compile(r"github_pat_[A-Za-z0-9_]{40,251}")),
    _P("gitlab_token", "GitLab token", re.compile(r"glpat-[A-Za-z0-9_-]{20,}")),
    _P("slack_token", "Slack token", re.compile(r"xox[abeoprs]-[A-Za-z0-9-]{10,250}")),
    _P("aws_access_key_id", "AWS access key id", re.compile(r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])")),
    _P("anthropic_key", "Anthropic API key", re.compile(r"sk-ant-[A-Za-z0-9_-]{20,}"), accept=_body_random(7)),
    _P("openai_key", "OpenAI API key", re.compile(r"sk-(?!ant-)[A-Za-z0-9_-]{20,}"), accept=_body_random(3)),
    # Two literal-led patterns: a leading character set ([sr]k_) would make the engine try every position.
    _P("stripe_key", "Stripe secret key", re.compile(r"sk_(?:live|test)_[A-Za-z0-9]{16,}")),
    _P("stripe_key", "Stripe restricted key", re.compile(r"rk_(?:live|test)_[A-Za-z0-9]{16,}")),
    _P("google_api_key", "Google API key", re.compile(r"AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])")),
    _P("npm_token", "npm token", re.compile(r"npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])")),
    _P("huggingface_token", "Hugging Face token", re.compile(r"hf_[A-Za-z0-9]{34,}")),
    _P("jwt", "JSON Web Token", re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    # Case-insensitive patterns run on the ASCII-lowercased text (same offsets) so they keep a literal
    # prefix; the secret itself is read from the original text. `Bearer ${TOKEN}` never matches.
    _P(
        "bearer_token",
        "Bearer token",
        re.compile(r"bearer\s+([a-z0-9._~+/-]{16,}=*)"),
        group=1,
        fold=True,
        accept=lambda s: looks_random(s, min_length=16),
    ),
    _P(
        "token_credential",
        "token credential",
        re.compile(r"token\s+([a-z0-9._~+/-]{16,}=*)"),
        group=1,
        fold=True,
        accept=lambda s: looks_random(s, min_length=16),
    ),
    _P(
        "basic_auth",
        "Basic credentials",
        re.compile(r"authorization[\"']?\s{0,3}[:=]\s{0,3}[\"']?basic\s+([a-z0-9+/]{8,}={0,2})"),
        group=1,
        fold=True,
    ),
    # scheme://user:password@host: only the password is the secret.
    _P(
        "url_password",
        "password in URL",
        re.compile(r"://[^\s/:@\"'<>]*:([^\s/@\"'<>]{1,256})@"),
        group=1,
        boundary=False,
        accept=lambda s: not is_reference(s),
    ),
)
# key = value / "key": "value" / key: value, where the key says it holds a secret. Anchored on the
# secret word (run on folded text, so a literal-led alternation); the whole key is rebuilt after.
_ASSIGNMENT = re.compile(
    r"(?:token|secret|passw|pwd|passphrase|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|auth)"
    r"[a-z0-9_.-]{0,40}[\"']?\s{0,3}[:=]\s{0,3}[\"']?([^\s\"'`,;&<>(){}\[\]]{8,512})"
)
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_LABELS = {p.kind: p.label for p in _PATTERNS} | {
    "stripe_key": "Stripe key",
    "aws_secret_key": "AWS secret access key",
    "secret_assignment": "secret assigned to a credential-named key",
    "high_entropy": "high-entropy value in a credential-named field",
}


def _fold(text: str) -> str:
    """Lowercase with offsets preserved, so spans found in the folded text index the original.

    `str.lower` lengthens only U+0130 (İ → i + combining dot) in current Unicode; replacing it first
    keeps the fast C path. A future expansion falls back to ASCII-only folding.
    """
    folded = text.lower()
    if len(folded) == len(text):
        return folded
    folded = text.replace("\u0130", "I").lower()
    return folded if len(folded) == len(text) else text.translate(_ASCII_LOWER)


def secret_label(kind: str) -> str:
    """A human name for a secret kind."""
    return _LABELS.get(kind, kind.replace("_", " "))


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _assignment_matches(text: str, folded: str) -> Iterable[tuple[int, int, str]]:
    for m in _ASSIGNMENT.finditer(folded):
        start = end = m.start()
        while start > 0 and text[start - 1] in _KEY_CHARS:
            start -= 1
        while end < m.start(1) and text[end] in _KEY_CHARS:
            end += 1
        key, value = text[start:end], text[m.start(1) : m.end(1)]
        if not is_secret_name(key, strict=True) or is_reference(value):
            continue
        words = key_words(key)
        if "aws" in words and "secret" in words and len(value) == 40:
            yield (m.start(1), m.end(1), "aws_secret_key")
        elif looks_random(value):
            yield (m.start(1), m.end(1), "secret_assignment")


def find_secrets(text: str) -> list[SecretMatch]:
    """Every secret found in `text`, in order, without overlaps (the earlier, then longer, match wins)."""
    folded = _fold(text)
    raw: list[tuple[int, int, str]] = []
    for pattern in _PATTERNS:
        for m in pattern.regex.finditer(folded if pattern.fold else text):
            start, end = m.span(pattern.group)
            if pattern.boundary and m.start() > 0 and _word_char(text[m.start() - 1]):
                continue
            if pattern.accept is not None and not pattern.accept(text[start:end]):
                continue
            raw.append((start, end, pattern.kind))
    raw.extend(_assignment_matches(text, folded))
    if not raw:
        return []
    raw.sort(key=lambda r: (r[0], -r[1]))
    out: list[SecretMatch] = []
    last_end = -1
    for start, end, kind in raw:
        if start < last_end:
            continue
        out.append(SecretMatch(kind=kind, start=start, end=end, masked=mask_secret(text[start:end])))
        last_end = end
    return out


def redact(text: str, matches: Sequence[SecretMatch]) -> str:
    """`text` with each match replaced by its masked form (matches sorted and non-overlapping)."""
    if not matches:
        return text
    parts: list[str] = []
    pos = 0
    for m in matches:
        parts.append(text[pos : m.start])
        parts.append(m.masked)
        pos = m.end
    parts.append(text[pos:])
    return "".join(parts)


def mask_secrets(text: str) -> str:
    """`text` with every recognisable secret masked; unchanged (same object) when there is none."""
    return redact(text, find_secrets(text))
