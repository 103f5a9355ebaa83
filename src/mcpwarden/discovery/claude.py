"""Claude Desktop and Claude Code.

Claude Desktop: `claude_desktop_config.json` in the Claude application directory, `mcpServers`.
Claude Code: `~/.claude.json` (or `$CLAUDE_CONFIG_DIR/.claude.json`) holds user servers under
`mcpServers` and per-project ("local") servers under `projects.<absolute dir>.mcpServers`; a project
shares servers in `.mcp.json` at its root. Entries take `type` stdio/sse/http.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ._client import Client
from ._entries import merge_results, parse_server_map
from ._parse import Document, ParseResult, type_name
from ._paths import Platform


def _desktop_paths(platform: Platform) -> Sequence[Path]:
    return [platform.app_config_dir("Claude") / "claude_desktop_config.json"]


def _code_user_paths(platform: Platform) -> Sequence[Path]:
    config_dir = platform.env.get("CLAUDE_CONFIG_DIR", "").strip()
    base = Path(config_dir) if config_dir else platform.user_home
    return [base / ".claude.json"]


def parse_mcp_servers(doc: Document) -> ParseResult:
    """The top-level `mcpServers` object."""
    return parse_server_map(doc, ("mcpServers",), doc.data.get("mcpServers"))


def parse_claude_code(doc: Document) -> ParseResult:
    """`mcpServers` plus every `projects.<dir>.mcpServers` (these apply to one project: scope project)."""
    results = [parse_mcp_servers(doc)]
    projects = doc.data.get("projects")
    if projects is not None and not isinstance(projects, Mapping):
        reason = f"`/projects` must be an object, found {type_name(projects)}"
        results.append(([], [doc.problem(reason, ("projects",))]))
    elif projects:
        project_doc = doc.with_scope("project")
        for directory, settings in projects.items():
            if isinstance(settings, Mapping) and "mcpServers" in settings:
                prefix = ("projects", str(directory), "mcpServers")
                results.append(parse_server_map(project_doc, prefix, settings["mcpServers"]))
    return merge_results(*results)


def _is_desktop(path: Path) -> bool:
    return path.name.lower() == "claude_desktop_config.json"


def _is_code(path: Path) -> bool:
    return path.name.lower() in (".claude.json", ".mcp.json")


CLAUDE_DESKTOP = Client(
    id="claude-desktop",
    parse=parse_mcp_servers,
    user_paths=_desktop_paths,
    recognizes=_is_desktop,
)

CLAUDE_CODE = Client(
    id="claude-code",
    parse=parse_claude_code,
    user_paths=_code_user_paths,
    project_paths=(".mcp.json",),
    recognizes=_is_code,
)
