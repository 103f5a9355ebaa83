"""Demo server: a clean mail tool set. Nothing here should be flagged as poisoning."""

from mcp.server.mcpserver import MCPServer

server = MCPServer("demo-mail", instructions="Tools to read and send e-mail for the signed-in user.")


@server.tool()
def send_email(to: str, subject: str, body: str) -> str:
    """Send an e-mail to one recipient.

    Args:
        to: Recipient address.
        subject: Subject line.
        body: Plain-text body.
    """
    return f"queued message to {to}"


@server.tool()
def list_inbox(limit: int = 10) -> list[str]:
    """List the subjects of the most recent messages in the inbox."""
    return [f"message {i}" for i in range(limit)]


@server.prompt()
def summarize_inbox() -> str:
    """Summarise today's unread messages."""
    return "Summarise the unread messages in my inbox."


@server.resource("mail://folders")
def folders() -> str:
    """The user's mail folders."""
    return "inbox, sent, archive"


if __name__ == "__main__":
    server.run()
