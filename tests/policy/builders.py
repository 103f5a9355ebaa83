"""Builders shared by the policy tests (kept here so each test table stays a few lines)."""

from __future__ import annotations

from typing import Any, Literal

from mcpwarden.policy import ResourceInfo
from mcpwarden.types import Principal

EXAMPLE_POLICY = """
version: 1
default: deny
scopes:
  "mcp:read": ["*/read_*", "*/list_*", "*/get_*"]
  "mcp:deploy": ["deploy/*"]
rules:
  - id: readonly-everyone
    allow: {tools: ["*"], when: {labels_none: [exfiltration_sink, destructive]}}
  - id: ops-can-deploy
    allow: {principals: {groups: [ops]}, tools: ["deploy/*"]}
  - id: approval-for-sinks
    ask: {tools: ["*"], when: {labels_any: [exfiltration_sink, destructive]}}
  - id: no-shell
    deny: {tools: ["*/run_command", "shell/*"]}
  - id: tmp-only
    deny: {tools: ["files/write_file"], unless: {arg: path, path: "/tmp/**"}}
  - id: no-anonymous
    deny: {principals: {kinds: [anonymous]}}
"""


def who(
    ident: str = "alice",
    kind: Literal["user", "agent", "anonymous"] = "user",
    *,
    groups: tuple[str, ...] = (),
    scopes: tuple[str, ...] = (),
    client_id: str | None = None,
    claims: dict[str, Any] | None = None,
) -> Principal:
    return Principal(
        id=ident,
        kind=kind,
        client_id=client_id,
        scopes=frozenset(scopes),
        groups=frozenset(groups),
        claims=claims or {},
    )


def tool(
    ref: str,
    *labels: str,
    kind: Literal["tool", "resource", "prompt"] = "tool",
    **annotations: Any,
) -> ResourceInfo:
    server, _, name = ref.partition("/")
    return ResourceInfo(server=server, tool=name, kind=kind, labels=frozenset(labels), annotations=annotations)
