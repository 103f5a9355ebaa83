"""A calibrated linear classifier over hashed n-grams: the learned layer's model at run time.

One weight vector per model family: `tool_output` (also used for tool arguments, prompts and
resources: text the model reads as data) and `tool_description` (also parameter descriptions).
A long text is scored in overlapping windows and its score is the highest window's, so one planted
sentence is not diluted by pages of benign text; beyond `max_chars` only the head and the tail are
read, which bounds the cost of a huge input.

The weights file is JSON (so the package's data globs ship it) holding little-endian float16
vectors in base64, the feature spec, and Platt parameters fitted on held-out training data.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mcpwarden.detect.ml.features import FeatureSpec, featurize

FORMAT = "mcpwarden-linear-ngram/1"
# Which model answers for each text kind of the engine (detect/ruleset.py TEXT_KINDS).
KIND_MODELS: Mapping[str, str] = {
    "tool_output": "tool_output",
    "tool_arguments": "tool_output",
    "prompt": "tool_output",
    "resource": "tool_output",
    "tool_description": "tool_description",
    "parameter_description": "tool_description",
}


@dataclass(frozen=True, slots=True)
class Windowing:
    """How a long text is cut before scoring."""

    window_chars: int = 3072
    step_chars: int = 2048
    max_chars: int = 131_072  # beyond this, only the first 3/4 and the last 1/4 of the budget are read

    def windows(self, text: str) -> list[str]:
        """The stretches of `text` that are scored (one for a short text, never none)."""
        if len(text) > self.max_chars:
            head = self.max_chars * 3 // 4
            text = text[:head] + "\n" + text[-(self.max_chars - head) :]
        if len(text) <= self.window_chars:
            return [text]
        last = len(text) - self.window_chars
        starts = [*range(0, last, self.step_chars), last]
        return [text[s : s + self.window_chars] for s in starts]


@dataclass(frozen=True, slots=True)
class LinearModel:
    """Weights, bias and calibration of one model family."""

    weights: npt.NDArray[np.float32]
    bias: float
    platt_a: float = 1.0
    platt_b: float = 0.0

    def margins(self, texts: Sequence[str], spec: FeatureSpec) -> npt.NDArray[np.float64]:
        """Raw (uncalibrated) decision values, one per text."""
        out = np.empty(len(texts), dtype=np.float64)
        for i, text in enumerate(texts):
            idx, val = featurize(text, spec)
            out[i] = self.bias + float(np.dot(self.weights[idx], val))
        return out

    def calibrate(self, margin: float) -> float:
        """Probability for a raw margin (Platt scaling)."""
        z = self.platt_a * margin + self.platt_b
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


class LinearScorer:
    """Scores how likely a text carries instructions injected for the model (0..1, calibrated)."""

    def __init__(
        self,
        models: Mapping[str, LinearModel],
        *,
        spec: FeatureSpec,
        windowing: Windowing,
        name: str,
        version: str,
    ) -> None:
        missing = set(KIND_MODELS.values()) - set(models)
        if missing:
            raise ValueError(f"weights lack the model families {sorted(missing)}")
        self.models = dict(models)
        self.spec = spec
        self.windowing = windowing
        self.name = name
        self.version = version

    def _model(self, kind: str) -> LinearModel:
        family = KIND_MODELS.get(kind)
        if family is None:
            raise ValueError(f"unknown text kind {kind!r} (one of: {', '.join(sorted(KIND_MODELS))})")
        return self.models[family]

    def margin(self, text: str, kind: str) -> float:
        """The raw decision value of `text`: the highest over its windows."""
        model = self._model(kind)
        return float(model.margins(self.windowing.windows(text), self.spec).max())

    def score(self, text: str, kind: str) -> float:
        """Calibrated probability (0..1) that `text` carries injected instructions aimed at the model."""
        return self._model(kind).calibrate(self.margin(text, kind))

    def score_many(self, texts: Sequence[str], kind: str) -> list[float]:
        """`score` for each text, in order."""
        return [self.score(text, kind) for text in texts]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinearScorer:
        """Build from the weights file's JSON object; raise ValueError when it is not one."""
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} weights file (format={data.get('format')!r})")
        feat = data["features"]
        spec = FeatureSpec(bits=int(feat["bits"]), char_ngrams=tuple(int(n) for n in feat["char_ngrams"]))
        windowing = Windowing(**{k: int(v) for k, v in data["windowing"].items()})
        models = {}
        for family, raw in data["models"].items():
            weights = np.frombuffer(base64.b64decode(raw["weights_f16_b64"]), dtype="<f2").astype(np.float32)
            if weights.size != spec.dim:
                raise ValueError(f"model {family!r} has {weights.size} weights, the spec needs {spec.dim}")
            models[family] = LinearModel(weights, float(raw["bias"]), float(raw["platt_a"]), float(raw["platt_b"]))
        return cls(models, spec=spec, windowing=windowing, name=str(data["name"]), version=str(data["version"]))

    @classmethod
    def from_file(cls, path: Path) -> LinearScorer:
        """Load a weights file written by tools/train_detector/train.py."""
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


def encode_weights(weights: npt.NDArray[np.floating[Any]]) -> str:
    """base64 of little-endian float16 weights, the weights file's encoding."""
    return base64.b64encode(np.asarray(weights, dtype="<f2").tobytes()).decode("ascii")
