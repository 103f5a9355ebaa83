"""The benchmark's upstream: one `echo` tool over streamable HTTP on 127.0.0.1 (SDK MCPServer)."""

from __future__ import annotations

import argparse

import uvicorn
from mcp.server.mcpserver import MCPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    opts = parser.parse_args()
    server = MCPServer("bench-echo")

    @server.tool()
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    app = server.streamable_http_app(json_response=True)
    uvicorn.run(app, host="127.0.0.1", port=opts.port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
