"""Rate limits: per principal, per tool and per both, counted in the shared live state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from mcpwarden.errors import ConfigError
from mcpwarden.gateway.interceptors.rate_limit import RateLimits
from mcpwarden.gateway.testing import make_call
from mcpwarden.types import Principal
from tests.gateway.interceptors.helpers import context

pytestmark = pytest.mark.anyio
ALICE, BOB = Principal(id="alice"), Principal(id="bob")


@pytest.mark.parametrize(
    ("limit", "calls", "refused"),
    [
        # two calls allowed per key; which of these five calls are refused
        (
            {"key": "principal"},
            [(ALICE, "fx__echo"), (ALICE, "web__fetch"), (ALICE, "fx__echo"), (BOB, "fx__echo")],
            [2],
        ),
        ({"key": "tool"}, [(ALICE, "fx__echo"), (BOB, "fx__echo"), (ALICE, "fx__echo"), (ALICE, "web__fetch")], [2]),
        (
            {"key": "principal+tool"},
            [(ALICE, "fx__echo"), (ALICE, "fx__echo"), (BOB, "fx__echo"), (ALICE, "web__fetch"), (ALICE, "fx__echo")],
            [4],
        ),
        ({"key": "principal", "tools": ["web/*"]}, [(ALICE, "fx__echo")] * 3 + [(ALICE, "web__fetch")] * 3, [5]),
    ],
)
async def test_limits_count_per_key(
    tmp_path: Path, limit: dict[str, Any], calls: list[tuple[Principal, str]], refused: list[int]
) -> None:
    limits = RateLimits.from_options({"limits": [{**limit, "limit": 2, "window_s": 60}]}, context(tmp_path))
    got = []
    for i, (principal, tool) in enumerate(calls):
        verdict = await limits.request(make_call(tool, principal=principal))
        if verdict is not None:
            assert verdict.denies and verdict.reasons == (f"rate_limit.{limit['key']}",)
            assert "retry in" in verdict.message
            got.append(i)
    assert got == refused


async def test_the_window_slides(tmp_path: Path) -> None:
    limits = RateLimits.from_options({"limits": [{"key": "principal", "limit": 1, "window_s": 0.2}]}, context(tmp_path))
    assert await limits.request(make_call()) is None
    assert await limits.request(make_call()) is not None
    await anyio.sleep(0.25)
    assert await limits.request(make_call()) is None


def test_limits_without_a_database_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"storage\.db"):
        RateLimits.from_options({"limits": [{"key": "tool", "limit": 1, "window_s": 1}]}, context())
