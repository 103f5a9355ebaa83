"""Lossless JSON-RPC: limits before parsing, precise errors, edits that keep every other byte."""

from __future__ import annotations

import json

import pytest

from mcpwarden.gateway.jsonrpc import (
    INVALID_REQUEST,
    PARSE_ERROR,
    Message,
    ProtocolError,
    depth_exceeds,
    dumps,
    encode,
    parse_client_payload,
    scan_object,
    splice,
)

LIMITS = {"max_bytes": 4096, "max_depth": 8, "max_batch": 3}


def _parse(data: bytes) -> Message | list[Message | ProtocolError]:
    return parse_client_payload(data, **LIMITS)


def test_members_keep_exact_spans() -> None:
    text = (
        '{ "jsonrpc" : "2.0", "id":"a\\u0062", "method": "tools/call", '
        '"params": {"name":"x__y" ,"arguments": {"k": 1.50e2}} }'
    )
    message = _parse(text.encode())
    assert isinstance(message, Message)
    assert message.id == "ab" and message.id_text == '"a\\u0062"'
    assert message.span("params") == '{"name":"x__y" ,"arguments": {"k": 1.50e2}}'
    sub = message.sub_members("params")
    edited = splice(message.text, [(sub["name"].start, sub["name"].end, dumps("y"))])
    assert edited == text.replace('"x__y"', '"y"')  # 1.50e2 and every space survive


def test_lone_surrogates_and_big_numbers_survive() -> None:
    text = '{"jsonrpc":"2.0","id":1,"method":"m","params":{"s":"\\ud800","n":123456789012345678901234567890}}'
    message = _parse(text.encode())
    assert isinstance(message, Message)
    assert message.params == {"s": "\ud800", "n": 123456789012345678901234567890}
    assert encode(dumps(message.params)) == b'{"s":"\\ud800","n":123456789012345678901234567890}'


BAD = [
    (b"{", PARSE_ERROR, None),
    (b"\xff\xfe", PARSE_ERROR, None),
    (b'{"a":1} x', PARSE_ERROR, None),
    (b'{"jsonrpc":"2.0","id":1,"method":"m","method":"n"}', PARSE_ERROR, None),
    (b'{"jsonrpc":"2.0","id":NaN,"method":"m"}', PARSE_ERROR, None),
    (b'{"jsonrpc":"2.0","id":true,"method":"m"}', INVALID_REQUEST, None),
    (b'{"jsonrpc":"2.0","id":1.5,"method":"m"}', INVALID_REQUEST, None),
    (b'{"id":4,"method":"m"}', INVALID_REQUEST, "4"),
    (b'{"jsonrpc":"2.0","id":"q","method":""}', INVALID_REQUEST, '"q"'),
    (b'{"jsonrpc":"2.0","id":5,"method":"m","params":"x"}', INVALID_REQUEST, "5"),
    (b'{"jsonrpc":"2.0","id":6}', INVALID_REQUEST, "6"),
    (b"[]", INVALID_REQUEST, None),
    (b"[1,2,3,4]", INVALID_REQUEST, None),
    (b'{"a":' + b"[" * 9 + b"]" * 9 + b"}", INVALID_REQUEST, None),
    (b'{"a":"' + b"x" * 5000 + b'"}', INVALID_REQUEST, None),
]


@pytest.mark.parametrize(("data", "code", "id_text"), BAD)
def test_bad_input_is_a_protocol_error(data: bytes, code: int, id_text: str | None) -> None:
    with pytest.raises(ProtocolError) as caught:
        _parse(data)
    assert caught.value.code == code
    assert caught.value.id_text == id_text
    reply = json.loads(caught.value.response())
    assert reply["error"]["code"] == code and reply["id"] == (json.loads(id_text) if id_text else None)


@pytest.mark.parametrize(
    ("data", "limit", "deeper"),
    [
        (b"[" * 64 + b"]" * 64, 64, False),
        (b"[" * 65 + b"]" * 65, 64, True),
        (b'{"s":"' + b"[" * 100 + b'"}', 64, False),  # brackets inside strings do not nest
        (b'{"s":"\\"[[[[","a":[[1]]}', 2, True),
        (b"[[],[],[],[]]", 2, False),
    ],
)
def test_depth_is_measured_without_recursion(data: bytes, limit: int, deeper: bool) -> None:
    assert depth_exceeds(data, limit) is deeper


def test_very_deep_input_does_not_crash() -> None:
    with pytest.raises(ProtocolError):
        parse_client_payload(b"[" * 500_000, max_bytes=10**7, max_depth=64, max_batch=10)


def test_batch_entries_fail_alone() -> None:
    batch = _parse(b'[{"jsonrpc":"2.0","id":1,"method":"ping"}, 7, {"jsonrpc":"2.0","id":2,"method":5}]')
    assert isinstance(batch, list)
    ok, bad, bad_method = batch
    assert isinstance(ok, Message) and ok.method == "ping"
    assert isinstance(bad, ProtocolError) and bad.code == INVALID_REQUEST
    assert isinstance(bad_method, ProtocolError) and bad_method.id_text == "2"


def test_scan_object_refuses_non_objects() -> None:
    with pytest.raises(ValueError, match="expected an object"):
        scan_object("[1]", 0)
