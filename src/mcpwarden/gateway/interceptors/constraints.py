"""Argument constraints: a call's `arguments` against the tool's `inputSchema`, then per-tool rules.

The SDK's low-level server does not validate arguments, so many upstreams accept whatever they
get; the gateway does it for them (one compiled validator per tool definition, cached; simple
schemas are first checked by `schema_fast`, which can only say "certainly valid"). Config rules
then narrow what the schema allows:

    interceptors:
      constraints:
        validate_schema: true            # default
        tools:
          "files__*":                    # public tool name; fnmatch glob
            path: {paths: ["/home/me/projects/*"], max_length: 4096}
          "web__fetch":
            url: {hosts: ["docs.python.org", "*.example.com"]}
            query: {pattern: "[a-z0-9 ]+"}

Argument names may be dotted (`options.path`). `paths` are normalised lexically (`..` folded)
before matching; `*` matches across `/`. A rule on an argument the call does not pass is skipped
(the schema decides whether it is required). Reason ids: `constraints.schema`, `constraints.paths`,
`constraints.hosts`, `constraints.pattern`, `constraints.max_length`.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import jsonschema.exceptions
import jsonschema.validators

from mcpwarden.gateway.interceptors.schema_fast import Check, compile_fast
from mcpwarden.gateway.jsonrpc import dumps
from mcpwarden.gateway.pipeline import InterceptorContext, ToolCatalog
from mcpwarden.types import ToolCall, ToolDef, Verdict

NAME = "constraints"
_RULE_KEYS = {"paths", "hosts", "pattern", "max_length"}
_MAX_SCHEMA_ERRORS = 3


@dataclass(frozen=True)
class ArgumentRule:
    """What one argument of matching tools may hold."""

    paths: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    max_length: int | None = None

    def check(self, name: str, value: Any) -> list[tuple[str, str]]:
        """(reason id, message) for each way `value` breaks this rule."""
        problems: list[tuple[str, str]] = []
        text = value if isinstance(value, str) else None
        if self.max_length is not None:
            size = len(text) if text is not None else len(dumps(value))
            if size > self.max_length:
                problems.append(("constraints.max_length", f"`{name}` is {size} characters, over {self.max_length}"))
        if (self.paths or self.hosts or self.pattern) and text is None:
            return [*problems, ("constraints.type", f"`{name}` must be a string")]
        assert text is not None or not (self.paths or self.hosts or self.pattern)
        if self.paths and text is not None and not _path_allowed(text, self.paths):
            problems.append(("constraints.paths", f"`{name}` path {text[:200]!r} is outside the allowed paths"))
        if self.hosts and text is not None and not _host_allowed(text, self.hosts):
            problems.append(("constraints.hosts", f"`{name}` URL {text[:200]!r} is not on an allowed host"))
        if self.pattern is not None and text is not None and not self.pattern.fullmatch(text):
            problems.append(("constraints.pattern", f"`{name}` does not match {self.pattern.pattern!r}"))
        return problems


def _path_allowed(value: str, globs: tuple[str, ...]) -> bool:
    if "\x00" in value:
        return False
    path = value[7:] if value.startswith("file://") else value
    path = posixpath.normpath(os.path.expanduser(path)) if path else path
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in globs)


def _host_allowed(value: str, hosts: tuple[str, ...]) -> bool:
    try:
        parts = urlsplit(value.strip())
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https", "ws", "wss") or not host:
        return False
    for allowed in hosts:
        allowed = allowed.lower()
        if allowed.startswith("*.") and (host.endswith(allowed[1:]) and host != allowed[2:]):
            return True
        if host == allowed:
            return True
    return False


def _lookup(arguments: Mapping[str, Any], dotted: str) -> tuple[bool, Any]:
    node: Any = arguments
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


class ArgumentConstraints:
    """Validates `call.arguments` against the listed `inputSchema` and the configured per-tool rules."""

    name = NAME

    def __init__(
        self,
        catalog: ToolCatalog,
        *,
        validate_schema: bool = True,
        rules: tuple[tuple[str, tuple[tuple[str, ArgumentRule], ...]], ...] = (),
    ) -> None:
        self.catalog = catalog
        self.validate_schema = validate_schema
        self.rules = rules
        self._validators: dict[tuple[str, str], tuple[ToolDef, Any, Check | None]] = {}

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: InterceptorContext) -> ArgumentConstraints:
        def fail(key: str, message: str) -> Exception:
            return context.option_error(NAME, key, message)

        unknown = sorted(set(options) - {"validate_schema", "tools"})
        if unknown:
            raise fail(unknown[0], "unknown option (allowed: validate_schema, tools)")
        validate = options.get("validate_schema", True)
        if not isinstance(validate, bool):
            raise fail("validate_schema", f"must be true or false, found {validate!r}")
        tools = options.get("tools") or {}
        if not isinstance(tools, Mapping):
            raise fail("tools", "must map tool names (globs) to argument rules")
        rules = []
        for tool, arguments in tools.items():
            if not isinstance(arguments, Mapping):
                raise fail(f"tools.{tool}", "must map argument names to rules")
            parsed = []
            for arg, raw in arguments.items():
                parsed.append((str(arg), _rule(raw, f"tools.{tool}.{arg}", fail)))
            rules.append((str(tool), tuple(parsed)))
        return cls(context.catalog, validate_schema=validate, rules=tuple(rules))

    def _validator(self, definition: ToolDef) -> tuple[Any, Check | None]:
        """The tool's jsonschema validator (or the SchemaError) and its fast check, built once per definition."""
        key = (definition.server, definition.name)
        cached = self._validators.get(key)
        if cached is not None and cached[0] is definition:
            return cached[1], cached[2]
        schema = definition.definition.get("inputSchema")
        validator: Any = None
        fast: Check | None = None
        if isinstance(schema, dict):
            cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
            try:
                cls.check_schema(schema)
                validator = cls(schema)
                fast = compile_fast(schema)
            except jsonschema.exceptions.SchemaError as exc:
                validator = exc  # an invalid schema fails every call closed, with the reason
        self._validators[key] = (definition, validator, fast)
        return validator, fast

    def _schema_problems(self, call: ToolCall) -> list[tuple[str, str]]:
        definition = self.catalog.definition(call.upstream, "tool", call.upstream_tool)
        if definition is None:
            return []
        validator, fast = self._validator(definition)
        if validator is None:
            return []
        if isinstance(validator, jsonschema.exceptions.SchemaError):
            return [("constraints.schema", f"the tool's inputSchema is invalid: {validator.message[:200]}")]
        if fast is not None and fast(call.arguments):
            return []
        problems = []
        for error in validator.iter_errors(call.arguments):
            where = "/".join(str(p) for p in error.absolute_path) or "arguments"
            problems.append(("constraints.schema", f"{where}: {error.message[:200]}"))
            if len(problems) >= _MAX_SCHEMA_ERRORS:
                break
        return problems

    async def request(self, call: ToolCall) -> Verdict | None:
        if call.action != "call_tool":
            return None
        problems = self._schema_problems(call) if self.validate_schema else []
        for tool_glob, arguments in self.rules:
            if not fnmatch.fnmatchcase(call.tool, tool_glob):
                continue
            for arg, rule in arguments:
                present, value = _lookup(call.arguments, arg)
                if present:
                    problems.extend(rule.check(arg, value))
        if not problems:
            return None
        reasons = tuple(dict.fromkeys(reason for reason, _ in problems))
        message = "arguments rejected: " + "; ".join(text for _, text in problems)
        return Verdict("deny", source=NAME, reasons=reasons, message=message)

    async def response(self, call: ToolCall) -> Verdict | None:
        return None


def _rule(raw: Any, key: str, fail: Any) -> ArgumentRule:
    if not isinstance(raw, Mapping):
        raise fail(key, "must be a mapping of paths/hosts/pattern/max_length")
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise fail(f"{key}.{unknown[0]}", f"unknown rule (allowed: {', '.join(sorted(_RULE_KEYS))})")

    def strings(name: str) -> tuple[str, ...]:
        value = raw.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise fail(f"{key}.{name}", "must be a list of non-empty strings")
        return tuple(value)

    pattern = None
    if raw.get("pattern") is not None:
        if not isinstance(raw["pattern"], str):
            raise fail(f"{key}.pattern", "must be a regular expression string")
        try:
            pattern = re.compile(raw["pattern"])
        except re.error as exc:
            raise fail(f"{key}.pattern", f"invalid regular expression: {exc}") from None
    max_length = raw.get("max_length")
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1):
        raise fail(f"{key}.max_length", f"must be a positive integer, found {max_length!r}")
    return ArgumentRule(paths=strings("paths"), hosts=strings("hosts"), pattern=pattern, max_length=max_length)
