"""Authorization with Cedar: the configured policy decides every call (allow, deny, or ask a human).

The policy is the top-level `policy:` file (`.yaml` compiled, or raw `.cedar`), loaded once with
`PolicyEngine.from_file`. No policy configured means no authorization: every call is allowed (the
other interceptors still apply). With a policy, anything no `permit` allows is denied
(`default-deny`). The resource is the upstream's own tool (or prompt, or resource URI) with its
capability labels and MCP annotations as attributes; the context carries the call's arguments.
Listings ask the `list` action per tool and prompt: what the principal may not list is hidden.

A permit annotated `@approval("required")` answers `ask`: the approval interceptor then asks a
human, and without an answer the call is denied. Refusals name the policy ids behind them.
No options besides `enabled`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mcpwarden.gateway.interceptors.common import Labels, definition_of, failer, only_keys
from mcpwarden.gateway.pipeline import DefinitionKey, InterceptorContext, ToolCatalog
from mcpwarden.policy import PolicyEngine
from mcpwarden.policy.model import ResourceInfo
from mcpwarden.types import Principal, ToolCall, ToolDef, Verdict

NAME = "authz"
_KIND: Mapping[str, Any] = {"call_tool": "tool", "get_prompt": "prompt", "read_resource": "resource"}


class Authorization:
    """Asks the policy engine about every call; abstains when no policy is configured."""

    name = NAME

    def __init__(self, engine: PolicyEngine | None, catalog: ToolCatalog) -> None:
        self.engine = engine
        self.catalog = catalog
        self.labels = Labels(catalog)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: InterceptorContext) -> Authorization:
        only_keys(options, (), failer(context, NAME))
        policy = context.config.policy if context.config is not None else None
        engine = PolicyEngine.from_file(policy) if policy is not None else None
        return cls(engine, context.catalog)

    async def request(self, call: ToolCall) -> Verdict | None:
        if self.engine is None:
            return None
        definition = definition_of(self.catalog, call)
        resource = ResourceInfo(
            server=call.upstream,
            tool=call.upstream_tool,
            kind=_KIND.get(call.action, "tool"),
            labels=self.labels.of(call),
            annotations=_annotations(definition),
        )
        return self.engine.decide(call.principal, call.action, resource, call.arguments)

    async def hide(self, definitions: Sequence[ToolDef], principal: Principal) -> set[DefinitionKey]:
        if self.engine is None:
            return set()
        hidden: set[DefinitionKey] = set()
        for d in definitions:
            kind = "prompt" if d.kind == "prompt" else "tool"
            resource = ResourceInfo(d.server, d.name, kind, self.labels.of_definition(d), _annotations(d))
            if self.engine.decide(principal, "list", resource).denies:
                hidden.add((d.server, d.kind, d.name))
        return hidden

    async def response(self, call: ToolCall) -> Verdict | None:
        return None


def _annotations(definition: ToolDef | None) -> Mapping[str, Any]:
    annotations = definition.definition.get("annotations") if definition is not None else None
    return annotations if isinstance(annotations, dict) else {}
