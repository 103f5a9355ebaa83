"""Files given explicitly (`--config PATH`) whose client cannot be told from the path.

The shape decides: every known server section that is present is read, with the generic
conventions (a URL is streamable HTTP unless a type or an `/sse` path says SSE).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ._client import Client
from ._entries import merge_results, parse_server_map
from ._parse import Document, ParseResult
from .claude import parse_claude_code
from .codex import parse_codex
from .continue_dev import parse_continue
from .goose import parse_goose
from .vscode import parse_vscode_servers, parse_vscode_settings
from .zed import parse_zed


def _has_vscode_settings(data: Mapping[str, object]) -> bool:
    nested = data.get("mcp")
    return "mcp.servers" in data or (isinstance(nested, Mapping) and "servers" in nested)


def _has_continue_shape(data: Mapping[str, object]) -> bool:
    experimental = data.get("experimental")
    legacy = isinstance(experimental, Mapping) and "modelContextProtocolServers" in experimental
    return isinstance(data.get("mcpServers"), list) or legacy


def _has_claude_projects(data: Mapping[str, object]) -> bool:
    projects = data.get("projects")
    return isinstance(projects, Mapping) and any(
        isinstance(p, Mapping) and "mcpServers" in p for p in projects.values()
    )


def _parse_claude_style(doc: Document) -> ParseResult:
    if _has_claude_projects(doc.data):
        return parse_claude_code(doc)
    return parse_server_map(doc, ("mcpServers",), doc.data.get("mcpServers"))


# (test for the shape, parser, what the shape is called in a problem message); order is report order.
_SHAPES: tuple[tuple[Callable[[Mapping[str, object]], bool], Callable[[Document], ParseResult], str], ...] = (
    (_has_continue_shape, parse_continue, "mcpServers list"),
    (lambda d: "mcpServers" in d and not isinstance(d.get("mcpServers"), list), _parse_claude_style, "mcpServers"),
    (lambda d: "servers" in d, parse_vscode_servers, "servers"),
    (lambda d: "context_servers" in d, parse_zed, "context_servers"),
    (lambda d: "mcp_servers" in d, parse_codex, "mcp_servers"),
    (_has_vscode_settings, parse_vscode_settings, "mcp.servers"),
    (lambda d: isinstance(d.get("extensions"), Mapping), parse_goose, "extensions"),
)


def parse_by_shape(doc: Document) -> ParseResult:
    """Read every server section the document has; a document with none is a problem."""
    results = [parse(doc) for matches, parse, _ in _SHAPES if matches(doc.data)]
    if not results and _has_claude_projects(doc.data):
        results.append(parse_claude_code(doc))
    if not results:
        expected = ", ".join(label for _, _, label in _SHAPES)
        return [], [doc.problem(f"no MCP server section found (looked for: {expected})")]
    return merge_results(*results)


EXPLICIT = Client(id="explicit", parse=parse_by_shape, jsonc=True)
