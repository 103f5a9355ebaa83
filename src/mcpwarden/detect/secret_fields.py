"""Which fields of a server entry hold a secret in clear: env, args, headers, URL, command, other keys.

A field is a secret when it contains a recognisable token format (`secrets.find_secrets`), or when
its name says it holds a credential (`GITHUB_TOKEN`, `--api-key`, `X-Api-Key`) and its value looks
generated (long, high-entropy, mixed characters) rather than being a reference (`${VAR}`), a path,
a URL without credentials, or a placeholder. A literal Authorization header value is always one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcpwarden.detect.secrets import (
    SecretMatch,
    find_secrets,
    is_placeholder,
    is_reference,
    is_secret_name,
    key_words,
    looks_random,
    redact,
)
from mcpwarden.types import ServerSpec, mask_secret

_AUTH_HEADERS = frozenset({"authorization", "proxy-authorization"})
_SCHEME_KINDS = {"bearer": "bearer_token", "basic": "basic_auth"}
_MAX_RAW_DEPTH = 6


@dataclass(frozen=True)
class SecretHit:
    """Secrets in one field: the field's path under the server entry, and its masked text."""

    field: tuple[str | int, ...]
    where: str
    evidence: str
    matches: tuple[SecretMatch, ...]


def _named_value(name: str, value: str, min_length: int, min_entropy: float) -> list[SecretMatch]:
    """The whole value as a secret when `name` names a credential and the value looks generated."""
    if not is_secret_name(name):
        return []
    candidate = value.strip()
    if not candidate or is_reference(candidate) or not looks_random(candidate, min_length, min_entropy):
        return []
    words = key_words(name)
    kind = "aws_secret_key" if "aws" in words and "secret" in words else "high_entropy"
    start = value.index(candidate)
    return [SecretMatch(kind, start, start + len(candidate), mask_secret(candidate))]


def _auth_header(value: str) -> list[SecretMatch]:
    """A literal credential in an Authorization header, whatever its scheme or entropy."""
    scheme, _, rest = value.strip().partition(" ")
    credential = rest.strip() if rest.strip() else scheme
    kind = _SCHEME_KINDS.get(scheme.lower(), "authorization_header") if rest.strip() else "authorization_header"
    if len(credential) < 8 or is_reference(credential) or "$" in credential or is_placeholder(credential):
        return []
    start = value.index(credential)
    return [SecretMatch(kind, start, start + len(credential), mask_secret(credential))]


def _arg_matches(args: Sequence[str], i: int, min_length: int, min_entropy: float) -> list[SecretMatch]:
    arg = args[i]
    matches = find_secrets(arg)
    if matches:
        return matches
    flag, eq, value = arg.partition("=")
    if eq and flag.startswith("-"):
        found = _named_value(flag, value, min_length, min_entropy)
        return [SecretMatch(m.kind, m.start + len(flag) + 1, m.end + len(flag) + 1, m.masked) for m in found]
    previous = args[i - 1] if i > 0 else ""
    if previous.startswith("-") and "=" not in previous and not arg.startswith("-"):
        return _named_value(previous, arg, min_length, min_entropy)
    return []


def _walk(value: Any, path: tuple[str | int, ...], depth: int) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if depth > _MAX_RAW_DEPTH:
        return
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, (*path, str(key)), depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index), depth + 1)


def _last_name(path: tuple[str | int, ...]) -> str:
    return next((p for p in reversed(path) if isinstance(p, str)), "")


def scan_spec_secrets(spec: ServerSpec, *, min_length: int = 12, min_entropy: float = 3.0) -> list[SecretHit]:
    """Every field of `spec` holding a secret in clear, with evidence already masked."""
    hits: list[SecretHit] = []
    seen: set[str] = set()

    def add(field: tuple[str | int, ...], where: str, text: str, matches: list[SecretMatch], prefix: str = "") -> None:
        seen.add(text)
        if matches:
            hits.append(SecretHit(field, where, prefix + redact(text, matches), tuple(matches)))

    for key, value in spec.env.items():
        matches = find_secrets(value) or _named_value(key, value, min_length, min_entropy)
        add(("env", key), f"env {key}", value, matches, prefix=f"{key}=")
    for name, value in spec.headers.items():
        if name.lower() in _AUTH_HEADERS:
            matches = find_secrets(value) or _auth_header(value)
        else:
            matches = find_secrets(value) or _named_value(name, value, min_length, min_entropy)
        add(("headers", name), f"header {name}", value, matches, prefix=f"{name}: ")
    for i in range(len(spec.args)):
        add(("args", i), f"args[{i}]", spec.args[i], _arg_matches(spec.args, i, min_length, min_entropy))
    if spec.url:
        add(("url",), "url", spec.url, find_secrets(spec.url))
    if spec.command:
        add(("command",), "command", spec.command, find_secrets(spec.command))
    # Client-specific keys the typed view does not carry (`settings.api_key`, nested `command.env`).
    for path, value in _walk(spec.raw, (), 0):
        if value in seen or not path:
            continue
        name = _last_name(path)
        where = "/".join(str(p) for p in path)
        add(path, where, value, find_secrets(value) or _named_value(name, value, min_length, min_entropy))
    return hits


def spec_secret_values(spec: ServerSpec) -> list[str]:
    """The clear credential values a spec carries, longest first, to scrub them from error text.

    Internal use only: the result must never be reported or logged.
    """
    values: set[str] = set()
    for key, value in [*spec.env.items(), *spec.headers.items()]:
        named = is_secret_name(key) or key.lower() in _AUTH_HEADERS
        # Short values ("true", "none") would blank ordinary words out of every error message.
        if named and len(value.strip()) >= 8 and not is_reference(value):
            values.add(value.strip())
    for text in [*spec.env.values(), *spec.headers.values(), *spec.args, spec.url or ""]:
        values.update(text[m.start : m.end] for m in find_secrets(text))
    return sorted(values, key=len, reverse=True)
