"""Lossless JSON-RPC: keep the text a peer sent, read a typed view beside it, edit by splicing.

The gateway forwards what it received. Parsing a message records, for each top-level member, its
parsed value *and* the span of its text, so the gateway can rewrite one value (a request id, a
namespaced tool name, a redacted result) by replacing that span and leave every other byte as it
was. Values are parsed by the standard library's C scanner; only the few top-level keys are walked
in Python. Re-serialising is reserved for what a recorded `modify` verdict changed.

Client input is bounded before it is parsed: a byte limit (checked by the caller before reading the
body where it can), a nesting-depth limit checked without recursion, and well-formedness; every
violation is a `ProtocolError` carrying the JSON-RPC code and the request id when one could be read.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# Gateway errors, in the implementation-defined server range.
REFUSED = -32050
UPSTREAM_UNAVAILABLE = -32051
UPSTREAM_TIMEOUT = -32052
AUDIT_FAILED = -32053
REQUEST_CANCELLED = -32054


class ProtocolError(Exception):
    """A message that cannot be processed; becomes a JSON-RPC error for `id_text` (None → `null`)."""

    def __init__(self, code: int, message: str, id_text: str | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.id_text = id_text
        self.data = data

    def response(self) -> str:
        return error_text(self.id_text, self.code, self.message, self.data)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_scan_value = json.scanner.make_scanner(_DECODER)  # type: ignore[arg-type]  # the C scanner takes a decoder
_scan_string = json.decoder.scanstring  # type: ignore[attr-defined]  # exists; the stubs omit it
_WS = re.compile(r"[ \t\n\r]*")
_WS_CHARS = frozenset(" \t\n\r")
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(rb"[^\[\]{}]+")
_DELTA = tuple(1 if b in b"[{" else -1 if b in b"]}" else 0 for b in range(256))
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(slots=True)
class Member:
    """One top-level member of an object: its parsed value and the span of its value's text."""

    value: Any
    start: int
    end: int


def scan_object(text: str, pos: int) -> tuple[dict[str, Member], int]:
    """Walk the object starting at `text[pos]`; returns its members and the index after its `}`.

    Raises ValueError for anything but a well-formed object, including a key given twice (a peer
    that sends two `result`s or two `name`s could show the gateway one and the client the other).
    """
    try:
        if text[pos] != "{":
            raise ValueError("expected an object")
        members: dict[str, Member] = {}
        # Whitespace is skipped with the regex only where there is some: compact JSON has none, and
        # this loop runs for every member of every message.
        pos += 1
        if text[pos] in _WS_CHARS:
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if text[pos] == "}":
            return members, pos + 1
        while True:
            if text[pos] != '"':
                raise ValueError("expected a member name")
            key, pos = _scan_string(text, pos + 1, True)
            if text[pos] in _WS_CHARS:
                pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if text[pos] != ":":
                raise ValueError("expected ':'")
            pos += 1
            if text[pos] in _WS_CHARS:
                pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            try:
                value, end = _scan_value(text, pos)
            except StopIteration:
                raise ValueError("invalid value") from None
            if key in members:
                raise ValueError(f"member {key!r} appears twice")
            members[key] = Member(value, pos, end)
            pos = end
            if text[pos] in _WS_CHARS:
                pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if text[pos] == "}":
                return members, pos + 1
            if text[pos] != ",":
                raise ValueError("expected ',' or '}'")
            pos += 1
            if text[pos] in _WS_CHARS:
                pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
    except IndexError:
        raise ValueError("unexpected end of JSON") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None


def depth_exceeds(data: bytes, limit: int) -> bool:
    """Whether JSON `data` nests arrays/objects deeper than `limit` (no recursion, C-speed passes)."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    brackets = _NOT_BRACKETS.sub(b"", _STRINGS.sub(b"", data))
    if len(brackets) <= limit:
        return False
    return max(accumulate(map(_DELTA.__getitem__, brackets))) > limit


@dataclass(slots=True)
class Message:
    """A JSON-RPC message: the exact text received plus a read-only view of its top-level members."""

    text: str
    members: dict[str, Member]

    @property
    def method(self) -> str | None:
        m = self.members.get("method")
        return m.value if m is not None and isinstance(m.value, str) else None

    @property
    def has_id(self) -> bool:
        return "id" in self.members

    @property
    def id(self) -> Any:
        m = self.members.get("id")
        return None if m is None else m.value

    @property
    def id_text(self) -> str | None:
        m = self.members.get("id")
        return None if m is None else self.text[m.start : m.end]

    @property
    def params(self) -> dict[str, Any] | None:
        m = self.members.get("params")
        return m.value if m is not None and isinstance(m.value, dict) else None

    @property
    def is_request(self) -> bool:
        return "method" in self.members and "id" in self.members

    @property
    def is_notification(self) -> bool:
        return "method" in self.members and "id" not in self.members

    @property
    def is_response(self) -> bool:
        return "method" not in self.members and ("result" in self.members or "error" in self.members)

    def span(self, key: str) -> str:
        """The exact text of a top-level member's value."""
        m = self.members[key]
        return self.text[m.start : m.end]

    def sub_members(self, key: str) -> dict[str, Member]:
        """Members of the object at top-level `key` (spans index into `text`)."""
        return scan_object(self.text, self.members[key].start)[0]


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(PARSE_ERROR, f"Parse error: invalid UTF-8 at byte {exc.start}") from None


def _best_effort_id(text: str) -> str | None:
    """The request id of a message rejected after it parsed (or None): errors should still correlate."""
    try:
        members, _ = scan_object(text, _WS.match(text).end())  # type: ignore[union-attr]
    except ValueError:
        return None
    m = members.get("id")
    if m is None or not (isinstance(m.value, str) or (isinstance(m.value, int) and not isinstance(m.value, bool))):
        return None
    return text[m.start : m.end]


def parse_message(data: bytes | str) -> Message:
    """Parse one JSON object (no limits: for trusted-size input such as upstream lines)."""
    text = _decode(data)
    try:
        start = _WS.match(text).end()  # type: ignore[union-attr]
        members, end = scan_object(text, start)
    except ValueError as exc:
        raise ProtocolError(PARSE_ERROR, f"Parse error: {exc}") from None
    if _WS.match(text, end).end() != len(text):  # type: ignore[union-attr]
        raise ProtocolError(PARSE_ERROR, "Parse error: extra data after the JSON value")
    return Message(text, members)


def _validate_client_message(message: Message) -> Message:
    members = message.members
    id_member = members.get("id")
    id_text: str | None = None
    if id_member is not None:
        value = id_member.value
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ProtocolError(INVALID_REQUEST, "Invalid request: id must be a string or an integer")
        id_text = message.id_text
    if members.get("jsonrpc", Member(None, 0, 0)).value != "2.0":
        raise ProtocolError(INVALID_REQUEST, 'Invalid request: jsonrpc must be "2.0"', id_text)
    if "method" in members:
        if not isinstance(members["method"].value, str) or not members["method"].value:
            raise ProtocolError(INVALID_REQUEST, "Invalid request: method must be a non-empty string", id_text)
        if "params" in members and not isinstance(members["params"].value, dict):
            raise ProtocolError(INVALID_REQUEST, "Invalid request: params must be an object", id_text)
    elif not message.is_response:
        raise ProtocolError(
            INVALID_REQUEST, "Invalid request: neither a request, a notification nor a response", id_text
        )
    return message


def parse_client_payload(
    data: bytes, *, max_bytes: int, max_depth: int, max_batch: int
) -> Message | list[Message | ProtocolError]:
    """Parse what a client sent: one message, or a batch (a list). Enforces every limit first.

    Raises ProtocolError for the whole payload; in a batch, an invalid entry is returned as the
    ProtocolError for that entry and the others still run.
    """
    if len(data) > max_bytes:
        raise ProtocolError(INVALID_REQUEST, f"Invalid request: message exceeds {max_bytes} bytes")
    text = _decode(data)
    if depth_exceeds(data, max_depth):
        raise ProtocolError(INVALID_REQUEST, f"Invalid request: JSON nested deeper than {max_depth}")
    start = _WS.match(text).end()  # type: ignore[union-attr]
    if start < len(text) and text[start] == "[":
        return _parse_batch(text, start, max_batch)
    try:
        members, end = scan_object(text, start)
    except ValueError as exc:
        raise ProtocolError(PARSE_ERROR, f"Parse error: {exc}") from None
    if _WS.match(text, end).end() != len(text):  # type: ignore[union-attr]
        raise ProtocolError(PARSE_ERROR, "Parse error: extra data after the JSON value")
    return _validate_client_message(Message(text, members))


def _parse_batch(text: str, start: int, max_batch: int) -> list[Message | ProtocolError]:
    try:
        items, end = _scan_value(text, start)
    except (StopIteration, ValueError, RecursionError):
        raise ProtocolError(PARSE_ERROR, "Parse error: invalid JSON array") from None
    if _WS.match(text, end).end() != len(text):  # type: ignore[union-attr]
        raise ProtocolError(PARSE_ERROR, "Parse error: extra data after the JSON value")
    if not items:
        raise ProtocolError(INVALID_REQUEST, "Invalid request: empty batch")
    if len(items) > max_batch:
        raise ProtocolError(INVALID_REQUEST, f"Invalid request: batch of {len(items)} exceeds {max_batch} messages")
    # Batches are rare (removed in 2025-06-18): each entry is re-serialised once and parsed on its own.
    out: list[Message | ProtocolError] = []
    for item in items:
        if not isinstance(item, dict):
            out.append(ProtocolError(INVALID_REQUEST, "Invalid request: a batch entry must be an object"))
            continue
        entry_text = dumps(item)
        try:
            out.append(_validate_client_message(parse_message(entry_text)))
        except ProtocolError as exc:
            exc.id_text = exc.id_text or _best_effort_id(entry_text)
            out.append(exc)
    return out


def dumps(value: Any) -> str:
    """Compact JSON for values the gateway itself writes (Unicode kept; NaN refused)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode(text: str) -> bytes:
    """UTF-8 bytes of a message; a lone surrogate (legal as a JSON escape) is written back as one."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode("utf-8")


def splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    """`text` with each `(start, end, replacement)` applied; spans must not overlap."""
    if not edits:
        return text
    edits.sort(key=lambda e: e[0])
    parts: list[str] = []
    pos = 0
    for start, end, replacement in edits:
        parts.append(text[pos:start])
        parts.append(replacement)
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def insert_members(text: str, obj: Member, members: dict[str, Member], additions: str) -> tuple[int, int, str]:
    """An edit that adds `additions` (`"k":v,...`) at the start of the object `obj`."""
    at = obj.start + 1
    return (at, at, additions + ("," if members else ""))


def error_text(id_text: str | None, code: int, message: str, data: Any = None) -> str:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return f'{{"jsonrpc":"2.0","id":{id_text or "null"},"error":{dumps(error)}}}'


def result_text(id_text: str, result: str) -> str:
    return f'{{"jsonrpc":"2.0","id":{id_text},"result":{result}}}'


def request_text(id_text: str, method: str, params: str | None) -> str:
    tail = f',"params":{params}' if params is not None else ""
    return f'{{"jsonrpc":"2.0","id":{id_text},"method":{dumps(method)}{tail}}}'


def notification_text(method: str, params: str | None) -> str:
    tail = f',"params":{params}' if params is not None else ""
    return f'{{"jsonrpc":"2.0","method":{dumps(method)}{tail}}}'


def iter_strings(value: Any, limit: int = 10_000) -> Iterator[tuple[list[Any], str]]:
    """(path, string) for every string leaf of a JSON value, iteratively, at most `limit` of them."""
    stack: list[tuple[list[Any], Any]] = [([], value)]
    count = 0
    while stack and count < limit:
        path, node = stack.pop()
        if isinstance(node, str):
            count += 1
            yield path, node
        elif isinstance(node, dict):
            stack.extend(([*path, k], v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(([*path, i], v) for i, v in enumerate(node))
