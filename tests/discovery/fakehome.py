"""A fake machine for discovery tests: a home directory (and Windows env) under tmp_path, with the
real-format sample files from fixtures/ placed where each client keeps them on each OS.

The locations below are written from the clients' documentation, independently of the code under
test, so a wrong path in src/ fails the tests instead of agreeing with itself.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
OS_NAMES = ("linux", "darwin", "windows")

_MAC_SUPPORT = "{home}/Library/Application Support"
_CLINE = "User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"

# fixture file -> {os: location template}; {home}, {appdata} and {profile} are filled per machine.
USER_LOCATIONS: dict[str, dict[str, str]] = {
    "claude_desktop_config.json": {
        "linux": "{home}/.config/Claude/claude_desktop_config.json",
        "darwin": _MAC_SUPPORT + "/Claude/claude_desktop_config.json",
        "windows": "{appdata}/Claude/claude_desktop_config.json",
    },
    "claude.json": {
        "linux": "{home}/.claude.json",
        "darwin": "{home}/.claude.json",
        "windows": "{profile}/.claude.json",
    },
    "cursor_mcp.json": {
        "linux": "{home}/.cursor/mcp.json",
        "darwin": "{home}/.cursor/mcp.json",
        "windows": "{profile}/.cursor/mcp.json",
    },
    "vscode_settings.json": {
        "linux": "{home}/.config/Code/User/settings.json",
        "darwin": _MAC_SUPPORT + "/Code/User/settings.json",
        "windows": "{appdata}/Code/User/settings.json",
    },
    "vscode_mcp.json": {
        "linux": "{home}/.config/Code/User/mcp.json",
        "darwin": _MAC_SUPPORT + "/Code/User/mcp.json",
        "windows": "{appdata}/Code/User/mcp.json",
    },
    "windsurf_mcp_config.json": {
        "linux": "{home}/.codeium/windsurf/mcp_config.json",
        "darwin": "{home}/.codeium/windsurf/mcp_config.json",
        "windows": "{profile}/.codeium/windsurf/mcp_config.json",
    },
    "gemini_settings.json": {
        "linux": "{home}/.gemini/settings.json",
        "darwin": "{home}/.gemini/settings.json",
        "windows": "{profile}/.gemini/settings.json",
    },
    "codex_config.toml": {
        "linux": "{home}/.codex/config.toml",
        "darwin": "{home}/.codex/config.toml",
        "windows": "{profile}/.codex/config.toml",
    },
    "zed_settings.json": {
        "linux": "{home}/.config/zed/settings.json",
        "darwin": "{home}/.config/zed/settings.json",
        "windows": "{appdata}/Zed/settings.json",
    },
    "cline_mcp_settings.json": {
        "linux": "{home}/.config/Code/" + _CLINE,
        "darwin": _MAC_SUPPORT + "/Code/" + _CLINE,
        "windows": "{appdata}/Code/" + _CLINE,
    },
    "continue_config.yaml": {
        "linux": "{home}/.continue/config.yaml",
        "darwin": "{home}/.continue/config.yaml",
        "windows": "{profile}/.continue/config.yaml",
    },
    "continue_config.json": {
        "linux": "{home}/.continue/config.json",
        "darwin": "{home}/.continue/config.json",
        "windows": "{profile}/.continue/config.json",
    },
    "goose_config.yaml": {
        "linux": "{home}/.config/goose/config.yaml",
        "darwin": "{home}/.config/goose/config.yaml",
        "windows": "{appdata}/Block/goose/config/config.yaml",
    },
}

Entry = tuple[str, str, str, str, str, str]

# Every server entry in each user fixture: (client, JSON pointer, name, transport, command or url, scope).
ENTRIES_BY_FIXTURE: dict[str, set[Entry]] = {
    "claude_desktop_config.json": {
        ("claude-desktop", "/mcpServers/filesystem", "filesystem", "stdio", "npx", "user"),
        ("claude-desktop", "/mcpServers/github", "github", "stdio", "npx", "user"),
    },
    "claude.json": {
        ("claude-code", "/mcpServers/sentry", "sentry", "http", "https://mcp.sentry.dev/mcp", "user"),
        ("claude-code", "/projects/~1home~1me~1repo/mcpServers/db", "db", "stdio", "uvx", "project"),
    },
    "cursor_mcp.json": {
        ("cursor", "/mcpServers/github", "github", "stdio", "npx", "user"),
        ("cursor", "/mcpServers/context7", "context7", "http", "https://mcp.context7.com/mcp", "user"),
    },
    "vscode_settings.json": {
        ("vscode", "/mcp/servers/fetch", "fetch", "stdio", "uvx", "user"),
    },
    "vscode_mcp.json": {
        ("vscode", "/servers/github-remote", "github-remote", "http", "https://api.githubcopilot.com/mcp/", "user"),
        ("vscode", "/servers/memory", "memory", "stdio", "npx", "user"),
    },
    "windsurf_mcp_config.json": {
        ("windsurf", "/mcpServers/brave-search", "brave-search", "stdio", "npx", "user"),
        ("windsurf", "/mcpServers/deepwiki", "deepwiki", "http", "https://mcp.deepwiki.com/mcp", "user"),
    },
    "gemini_settings.json": {
        ("gemini-cli", "/mcpServers/events", "events", "sse", "http://localhost:8080/events", "user"),
        ("gemini-cli", "/mcpServers/stream", "stream", "http", "https://gemini.example/mcp", "user"),
        ("gemini-cli", "/mcpServers/python-tools", "python-tools", "stdio", "python", "user"),
    },
    "codex_config.toml": {
        ("codex", "/mcp_servers/inline", "inline", "stdio", "mcp-inline", "user"),
        ("codex", "/mcp_servers/docs", "docs", "stdio", "npx", "user"),
        ("codex", "/mcp_servers/figma.remote", "figma.remote", "http", "https://figma.example/mcp", "user"),
    },
    "zed_settings.json": {
        ("zed", "/context_servers/new-style", "new-style", "stdio", "node", "user"),
        ("zed", "/context_servers/old-style", "old-style", "stdio", "/usr/local/bin/mcp-old", "user"),
        ("zed", "/context_servers/remote", "remote", "http", "https://zed.example/mcp", "user"),
    },
    "cline_mcp_settings.json": {
        ("cline", "/mcpServers/weather", "weather", "stdio", "node", "user"),
        ("cline", "/mcpServers/remote-default", "remote-default", "sse", "https://cline.example/mcp", "user"),
        ("cline", "/mcpServers/remote-stream", "remote-stream", "http", "https://cline.example/stream", "user"),
    },
    "continue_config.yaml": {
        ("continue", "/mcpServers/0", "SQLite MCP", "stdio", "npx", "user"),
        ("continue", "/mcpServers/1", "Remote Tools", "http", "https://continue.example/mcp", "user"),
    },
    "continue_config.json": {
        (
            "continue",
            "/experimental/modelContextProtocolServers/0",
            "modelContextProtocolServers[0]",
            "stdio",
            "uvx",
            "user",
        ),
    },
    "goose_config.yaml": {
        ("goose", "/extensions/filesystem", "filesystem", "stdio", "npx", "user"),
        ("goose", "/extensions/remote-tools", "remote-tools", "http", "https://goose.example/mcp", "user"),
        ("goose", "/extensions/old-events", "old-events", "sse", "http://localhost:9000/sse", "user"),
    },
}
USER_ENTRIES: set[Entry] = set().union(*ENTRIES_BY_FIXTURE.values())


@dataclass(frozen=True)
class FakeMachine:
    """Where a test machine's home is, and the environment discovery should be given."""

    os_name: str
    home: Path
    env: dict[str, str]

    def location(self, template: str) -> Path:
        """A location template resolved for this machine."""
        appdata = self.env.get("APPDATA", str(self.home / "AppData" / "Roaming"))
        profile = self.env.get("USERPROFILE", str(self.home))
        return Path(template.format(home=self.home, appdata=appdata, profile=profile))

    def place(self, fixture: str, template: str) -> Path:
        """Copy a fixture to a location template; returns where it went."""
        target = self.location(template)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / fixture, target)
        return target

    def write(self, template: str, text: str | bytes) -> Path:
        """Write given content at a location template."""
        target = self.location(template)
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8")
        return target


def make_machine(root: Path, os_name: str) -> FakeMachine:
    """An empty machine; on Windows, %APPDATA% and %USERPROFILE% deliberately lie outside `home`
    so that a client reading the wrong one finds nothing."""
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] = {}
    if os_name == "windows":
        env = {"APPDATA": str(root / "Roaming"), "USERPROFILE": str(root / "profile")}
    return FakeMachine(os_name=os_name, home=home, env=env)


def full_machine(root: Path, os_name: str) -> FakeMachine:
    """A machine with every client's user config in place."""
    machine = make_machine(root, os_name)
    for fixture, by_os in USER_LOCATIONS.items():
        machine.place(fixture, by_os[os_name])
    return machine
