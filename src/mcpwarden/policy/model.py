"""The policy engine's own value types and the vocabulary shared by compiler, entities and engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mcpwarden.types import Verdict

ResourceKind = Literal["tool", "resource", "prompt"]

ACTIONS: tuple[str, ...] = ("call_tool", "read_resource", "get_prompt", "list")
# The action that *uses* each kind of definition (as opposed to seeing it in a listing).
USE_ACTION: Mapping[str, str] = {"tool": "call_tool", "resource": "read_resource", "prompt": "get_prompt"}

PRINCIPAL_TYPES: Mapping[str, str] = {"user": "User", "agent": "Agent", "anonymous": "Anonymous"}
RESOURCE_TYPES: Mapping[str, str] = {"tool": "Tool", "resource": "Resource", "prompt": "Prompt"}

# Policy ids the engine itself reports; a YAML rule may not take them.
DEFAULT_DENY = "default-deny"
DEFAULT_ALLOW = "default-allow"
SCOPE_CEILING = "scope-ceiling"
EVALUATION_ERROR = "evaluation-error"
RESERVED_IDS = frozenset({DEFAULT_DENY, DEFAULT_ALLOW, SCOPE_CEILING, EVALUATION_ERROR})

# `@approval("required")` on a permit policy turns its Allow into "ask".
APPROVAL_ANNOTATION = "approval"
APPROVAL_REQUIRED = "required"


@dataclass(frozen=True)
class ResourceInfo:
    """What a request touches: a tool (or resource / prompt) of one upstream server.

    `tool` is the name the upstream declared (not the gateway's namespaced name); for resources it
    is the URI. `labels` are capability labels (`private_data`, `exfiltration_sink`, …) and
    `annotations` the MCP hints the server declared (`readOnlyHint`, `destructiveHint`, …).
    """

    server: str
    tool: str
    kind: ResourceKind = "tool"
    labels: frozenset[str] = frozenset()
    annotations: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    """A decision with everything that produced it, for `mcpwarden policy explain`."""

    verdict: Verdict
    cedar_decision: str
    request: Mapping[str, Any]
    entities: tuple[Mapping[str, Any], ...]

    @property
    def decision(self) -> str:
        return self.verdict.decision

    @property
    def policy_ids(self) -> tuple[str, ...]:
        """The policies that determined the decision (or `default-deny`)."""
        return self.verdict.reasons

    @property
    def errors(self) -> tuple[str, ...]:
        return self.verdict.errors

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (the `--json` output of `policy explain`)."""
        return {
            "decision": self.decision,
            "policy_ids": list(self.policy_ids),
            "message": self.verdict.message,
            "errors": list(self.errors),
            "cedar_decision": self.cedar_decision,
            "request": dict(self.request),
            "entities": [dict(e) for e in self.entities],
        }
