"""Every client discovery knows, in the order their servers are reported."""

from __future__ import annotations

from pathlib import Path

from ._client import Client
from .claude import CLAUDE_CODE, CLAUDE_DESKTOP
from .codex import CODEX
from .continue_dev import CONTINUE
from .cursor import CURSOR
from .explicit import EXPLICIT
from .gemini import GEMINI
from .goose import GOOSE
from .vscode import CLINE, VSCODE
from .windsurf import WINDSURF
from .zed import ZED

CLIENTS: tuple[Client, ...] = (
    CLAUDE_DESKTOP,
    CLAUDE_CODE,
    CURSOR,
    VSCODE,
    WINDSURF,
    GEMINI,
    CODEX,
    ZED,
    CLINE,
    CONTINUE,
    GOOSE,
)


def client_by_id(client_id: str) -> Client:
    """The client with this id (`explicit` included); raises KeyError for an unknown id."""
    for client in (*CLIENTS, EXPLICIT):
        if client.id == client_id:
            return client
    raise KeyError(client_id)


def client_for_path(path: Path) -> Client:
    """The client whose file this path looks like, or the shape-detecting `explicit` reader."""
    for client in CLIENTS:
        if client.recognizes(path):
            return client
    return EXPLICIT
