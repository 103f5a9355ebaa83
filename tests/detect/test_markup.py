"""Hidden HTML and Markdown regions, bounded on hostile input."""

from __future__ import annotations

import time

from mcpwarden.detect.markup import MAX_REGIONS, find_regions


def test_regions_come_in_order_with_their_payloads() -> None:
    view = 'a <!-- one two --> b <i hidden>three</i> c [x](http://e.x "four")'
    assert [(r.kind, r.payload) for r in find_regions(view)] == [
        ("html_comment", "one two"),
        ("hidden_element", "three"),
        ("markup_attribute", "four"),
    ]


def test_an_unterminated_comment_runs_to_the_end() -> None:
    [region] = find_regions("text <!-- never closed")
    assert region.payload == "never closed" and region.end == len("text <!-- never closed")


def test_hostile_markup_is_bounded_in_time_and_count() -> None:
    for view in ("<!--" * 50_000, "<span hidden>" * 20_000, "<a " * 60_000, '](x "t")' * 20_000):
        started = time.perf_counter()
        regions = find_regions(view)
        assert time.perf_counter() - started < 3.0
        assert len(regions) <= 3 * MAX_REGIONS
