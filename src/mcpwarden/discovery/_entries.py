"""Server entries: from each client's way of writing one to a `ServerSpec`, or to a problem.

Client modules describe their entries as `Fields` (an extractor); everything after that, the type
checks, the transport decision and the source pointer, is shared here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from mcpwarden.types import ConfigProblem, ServerSpec, Transport

from ._parse import Document, ParseResult, json_pointer, type_name
from ._positions import KeyPath


@dataclass(frozen=True)
class Fields:
    """A server entry in client-neutral terms, still as written (types not yet checked)."""

    command: Any = None
    args: Any = None
    env: Any = None
    cwd: Any = None
    url: Any = None
    headers: Any = None
    declared: Any = None  # the entry's own transport word (`type`, `transport`, …)
    url_transport: Transport | None = None  # what the URL's key implies by the client's convention


Extractor = Callable[[Mapping[str, Any]], Fields | None]

# Which key holds the URL, and what that key alone implies; first present wins.
STANDARD_URL_KEYS: tuple[tuple[str, Transport | None], ...] = (("url", None), ("serverUrl", None), ("httpUrl", "http"))


def standard_fields(
    entry: Mapping[str, Any], url_keys: Sequence[tuple[str, Transport | None]] = STANDARD_URL_KEYS
) -> Fields:
    """Fields of the `mcpServers`-style entry most clients share (command/args/env/cwd or url/headers)."""
    url: Any = None
    url_transport: Transport | None = None
    for key, implied in url_keys:
        if entry.get(key) not in (None, ""):
            url, url_transport = entry[key], implied
            break
    declared = next((entry[k] for k in ("type", "transport", "transportType") if entry.get(k) is not None), None)
    return Fields(
        command=entry.get("command"),
        args=entry.get("args"),
        env=entry.get("env"),
        cwd=entry.get("cwd"),
        url=url,
        headers=entry.get("headers"),
        declared=declared,
        url_transport=url_transport,
    )


class EntryError(ValueError):
    """An entry that cannot describe a server; becomes a ConfigProblem for that entry only."""


_TRANSPORT_WORDS: dict[str, Transport] = {
    "stdio": "stdio",
    "sse": "sse",
    "http": "http",
    "streamablehttp": "http",
    "streamable": "http",
}


def _declared_transport(value: Any) -> Transport | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise EntryError(f"transport type must be a string, found {type_name(value)}")
    word = re.sub(r"[-_\s]", "", value).lower()
    if word not in _TRANSPORT_WORDS:
        raise EntryError(f"unsupported transport type {value!r}")
    return _TRANSPORT_WORDS[word]


def _scalar_text(value: Any, what: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise EntryError(f"{what} must be a string, found {type_name(value)}")


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise EntryError(f"`{what}` must be a list, found {type_name(value)}")
    return tuple(_scalar_text(item, f"each of `{what}`") for item in value)


def _str_map(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise EntryError(f"`{what}` must be an object, found {type_name(value)}")
    return {str(k): "" if v is None else _scalar_text(v, f"`{what}.{k}`") for k, v in value.items()}


def _is_sse_path(url: str) -> bool:
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    return path.rstrip("/").endswith("/sse")


def spec_from_fields(name: str, fields: Fields) -> ServerSpec:
    """Build the spec an entry describes; raises EntryError when it describes none."""
    declared = _declared_transport(fields.declared)
    if fields.command not in (None, ""):
        if not isinstance(fields.command, str):
            raise EntryError(f"`command` must be a string, found {type_name(fields.command)}")
        cwd = fields.cwd
        if cwd is not None and not isinstance(cwd, str):
            raise EntryError(f"`cwd` must be a string, found {type_name(cwd)}")
        return ServerSpec(
            name=name,
            transport="stdio",
            command=fields.command,
            args=_str_list(fields.args, "args"),
            env=_str_map(fields.env, "env"),
            cwd=cwd or None,
        )
    if fields.url not in (None, ""):
        if not isinstance(fields.url, str):
            raise EntryError(f"`url` must be a string, found {type_name(fields.url)}")
        transport: Transport
        if declared in ("http", "sse"):
            transport = declared
        elif fields.url_transport is not None:
            transport = fields.url_transport
        else:
            transport = "sse" if _is_sse_path(fields.url) else "http"
        return ServerSpec(name=name, transport=transport, url=fields.url, headers=_str_map(fields.headers, "headers"))
    if declared == "stdio":
        raise EntryError("stdio server has no `command`")
    raise EntryError("has neither a `command` nor a `url`")


def build_spec(
    doc: Document, segments: KeyPath, name: str, entry: Any, extract: Extractor
) -> ServerSpec | ConfigProblem | None:
    """One entry → a spec with its source, a problem, or None when the entry is not ours to describe."""
    if not isinstance(entry, Mapping):
        return doc.problem(f"server {name!r}: entry must be an object, found {type_name(entry)}", segments)
    try:
        fields = extract(entry)
        if fields is None:
            return None
        spec = spec_from_fields(name, fields)
    except EntryError as exc:
        return doc.problem(f"server {name!r}: {exc}", segments)
    return replace(spec, sources=(doc.source(segments),), raw=entry)


def _collect(result: ParseResult, item: ServerSpec | ConfigProblem | None) -> None:
    if isinstance(item, ServerSpec):
        result[0].append(item)
    elif isinstance(item, ConfigProblem):
        result[1].append(item)


def parse_server_map(doc: Document, prefix: KeyPath, value: Any, extract: Extractor = standard_fields) -> ParseResult:
    """Servers from an object mapping names to entries (`mcpServers`, `servers`, `context_servers`, …)."""
    result: ParseResult = ([], [])
    if value is None:
        return result
    if not isinstance(value, Mapping):
        where = json_pointer(prefix)
        result[1].append(doc.problem(f"`{where}` must be an object of servers, found {type_name(value)}", prefix))
        return result
    for key, entry in value.items():
        name = str(key)
        _collect(result, build_spec(doc, (*prefix, name), name, entry, extract))
    return result


def parse_server_list(doc: Document, prefix: KeyPath, value: Any, extract: Extractor = standard_fields) -> ParseResult:
    """Servers from a list of entries that carry their own `name` (Continue's style)."""
    result: ParseResult = ([], [])
    if value is None:
        return result
    if not isinstance(value, list):
        where = json_pointer(prefix)
        result[1].append(doc.problem(f"`{where}` must be a list of servers, found {type_name(value)}", prefix))
        return result
    for index, entry in enumerate(value):
        name = entry.get("name") if isinstance(entry, Mapping) else None
        if not isinstance(name, str) or not name:
            name = f"{prefix[-1]}[{index}]" if prefix else f"[{index}]"
        _collect(result, build_spec(doc, (*prefix, index), name, entry, extract))
    return result


def merge_results(*results: ParseResult) -> ParseResult:
    """Concatenate several parse results in order."""
    merged: ParseResult = ([], [])
    for specs, problems in results:
        merged[0].extend(specs)
        merged[1].extend(problems)
    return merged
