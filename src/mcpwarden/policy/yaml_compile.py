"""The short YAML policy language, compiled to Cedar (the format is documented in docs/policy.md).

Each rule becomes one Cedar policy carrying `@id("<rule id>")`: `allow` → `permit`, `deny` →
`forbid`, `ask` → `permit` annotated `@approval("required")`. The `scopes:` map becomes one
`forbid` (`scope-ceiling`) and `default: allow` one `permit` (`default-allow`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcpwarden.policy import cedar_text as ct
from mcpwarden.policy.model import (
    ACTIONS,
    APPROVAL_ANNOTATION,
    APPROVAL_REQUIRED,
    DEFAULT_ALLOW,
    PRINCIPAL_TYPES,
    RESERVED_IDS,
    RESOURCE_TYPES,
    SCOPE_CEILING,
)
from mcpwarden.policy.yaml_load import Located, join

_TOP_KEYS = ("version", "default", "allow_unsafe_default", "scopes", "rules")
_RULE_KEYS = ("id", "description", "allow", "ask", "deny")
_EFFECTS = ("allow", "ask", "deny")
_TARGETS: Mapping[str, str] = {"tools": "tool", "resources": "resource", "prompts": "prompt"}
_BODY_KEYS = ("principals", "tools", "resources", "prompts", "actions", "when", "unless")
_PRINCIPAL_KEYS = ("ids", "kinds", "groups", "client_ids", "scopes")
_FLAGS = ("read_only", "destructive", "idempotent", "open_world")
_LABEL_TESTS = {"labels_any": "containsAny", "labels_all": "containsAll", "labels_none": "containsAny"}
_ARG_OPS = ("equals", "one_of", "glob", "path", "present")
_COND_KEYS = (*_LABEL_TESTS, *_FLAGS, "principals", "arg", *_ARG_OPS, "args")
_APPLIES: Mapping[str, str | None] = {
    "call_tool": "tool",
    "read_resource": "resource",
    "get_prompt": "prompt",
    "list": None,
}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_CEDAR_LONG = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class CompiledPolicy:
    """The Cedar text of a YAML policy, its rule ids in order, and warnings for the user."""

    cedar: str
    rule_ids: tuple[str, ...]
    warnings: tuple[str, ...]


def compile_yaml_policy(data: Mapping[str, Any]) -> str:
    """Compile a parsed YAML policy to Cedar text; raises ConfigError naming the bad key."""
    return compile_policy(data).cedar


def compile_policy(data: Any, where: Located | None = None) -> CompiledPolicy:
    """Compile a parsed YAML policy, with file/line context for errors when `where` is given."""
    loc = where or Located()
    if not isinstance(data, Mapping):
        loc.fail("", "a policy must be a mapping with `version: 1` and `rules:`")
    loc.check_keys(data, "", _TOP_KEYS)
    if data.get("version") != 1:
        loc.fail("version", f"unsupported version {data.get('version')!r}", "write `version: 1`")
    warnings: list[str] = []
    blocks: list[str] = []
    default = data.get("default", "deny")
    if default not in ("deny", "allow"):
        loc.fail("default", f"`default` must be deny or allow, not {default!r}")
    unsafe = data.get("allow_unsafe_default", False)
    if not isinstance(unsafe, bool):
        loc.fail("allow_unsafe_default", "must be true or false")
    if default == "allow" and not unsafe:
        loc.fail(
            "default",
            "`default: allow` lets every call through that no rule denies",
            "add `allow_unsafe_default: true` if that is really meant",
        )
    if "scopes" in data:
        blocks.append(_scope_ceiling(data["scopes"], loc))
    rules = data.get("rules", [])
    if not isinstance(rules, list):
        loc.fail("rules", "`rules` must be a list")
    ids: list[str] = []
    grants = False
    for index, raw in enumerate(rules):
        rule_id, effect, text = _rule(raw, join("rules", index), loc, ids)
        ids.append(rule_id)
        grants = grants or effect != "deny"
        blocks.append(text)
    if default == "allow":
        warnings.append("default: allow — every call that no rule denies is allowed")
        blocks.append(f"// `default: allow`\n@id({ct.string(DEFAULT_ALLOW)})\npermit (principal, action, resource);")
    elif not grants:
        warnings.append("no allow or ask rule: every call is denied")
    return CompiledPolicy(cedar="\n\n".join(blocks) + "\n", rule_ids=tuple(ids), warnings=tuple(warnings))


# -- pieces


def _strings(value: Any, path: str, loc: Located, *, allow_empty: bool = False) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        loc.fail(path, "expected a list of non-empty strings")
    if not value and not allow_empty:
        loc.fail(path, "the list is empty")
    return list(value)


def _patterns(value: Any, path: str, loc: Located) -> list[ct.NamePattern]:
    out = []
    for i, text in enumerate(_strings(value, path, loc)):
        try:
            out.append(ct.parse_pattern(text))
        except ValueError as exc:
            loc.fail(join(path, i), str(exc))
    return out


def _scope_ceiling(value: Any, loc: Located) -> str:
    if not isinstance(value, Mapping) or not value:
        loc.fail("scopes", "`scopes` must map each OAuth scope to a list of SERVER/NAME patterns")
    grants = []
    for scope, patterns in value.items():
        if not isinstance(scope, str) or not scope:
            loc.fail("scopes", f"scope name {scope!r} must be a non-empty string")
        reach = ct.any_of([ct.pattern_condition(p, None) for p in _patterns(patterns, join("scopes", scope), loc)])
        grants.append(ct.all_of([f"principal.scopes.contains({ct.string(scope)})", reach]))
    return (
        "// OAuth scopes: a token reaches only what one of its scopes maps to\n"
        f"@id({ct.string(SCOPE_CEILING)})\nforbid (principal, action, resource)\n"
        f"when {{ principal.token }}\nunless {{\n  {ct.any_of(grants)}\n}};"
    )


def _rule(raw: Any, path: str, loc: Located, seen: Sequence[str]) -> tuple[str, str, str]:
    if not isinstance(raw, Mapping):
        loc.fail(path, "a rule must be a mapping with `id` and one of allow/ask/deny")
    loc.check_keys(raw, path, _RULE_KEYS)
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        loc.fail(join(path, "id"), f"rule id {rule_id!r} must be a short name of letters, digits, `-_.:`")
    if rule_id in RESERVED_IDS:
        loc.fail(join(path, "id"), f"rule id `{rule_id}` is reserved for the engine")
    if rule_id in seen:
        loc.fail(join(path, "id"), f"rule id `{rule_id}` is used twice")
    effects = [e for e in _EFFECTS if e in raw]
    if len(effects) != 1:
        loc.fail(path, "a rule needs exactly one of `allow`, `ask` or `deny`")
    effect = effects[0]
    description = raw.get("description", "")
    if not isinstance(description, str):
        loc.fail(join(path, "description"), "must be a string")
    body = raw[effect]
    body_path = join(path, effect)
    if not isinstance(body, Mapping):
        loc.fail(body_path, "expected a mapping (use `{}` for every call)")
    loc.check_keys(body, body_path, _BODY_KEYS)
    return rule_id, effect, _policy(rule_id, effect, description, body, body_path, loc)


def _policy(rule_id: str, effect: str, description: str, body: Mapping[str, Any], path: str, loc: Located) -> str:
    targets = {kind: _patterns(body[key], join(path, key), loc) for key, kind in _TARGETS.items() if key in body}
    principal_scope, conditions = _principals(body.get("principals"), join(path, "principals"), loc, scope=True)
    uses_args = False
    if "when" in body:
        when, uses = _condition(body["when"], join(path, "when"), loc)
        conditions.extend(when)
        uses_args = uses_args or uses
    unless = None
    if "unless" in body:
        parts, uses = _condition(body["unless"], join(path, "unless"), loc)
        unless = ct.all_of(parts)
        uses_args = uses_args or uses
    actions = _actions(body.get("actions"), join(path, "actions"), loc, targets, uses_args)
    resource_scope, resource_condition = _resources(targets)
    if resource_condition:
        conditions.insert(0, resource_condition)
    header = [f"// rule {rule_id}" + (f": {_comment(description)}" if description else "")]
    header.append(f"@id({ct.string(rule_id)})")
    if effect == "ask":
        header.append(f"@{APPROVAL_ANNOTATION}({ct.string(APPROVAL_REQUIRED)})")
    keyword = "forbid" if effect == "deny" else "permit"
    text = "\n".join(header) + f"\n{keyword} (\n  {principal_scope},\n  {actions},\n  {resource_scope}\n)"
    if conditions:
        text += "\nwhen {\n  " + " &&\n  ".join(_wrap(c) for c in conditions) + "\n}"
    if unless:
        text += f"\nunless {{\n  {unless}\n}}"
    return text + ";"


def _wrap(condition: str) -> str:
    """Parenthesise a disjunction; a long one gets one alternative per line."""
    if "||" not in condition:
        return condition
    if len(condition) <= 100:
        return f"({condition})"
    return "(\n    " + " ||\n    ".join(_top_level_alternatives(condition)) + "\n  )"


def _top_level_alternatives(condition: str) -> list[str]:
    """Split at ` || ` outside parentheses, brackets and string literals."""
    parts, depth, start, i, quoted = [], 0, 0, 0, False
    while i < len(condition):
        ch = condition[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and condition.startswith(" || ", i):
            parts.append(condition[start:i])
            start = i + 4
            i += 3
        i += 1
    parts.append(condition[start:])
    return parts


def _comment(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)


def _actions(value: Any, path: str, loc: Located, targets: Mapping[str, Any], uses_args: bool) -> str:
    if value is None:
        kinds = set(targets) or {"tool", "resource", "prompt"}
        chosen = {a for a, kind in _APPLIES.items() if kind in kinds}
        # Listing carries no arguments, so argument conditions would misjudge it: leave `list` out.
        if not uses_args:
            chosen.add("list")
    else:
        chosen = set(_strings(value, path, loc))
        for name in sorted(chosen):
            if name not in ACTIONS:
                loc.fail(path, f"unknown action `{name}`", f"one of: {', '.join(ACTIONS)}")
            applies = _APPLIES[name]
            if targets and applies is not None and applies not in targets:
                loc.fail(path, f"action `{name}` never applies to the {'/'.join(sorted(targets))} this rule names")
    ordered = [a for a in ACTIONS if a in chosen]
    if len(ordered) == len(ACTIONS):
        return "action"
    if len(ordered) == 1:
        return f"action == Action::{ct.string(ordered[0])}"
    return "action in [" + ", ".join(f"Action::{ct.string(a)}" for a in ordered) + "]"


def _resources(targets: Mapping[str, list[ct.NamePattern]]) -> tuple[str, str | None]:
    if not targets:
        return "resource", None
    if len(targets) == 1:
        kind, patterns = next(iter(targets.items()))
        entity_type = RESOURCE_TYPES[kind]
        if any(p.matches_all for p in patterns):
            return f"resource is {entity_type}", None
        if len(patterns) == 1:
            only = patterns[0]
            if only.whole_server is not None:
                return f"resource is {entity_type} in {ct.uid('Server', only.whole_server)}", None
            if only.exact is not None:
                return f"resource == {ct.uid(entity_type, ct.definition_id(*only.exact))}", None
        return f"resource is {entity_type}", ct.any_of([ct.pattern_condition(p, entity_type) for p in patterns])
    alternatives = []
    for kind, patterns in targets.items():
        entity_type = RESOURCE_TYPES[kind]
        match = ct.any_of([ct.pattern_condition(p, entity_type) for p in patterns])
        alternatives.append(ct.all_of([f"resource is {entity_type}", match]))
    return "resource", ct.any_of(alternatives)


def _principals(value: Any, path: str, loc: Located, *, scope: bool) -> tuple[str, list[str]]:
    """The principal scope (when `scope`) and the conditions for a `principals:` block."""
    if value is None:
        return "principal", []
    if not isinstance(value, Mapping) or not value:
        loc.fail(path, "expected a mapping with ids, kinds, groups, client_ids or scopes")
    loc.check_keys(value, path, _PRINCIPAL_KEYS)
    conditions: list[str] = []
    head = "principal"
    kinds = _strings(value["kinds"], join(path, "kinds"), loc) if "kinds" in value else []
    for kind in kinds:
        if kind not in PRINCIPAL_TYPES:
            loc.fail(join(path, "kinds"), f"unknown principal kind `{kind}`", "one of: user, agent, anonymous")
    if len(kinds) == 1 and scope:
        head += f" is {PRINCIPAL_TYPES[kinds[0]]}"
    elif kinds:
        conditions.append(ct.any_of([f"principal is {PRINCIPAL_TYPES[k]}" for k in kinds]))
    if "groups" in value:
        groups = _strings(value["groups"], join(path, "groups"), loc)
        if len(groups) == 1 and scope:
            head += f" in {ct.uid('Group', groups[0])}"
        else:
            conditions.append("principal in [" + ", ".join(ct.uid("Group", g) for g in groups) + "]")
    if "ids" in value:
        conditions.append(f"{ct.string_set(_strings(value['ids'], join(path, 'ids'), loc))}.contains(principal.id)")
    if "client_ids" in value:
        clients = _strings(value["client_ids"], join(path, "client_ids"), loc)
        conditions.append(f"{ct.string_set(clients)}.contains(principal.client_id)")
    if "scopes" in value:
        scopes = _strings(value["scopes"], join(path, "scopes"), loc)
        conditions.append(f"principal.scopes.containsAny({ct.string_set(scopes)})")
    return head, conditions


def _condition(value: Any, path: str, loc: Located) -> tuple[list[str], bool]:
    """The conjuncts of a `when`/`unless` block, and whether it looks at arguments."""
    if not isinstance(value, Mapping) or not value:
        loc.fail(path, "expected a non-empty mapping of conditions")
    loc.check_keys(value, path, _COND_KEYS)
    out: list[str] = []
    for key, method in _LABEL_TESTS.items():
        if key in value:
            labels = ct.string_set(_strings(value[key], join(path, key), loc))
            test = f"resource.labels.{method}({labels})"
            out.append(f"!{test}" if key == "labels_none" else test)
    for flag in _FLAGS:
        if flag in value:
            if not isinstance(value[flag], bool):
                loc.fail(join(path, flag), "must be true or false")
            out.append(f"resource.{flag}" if value[flag] else f"!resource.{flag}")
    if "principals" in value:
        _, who = _principals(value["principals"], join(path, "principals"), loc, scope=False)
        out.extend(who)
    arg_specs: list[tuple[Mapping[str, Any], str]] = []
    inline = {k: value[k] for k in ("arg", *_ARG_OPS) if k in value}
    if inline:
        arg_specs.append((inline, path))
    if "args" in value:
        if not isinstance(value["args"], list) or not value["args"]:
            loc.fail(join(path, "args"), "expected a non-empty list of {arg: NAME, <test>: VALUE}")
        arg_specs.extend((spec, join(join(path, "args"), i)) for i, spec in enumerate(value["args"]))
    out.extend(_arg_test(spec, spec_path, loc) for spec, spec_path in arg_specs)
    return out, bool(arg_specs)


def _arg_test(spec: Any, path: str, loc: Located) -> str:
    if not isinstance(spec, Mapping):
        loc.fail(path, "expected {arg: NAME, <test>: VALUE}")
    loc.check_keys(spec, path, ("arg", *_ARG_OPS))
    name = spec.get("arg")
    if not isinstance(name, str) or not name or "" in name.split("."):
        loc.fail(join(path, "arg"), "`arg` names an argument (use a.b for nested fields)")
    ops = [op for op in _ARG_OPS if op in spec]
    if len(ops) != 1:
        loc.fail(path, f"argument `{name}` needs exactly one test", f"one of: {', '.join(_ARG_OPS)}")
    op, operand = ops[0], spec[ops[0]]
    op_path = join(path, op)
    guards, value = [], "context.arguments"
    for segment in name.split("."):
        guards.append(ct.has(value, segment))
        value = ct.attr(value, segment)
    if op == "present":
        if not isinstance(operand, bool):
            loc.fail(op_path, "must be true or false")
        present = ct.all_of(guards)
        return present if operand else f"!({present})"
    if op == "equals":
        test = f"{value} == {_literal(operand, op_path, loc)}"
    elif op == "one_of":
        if not isinstance(operand, list) or not operand:
            loc.fail(op_path, "expected a non-empty list")
        items = ", ".join(_literal(v, join(op_path, i), loc) for i, v in enumerate(operand))
        test = f"[{items}].contains({value})"
    else:
        if not isinstance(operand, str) or not operand:
            loc.fail(op_path, "expected a glob string (`*` matches anything)")
        test = f"{value} like {ct.like(operand)}"
        if op == "path":
            # `like` knows no path segments: refuse any `..` so `/tmp/../etc` cannot pass `/tmp/*`.
            test = f'{test} && !({value} like "*..*")'
    return ct.all_of([*guards, test])


def _literal(value: Any, path: str, loc: Located) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not _CEDAR_LONG[0] <= value <= _CEDAR_LONG[1]:
            loc.fail(path, "integer out of Cedar's 64-bit range")
        return str(value)
    if isinstance(value, str):
        return ct.string(value)
    loc.fail(path, f"expected a string, integer or boolean, not {type(value).__name__}")
