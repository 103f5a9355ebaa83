"""Masking secrets in JSON values (every string leaf), for arguments and results."""

from __future__ import annotations

from typing import Any

from mcpwarden.detect.secrets import mask_secrets


def mask_value(value: Any) -> tuple[Any, bool]:
    """`value` with every string leaf masked (a new structure only where something changed), and whether it did."""
    if isinstance(value, str):
        masked = mask_secrets(value)
        return masked, masked is not value
    changed = False
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out[key], hit = mask_value(item)
            changed |= hit
        return (out, True) if changed else (value, False)
    if isinstance(value, list):
        items = []
        for item in value:
            new, hit = mask_value(item)
            items.append(new)
            changed |= hit
        return (items, True) if changed else (value, False)
    return value, False


class SecretMasker:
    """`mask_secrets` with a small memory of recent texts.

    One call's texts are scanned several times (the arguments by the scanning interceptor and by the
    audit log's redact hook; a result's text block and its `structuredContent` copy), at about 55 µs
    per KiB each. Remembering the last few answers makes the repeats free. Texts are kept whole as
    keys, so equality is exact.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._recent: dict[str, str | None] = {}  # text → its masked form, None when it holds no secret

    def __call__(self, text: str) -> str:
        """`text` itself (the same object) when it holds no secret, else its masked copy."""
        if len(text) < 8:
            return text
        if text in self._recent:
            masked = self._recent[text]
            return text if masked is None else masked
        found = mask_secrets(text)
        self._keep(text, found)
        return found

    def remember_clean(self, text: str) -> None:
        """Record that `text` holds no secret, as a pass at least as thorough as `mask_secrets` proved
        (`Engine.analyze`), so the next call for it (the audit log's) is free."""
        if len(text) >= 8 and text not in self._recent:
            self._keep(text, text)

    def _keep(self, text: str, masked: str) -> None:
        if len(self._recent) >= self.size:
            del self._recent[next(iter(self._recent))]
        self._recent[text] = None if masked is text else masked
