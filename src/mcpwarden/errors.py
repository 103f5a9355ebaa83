"""The one exception hierarchy. The CLI turns each into one clear line and a non-zero exit."""

from __future__ import annotations


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
