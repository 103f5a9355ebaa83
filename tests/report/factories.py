"""Hand-built scan results for the report tests: a few lines per case, like mitmproxy's tflow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcpwarden.types import (
    Confidence,
    DefinitionKind,
    Finding,
    Location,
    ScanResult,
    ServerInventory,
    ServerSource,
    ServerSpec,
    Severity,
    ToolDef,
)

GITHUB_TOKEN = "ghp_R4nd0mT0k3nV4lu3Zx9Qw8Er7Ty6Ui5Op4"
BEARER_TOKEN = "sk-live-9fQ2xLmP7vR3tK8wZ1nB6yH4"
ARG_API_KEY = "AKx7pQ2mN9vR4tL8wZ3bY6cH1"
URL_TOKEN = "qZ8xW3vN7mK2pL9rT4yB"


def finding(
    rule_id: str = "MW301",
    severity: Severity = Severity.HIGH,
    *,
    confidence: Confidence = Confidence.HIGH,
    title: str = "Hidden instructions in a tool description",
    server: str | None = "github",
    tool: str | None = "create_issue",
    kind: DefinitionKind | None = "tool",
    pointer: str | None = "/description",
    file: str | None = None,
    line: int | None = None,
    message: str = "The description tells the model to do something the user did not ask for.",
    evidence: str = "ignore previous instructions",
    remediation: str = "Remove the server or pin a reviewed version.",
    refs: tuple[str, ...] = ("LLM01", "CWE-74"),
) -> Finding:
    """A finding about a tool definition unless told otherwise."""
    return Finding(
        rule_id=rule_id,
        title=title,
        severity=severity,
        confidence=confidence,
        location=Location(
            server=server,
            kind=kind if tool else None,
            tool=tool,
            pointer=pointer if tool else None,
            file=file,
            line=line,
        ),
        message=message,
        evidence=evidence,
        remediation=remediation,
        refs=refs,
    )


def config_finding(
    rule_id: str = "MW101",
    severity: Severity = Severity.MEDIUM,
    *,
    file: str = "/home/u/.cursor/mcp.json",
    line: int | None = 3,
) -> Finding:
    """A finding about a config file, not tied to a server (e.g. a broken file)."""
    return finding(
        rule_id,
        severity,
        title="Config file could not be parsed",
        server=None,
        tool=None,
        file=file,
        line=line,
        message="Unexpected token at line 3.",
        evidence="",
        remediation="Fix the JSON syntax.",
        refs=("CWE-20",),
    )


def tool(server: str, name: str, description: str = "Does a thing.", kind: DefinitionKind = "tool") -> ToolDef:
    definition: dict[str, Any] = {"name": name, "description": description}
    if kind == "tool":
        definition["inputSchema"] = {"type": "object", "properties": {"q": {"type": "string"}}}
    if kind == "resource":
        definition["uri"] = f"file:///{name}"
    return ToolDef(server=server, kind=kind, name=name, definition=definition)


def stdio_server(
    name: str = "github",
    *,
    ok: bool = True,
    tools: tuple[str, ...] = ("create_issue", "list_issues"),
    env: Mapping[str, str] | None = None,
    args: tuple[str, ...] = ("-y", "@modelcontextprotocol/server-github"),
    error: str | None = None,
    stderr: str = "",
    path: str = "/home/u/.config/Claude/claude_desktop_config.json",
) -> ServerInventory:
    spec = ServerSpec(
        name=name,
        transport="stdio",
        command="npx",
        args=args,
        env=env if env is not None else {"GITHUB_PERSONAL_ACCESS_TOKEN": GITHUB_TOKEN, "LOG_LEVEL": "debug"},
        sources=(ServerSource(client="claude-desktop", path=path, key=f"mcpServers.{name}", line=4),),
    )
    return ServerInventory(
        spec=spec,
        ok=ok,
        error=error,
        protocol_version="2025-06-18" if ok else None,
        server_info={"name": f"{name}-server", "version": "1.2.3"} if ok else {},
        capabilities={"tools": {"listChanged": True}} if ok else {},
        instructions="Use these tools for GitHub." if ok else None,
        definitions=tuple(tool(name, t) for t in tools) if ok else (),
        stderr=stderr,
        duration_s=0.25,
    )


def http_server(name: str = "remote", *, ok: bool = True, error: str | None = None) -> ServerInventory:
    spec = ServerSpec(
        name=name,
        transport="http",
        url=f"https://mcp.example.com/mcp?token={URL_TOKEN}",
        headers={"Authorization": f"Bearer {BEARER_TOKEN}"},
        sources=(ServerSource(client="cursor", path="/home/u/.cursor/mcp.json", key=f"mcpServers.{name}"),),
    )
    definitions = (tool(name, "search"), tool(name, "greet", kind="prompt"), tool(name, "readme", kind="resource"))
    return ServerInventory(
        spec=spec,
        ok=ok,
        error=error,
        protocol_version="2025-11-25" if ok else None,
        definitions=definitions if ok else (),
    )


def scan(*servers: ServerInventory, findings: tuple[Finding, ...] = (), static: bool = False) -> ScanResult:
    return ScanResult(
        servers=servers,
        findings=findings,
        config_files=tuple(sorted({src.path for s in servers for src in s.spec.sources})),
        static=static,
        started_at="2025-06-01T12:00:00+00:00",
        duration_s=1.5,
    )


def full_scan() -> ScanResult:
    """Two reachable servers, one unreachable, findings of every severity and a loose config finding."""
    return scan(
        stdio_server("github"),
        http_server("remote"),
        stdio_server(
            "broken",
            ok=False,
            error=f"process exited with code 1; --api-key {ARG_API_KEY}",
            stderr="x" * 5000 + f" token={GITHUB_TOKEN}",
            args=("server.js", "--api-key", ARG_API_KEY),
        ),
        findings=(
            finding("MW301", Severity.CRITICAL),
            finding("MW302", Severity.HIGH, tool="list_issues", title="Tool shadows another server's tool"),
            finding("MW303", Severity.MEDIUM, server="remote", tool="search", confidence=Confidence.LOW),
            finding("MW201", Severity.LOW, tool=None, title="Server runs an unpinned package", evidence="npx -y"),
            finding("MW202", Severity.INFO, server="remote", tool=None, title="Remote server over HTTP"),
            config_finding(),
        ),
    )
