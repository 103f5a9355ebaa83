"""The one exception hierarchy. The CLI turns each into one clear line and a non-zero exit."""

from __future__ import annotations

import re


class WardenError(Exception):
    """Base of every expected mcpwarden error.

    `where` names the file, key or server the error is about; `hint` says what to do.
    """

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def one_line(self) -> str:
        """The error as the single line the CLI prints."""
        parts = [f"{self.where}: {self.message}" if self.where else self.message]
        if self.hint:
            parts.append(f"({self.hint})")
        return " ".join(parts)


class UsageError(WardenError):
    """The user asked for something that cannot be done as asked."""


class ConfigError(WardenError):
    """A configuration file is missing, unreadable or invalid."""


class StorageError(WardenError):
    """The database could not be opened, read or written."""


class ConnectError(WardenError):
    """An MCP server could not be started, reached or enumerated."""


class RuleError(WardenError):
    """A detection rule file is invalid."""


class UnsafeFetchError(ConnectError):
    """A URL taken from a server or a metadata document was refused or could not be fetched safely.

    Raised by `protocol.safe_fetch` for every failure (refused scheme or address, too many redirects,
    body too large, timeout, bad JSON), so callers fail closed on one type. `url` is shown without
    userinfo and shortened; `reason` says why.
    """

    def __init__(self, url: str, reason: str, *, hint: str | None = None) -> None:
        shown = _shown_url(url)
        super().__init__(f"refused to fetch {shown}: {reason}", hint=hint)
        self.url = shown
        self.reason = reason


def _shown_url(url: str, limit: int = 200) -> str:
    """The URL fit for a log line: userinfo (possible credentials) removed, control characters escaped."""
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)(.*)", url, re.DOTALL)
    if match and "@" in match.group(2):
        url = f"{match.group(1)}***@{match.group(2).rpartition('@')[2]}{match.group(3)}"
    shown = url.encode("unicode_escape").decode("ascii")
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
