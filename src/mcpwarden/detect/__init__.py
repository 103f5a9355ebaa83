"""Detection: rules as data over every text a model reads, and over the whole set of servers.

The entry points are `detect(text, kind)` for one text (scanner descriptions, gateway arguments and
results) and `analyze_inventories(inventories)` for what servers declare.
"""

from mcpwarden.detect.definitions import analyze_inventories
from mcpwarden.detect.engine import Engine, default_engine, detect
from mcpwarden.detect.normalize import Decoder, Normalized, Normalizer, Reveal, Segment
from mcpwarden.detect.results import DetectResult, Match

__all__ = [
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
