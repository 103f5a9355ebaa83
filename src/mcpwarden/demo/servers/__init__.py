"""Example MCP servers started by `mcpwarden scan --demo` (deliberately unsafe ones are marked so)."""
