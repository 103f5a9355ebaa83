"""Decoders for encodings a model reads but a pattern cannot: base64, hex, URL escapes, HTML entities.

Each decoder finds candidate segments cheaply, decodes a bounded number of them, and keeps only
decodings that read as text (mostly printable, with letters). The normaliser scans what they return
as hidden segments, and decodes those again up to its depth bound, so URL-encoded base64 is found.

Every decoder also offers `may_apply(raw)`: a test on the ASCII bytes of plain text, built from
`bytes.translate` and substring search so it runs at C speed on every text. It may say yes when
`decode` then finds nothing, but never no when `decode` would find something.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Iterator, Sequence
from urllib.parse import unquote, unquote_plus

MAX_CANDIDATES = 8  # decodings kept per text and decoder; more is hostile, the first ones suffice
MAX_ATTEMPTS = 64  # candidate segments tried per text and decoder (a wrapped attachment has thousands)
MAX_ENCODED = 65_536  # characters of one encoded segment that are decoded
MIN_PRINTABLE = 0.9  # share of printable characters a decoding needs to count as text
_PROBE = 512  # characters decoded first, to drop binary data (images, archives) before decoding it all

# Base64: standard or URL-safe alphabet, at least 24 characters (18 bytes), optional padding. A run
# must mix upper and lower case and hold a digit, '+' or '/': identifiers such as
# get_pull_request_comments or camelCase names have the alphabet but not that mix.
_B64_RUN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{24,}={0,2}(?![A-Za-z0-9+/_=-])")
_B64_RUN_BYTES = re.compile(_B64_RUN.pattern.encode())
_UPPER = bytes(range(65, 91))
_LOWER = bytes(range(97, 123))
_DIGITS_PLUS_SLASH = b"0123456789+/"
# Hex: contiguous pairs, `\x` escapes, or pairs separated by spaces, colons or commas.
_HEX_RUN = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9A-Fa-f]{2}){12,}(?![0-9A-Za-z])"
    r"|(?:\\x[0-9A-Fa-f]{2}){6,}"
    r"|(?<![0-9A-Za-z])(?:0x)?[0-9A-Fa-f]{2}(?:[ :,](?:0x)?[0-9A-Fa-f]{2}){7,}(?![0-9A-Za-z])"
)
_HEX_NOISE = re.compile(r"\\x|0x|[ :,]")
# URL encoding: a token holding at least three %xx escapes.
_URL_TOKEN = re.compile(r"[^\s%]{0,64}(?:%[0-9A-Fa-f]{2}[^\s%]{0,64}){3,}")
# What every such token contains; found by a fast scan for '%', where _URL_TOKEN tries every position.
_URL_ESCAPES = re.compile(r"%[0-9A-Fa-f]{2}[^\s%]{0,64}%[0-9A-Fa-f]{2}[^\s%]{0,64}%[0-9A-Fa-f]{2}")
# HTML entities: numeric or named references.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7};?|#[xX][0-9A-Fa-f]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};)")
_MIN_ENTITIES = 3

_ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# Maps the base64 alphabet (both flavours) to 'a' and every other byte to a space.
_B64_TABLE = bytes(97 if c in _ALNUM or c in b"+/_-" else 32 for c in range(256))
_B64_PROBE = b"a" * 24
# Maps hex digits to 'h' and the separators of spaced-out pairs to ':'.
_HEX_TABLE = bytes(104 if c in b"0123456789abcdefABCDEF" else 58 if c in b" :," else 32 for c in range(256))
_HEX_PROBE = b"h" * 24
_HEX_PAIRS = b"hh:" * 7 + b"hh"


def _mixed(run: bytes) -> bool:
    """Upper and lower case letters and a digit, '+' or '/': base64, not an identifier."""
    return (
        len(run.translate(None, _UPPER)) < len(run)
        and len(run.translate(None, _LOWER)) < len(run)
        and len(run.translate(None, _DIGITS_PLUS_SLASH)) < len(run)
    )


def _printable(decoded: str) -> bool:
    """Mostly printable characters and no NUL."""
    if not decoded or "\x00" in decoded:
        return False
    if decoded.isascii() and decoded.isprintable():
        return True
    printable = sum(1 for ch in decoded if ch.isprintable() or ch in "\n\t\r")
    return printable >= MIN_PRINTABLE * len(decoded)


def _is_text(decoded: str) -> bool:
    """Mostly printable, with some letters: what an instruction hidden by encoding looks like."""
    return _printable(decoded) and sum(1 for ch in decoded if ch.isalpha()) >= max(3, len(decoded) // 4)


class Base64Decoder:
    """Runs of the base64 alphabet (standard or URL-safe) that decode to text."""

    name = "base64"
    # A Hyperscan pattern in every text `may_apply` accepts: the engine's prefilter looks for it in
    # the same pass as for the rules, and asks `may_apply` only when it is there.
    probe = r"[A-Za-z0-9+/_\-]{24}"

    def may_apply(self, raw: bytes) -> bool:
        if _B64_PROBE not in raw.translate(_B64_TABLE):
            return False
        return any(_mixed(run.group()) for run in _B64_RUN_BYTES.finditer(raw))

    def decode(self, view: str) -> list[str]:
        found: list[str] = []
        for attempt, match in enumerate(_B64_RUN.finditer(view)):
            if attempt >= MAX_ATTEMPTS or len(found) >= MAX_CANDIDATES:
                break
            run = match.group()
            if _mixed(run.encode("ascii", "replace")):
                decoded = _b64_text(run[:MAX_ENCODED])
                if decoded is not None:
                    found.append(decoded)
        return found


def _b64_text(run: str) -> str | None:
    """The text a base64 run encodes, or None when it is not base64 of text."""
    urlsafe = "-" in run or "_" in run
    if urlsafe and ("+" in run or "/" in run):
        return None  # mixes both alphabets: not base64
    body = run.rstrip("=")
    body = body[: len(body) - 1] if len(body) % 4 == 1 else body
    # Decode a short probe first so that binary data (images, archives) is dropped cheaply.
    for chunk, slack in ((body[:_PROBE], 3), (body, 0)):
        padded = chunk + "=" * (-len(chunk) % 4)
        try:
            data = base64.urlsafe_b64decode(padded) if urlsafe else base64.b64decode(padded, validate=True)
        except (binascii.Error, ValueError):
            return None
        text = data.decode("utf-8", "replace")
        if text.count("\ufffd") > slack or not _is_text(text):
            return None
        if len(chunk) == len(body):
            return text
    return None


class HexDecoder:
    """Hex-encoded bytes (contiguous, `\\x` escapes or separated pairs) that decode to text."""

    name = "hex"
    probe = r"[0-9A-Fa-f]{24}|[0-9A-Fa-f]{2}(?:[ :,][0-9A-Fa-f]{2}){7}|\\x|0x"  # see Base64Decoder.probe

    def may_apply(self, raw: bytes) -> bool:
        mapped = raw.translate(_HEX_TABLE)
        return _HEX_PROBE in mapped or _HEX_PAIRS in mapped or b"\\x" in raw or b"0x" in raw

    def decode(self, view: str) -> list[str]:
        found: list[str] = []
        for attempt, match in enumerate(_HEX_RUN.finditer(view)):
            if attempt >= MAX_ATTEMPTS or len(found) >= MAX_CANDIDATES:
                break
            digits = _HEX_NOISE.sub("", match.group()[:MAX_ENCODED])
            if len(digits) % 2:
                continue
            text = bytes.fromhex(digits).decode("utf-8", "replace")
            if "\ufffd" not in text and _is_text(text):
                found.append(text)
        return found


class UrlDecoder:
    """Tokens with several %xx escapes that decode to printable text (which may be encoded again)."""

    name = "url_encoding"

    def may_apply(self, raw: bytes) -> bool:
        return raw.count(b"%") >= 3

    def decode(self, view: str) -> list[str]:
        found: list[str] = []
        if _URL_ESCAPES.search(view) is None:
            return found
        # A token never holds whitespace, so it is found within one whitespace-separated chunk, and
        # only in chunks with three '%': searching those alone finds the same tokens, in order.
        for chunk in view.split():
            if chunk.count("%") < 3:
                continue
            for token in _url_tokens(chunk):
                decoded = unquote_plus(token) if "+" in token and "%20" not in token else unquote(token)
                if decoded != token and _printable(decoded):
                    found.append(decoded)
                    if len(found) >= MAX_CANDIDATES:
                        return found
        return found


def _url_tokens(chunk: str) -> Iterator[str]:
    """`_URL_TOKEN.finditer(chunk)`'s tokens (cut to MAX_ENCODED), without trying every position: a
    token starts at most 64 characters before its first '%', so each search starts there."""
    position = 0
    while (percent := chunk.find("%", position)) >= 0:
        match = _URL_TOKEN.search(chunk, max(position, percent - 64))
        if match is None:
            return
        yield match.group()[:MAX_ENCODED]
        position = match.end()


class HtmlEntityDecoder:
    """Text written with HTML character references (`&#105;&#103;…`, `&lt;system&gt;`)."""

    name = "html_entities"

    def may_apply(self, raw: bytes) -> bool:
        return raw.count(b"&") >= _MIN_ENTITIES

    def decode(self, view: str) -> list[str]:
        entities = _ENTITY.findall(view[:MAX_ENCODED], 0)
        if len(entities) < _MIN_ENTITIES:
            return []
        decoded = html.unescape(view[:MAX_ENCODED])
        return [decoded] if decoded != view[:MAX_ENCODED] else []


def default_decoders() -> tuple[Base64Decoder, HexDecoder, UrlDecoder, HtmlEntityDecoder]:
    """The decoders the shipped engine uses."""
    return (Base64Decoder(), HexDecoder(), UrlDecoder(), HtmlEntityDecoder())


def iter_origins(origin: str) -> Iterator[str]:
    """The channels of a (possibly nested) segment origin, outermost first: `url_encoding>base64`."""
    yield from origin.split(">")


DECODED_ORIGINS: Sequence[str] = ("base64", "hex", "url_encoding", "html_entities")
