"""The calling client's validated token, visible to the code that runs on its behalf.

Set by the HTTP front around each request; read only by upstream credentials that exchange it
(RFC 8693). It never reaches a Principal, a log line, the audit trail or an upstream request.
"""

from __future__ import annotations

from contextvars import ContextVar

CALLER_TOKEN: ContextVar[str | None] = ContextVar("mcpwarden_caller_token", default=None)

# True only in an upstream's own connection task (handshake, event stream, closing the session): what
# the gateway sends there is on its own behalf, with no caller to act for. Calls made for a client run
# in that client's task, where this stays False, so a caller without a token can never borrow the
# gateway's own credentials for an upstream that requires per-caller (exchanged) tokens.
GATEWAY_TRAFFIC: ContextVar[bool] = ContextVar("mcpwarden_gateway_traffic", default=False)
