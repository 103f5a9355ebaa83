"""Result scanning: injected instructions and secrets in what flows through the gateway.

Response side: every text a model will read in a tool result (text content, embedded resource
text, string leaves of `structuredContent`), a prompt's messages and a resource's contents runs
through `detect(text, kind)`; matches at or above `min_severity` are handled per `tool_output`:
`redact` (default) replaces the offending span with a marker naming the rule ids and adds a note
to the result, `block` refuses the whole result, `warn` records and passes. Request side: the
arguments' strings run through `detect(text, "tool_arguments")`, handled per `tool_arguments`
(default `warn`). Secrets (`mask_secrets`) are handled per `secrets` on both sides (default
`redact`, which masks them). Options:

    interceptors:
      scanning:
        tool_output: redact       # block | redact | warn
        tool_arguments: warn      # block | redact | warn
        secrets: redact           # block | redact | warn
        min_severity: medium      # info | low | medium | high | critical
        descriptions: hide        # tool/prompt definitions: hide | warn | off (see description_scan.py)
        description_severity: high
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mcpwarden.detect import DetectResult, Engine, Match, default_engine
from mcpwarden.detect.screening import TextAnalysis
from mcpwarden.gateway.masking import SecretMasker
from mcpwarden.gateway.pipeline import InterceptorContext
from mcpwarden.types import Location, Severity, ToolCall, Verdict

NAME = "scanning"
Action = Literal["block", "redact", "warn"]
_ACTIONS = ("block", "redact", "warn")
_KIND = {"call_tool": "tool_output", "get_prompt": "prompt", "read_resource": "resource"}
_TOKENS = re.compile(r"\S+")


def marker(rule_ids: list[str]) -> str:
    return f"[redacted by mcpwarden: {', '.join(rule_ids)}]"


def _collapsed_map(text: str) -> tuple[str, list[int], list[tuple[int, int]]]:
    """The whitespace-collapsed view rules match against, and how to map its offsets back."""
    tokens = [(m.start(), m.end()) for m in _TOKENS.finditer(text)]
    starts: list[int] = []
    pos = 0
    for start, end in tokens:
        starts.append(pos)
        pos += end - start + 1
    return " ".join(text[s:e] for s, e in tokens), starts, tokens


def _to_original(offset: int, starts: list[int], tokens: list[tuple[int, int]]) -> int:
    k = max(0, bisect.bisect_right(starts, offset) - 1)
    start, end = tokens[k]
    return min(start + offset - starts[k], end)


def locate(text: str, match: Match, engine: Engine) -> list[tuple[int, int]] | None:
    """Spans of `text` a match covers, or None when they cannot be told (redact the whole text then)."""
    patterns = engine.patterns_of(match.rule_id)
    if match.origin != "text" or not patterns:
        return None
    view, starts, tokens = _collapsed_map(text)
    if not tokens:
        return None
    spans: list[tuple[int, int]] = []
    try:
        for rx in patterns:
            for found in rx.finditer(view, timeout=engine.timeout_s):
                if found.end() > found.start():
                    spans.append(
                        (_to_original(found.start(), starts, tokens), _to_original(found.end(), starts, tokens))
                    )
    except TimeoutError:
        return None
    return spans or None


def redact_spans(text: str, spans: list[tuple[int, int]], label: str) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, pos = [], 0
    for start, end in merged:
        out.append(text[pos:start])
        out.append(label)
        pos = end
    out.append(text[pos:])
    return "".join(out)


@dataclass
class _Scan:
    """What scanning one side of a call found and did."""

    blocked: list[str]
    redacted: list[str]
    warned: list[str]
    secrets: int = 0  # texts that held a secret (masked or not, per the `secrets` action)
    changed: bool = False  # some text was replaced


Setter = Callable[[str], None]


class ResultScanning:
    """Detection and secret masking over arguments (request side) and results (response side)."""

    name = NAME

    def __init__(
        self,
        *,
        tool_output: Action = "redact",
        tool_arguments: Action = "warn",
        secrets: Action = "redact",
        min_severity: Severity = Severity.MEDIUM,
        engine: Engine | None = None,
        masker: SecretMasker | None = None,
    ) -> None:
        self.tool_output = tool_output
        self.tool_arguments = tool_arguments
        self.secrets = secrets
        self.min_severity = min_severity
        self.engine = engine or default_engine()
        self.mask = masker or SecretMasker()
        self._detected: dict[tuple[str, str], DetectResult] = {}
        self._analyses: dict[str, TextAnalysis] = {}

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: InterceptorContext) -> ResultScanning:
        allowed = {"tool_output", "tool_arguments", "secrets", "min_severity", "descriptions", "description_severity"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise context.option_error(NAME, unknown[0], f"unknown option (allowed: {', '.join(sorted(allowed))})")
        actions: dict[str, Any] = {}
        for key in ("tool_output", "tool_arguments", "secrets"):
            if key in options:
                if options[key] not in _ACTIONS:
                    raise context.option_error(
                        NAME, key, f"must be one of {', '.join(_ACTIONS)}, found {options[key]!r}"
                    )
                actions[key] = options[key]
        severity = Severity.MEDIUM
        if "min_severity" in options:
            try:
                severity = Severity.parse(str(options["min_severity"]))
            except ValueError as exc:
                raise context.option_error(NAME, "min_severity", str(exc)) from None
        masker = context.services.get("masker")
        return cls(**actions, min_severity=severity, masker=masker if isinstance(masker, SecretMasker) else None)

    # --- hooks

    async def request(self, call: ToolCall) -> Verdict | None:
        if call.action == "read_resource" or not call.arguments:
            return None
        scan = _Scan([], [], [])
        self._scan_tree(call.arguments, "tool_arguments", self.tool_arguments, scan, call, "/params/arguments")
        return self._verdict(scan, "arguments")

    async def response(self, call: ToolCall) -> Verdict | None:
        result = call.result
        if not isinstance(result, dict):
            return None
        scan = _Scan([], [], [])
        kind = _KIND.get(call.action, "tool_output")
        self._scan_tree(result, kind, self.tool_output, scan, call, "/result")
        if scan.changed and call.action == "call_tool" and isinstance(result.get("content"), list):
            result["content"].append({"type": "text", "text": self._note(scan)})
        return self._verdict(scan, "result")

    # --- scanning

    def _scan_tree(self, root: dict[str, Any], kind: str, action: Action, scan: _Scan, call: ToolCall, at: str) -> None:
        """Scan every string leaf under `root` in place (iteratively: results can be deep)."""
        stack: list[tuple[Any, Any, str]] = [(root, key, f"{at}/{key}") for key in root if key != "_meta"]
        while stack:
            parent, key, pointer = stack.pop()
            value = parent[key]
            if isinstance(value, str):
                new = self._scan_text(value, kind, action, scan, call, pointer)
                if new is not value:
                    parent[key] = new
                    scan.changed = True
            elif isinstance(value, dict):
                stack.extend((value, k, f"{pointer}/{k}") for k in value if k != "_meta")
            elif isinstance(value, list):
                stack.extend((value, i, f"{pointer}/{i}") for i in range(len(value)))

    def _scan_text(self, text: str, kind: str, action: Action, scan: _Scan, call: ToolCall, pointer: str) -> str:
        if len(text) < 8:
            return text
        result = self._detect(text, kind)
        hits = [m for m in result.matches if m.effective_severity >= self.min_severity]
        if hits:
            location = Location(server=call.upstream, kind="tool", tool=call.upstream_tool, pointer=pointer)
            call.findings.extend(m.finding(location) for m in hits)
            ids = sorted({m.rule_id for m in hits})
            if action == "block":
                scan.blocked.extend(ids)
            elif action == "warn":
                scan.warned.extend(ids)
            else:
                spans: list[tuple[int, int]] | None = []
                for match in hits:
                    located = locate(text, match, self.engine)
                    if located is None:
                        spans = None
                        break
                    assert spans is not None
                    spans.extend(located)
                label = marker(ids)
                text = label if spans is None else redact_spans(text, spans, label)
                scan.redacted.extend(ids)
        if not hits and not self._analyze(text).may_hold_secret:
            self.mask.remember_clean(text)  # the one pass proved it: no `mask_secrets`, here or in the audit log
            return text
        masked = self.mask(text)
        if masked is not text:
            scan.secrets += 1
            if self.secrets == "block":
                scan.blocked.append("secret")
            elif self.secrets == "warn":
                scan.warned.append("secret")
            else:
                return masked
        return text

    def _detect(self, text: str, kind: str) -> DetectResult:
        # A result often carries the same text twice (a text block and its structuredContent copy).
        key = (kind, text)
        found = self._detected.get(key)
        if found is None:
            found = self.engine.detect(text, kind, analysis=self._analyze(text))
            if len(self._detected) >= 32:
                del self._detected[next(iter(self._detected))]
            self._detected[key] = found
        return found

    def _analyze(self, text: str) -> TextAnalysis:
        """The engine's one pass over `text`, shared by every kind it is detected as (an argument a
        tool echoes is a result too) and by secret masking."""
        found = self._analyses.get(text)
        if found is None:
            found = self.engine.analyze(text)
            if len(self._analyses) >= 64:  # as many as calls in flight may hold
                del self._analyses[next(iter(self._analyses))]
            self._analyses[text] = found
        return found

    def _note(self, scan: _Scan) -> str:
        parts = []
        if scan.redacted:
            rules = ", ".join(sorted(set(scan.redacted)))
            parts.append(f"text that tried to instruct the model was redacted ({rules})")
        if scan.secrets and self.secrets == "redact":
            parts.append(f"{scan.secrets} value(s) holding secrets were masked")
        return "[mcpwarden] Part of this result was changed: " + "; ".join(parts) + "."

    def _verdict(self, scan: _Scan, what: str) -> Verdict | None:
        if scan.blocked:
            reasons = tuple(sorted(set(scan.blocked)))
            return Verdict(
                "deny", source=NAME, reasons=reasons, message=f"the {what} was blocked: {', '.join(reasons)}"
            )
        if scan.changed:
            masked = {"secret"} if scan.secrets and self.secrets == "redact" else set()
            reasons = tuple(sorted(set(scan.redacted) | masked))
            return Verdict("modify", source=NAME, reasons=reasons, message=f"the {what} was redacted")
        if scan.warned:
            reasons = tuple(sorted(set(scan.warned)))
            return Verdict(
                "allow", source=NAME, reasons=reasons, message=f"warning: the {what} matched {', '.join(reasons)}"
            )
        return None
