"""The linear scorer: windows, calibration, the weights file format."""

from __future__ import annotations

import math

import pytest

np = pytest.importorskip("numpy", reason="the learned detector needs the ml extra (numpy)")

from mcpwarden.detect.ml.features import FeatureSpec, featurize  # noqa: E402
from mcpwarden.detect.ml.scorer import (  # noqa: E402
    FORMAT,
    KIND_MODELS,
    LinearModel,
    LinearScorer,
    Windowing,
    encode_weights,
)
from mcpwarden.detect.ruleset import TEXT_KINDS  # noqa: E402


@pytest.mark.parametrize("length", [0, 1, 3072, 3073, 10_000, 50_001])
def test_windows_cover_the_whole_text(length: int) -> None:
    w = Windowing()
    text = "".join(chr(ord("a") + i % 26) for i in range(length))
    windows = w.windows(text)
    assert windows
    assert all(len(x) <= w.window_chars for x in windows)
    assert windows[0] == text[: w.window_chars]
    assert text.endswith(windows[-1])
    assert sum(len(x) for x in windows) >= length  # overlapping windows, nothing skipped


def test_huge_text_reads_only_head_and_tail() -> None:
    w = Windowing(window_chars=1000, step_chars=500, max_chars=10_000)
    text = "H" * 50_000 + "M" * 1_000_000 + "T" * 50_000
    windows = w.windows(text)
    joined = "".join(windows)
    assert "M" not in joined
    assert joined.startswith("H")
    assert joined.endswith("T")
    assert len(windows) <= 2 * w.max_chars // w.step_chars + 2


@pytest.mark.parametrize("margin", [-1e9, -50.0, 0.0, 50.0, 1e9])
def test_calibration_is_a_probability_even_for_extreme_margins(margin: float) -> None:
    model = LinearModel(np.zeros(4, dtype=np.float32), 0.0, platt_a=2.0, platt_b=-1.0)
    p = model.calibrate(margin)
    assert 0.0 <= p <= 1.0
    assert not math.isnan(p)


def _weights_dict(bits: int = 8, size: int | None = None) -> dict[str, object]:
    rng = np.random.default_rng(0)
    models = {
        family: {
            "weights_f16_b64": encode_weights(rng.normal(size=size or (1 << bits))),
            "bias": -0.5,
            "platt_a": 1.5,
            "platt_b": 0.1,
        }
        for family in set(KIND_MODELS.values())
    }
    return {
        "format": FORMAT,
        "name": "t",
        "version": "0",
        "features": {"bits": bits, "char_ngrams": [3, 4]},
        "windowing": {"window_chars": 100, "step_chars": 50, "max_chars": 1000},
        "models": models,
    }


def test_weights_round_trip_through_the_file_format() -> None:
    scorer = LinearScorer.from_dict(_weights_dict())
    assert scorer.spec == FeatureSpec(bits=8, char_ngrams=(3, 4))
    model = scorer.models["tool_output"]
    text = "hello there"
    idx, val = featurize(text, scorer.spec)
    manual = model.bias + sum(float(model.weights[i]) * float(v) for i, v in zip(idx, val, strict=True))
    assert scorer.margin(text, "tool_output") == pytest.approx(manual, rel=1e-5)
    assert scorer.score(text, "tool_output") == pytest.approx(model.calibrate(manual))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "other/1"}, "weights file"),
        ({"features": {"bits": 9, "char_ngrams": [3]}}, "weights"),
    ],
)
def test_bad_weights_files_are_rejected(change: dict[str, object], message: str) -> None:
    data = _weights_dict() | change
    with pytest.raises(ValueError, match=message):
        LinearScorer.from_dict(data)


def test_weights_must_cover_every_family() -> None:
    data = _weights_dict()
    del data["models"]["tool_description"]  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="tool_description"):
        LinearScorer.from_dict(data)


def test_every_engine_text_kind_has_a_model() -> None:
    assert set(KIND_MODELS) == set(TEXT_KINDS)
