"""The shape of an attack, the target it runs against, and the context every attack works through.

An attack is a small class behind the `Attack` protocol: an id, its suite, the rules (MW7xx) it can
prove, what it sends and how its oracle judges the answer. It talks to the server only through the
`Context`, which charges every send to the run's budget, records it in the transcript, judges
observations with the rule's oracle and turns proven weaknesses into Findings.
"""

from __future__ import annotations

import json
import random
import shlex
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any, Literal, Protocol

import anyio

from mcpwarden.detect.ruleset import Rule, make_finding
from mcpwarden.errors import ConnectError, RuleError
from mcpwarden.redteam import params
from mcpwarden.redteam.canary import CanaryListener
from mcpwarden.redteam.oracles import ORACLES
from mcpwarden.redteam.session import McpSession
from mcpwarden.redteam.transcript import Transcript
from mcpwarden.redteam.wire import Budget, Exchange, HttpWire, StdioWire, require
from mcpwarden.types import DefinitionKind, Finding, Location, Severity, ToolDef, escape_evidence

SUITES = ("transport", "auth", "session", "arguments", "output", "protocol")
Outcome = Literal["vulnerable", "held", "inconclusive", "skipped"]
_EVIDENCE_LIMIT = 600


@dataclass(frozen=True)
class Target:
    """The server under test: a streamable-HTTP URL (+ headers) or a stdio command."""

    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None

    @property
    def transport(self) -> Literal["http", "stdio"]:
        return "http" if self.url else "stdio"

    @property
    def name(self) -> str:
        return self.url or shlex.join(self.command)

    def secret_values(self) -> list[str]:
        """Header values (and the token inside `Bearer …`) that must never reach a transcript or report."""
        values: list[str] = []
        for value in self.headers.values():
            values.append(value)
            scheme, _, credential = value.partition(" ")
            if credential and scheme.lower() in {"bearer", "basic", "token"}:
                values.append(credential)
        return values


@dataclass(frozen=True)
class RunOptions:
    """What to run and within which bounds."""

    suites: tuple[str, ...] = SUITES
    allow_destructive: bool = False
    max_requests: int = 800
    time_limit: float = 180.0
    request_timeout: float = 10.0
    seed: int | None = None
    other_token: str | None = None
    signing_key: str | None = None  # PEM of a key the server trusts, to mint test tokens
    issuer: str | None = None
    audience: str | None = None
    key_id: str | None = None  # `kid` header of minted test tokens
    scope: str | None = None  # `scope` claim of minted test tokens
    record: Path | None = None


@dataclass
class Inventory:
    """What the server declared in its handshake and listings (raw JSON)."""

    server_info: Mapping[str, Any] = field(default_factory=dict)
    capabilities: Mapping[str, Any] = field(default_factory=dict)
    tools: list[ToolDef] = field(default_factory=list)
    resources: list[ToolDef] = field(default_factory=list)
    templates: list[ToolDef] = field(default_factory=list)


@dataclass
class ToolAnswer:
    """What a tools/call (or resources/read) produced: the text the model would read, and how."""

    exchange: Exchange
    text: str
    is_error: bool
    protocol_error: bool = False


class Attack(Protocol):
    """One attack: registered in `registry.ATTACKS`; its refs are its rules' refs in redteam.yaml."""

    @property
    def id(self) -> str:
        """Stable id, e.g. `args.path_traversal`; probe keys start with it."""

    @property
    def suite(self) -> str:
        """One of SUITES."""

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The MW7xx rules it can prove (their refs: OWASP MCP/Agentic/LLM Top 10, CWE)."""

    @property
    def sends(self) -> str:
        """What it sends, in words (docs and --help)."""

    @property
    def judged_by(self) -> str:
        """How its oracle judges the answer, in words."""

    @property
    def transports(self) -> frozenset[str]:
        """`http`, `stdio` or both."""

    async def run(self, ctx: Context) -> None:
        """Send probes through `ctx` and judge each with `ctx.judge`; stop early when the budget ends."""
        ...


def answer_text(reply: Mapping[str, Any] | None) -> tuple[str, bool]:
    """The text of a result (content blocks, structured content, resource contents) or of an error."""
    if reply is None:
        return "", True
    if isinstance(reply.get("error"), Mapping):
        error = reply["error"]
        data = error.get("data")
        extra = f" {json.dumps(data, ensure_ascii=False)}" if data is not None else ""
        return f"{error.get('message', '')}{extra}", True
    result = reply.get("result")
    if not isinstance(result, Mapping):
        return json.dumps(result, ensure_ascii=False), False
    parts: list[str] = []
    for block in list(result.get("content") or []) + list(result.get("contents") or []):
        if isinstance(block, Mapping):
            parts.append(str(block.get("text") or block.get("blob") or json.dumps(block, ensure_ascii=False)))
    if result.get("structuredContent") is not None:
        parts.append(json.dumps(result["structuredContent"], ensure_ascii=False))
    return "\n".join(parts), bool(result.get("isError"))


class Context:
    """Everything an attack may use. One per run; attacks run one after another, never concurrently."""

    def __init__(
        self,
        target: Target,
        options: RunOptions,
        rules: Mapping[str, Rule],
        transcript: Transcript,
        canary: CanaryListener,
        seed: int,
        task_group: anyio.abc.TaskGroup,
    ) -> None:
        self.target = target
        self.options = options
        self.rules = rules
        self.transcript = transcript
        self.canary = canary
        self.rng = random.Random(seed)  # canaries and payload numbers: the same seed replays the same requests
        self.budget = Budget(
            max_requests=options.max_requests,
            deadline=anyio.current_time() + options.time_limit,
            request_timeout=options.request_timeout,
        )
        self.inventory = Inventory()
        self.safe_tools: list[ToolDef] = []
        self.findings: list[Finding] = []
        self.outcomes: dict[str, Outcome] = {}
        self.baselines: dict[str, ToolAnswer] = {}
        self.state: dict[str, Any] = {}  # what one attack learnt for a later one (auth metadata, test tokens)
        self.answers: list[tuple[str, str, str, bool]] = []  # (tool, sent, answer text, is error) of every call
        self.ids = count(1)
        self._tg = task_group
        self._http: HttpWire | None = None
        self._stdio: StdioWire | None = None
        self._primary: McpSession | None = None

    # --- connections
    def http_wire(self) -> HttpWire:
        if self.target.url is None:
            raise ConnectError("this attack needs an HTTP target")
        if self._http is None:
            self._http = HttpWire(self.target.url, self.target.headers, self.budget, self.transcript.exchange)
        return self._http

    async def session(self) -> McpSession:
        """The run's main session, opened (or, for a stdio server that died, restarted) on demand."""
        if self._primary is not None and (self._stdio is None or self._stdio.alive):
            return self._primary
        if self.target.transport == "http":
            session = McpSession(self.http_wire(), self.ids)
        else:
            if self._stdio is not None:
                await self._stdio.aclose()
            command, *args = self.target.command
            self._stdio = StdioWire(
                command, args, self.target.env, self.target.cwd, self.budget, self.transcript.exchange
            )
            await self._stdio.start(self._tg)
            session = McpSession(self._stdio, self.ids)
        require(await session.initialize(), "initialize")
        self._primary = session
        return session

    def fresh_session(self) -> McpSession:
        """A new HTTP session (not yet initialised) sharing the run's wire."""
        return McpSession(self.http_wire(), self.ids)

    def benign_arguments(self, tool: ToolDef, **overrides: Any) -> dict[str, Any]:
        """Harmless values for `tool`'s required parameters (URLs point at the canary), then `overrides`."""
        return params.arguments(tool, lambda: self.canary.url(f"mw-benign-{self.canary_token(6)}"), **overrides)

    async def baseline(self, tool: ToolDef) -> ToolAnswer:
        """The answer to a benign call of `tool` (made once per run and kept)."""
        if tool.name not in self.baselines:
            arguments = self.benign_arguments(tool)
            with self.probe(f"baseline:{tool.name}"):
                self.baselines[tool.name] = await self.call_tool(tool.name, arguments)
        return self.baselines[tool.name]

    @property
    def stdio_alive(self) -> bool:
        return self._stdio is not None and self._stdio.alive

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            if self._primary is not None and self._http is not None:
                with anyio.move_on_after(2.0):
                    with suppress(Exception):  # closing is best effort; the budget may be spent
                        await self._primary.close()
            if self._http is not None:
                await self._http.aclose()
            if self._stdio is not None:
                await self._stdio.aclose()

    # --- probing
    def canary_token(self, size: int = 10) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(size))

    @contextmanager
    def probe(self, key: str) -> Iterator[None]:
        """Sends inside belong to probe `key` in the transcript."""
        previous, self.transcript.probe = self.transcript.probe, key
        try:
            yield
        finally:
            self.transcript.probe = previous

    async def call_tool(self, tool: str, arguments: Mapping[str, Any]) -> ToolAnswer:
        session = await self.session()
        exchange, reply = await session.request("tools/call", {"name": tool, "arguments": dict(arguments)})
        text, is_error = answer_text(reply)
        if reply is None and exchange.error:
            text = exchange.error
        self.answers.append((tool, json.dumps(dict(arguments), ensure_ascii=False), text, is_error))
        return ToolAnswer(exchange, text, is_error, protocol_error=reply is not None and "error" in reply)

    def judge(
        self,
        key: str,
        rule_id: str,
        observation: Mapping[str, Any],
        *,
        request: str,
        tool: str | None = None,
        kind: DefinitionKind | None = None,
        pointer: str | None = None,
        severity: Severity | None = None,
        detail: str | None = None,
        proven: Outcome = "vulnerable",
    ) -> Finding | None:
        """Judge one observation with the rule's oracle; record the outcome; a Finding when it is proven."""
        rule = self.rules.get(rule_id)
        if rule is None or rule.check not in ORACLES:
            raise RuleError(f"red-team rule {rule_id} is not declared with a known check", where="redteam.yaml")
        proof = ORACLES[rule.check](observation)
        self.outcomes[key] = proven if proof else "held"
        self.transcript.write(
            {"type": "probe", "key": key, "rule": rule_id, "outcome": self.outcomes[key], "evidence": proof or ""}
        )
        if not proof:
            return None
        masked = self.transcript.masker.text(f"{request} → {proof}")
        location = Location(server=self.transcript.masker.text(self.target.name), kind=kind, tool=tool, pointer=pointer)
        finding = make_finding(
            rule,
            location,
            escape_evidence(masked, limit=_EVIDENCE_LIMIT),
            detail=detail,
            severity=severity,
            escape=False,
        )
        self.findings.append(finding)
        return finding

    def mark(self, key: str, outcome: Outcome, why: str = "") -> None:
        """Record a probe that was not judged (skipped, or inconclusive and why)."""
        self.outcomes[key] = outcome
        self.transcript.write({"type": "probe", "key": key, "rule": "", "outcome": outcome, "evidence": why})
