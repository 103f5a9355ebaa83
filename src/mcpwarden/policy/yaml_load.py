"""Reading a YAML policy: safe load, duplicate keys refused, and a line number for every key path.

Errors name the file, the line and the key path (`policy.yaml:12 rules[1].allow.tools`), so
the user never has to guess which of several similar rules is wrong.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import yaml

from mcpwarden.errors import ConfigError


@dataclass(frozen=True)
class Located:
    """Where the YAML came from and where each key path is in it (for error messages)."""

    source: str = "policy"
    lines: Mapping[str, int] = field(default_factory=dict)

    def where(self, path: str) -> str:
        line = self._line(path)
        place = f"{self.source}:{line}" if line else self.source
        return f"{place} {path}" if path else place

    def _line(self, path: str) -> int | None:
        # The nearest ancestor that has a line: a missing key is reported at its parent mapping.
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            cut = max(path.rfind("."), path.rfind("["))
            path = path[: max(cut, 0)]

    def fail(self, path: str, message: str, hint: str | None = None) -> NoReturn:
        """Raise the ConfigError for `path`."""
        raise ConfigError(message, where=self.where(path), hint=hint)

    def check_keys(self, value: Mapping[str, Any], path: str, allowed: Collection[str]) -> None:
        """Refuse keys outside `allowed`, suggesting the closest known key."""
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(sorted(allowed))}"
                self.fail(join(path, str(key)), f"unknown key `{key}`", hint)


def join(path: str, key: str | int) -> str:
    """Extend a key path: `rules` + 2 → `rules[2]`, `rules[2]` + `allow` → `rules[2].allow`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _walk(node: yaml.Node, path: str, lines: dict[str, int], source: str) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = join(path, key)
            if key in seen:
                # PyYAML keeps the last duplicate silently; in a security policy that hides a rule.
                raise ConfigError(
                    f"key `{key}` appears twice", where=f"{source}:{key_node.start_mark.line + 1} {child}"
                )
            seen.add(key)
            lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, join(path, index), lines, source)


def load_yaml(text: str, source: str = "policy") -> tuple[Any, Located]:
    """Parse YAML text safely; returns the data and its key-path line map."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError("the policy file is empty", where=source, hint="start from `mcpwarden policy init`")
        lines: dict[str, int] = {}
        _walk(node, "", lines, source)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"invalid YAML: {problem}", where=where) from None
    finally:
        loader.dispose()
    return data, Located(source, lines)
