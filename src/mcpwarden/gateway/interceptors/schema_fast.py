"""A fast "certainly valid" check for the simple input schemas most tools declare.

`jsonschema` costs some 50 µs per call even for `{"type": "object", "properties": {"text":
{"type": "string"}}}`, a good part of the gateway's per-call budget. Most tool schemas use only
`type`, `properties`, `required`, `additionalProperties`, `items` and `enum`, plus annotations.
`compile_fast(schema)` turns such a schema into a function that answers True only when the value
is valid under every JSON Schema draft (it is stricter than the drafts: `1.0` is not taken as an
`integer`, `True` is never equal to `1`); anything else, and any schema using another keyword,
goes to the full validator, which also writes the error messages. So the fast path can never
accept what `jsonschema` would refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

# Keywords that never change whether a value is valid (`format` is an annotation unless a format
# checker is configured, and the constraints interceptor configures none).
_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$comment", "deprecated", "readOnly", "writeOnly", "format"}
)
_KEYWORDS = frozenset({"type", "properties", "required", "additionalProperties", "items", "enum"})
_TOP_ONLY = frozenset({"$schema", "$id"})
_TYPES: Mapping[str, Check] = {
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) is int or type(v) is float,
    "boolean": lambda v: type(v) is bool,
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "null": lambda v: v is None,
}
_SCALAR = (str, int, float, bool, type(None))


class _Unsupported(Exception):
    """The schema uses something the fast path does not handle."""


def compile_fast(schema: Any) -> Check | None:
    """A function that returns True only for values `schema` certainly accepts, or None if unsupported."""
    try:
        return _compile(schema, top=True)
    except _Unsupported:
        return None


def _compile(schema: Any, *, top: bool = False) -> Check:
    if schema is True:
        return lambda v: True
    if not isinstance(schema, dict):
        raise _Unsupported
    allowed = _KEYWORDS | _ANNOTATIONS | (_TOP_ONLY if top else frozenset())
    if any(key not in allowed for key in schema):
        raise _Unsupported
    checks: list[Check] = []
    if "type" in schema:
        checks.append(_type(schema["type"]))
    if "enum" in schema:
        checks.append(_enum(schema["enum"]))
    if any(k in schema for k in ("properties", "required", "additionalProperties")):
        checks.append(_object(schema))
    if "items" in schema:
        item = _compile(schema["items"])
        checks.append(lambda v: type(v) is not list or all(item(x) for x in v))
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(check(v) for check in checks)


def _type(declared: Any) -> Check:
    names = [declared] if isinstance(declared, str) else declared
    if not isinstance(names, list) or not names or any(n not in _TYPES for n in names):
        raise _Unsupported
    tests = [_TYPES[n] for n in names]
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(test(v) for test in tests)


def _enum(values: Any) -> Check:
    if not isinstance(values, list) or any(type(e) not in _SCALAR for e in values):
        raise _Unsupported
    options = [(type(e), e) for e in values]
    return lambda v: any(type(v) is kind and v == e for kind, e in options)


def _object(schema: dict[str, Any]) -> Check:
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    extra = schema.get("additionalProperties", True)
    if not isinstance(properties, dict) or not isinstance(required, list):
        raise _Unsupported
    if not all(isinstance(name, str) for name in required):
        raise _Unsupported
    props = {name: _compile(sub) for name, sub in properties.items()}
    if extra is True:
        extra_check: Check | None = None
    elif extra is False:
        extra_check = lambda v: False  # noqa: E731 - one line, named for what it checks
    else:
        extra_check = _compile(extra)

    def check(value: Any) -> bool:
        if type(value) is not dict:
            return True  # these keywords apply to objects only; `type` decides about the rest
        for name in required:
            if name not in value:
                return False
        for key, item in value.items():
            prop = props.get(key)
            if prop is not None:
                if not prop(item):
                    return False
            elif extra_check is not None and not extra_check(item):
                return False
        return True

    return check
