"""Secret masking of JSON values, and the masker's memory of recent texts."""

from __future__ import annotations

from mcpwarden.gateway.masking import SecretMasker, mask_value

TOKEN = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5"


def test_mask_value_masks_leaves_and_keeps_clean_structures() -> None:
    clean = {"a": ["x", {"b": "plain text"}], "n": 3}
    assert mask_value(clean) == (clean, False) and mask_value(clean)[0] is clean
    masked, changed = mask_value({"a": ["x", {"b": f"token {TOKEN}"}], "n": 3})
    assert changed and TOKEN not in masked["a"][1]["b"] and masked["n"] == 3


def test_masker_returns_the_same_object_for_clean_text_even_when_remembered() -> None:
    masker = SecretMasker(size=2)
    first, copy = "a clean sentence of text", "".join(["a clean sentence", " of text"])
    assert masker(first) is first
    assert masker(copy) is copy  # equal text, another object: still "unchanged"
    secret = f"key {TOKEN}"
    assert TOKEN not in masker(secret) and masker(secret) == masker("".join(["key ", TOKEN]))
    masker("third text to evict the oldest")
    assert masker(first) is first


def test_a_text_remembered_clean_is_returned_as_is_but_never_unmasks_a_known_secret() -> None:
    masker = SecretMasker(size=4)
    clean = "a plain sentence proven clean elsewhere"
    masker.remember_clean(clean)
    assert masker(clean) is clean
    secret = f"key {TOKEN}"
    masked = masker(secret)
    masker.remember_clean(secret)  # a wrong claim about a text it already masked changes nothing
    assert masker(secret) == masked and TOKEN not in masked
