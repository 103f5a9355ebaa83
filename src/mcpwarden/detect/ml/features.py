"""Hashed word and character n-gram features, computed with numpy alone.

The same function turns a text into features at training time (tools/train_detector) and at run
time, so the two cannot drift apart. A text becomes two groups of features, each scaled to unit
length so that neither drowns the other:
- character 3-, 4- and 5-grams of the folded text (catch spelling variants, markup such as
  `<|im_start|>`, `[SYSTEM]` or `<!--`, and words the vocabulary never saw);
- word unigrams and bigrams (catch phrasing: "ignore previous", "do not tell").
Each n-gram is hashed (FNV-1a over code points, then a 64-bit finaliser) into 2**bits buckets, with
one hash bit as a sign so that collisions cancel on average instead of piling up.

Folding is deliberately cheap: NFKC, lower case, digits to `0`, whitespace runs to one space.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_MIX_1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX_2 = np.uint64(0xC4CEB9FE1A85EC53)
_BIGRAM = np.uint64(0x9E3779B97F4A7C15)
_SALT_WORD = np.uint64(0x5851F42D4C957F2D)
_SALT_BIGRAM = np.uint64(0x14057B7EF767814F)
_SIGN_SHIFT = np.uint64(63)
_WORDS = re.compile(r"\w+|[^\w\s]+")
_DIGITS = re.compile(r"\d")
_SPACES = re.compile(r"\s+")

U64Array = npt.NDArray[np.uint64]


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """How texts become features; stored with the weights so a model is only used with its own spec."""

    bits: int = 18
    char_ngrams: tuple[int, ...] = (3, 4, 5)

    @property
    def dim(self) -> int:
        """Number of hash buckets (length of a weight vector)."""
        return 1 << self.bits


def fold(text: str) -> str:
    """The normalised form every feature is computed from."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _SPACES.sub(" ", _DIGITS.sub("0", text)).strip()


def _finalise(h: U64Array) -> U64Array:
    # murmur3's 64-bit finaliser: spreads FNV's weak low bits over the whole word.
    h = h ^ (h >> np.uint64(33))
    h = h * _MIX_1
    h = h ^ (h >> np.uint64(33))
    h = h * _MIX_2
    return h ^ (h >> np.uint64(33))


def _char_hashes(folded: str, sizes: tuple[int, ...]) -> U64Array:
    # surrogatepass: a lone surrogate (invalid UTF-16 pasted into JSON) must not make scoring fail
    codes = np.frombuffer(folded.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    parts = []
    for n in sizes:
        count = codes.size - n + 1
        if count <= 0:
            continue
        h = np.full(count, _FNV_OFFSET ^ np.uint64(n), dtype=np.uint64)
        for k in range(n):
            h = (h ^ codes[k : k + count]) * _FNV_PRIME
        parts.append(_finalise(h))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)


def _word_hashes(folded: str) -> U64Array:
    tokens = _WORDS.findall(folded)
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    # Hash each distinct token once: texts repeat their words, and the lookup is cheaper than crc32.
    table = {t: zlib.crc32(t.encode("utf-8", "surrogatepass")) for t in set(tokens)}
    base = np.fromiter(map(table.__getitem__, tokens), np.uint64, len(tokens))
    unigrams = _finalise(base ^ _SALT_WORD)
    bigrams = _finalise((base[:-1] * _BIGRAM) ^ base[1:] ^ _SALT_BIGRAM)
    return np.concatenate([unigrams, bigrams])


def _group(hashes: U64Array, mask: np.uint64) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Bucket indices and signed, sublinear, unit-length values of one feature group."""
    if hashes.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    unique, counts = np.unique(hashes, return_counts=True)
    values = (1.0 + np.log(counts)).astype(np.float32)
    values /= np.float32(np.sqrt(np.dot(values, values)))
    signs = np.where((unique >> _SIGN_SHIFT) == 1, np.float32(-1.0), np.float32(1.0))
    return (unique & mask).astype(np.int64), values * signs


def featurize(text: str, spec: FeatureSpec) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Sparse features of one text: (bucket indices, values); an index may repeat (values then add)."""
    folded = fold(text)
    mask = np.uint64(spec.dim - 1)
    char_idx, char_val = _group(_char_hashes(folded, spec.char_ngrams), mask)
    word_idx, word_val = _group(_word_hashes(folded), mask)
    return np.concatenate([char_idx, word_idx]), np.concatenate([char_val, word_val])
