"""Core types shared by scanner, gateway and red team. Pure: no I/O, no imports from the package."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal

Transport = Literal["stdio", "http", "sse"]
DefinitionKind = Literal["tool", "prompt", "resource", "resource_template"]


class Severity(IntEnum):
    """How bad a finding is; ordered so `>=` compares."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, name: str) -> Severity:
        """Parse a severity name case-insensitively; raises ValueError on anything else."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            allowed = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {name!r} (one of: {allowed})") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class Confidence(IntEnum):
    """How sure the rule is; separate from severity (a weak signal of a grave thing is still grave)."""

    LOW = 0
    MEDIUM = 1
    HIGH = 2

    @classmethod
    def parse(cls, name: str) -> Confidence:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown confidence {name!r} (one of: low, medium, high)") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Location:
    """Where a finding is: a server's definition (tool + JSON pointer) and/or a config file (+ line)."""

    server: str | None = None
    kind: DefinitionKind | None = None
    tool: str | None = None
    pointer: str | None = None
    file: str | None = None
    line: int | None = None
    key: str | None = None

    def describe(self) -> str:
        """A short human description, most specific part last."""
        parts: list[str] = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.key:
            parts.append(self.key)
        if self.server:
            parts.append(f"server {self.server}")
        if self.tool:
            parts.append(f"{self.kind or 'tool'} {self.tool}")
        if self.pointer:
            parts.append(self.pointer)
        return " ".join(parts)


@dataclass(frozen=True)
class Finding:
    """One reported risk. `rule_id` is stable and never reused."""

    rule_id: str
    title: str
    severity: Severity
    confidence: Confidence
    location: Location
    message: str
    evidence: str = ""
    remediation: str = ""
    refs: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        """Identity that survives line-number changes, so baselines outlive edits."""
        loc = self.location
        basis = "\x1f".join(
            [
                self.rule_id,
                loc.server or "",
                loc.kind or "",
                loc.tool or "",
                loc.pointer or "",
                loc.file or "",
                loc.key or "",
                self.evidence,
            ]
        )
        return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class ServerSource:
    """One place a server is configured: which client, which file, which key."""

    client: str
    path: str
    key: str
    line: int | None = None
    scope: str = "user"


@dataclass(frozen=True)
class ServerSpec:
    """One configured MCP server. `raw` is the config entry exactly as written."""

    name: str
    transport: Transport
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    sources: tuple[ServerSource, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def identity(self) -> str:
        """What makes two config entries the same server, whichever client lists them."""
        if self.transport == "stdio":
            return json.dumps(["stdio", self.command, list(self.args), self.cwd])
        return json.dumps([self.transport, self.url])


@dataclass(frozen=True)
class ConfigProblem:
    """A config file that exists but could not be read or understood (becomes a finding, never a crash)."""

    client: str
    path: str
    reason: str
    line: int | None = None


def canonical_json(value: Any) -> str:
    """Stable JSON: sorted keys, no whitespace, Unicode kept (hidden characters must change the hash).

    NaN and Infinity (which hostile servers can send) serialise as the JavaScript literals, not an error.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)


def definition_hash(definition: Mapping[str, Any]) -> str:
    """Hash of everything the model sees in a definition (`_meta` is transport metadata, excluded)."""
    visible = {k: v for k, v in definition.items() if k != "_meta"}
    return hashlib.sha256(canonical_json(visible).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class ToolDef:
    """A tool, prompt, resource or resource template as the server declared it (raw JSON)."""

    server: str
    kind: DefinitionKind
    name: str
    definition: Mapping[str, Any]

    @property
    def hash(self) -> str:
        return definition_hash(self.definition)

    @property
    def description(self) -> str:
        value = self.definition.get("description")
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class ServerInventory:
    """What one server exposed when it was enumerated (or why it could not be)."""

    spec: ServerSpec
    ok: bool
    error: str | None = None
    protocol_version: str | None = None
    server_info: Mapping[str, Any] = field(default_factory=dict)
    capabilities: Mapping[str, Any] = field(default_factory=dict)
    instructions: str | None = None
    definitions: tuple[ToolDef, ...] = ()
    stderr: str = ""
    duration_s: float = 0.0
    authenticated: bool | None = None

    def of_kind(self, kind: DefinitionKind) -> tuple[ToolDef, ...]:
        return tuple(d for d in self.definitions if d.kind == kind)


@dataclass(frozen=True)
class ScanResult:
    """A whole scan: servers, findings, and the config files that were read."""

    servers: tuple[ServerInventory, ...]
    findings: tuple[Finding, ...]
    config_files: tuple[str, ...] = ()
    static: bool = False
    started_at: str = ""
    duration_s: float = 0.0


def max_severity(findings: tuple[Finding, ...] | list[Finding]) -> Severity | None:
    """The worst severity present, or None when there are no findings."""
    return max((f.severity for f in findings), default=None)


_VISIBLE_CONTROL = {"\n", "\t"}
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Zl", "Zp"}


def _is_hidden_codepoint(code: int) -> bool:
    """Tag characters, variation selectors and no-break space: render as nothing or as a plain space."""
    return 0xE0000 <= code <= 0xE007F or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or code == 0xA0


def escape_evidence(text: str, limit: int = 400) -> str:
    """Make evidence safe to print: invisible, format, bidi and control characters become `\\u{…}`.

    Terminals and SARIF viewers must never render what a hidden payload wanted rendered.
    """
    out: list[str] = []
    for ch in text[: limit * 2]:
        cat = unicodedata.category(ch)
        code = ord(ch)
        if ch in _VISIBLE_CONTROL:
            out.append("\\n" if ch == "\n" else "\\t")
        elif cat in _HIDDEN_CATEGORIES or _is_hidden_codepoint(code):
            out.append(f"\\u{{{code:X}}}")
        else:
            out.append(ch)
    escaped = "".join(out)
    if len(escaped) > limit:
        escaped = escaped[: limit - 1] + "…"
    return escaped


def mask_secret(value: str) -> str:
    """Show enough of a secret to recognise it, never enough to use it."""
    if len(value) <= 8:
        return "*" * len(value)
    keep = 4 if len(value) >= 16 else 2
    return f"{value[:keep]}…{'*' * 6}…{value[-2:]}"


# Gateway types

Decision = Literal["allow", "deny", "modify", "ask"]
CallAction = Literal["call_tool", "read_resource", "get_prompt", "list"]


@dataclass(frozen=True)
class Principal:
    """Who is calling: an agent or user from a validated token, or a configured client identity."""

    id: str
    kind: Literal["user", "agent", "anonymous"] = "agent"
    client_id: str | None = None
    scopes: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    claims: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """One interceptor's decision, with the rule or policy ids behind it. Errors mean deny."""

    decision: Decision
    source: str
    reasons: tuple[str, ...] = ()
    message: str = ""
    errors: tuple[str, ...] = ()

    @property
    def denies(self) -> bool:
        return self.decision == "deny" or bool(self.errors)


@dataclass
class ToolCall:
    """The gateway's unit of work (like a mitmproxy flow): one request, its response and every decision.

    Mutable on purpose: interceptors add findings, verdicts and timings as the call moves through the chain.
    `raw_request`/`raw_response` are the exact bytes on the wire; `arguments`/`result` are parsed views.
    """

    id: str
    principal: Principal
    session_id: str | None
    upstream: str
    tool: str
    upstream_tool: str
    action: CallAction = "call_tool"
    client: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_request: bytes = b""
    raw_response: bytes | None = None
    result: dict[str, Any] | None = None
    findings: list[Finding] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    labels: frozenset[str] = frozenset()
    started_at: float = 0.0

    @property
    def denied(self) -> bool:
        return any(v.denies for v in self.verdicts)
