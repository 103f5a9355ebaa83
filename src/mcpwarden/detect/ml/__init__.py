"""The optional learned layer of the detection engine (`pip install mcpwarden[ml]`).

`load_scorer()` returns a `Scorer` built from the weights that ship in this package
(`linear_ngram.json`, with its model card `model_card.json`), or None when the `ml` extra's
dependencies (numpy) are not installed or the weights file is missing or unreadable. Nothing is
downloaded at run time. The model, its training data and its figures are described in
docs/learned-detector.md.

Loading reads and decodes about 5.6 MB (a third of a second): call `load_scorer()` once and keep
the scorer (it is immutable and safe to share between threads). `mcpwarden detect` joins its score
to the rules' by default when it loads (`--no-ml` turns it off); `detect.default_engine()` leaves it
out unless asked (`default_engine(True)`), so the gateway's and scanner's hot paths stay rules-only.
"""

from __future__ import annotations

import importlib.resources
import json
import logging
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

WEIGHTS_FILE = "linear_ngram.json"
MODEL_CARD_FILE = "model_card.json"

_log = logging.getLogger(__name__)

__all__ = ["MODEL_CARD_FILE", "WEIGHTS_FILE", "Scorer", "load_scorer"]


@runtime_checkable
class Scorer(Protocol):
    """A learned scorer: probability that a text carries injected instructions aimed at the model."""

    name: str
    version: str

    def score(self, text: str, kind: str) -> float:
        """Calibrated probability in 0..1 for one text of a given kind (see detect/ruleset.py TEXT_KINDS)."""
        ...

    def score_many(self, texts: Sequence[str], kind: str) -> list[float]:
        """`score` for each text, in order."""
        ...


def load_scorer() -> Scorer | None:
    """The packaged learned scorer, or None (with the reason logged at debug level) when unavailable."""
    try:
        from mcpwarden.detect.ml.scorer import LinearScorer
    except ImportError as exc:
        _log.debug("learned detector unavailable: the ml extra is not installed (%s)", exc)
        return None
    resource = importlib.resources.files(__name__).joinpath(WEIGHTS_FILE)
    try:
        raw = resource.read_text(encoding="utf-8")
    except (FileNotFoundError, OSError) as exc:
        _log.debug("learned detector unavailable: cannot read %s (%s)", WEIGHTS_FILE, exc)
        return None
    try:
        return LinearScorer.from_dict(json.loads(raw))
    except (ValueError, KeyError, TypeError) as exc:
        _log.debug("learned detector unavailable: %s is not a valid weights file (%s)", WEIGHTS_FILE, exc)
        return None
