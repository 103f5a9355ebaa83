"""Keeping secrets and hostile characters out of reports.

Three separate jobs, because each sees different information:

- `default_redact` masks secret-looking substrings in one string (the CLI may pass the detection
  engine's `mask_secrets` instead; report cannot import detect, it sits on the same layer);
- `redact_args` masks the value after a secret-ish flag, which needs the neighbouring argument;
- `SecretScrubber` knows the exact env and header values of every server, so it can remove them
  from *any* text in a report (evidence, errors, stderr) even where no heuristic would notice.

`printable` and `safe_json_dumps` make text safe to show in a terminal: a tool description is
attacker-controlled, and a report must never replay its escape sequences or invisible characters.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import regex

from mcpwarden.types import ServerSpec, mask_secret

Redactor = Callable[[str], str]

# "key" alone over-matches ("--keyboard"), which only ever masks too much: the safe direction.
_SECRET_NAME = r"(?:token|secret|passw(?:or)?d|pwd|key|auth|credential|bearer|cookie|session|signature)"  # noqa: S105
_SECRET_FLAG = regex.compile(rf"^--?[\w.-]*{_SECRET_NAME}[\w.-]*$", regex.IGNORECASE)
_SECRET_FLAG_INLINE = regex.compile(rf"^(--?[\w.-]*{_SECRET_NAME}[\w.-]*=)(.+)$", regex.IGNORECASE)
_SECRET_KEY_NAME = regex.compile(_SECRET_NAME, regex.IGNORECASE)
# NAME=value / NAME: value where NAME says it holds a secret (env-style args, query strings, headers).
_ASSIGNMENT = regex.compile(
    rf"(?<![\w-])([\w.-]*{_SECRET_NAME}[\w.-]*)([=:]\s*)(?!(?:bearer|basic|token)\s)([^\s&\"',;]+)", regex.IGNORECASE
)
_BEARER = regex.compile(r"(?i)\b(bearer|basic|token)(\s+)([A-Za-z0-9._~+/=-]{8,})")
_URL_USERINFO = regex.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+:)([^/\s@]+)(@)")
_CANDIDATE_TOKEN = regex.compile(r"[A-Za-z0-9_+/=-]{20,}")

# Characters that render as nothing, move the cursor, or reorder text: control (C0, DEL, C1),
# format (bidi, zero-width, tags), private use, unassigned, line/paragraph separators,
# variation selectors and the blank "filler" letters used to hide text.
_HIDDEN = regex.compile(
    r"[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\uFE00-\uFE0F\U000E0100-\U000E01EF\u115F\u1160\u3164\uFFA0\u2800]"
)


def printable(text: str, *, keep_newlines: bool = True) -> str:
    """Replace every hidden or control character with a visible `\\u{…}` escape.

    Idempotent on text already passed through `escape_evidence` (whose output is all visible).
    Newlines survive when `keep_newlines` is set, because messages and errors may be multi-line.
    """

    def visible(match: regex.Match[str]) -> str:
        ch: str = match.group(0)
        if keep_newlines and ch == "\n":
            return ch
        if ch == "\t":
            return "    " if keep_newlines else "\\t"
        return f"\\u{{{ord(ch):X}}}"

    shown: str = _HIDDEN.sub(visible, text)
    return shown


def _json_escape(match: regex.Match[str]) -> str:
    code = ord(match.group(0))
    if code == 0x0A:  # indentation newline: json.dumps escapes the ones inside strings itself
        return "\n"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def safe_json_dumps(document: Any) -> str:
    """JSON with Unicode kept readable but every hidden character written as a `\\u` escape.

    The data stays lossless (a JSON parser gets the exact string back), yet `cat report.json`
    cannot emit an 8-bit CSI, a bidi override or an invisible instruction to the terminal.
    """
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    # Only strings can hold such characters: json.dumps' own syntax is plain ASCII.
    escaped: str = _HIDDEN.sub(_json_escape, text)
    return escaped + "\n"


def _entropy(text: str) -> float:
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def looks_random(token: str) -> bool:
    """A long mixed letters-and-digits token with high entropy: an API key rather than a word or path."""
    if len(token) < 20 or token.count("/") > 2:
        return False
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    return has_digit and has_alpha and _entropy(token) >= 3.5


def default_redact(text: str) -> str:
    """Mask secret-looking parts of one string: URL passwords, `key=value` with a secret-ish key,
    bearer tokens and long high-entropy tokens. A heuristic: over-masking is the safe failure."""
    text = _URL_USERINFO.sub(lambda m: m.group(1) + mask_secret(m.group(2)) + m.group(3), text)
    text = _BEARER.sub(lambda m: m.group(1) + m.group(2) + mask_secret(m.group(3)), text)
    text = _ASSIGNMENT.sub(lambda m: m.group(1) + m.group(2) + mask_secret(m.group(3)), text)

    def mask_random(match: regex.Match[str]) -> str:
        token: str = match.group(0)
        return mask_secret(token) if looks_random(token) else token

    masked: str = _CANDIDATE_TOKEN.sub(mask_random, text)
    return masked


def redact_args(args: Sequence[str], redact: Redactor) -> list[str]:
    """Mask command-line arguments: the value after `--token`-like flags, then `redact` on each."""
    out: list[str] = []
    mask_next = False
    for arg in args:
        if mask_next:
            out.append(mask_secret(arg))
            mask_next = False
            continue
        inline = _SECRET_FLAG_INLINE.match(arg)
        if inline:
            out.append(inline.group(1) + mask_secret(inline.group(2)))
            continue
        mask_next = bool(_SECRET_FLAG.match(arg))
        out.append(redact(arg))
    return out


def mask_mapping(values: Mapping[str, str]) -> dict[str, str]:
    """Keys in clear (they name the setting), every value masked (any of them may be a credential)."""
    return {str(key): mask_secret(str(value)) for key, value in values.items()}


def structural_secrets(spec: ServerSpec) -> list[str]:
    """Values the configuration itself marks as secret: header values, env values with a secret-ish
    name or random look, values of `--token`-like flags and `NAME=value` args, URL passwords and
    secret-ish query parameters. No heuristic on free text is needed to find these."""
    found: list[str] = []
    for key, value in spec.env.items():
        if _SECRET_KEY_NAME.search(key) or looks_random(value) or len(value) >= 24:
            found.append(value)
    for value in spec.headers.values():
        found.append(value)
        scheme, _, credential = value.partition(" ")
        if credential and scheme.isalpha():
            found.append(credential)
    for previous, arg in zip(("", *spec.args), spec.args, strict=False):
        inline = _SECRET_FLAG_INLINE.match(arg)
        if _SECRET_FLAG.match(previous):
            found.append(arg)
        elif inline:
            found.append(inline.group(2))
        else:
            found.extend(m.group(3) for m in _ASSIGNMENT.finditer(arg))
    if spec.url:
        try:
            parts = urlsplit(spec.url)
            password = parts.password
        except ValueError:
            return found
        if password:
            found.append(password)
        found.extend(v for k, v in parse_qsl(parts.query) if _SECRET_KEY_NAME.search(k))
    return found


class SecretScrubber:
    """Replaces known secret values (from server env and headers) wherever they appear in a report."""

    def __init__(self, secrets: Iterable[str]) -> None:
        unique = {s for s in secrets if len(s) >= 4}
        # Longest first, so a token is not half-replaced through a shorter secret it contains.
        self._secrets = sorted(unique, key=len, reverse=True)

    @classmethod
    def for_servers(cls, specs: Iterable[ServerSpec]) -> SecretScrubber:
        """Scrub every secret a server's configuration reveals by its structure."""
        return cls(value for spec in specs for value in structural_secrets(spec))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, mask_secret(secret))
        return text

    def tree(self, value: Any) -> Any:
        """Scrub every string value in a JSON-like tree (keys name things and are left alone)."""
        if not self._secrets:
            return value
        if isinstance(value, str):
            return self(value)
        if isinstance(value, Mapping):
            return {k: self.tree(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.tree(v) for v in value]
        return value
