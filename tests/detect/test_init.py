"""The public API of mcpwarden.detect, pinned so that changes to it are deliberate."""

from __future__ import annotations

import mcpwarden.detect as detect_package


def test_exported_members() -> None:
    assert sorted(detect_package.__all__) == [
        "Decoder",
        "DetectResult",
        "Engine",
        "Match",
        "Normalized",
        "Normalizer",
        "Reveal",
        "Segment",
        "analyze_inventories",
        "default_engine",
        "detect",
    ]
    for name in detect_package.__all__:
        assert getattr(detect_package, name) is not None
