"""The JSONL transcript of a run: every request and answer, every probe's outcome, secrets masked.

Line types: `run` (seed, target, options), `exchange` (one send and its answer), `probe` (a judged
probe: key, attack, rule, outcome, evidence) and `end`. Configured token and header values are
replaced by `«redacted»` and anything credential-shaped is masked before a line is written, so a
transcript can be attached to a ticket; `replay` takes the credentials again from the command line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from mcpwarden.detect.secrets import mask_secrets
from mcpwarden.errors import UsageError
from mcpwarden.redteam.wire import Exchange

TRANSCRIPT_VERSION = 1
REDACTED = "«redacted»"
# Probe keys are made by the run (attack ids, tool and parameter names) and are what `replay`
# compares: only configured secrets are replaced in them, or `auth.jwt:wrong_audience` would read
# as a credential assigned to a key and be masked.
_IDENTIFIERS = frozenset({"key", "probe"})


class Masker:
    """Replaces the configured secret values, then masks anything else that looks like a credential."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a whole header value is replaced before a token inside it.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def add(self, values: Iterable[str]) -> None:
        """More values to replace (tokens minted during the run)."""
        self.secrets = sorted({*self.secrets, *(v for v in values if len(v) >= 4)}, key=len, reverse=True)

    def exact(self, value: str) -> str:
        """Only the configured secret values replaced (for identifiers the run made itself)."""
        for secret in self.secrets:
            value = value.replace(secret, REDACTED)
        return value

    def text(self, value: str) -> str:
        return mask_secrets(self.exact(value))

    def deep(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {str(k): self.deep(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.deep(v) for v in value]
        return value


class Transcript:
    """Writes transcript lines to a file (or nowhere), masking every string first."""

    def __init__(self, path: Path | None, masker: Masker) -> None:
        self.masker = masker
        self.path = path
        self.probe = "-"  # the probe whose sends are being recorded now
        self._handle: IO[str] | None = None
        if path is not None:
            try:
                self._handle = path.open("w", encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot write the transcript: {exc.strerror}", where=str(path)) from None

    def write(self, line: Mapping[str, Any]) -> None:
        if self._handle is not None:
            masked = {
                str(k): self.masker.exact(v) if k in _IDENTIFIERS and isinstance(v, str) else self.masker.deep(v)
                for k, v in line.items()
            }
            self._handle.write(json.dumps(masked, ensure_ascii=False, default=str) + "\n")
            self._handle.flush()

    async def exchange(self, exchange: Exchange) -> None:
        self.write(
            {
                "type": "exchange",
                "probe": self.probe,
                "request": exchange.request,
                "response": {
                    "status": exchange.status,
                    "headers": exchange.headers,
                    "body": exchange.body,
                    "error": exchange.error,
                    "elapsed_s": round(exchange.elapsed_s, 4),
                },
            }
        )

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def read_transcript(path: Path) -> list[dict[str, Any]]:
    """Every line of a transcript; a UsageError naming the line when one is not a JSON object."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the transcript: {exc.strerror}", where=str(path)) from None
    lines: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            raise UsageError("not a JSON line", where=f"{path}:{number}") from None
        if not isinstance(value, dict) or "type" not in value:
            raise UsageError("not a transcript line (no `type`)", where=f"{path}:{number}")
        lines.append(value)
    if not lines or lines[0].get("type") != "run":
        raise UsageError("not a red-team transcript (the first line must be the `run` line)", where=str(path))
    if lines[0].get("version") != TRANSCRIPT_VERSION:
        raise UsageError(f"unsupported transcript version {lines[0].get('version')!r}", where=str(path))
    return lines
