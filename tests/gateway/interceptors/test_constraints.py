"""Argument constraints: the listed inputSchema, then per-tool path, host, pattern and length rules."""

from __future__ import annotations

from typing import Any

import pytest

from mcpwarden.gateway.interceptors.constraints import ArgumentConstraints
from mcpwarden.gateway.pipeline import InterceptorContext
from mcpwarden.gateway.testing import StaticCatalog, make_call

pytestmark = pytest.mark.anyio

SCHEMA = {
    "type": "object",
    "properties": {"path": {"type": "string"}, "url": {"type": "string"}, "n": {"type": "integer", "maximum": 10}},
    "required": ["path"],
}
RULES = {
    "tools": {
        "files__*": {"path": {"paths": ["/srv/data/*", "~/notes/*"], "max_length": 40}},
        "files__fetch": {"url": {"hosts": ["docs.python.org", "*.example.com"]}, "opts.mode": {"pattern": "r|rw"}},
    }
}


def _interceptor(options: dict[str, Any] = RULES) -> ArgumentConstraints:
    catalog = StaticCatalog()
    catalog.add("files", "read", {"name": "read", "inputSchema": SCHEMA})
    catalog.add("files", "fetch", {"name": "fetch", "inputSchema": {"type": "object"}})
    catalog.add("files", "broken", {"name": "broken", "inputSchema": {"type": "nonsense"}})
    return ArgumentConstraints.from_options(options, InterceptorContext(catalog, source="warden.yaml"))


CASES = [
    ("files__read", {"path": "/srv/data/a.txt"}, ()),
    ("files__read", {"path": "/srv/data/sub/dir/a.txt"}, ()),  # `*` crosses directories
    ("files__read", {"path": "/srv/data/../../etc/passwd"}, ("constraints.paths",)),
    ("files__read", {"path": "file:///etc/passwd"}, ("constraints.paths",)),
    ("files__read", {"path": "/srv/data/a\x00.txt"}, ("constraints.paths",)),
    ("files__read", {"path": "/srv/data/" + "x" * 40}, ("constraints.max_length",)),
    ("files__read", {}, ("constraints.schema",)),
    ("files__read", {"path": "/srv/data/a", "n": 11}, ("constraints.schema",)),
    ("files__read", {"path": 5}, ("constraints.schema", "constraints.type")),
    ("files__fetch", {"url": "https://docs.python.org/3/"}, ()),
    ("files__fetch", {"url": "https://api.example.com/x"}, ()),
    ("files__fetch", {"url": "https://example.com.evil.net/"}, ("constraints.hosts",)),
    ("files__fetch", {"url": "https://docs.python.org@evil.net/"}, ("constraints.hosts",)),
    ("files__fetch", {"url": "file:///etc/passwd"}, ("constraints.hosts",)),
    ("files__fetch", {"opts": {"mode": "rw"}}, ()),
    ("files__fetch", {"opts": {"mode": "rwx"}}, ("constraints.pattern",)),
    ("files__broken", {}, ("constraints.schema",)),
    ("other__read", {"path": "/etc/passwd"}, ()),  # no definition listed, no rule matches
]


@pytest.mark.parametrize(("tool", "arguments", "reasons"), CASES)
async def test_arguments_are_checked(tool: str, arguments: dict[str, Any], reasons: tuple[str, ...]) -> None:
    verdict = await _interceptor().request(make_call(tool, arguments))
    if not reasons:
        assert verdict is None
    else:
        assert verdict is not None and verdict.decision == "deny"
        assert set(verdict.reasons) == set(reasons)
        assert verdict.message.startswith("arguments rejected: ")


async def test_schema_validation_can_be_turned_off() -> None:
    verdict = await _interceptor({"validate_schema": False}).request(make_call("files__read", {}))
    assert verdict is None


async def test_only_tool_calls_are_constrained() -> None:
    call = make_call("files__read", {}, action="get_prompt")
    assert await _interceptor().request(call) is None
