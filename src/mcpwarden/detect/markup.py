"""Find text that HTML or Markdown hides from a person but a model still reads.

Runs on the normalised, whitespace-collapsed view, so every span it reports is in the coordinates
the rule patterns match in: a pattern match inside such a span can say where it was hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

MAX_REGIONS = 64  # per kind of region; beyond this the text is hostile and the first ones suffice
_BODY_LIMIT = 20_000

_COMMENT = regex.compile(r"<!--(.*?)(?:-->|$)", regex.DOTALL)
_OPEN_TAG = regex.compile(r"<([a-z][a-z0-9-]{0,30})\b([^<>]{0,2000})>", regex.IGNORECASE)
_HIDING_ATTR = regex.compile(
    r"(?:^|[\s;\"'])(?:hidden(?=[\s=/]|$)|aria-hidden\s*=\s*[\"']?true"
    r"|display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0+)?(?![.\d])"
    r"|opacity\s*:\s*0(?:\.0+)?(?![.\d])|color\s*:\s*transparent|type\s*=\s*[\"']?hidden)",
    regex.IGNORECASE,
)
# Attribute values that carry words (not style, class or ids).
_ATTR_VALUE = regex.compile(
    r"\b(?:value|alt|title|content|label|aria-label|placeholder|data-[\w-]{1,30})\s*=\s*"
    r"(?:\"([^\"]{0,2000})\"|'([^']{0,2000})')",
    regex.IGNORECASE,
)
_TEXT_ATTR = regex.compile(
    r"\b(?:alt|title|aria-label|placeholder)\s*=\s*(?:\"([^\"]{0,2000})\"|'([^']{0,2000})')", regex.IGNORECASE
)
_MD_COMMENT = regex.compile(r"\[(?://|comment|_|#)\]: ?(?:#|<>) ?(?:\((.{0,2000}?)\)|\"(.{0,2000}?)\")")
_MD_TITLE = regex.compile(r"\]\([^\s()]{0,2000} \"([^\"]{1,2000})\"\)")
_MD_ALT = regex.compile(r"!\[([^\[\]]{1,2000})\]\(")
_TAGS = regex.compile(r"<[^<>]{0,2000}>")


@dataclass(frozen=True)
class Region:
    """A stretch of the view a reader would not see (or would see only as an attribute)."""

    kind: str  # html_comment | hidden_element | markdown_comment | markup_attribute
    start: int
    end: int
    payload: str


def _first_group(match: regex.Match[str]) -> str:
    return next((g for g in match.groups() if g is not None), "")


def _hidden_elements(view: str) -> list[Region]:
    regions: list[Region] = []
    lowered: str | None = None
    for tag in _OPEN_TAG.finditer(view):
        attrs = tag.group(2)
        if not _HIDING_ATTR.search(attrs):
            continue
        name = tag.group(1).lower()
        values = " ".join(_first_group(m) for m in _ATTR_VALUE.finditer(attrs))
        end = tag.end()
        lowered = view.lower() if lowered is None else lowered
        close = lowered.find(f"</{name}", end, end + _BODY_LIMIT)
        body = ""
        if close >= 0:
            body = view[end:close]
            end = view.find(">", close)
            end = len(view) if end < 0 else end + 1
        text = " ".join(_TAGS.sub(" ", f"{values} {body}").split())
        regions.append(Region("hidden_element", tag.start(), end, text))
        if len(regions) >= MAX_REGIONS:
            break
    return regions


def _collect(kind: str, pattern: regex.Pattern[str], view: str) -> list[Region]:
    regions = []
    for match in pattern.finditer(view):
        regions.append(Region(kind, match.start(), match.end(), " ".join(_first_group(match).split())))
        if len(regions) >= MAX_REGIONS:
            break
    return regions


def find_regions(view: str) -> list[Region]:
    """Every hidden or attribute-only region of `view`, in order of appearance, bounded in number."""
    regions: list[Region] = []
    if "<" in view:
        regions += _collect("html_comment", _COMMENT, view)
        regions += _hidden_elements(view)
        regions += _collect("markup_attribute", _TEXT_ATTR, view)
    if "](" in view or "]:" in view:
        regions += _collect("markdown_comment", _MD_COMMENT, view)
        regions += _collect("markup_attribute", _MD_TITLE, view)
        regions += _collect("markup_attribute", _MD_ALT, view)
    regions.sort(key=lambda r: r.start)
    return regions
