"""The authorization engine: Cedar decides permit/forbid; mcpwarden adds ask, fail-closed errors and ids.

Decision order for one request:
1. any policy errors (or the request cannot be built)  → deny, reasons = erroring policy ids
2. a `forbid` is satisfied                              → deny, reasons = the forbids
3. no `permit` is satisfied                             → deny, reason `default-deny`
4. a satisfied permit carries `@approval("required")`   → ask, reasons = those permits
   (for the `list` action ask reads as allow: the tool is shown, calling it asks)
5. otherwise                                            → allow, reasons = the permits

Cedar itself skips a policy that errors; a security gateway must not (a broken deny rule would
silently allow), so step 1 comes first.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cedarpy

from mcpwarden.errors import ConfigError
from mcpwarden.policy import entities as ent
from mcpwarden.policy import validate
from mcpwarden.policy.model import (
    ACTIONS,
    APPROVAL_ANNOTATION,
    APPROVAL_REQUIRED,
    DEFAULT_DENY,
    EVALUATION_ERROR,
    Explanation,
    ResourceInfo,
)
from mcpwarden.policy.yaml_compile import compile_policy
from mcpwarden.policy.yaml_load import load_yaml
from mcpwarden.types import Principal, Verdict

SOURCE = "authz"
CACHE_SIZE = 4096
_ERROR_POLICY = re.compile(r"policy `([^`]+)`")


class PolicyEngine:
    """A loaded, validated policy set that decides requests; build once, call `decide` per request.

    Safe to share between threads: the Cedar handles are immutable and the entity cache is locked.
    """

    def __init__(self, cedar_text: str, *, source: str = "<cedar>", warnings: tuple[str, ...] = ()) -> None:
        """Parse and validate `cedar_text`; raises ConfigError naming `source` and the problem."""
        self.cedar_text = cedar_text
        self.source = source
        self.warnings = warnings
        self._policies = validate.parse(cedar_text, source)
        self._ids = validate.policy_ids(cedar_text)
        problems = validate.schema_errors(cedar_text, self._ids)
        if problems:
            more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
            raise ConfigError("; ".join(problems[:5]) + more, where=source)
        self._approval = validate.annotated(cedar_text, APPROVAL_ANNOTATION, APPROVAL_REQUIRED)
        # Cedar's cost grows with the context it parses: pass only the arguments policies can read.
        self._uses_context = "context" in cedar_text
        self._argument_names = validate.argument_names(cedar_text)
        self._lock = threading.Lock()
        self._entities: OrderedDict[tuple[Any, ...], tuple[cedarpy.Entities, list[dict[str, Any]]]] = OrderedDict()
        if not self._ids:
            self.warnings = (*self.warnings, "the policy has no policies: every call is denied")

    # -- construction

    @classmethod
    def from_file(cls, path: Path) -> PolicyEngine:
        """Load a policy file: `.yaml`/`.yml` (compiled) or `.cedar` (used as written)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError("policy file not found", where=str(path)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the policy file: {exc}", where=str(path)) from None
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            return cls.from_yaml_text(text, source=str(path))
        if suffix == ".cedar":
            return cls.from_cedar_text(text, source=str(path))
        raise ConfigError(
            f"unknown policy file type `{suffix or '(none)'}`",
            where=str(path),
            hint="use .yaml/.yml for mcpwarden policies or .cedar for raw Cedar",
        )

    @classmethod
    def from_yaml_text(cls, text: str, *, source: str = "<yaml>") -> PolicyEngine:
        """Compile a YAML policy (see docs/policy.md) and load the result."""
        data, located = load_yaml(text, source)
        compiled = compile_policy(data, located)
        return cls(compiled.cedar, source=source, warnings=compiled.warnings)

    @classmethod
    def from_cedar_text(cls, text: str, *, source: str = "<cedar>") -> PolicyEngine:
        """Load raw Cedar; policy ids come from `@id("…")` annotations, else `policy0`, `policy1`, …"""
        return cls(text, source=source)

    @property
    def policy_count(self) -> int:
        """How many Cedar policies the set holds."""
        return len(self._ids)

    # -- decisions

    def decide(
        self,
        principal: Principal,
        action: str,
        resource: ResourceInfo,
        arguments: Mapping[str, Any] | None = None,
    ) -> Verdict:
        """Decide one request. Never raises: anything unexpected is a deny with the error recorded."""
        return self._evaluate(principal, action, resource, arguments)[0]

    def explain(
        self,
        principal: Principal,
        action: str,
        resource: ResourceInfo,
        arguments: Mapping[str, Any] | None = None,
    ) -> Explanation:
        """Decide one request and return the Cedar request and entities that were used."""
        verdict, cedar_decision, request, entities = self._evaluate(principal, action, resource, arguments, True)
        return Explanation(verdict=verdict, cedar_decision=cedar_decision, request=request, entities=tuple(entities))

    def _evaluate(
        self,
        principal: Principal,
        action: str,
        resource: ResourceInfo,
        arguments: Mapping[str, Any] | None,
        full_context: bool = False,
    ) -> tuple[Verdict, str, dict[str, Any], list[dict[str, Any]]]:
        request: dict[str, Any] = {}
        entity_list: list[dict[str, Any]] = []
        try:
            if action not in ACTIONS:
                return _error(f"unknown action {action!r}"), "NoDecision", request, entity_list
            handle, entity_list = self._entities_for(principal, resource)
            request = {
                "principal": ent.principal_uid(principal),
                "action": {"type": "Action", "id": action},
                "resource": ent.resource_uid(resource),
                "context": (
                    ent.build_context(principal, arguments, None if full_context else self._argument_names)
                    if self._uses_context or full_context
                    else {}
                ),
            }
            result = cedarpy.is_authorized(request, self._policies, handle)
            return self._verdict(result, action), result.decision.value, request, entity_list
        except Exception as exc:  # fail closed: a request that cannot be judged is denied
            return _error(f"authorization failed: {type(exc).__name__}: {exc}"), "NoDecision", request, entity_list

    def _verdict(self, result: cedarpy.AuthzResult, action: str) -> Verdict:
        diagnostics = result.diagnostics
        errors = tuple(self._readable(e) for e in diagnostics.errors)
        if errors or result.decision is cedarpy.Decision.NoDecision:
            found = (_ERROR_POLICY.search(e) for e in diagnostics.errors)
            culprits = [self._ids.get(m.group(1), m.group(1)) for m in found if m]
            reasons = tuple(dict.fromkeys(culprits)) or (EVALUATION_ERROR,)
            return Verdict(
                "deny",
                SOURCE,
                reasons,
                f"denied: policy error in {', '.join(reasons)}",
                errors or ("Cedar reached no decision",),
            )
        positional = list(diagnostics.reasons)
        if not result.allowed:
            if not positional:
                return Verdict("deny", SOURCE, (DEFAULT_DENY,), "denied: no policy allows this")
            ids = self._names(positional)
            return Verdict("deny", SOURCE, ids, f"denied by {', '.join(ids)}")
        asking = [p for p in positional if p in self._approval]
        if asking and action != "list":
            ids = self._names(asking)
            return Verdict("ask", SOURCE, ids, f"needs approval ({', '.join(ids)})")
        ids = self._names(positional)
        return Verdict("allow", SOURCE, ids, f"allowed by {', '.join(ids)}")

    def _names(self, positional: list[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self._ids.get(p, p) for p in positional))

    def _readable(self, error: str) -> str:
        """Cedar's error text with positional ids replaced by the policy's `@id`."""
        return _ERROR_POLICY.sub(lambda m: f"policy `{self._ids.get(m.group(1), m.group(1))}`", error)

    # -- entities

    def _entities_for(
        self, principal: Principal, resource: ResourceInfo
    ) -> tuple[cedarpy.Entities, list[dict[str, Any]]]:
        """Entities for (principal, resource), parsed by Cedar once and cached (LRU)."""
        key = (_principal_key(principal), _resource_key(resource))
        with self._lock:
            cached = self._entities.get(key)
            if cached is not None:
                self._entities.move_to_end(key)
                return cached
        entity_list = ent.principal_entities(principal) + ent.resource_entities(resource)
        built = (cedarpy.Entities.from_json_str(json.dumps(entity_list)), entity_list)
        with self._lock:
            self._entities[key] = built
            while len(self._entities) > CACHE_SIZE:
                self._entities.popitem(last=False)
        return built


def _error(message: str) -> Verdict:
    return Verdict("deny", SOURCE, (EVALUATION_ERROR,), f"denied: {message}", (message,))


def _principal_key(principal: Principal) -> tuple[Any, ...]:
    claims = principal.claims
    claims_key = json.dumps(claims, sort_keys=True, default=repr) if claims else ""
    return (principal.kind, principal.id, principal.client_id, principal.scopes, principal.groups, claims_key)


def _resource_key(resource: ResourceInfo) -> tuple[Any, ...]:
    annotations = resource.annotations if isinstance(resource.annotations, Mapping) else {}
    flags = tuple(ent.resource_flags(annotations).values())
    return (resource.kind, resource.server, resource.tool, resource.labels, flags)
