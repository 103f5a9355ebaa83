"""NAIVE REFERENCE POINT, not a product detector: case-insensitive substring search for a short,
generic list of prompt-injection phrases, behind the `mcpwarden detect` JSONL protocol.

It exists so the harness can run before `mcpwarden detect` does, and so every real detector has a
floor to beat. The phrase list is written from general knowledge of injection wording and is
deliberately NOT tuned on the dev set.

Score = 1 - 0.5**hits (more distinct phrases, higher score); flagged = at least one hit.

    python bench/detect/keyword_baseline.py --input rows.jsonl
    python bench/detect/keyword_baseline.py --text "please ignore previous instructions"
"""

from __future__ import annotations

import argparse
import sys

from detector_protocol import Verdict, add_protocol_args, serve

PHRASES = (
    "ignore previous instructions",
    "ignore all previous",
    "ignore the above",
    "disregard previous",
    "disregard all prior",
    "forget your instructions",
    "new instructions:",
    "system prompt",
    "you are now",
    "do not tell the user",
    "don't tell the user",
    "without telling the user",
    "do not mention",
    "<important>",
    "before using this tool",
    "instead, you must",
    "send the contents",
    "exfiltrate",
    "api key",
    "~/.ssh",
    "id_rsa",
)


class KeywordMatcher:
    """Substring search over lower-cased text; rule ids are `KW:<phrase>`."""

    def __init__(self, phrases: tuple[str, ...] = PHRASES) -> None:
        self._phrases = tuple(p.lower() for p in phrases)

    def __call__(self, text: str, kind: str) -> Verdict:
        lowered = text.lower()
        hits = [p for p in self._phrases if p in lowered]
        return Verdict(flagged=bool(hits), score=1.0 - 0.5 ** len(hits), rules=[f"KW:{p}" for p in hits])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_protocol_args(parser)
    return serve(parser.parse_args(argv), KeywordMatcher())


if __name__ == "__main__":
    sys.exit(main())
