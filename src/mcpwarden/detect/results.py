"""What `detect` returns: matches ready to become findings, and a 0..1 score."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from mcpwarden.detect.normalize import Normalized, Reveal
from mcpwarden.detect.ruleset import Rule, make_finding
from mcpwarden.detect.scoring import DEFAULT_THRESHOLD
from mcpwarden.types import Confidence, Finding, Location, Severity, escape_evidence

SEVERITY_WEIGHT: Mapping[Severity, float] = MappingProxyType(
    {Severity.INFO: 0.05, Severity.LOW: 0.2, Severity.MEDIUM: 0.45, Severity.HIGH: 0.75, Severity.CRITICAL: 0.9}
)
CONFIDENCE_WEIGHT: Mapping[Confidence, float] = MappingProxyType(
    {Confidence.LOW: 0.6, Confidence.MEDIUM: 0.8, Confidence.HIGH: 1.0}
)
EVIDENCE_LIMIT = 400  # as escape_evidence's default


def escape(evidence: str, limit: int = EVIDENCE_LIMIT) -> str:
    """Exactly `escape_evidence`, faster: printable ASCII, most of any evidence, skips the Unicode lookup."""
    if all(piece.isascii() and piece.isprintable() for piece in evidence.split("…")):  # "…" prints as itself
        return evidence if len(evidence) <= limit else evidence[: limit - 1] + "…"
    out: list[str] = []
    for ch in evidence[: limit * 2]:
        if " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(escape_evidence(ch, 16))
    escaped = "".join(out)
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Match:
    """One rule that fired on a text, ready to become a `Finding` at a location."""

    rule: Rule
    evidence: str  # unescaped; escaped when it becomes a finding
    detail: str = ""
    origin: str = "text"  # "text", or the hidden channel it was found in (tag_characters, html_comment, …)
    severity: Severity | None = None  # None: the rule's own severity

    @property
    def rule_id(self) -> str:
        return self.rule.id

    @property
    def effective_severity(self) -> Severity:
        return self.rule.severity if self.severity is None else self.severity

    def finding(self, location: Location) -> Finding:
        """This match as a finding at `location` (evidence escaped)."""
        evidence = escape(self.evidence)
        detail = self.detail or None
        return make_finding(self.rule, location, evidence, detail=detail, severity=self.severity, escape=False)


def weight(match: Match) -> float:
    """How much one match says the text is an attack: weight(severity) × weight(confidence)."""
    return SEVERITY_WEIGHT[match.effective_severity] * CONFIDENCE_WEIGHT[match.rule.confidence]


def score(matches: Iterable[Match]) -> float:
    """The rule score, 1 - Π(1 - weight): independent signals, each raising the score (noisy-OR)."""
    remaining = 1.0
    for match in matches:
        remaining *= 1.0 - weight(match)
    return round(1.0 - remaining, 4)


@dataclass(frozen=True, slots=True)
class DetectResult:
    """Everything `detect` found in one text: matches (one per rule), a 0..1 score, and what was revealed.

    `score` combines the rules' score with the learned scorer's (`ml_score`, None without one; see
    `scoring.py`); `flagged` compares it with the kind's calibrated `threshold`.
    """

    kind: str
    matches: tuple[Match, ...] = ()
    score: float = 0.0
    reveals: tuple[Reveal, ...] = ()
    truncated: bool = False
    threshold: float = DEFAULT_THRESHOLD
    ml_score: float | None = None

    @property
    def rule_ids(self) -> frozenset[str]:
        return frozenset(m.rule.id for m in self.matches)

    @property
    def flagged(self) -> bool:
        """Whether the score reaches the kind's threshold: the verdict to block or redact on."""
        return self.score >= self.threshold

    def findings(self, location: Location) -> list[Finding]:
        """One finding per match, all at `location`."""
        return [m.finding(location) for m in self.matches]


@dataclass(frozen=True, slots=True)
class Screen:
    """`Engine.screen` of several texts: the vocabulary words they contain, and which texts need `detect`."""

    words: frozenset[bytes]
    hot: tuple[int, ...]  # indices of texts that need normalising or that some pattern matches
    normalized: Mapping[int, Normalized] = field(default_factory=dict)  # hot texts already normalised, by index

    @property
    def may_match(self) -> bool:
        return bool(self.hot)
