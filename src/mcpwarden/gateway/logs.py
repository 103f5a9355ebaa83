"""Structured JSON logs on stderr (stdout may be the MCP channel), secrets masked in every line."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

from mcpwarden.detect.secrets import mask_secrets

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's `fields` extra."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        # Masked last, over the whole line: a secret in any field or traceback is caught too.
        return mask_secrets(json.dumps(entry, ensure_ascii=False, default=str))


def configure_logging(level: str = "info", stream: TextIO | None = None) -> logging.Handler:
    """Send `mcpwarden.*` logs to `stream` (stderr) as JSON lines; returns the handler installed."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("mcpwarden")
    for old in [h for h in logger.handlers if isinstance(h.formatter, JsonFormatter)]:
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(_LEVELS.get(level, logging.INFO))
    logger.propagate = False
    return handler
