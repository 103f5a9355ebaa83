"""Turn a text into what the rules match against, and record every trick that had to be undone.

Order matters and is fixed: truncate → decode and remove tag characters and variation-selector
payloads → remove other invisible and bidi characters → strip ANSI/terminal controls → expand styled
letters and apply NFKC → fold look-alike letters → collapse whitespace → locate hidden markup.
Removal happens before NFKC so a zero-width space inside a word cannot survive to split it.

Each step that changed something adds a `Reveal`; rules in `textchecks.py` turn reveals into findings.
Text that was hidden rather than merely disguised (tag characters, terminal hyperlinks, and whatever a
`Decoder` extracts) becomes an extra `Segment` that is normalised the same way, to a bounded depth.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import regex

from mcpwarden.detect import charsets
from mcpwarden.detect.charscan import special_kinds
from mcpwarden.detect.markup import Region, find_regions

MAX_FIELD_CHARS = 262_144  # 256 Ki characters per text field; the rest is not analysed (and is reported)
MAX_DEPTH = 3  # hidden text inside hidden text inside hidden text, and no further
MAX_SEGMENTS = 16
_SAMPLE = 48

_TAG_RUN = regex.compile("[\U000e0000-\U000e007f]+")
_VS_RUN = regex.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]{2,}")
_INVISIBLE_RUN = regex.compile(f"[{charsets.INVISIBLE_CLASS}]+")
_RTL = regex.compile(f"[{charsets.RTL_CLASS}]")
_ANSI = regex.compile(
    r"(?:\x1b\[|\x9b)[0-?]{0,64}[ -/]{0,8}[@-~]"  # CSI: colour, cursor, erase
    r"|(?:\x1b\]|\x9d)([^\x07\x1b\x9c]{0,4096})(?:\x07|\x1b\\|\x9c)?"  # OSC: hyperlinks, window titles
    r"|\x1b[PX^_][^\x1b\x9c]{0,4096}(?:\x1b\\|\x9c)?"  # DCS / SOS / PM / APC strings
    r"|\x1b[ -/]{0,4}[0-~]?"  # short escapes and a lone ESC
)
_CONTROL = regex.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")
_STYLED = regex.compile(f"[{charsets.STYLED_CLASS}]")
_CONFUSABLE_WORD = regex.compile(f"\\w*[{''.join(charsets.CONFUSABLES)}]\\w*")
_CONFUSABLE = regex.compile(f"[{''.join(charsets.CONFUSABLES)}]")  # found iff _CONFUSABLE_WORD is, faster
_SILENT = regex.compile(f"[{''.join(charsets.SILENT_FOLDS)}]")
_NON_LATIN_LOOKALIKE_SCRIPT = regex.compile(r"[\p{Cyrillic}\p{Greek}\p{Armenian}]")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ALPHA_BYTES = bytes(sorted(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))


@dataclass(frozen=True, slots=True)
class Reveal:
    """One transformation that uncovered something: what, how many, and where (raw, unescaped)."""

    kind: str
    count: int
    sample: str
    payload: str = ""
    note: str = ""
    span: tuple[int, int] | None = None  # for markup regions: position in the normalised view


@dataclass(frozen=True, slots=True)
class Segment:
    """Hidden text that is not part of the view but that a model would read, normalised like the view."""

    text: str
    origin: str


@dataclass(frozen=True, slots=True)
class Normalized:
    """The matching view of a text, the hidden segments found in it, and what was undone to get there."""

    view: str
    segments: tuple[Segment, ...] = ()
    reveals: tuple[Reveal, ...] = ()
    truncated: bool = False
    text: str = ""  # the normalised text before whitespace was collapsed (line breaks still in place)

    def regions(self) -> tuple[Reveal, ...]:
        return tuple(r for r in self.reveals if r.span is not None)


class Decoder(Protocol):
    """Extension point for encodings a model can read but a pattern cannot (base64, hex, URL escapes).

    `decode` returns the decoded texts found in the view; each becomes a `Segment` named `name` (and a
    `Reveal` of kind "decoded"). `may_apply` looks at UTF-8 bytes and must be cheap: it may say True
    when `decode` finds nothing, never False when it would find something. It is asked about the
    bytes of plain text (for which every decoder saying False skips normalisation altogether) and of
    each view before `decode` runs on it (False skips the decoding).
    """

    name: str

    def may_apply(self, raw: bytes) -> bool: ...

    def decode(self, view: str) -> Iterable[str]: ...


def _sample(text: str, start: int, end: int | None = None) -> str:
    end = start + 1 if end is None else end
    return text[max(0, start - 16) : min(len(text), end + _SAMPLE)]


def _is_emoji_like(ch: str) -> bool:
    code = ord(ch)
    return code >= 0x1F000 or ch in "0123456789#*" or unicodedata.category(ch) in ("So", "Sk", "Sm")


def _is_selector(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in charsets.VS_RANGES)


def _is_script_letter(ch: str) -> bool:
    """A letter or mark of a non-Latin script, where joiners and non-joiners shape text."""
    return ord(ch) > 0x024F and unicodedata.category(ch)[0] in "LM"


@dataclass
class _Work:
    reveals: list[Reveal] = field(default_factory=list)
    hidden: list[tuple[str, str]] = field(default_factory=list)  # (origin, payload) to normalise as segments


class Normalizer:
    """Bounded normalisation: size, recursion depth and number of hidden segments are all capped."""

    def __init__(
        self,
        *,
        max_chars: int = MAX_FIELD_CHARS,
        max_depth: int = MAX_DEPTH,
        max_segments: int = MAX_SEGMENTS,
        decoders: Sequence[Decoder] = (),
        shortcuts: bool = True,
    ) -> None:
        """`shortcuts=False` runs every step in full: each step's own search for its characters, and
        every decoder on every view (same results, slower; for comparison). With shortcuts, one
        Hyperscan pass (`charscan.py`) says which steps' characters are absent, and decoders whose
        `may_apply` says no are skipped."""
        if max_chars < 1 or max_depth < 0 or max_segments < 0:
            raise ValueError("normaliser bounds must be positive")
        self.max_chars = max_chars
        self.max_depth = max_depth
        self.max_segments = max_segments
        self.decoders = tuple(decoders)
        self.shortcuts = shortcuts

    def normalize(self, text: str) -> Normalized:
        """Normalise `text` (a string of any size; only the first `max_chars` characters are analysed)."""
        return self._normalize(text, 0)

    def _normalize(self, text: str, depth: int) -> Normalized:
        work = _Work()
        truncated = len(text) > self.max_chars
        if truncated:
            work.reveals.append(Reveal("truncated", len(text), "", note=f"analysed the first {self.max_chars}"))
            text = text[: self.max_chars]
        # Which steps' characters the text holds (None: unknown, search for each); removing characters
        # cannot add any, but NFKC can, so the answer is dropped when NFKC changes the text.
        kinds = special_kinds(text) if self.shortcuts else None
        if not text.isascii():
            text = _take_tags(text, work, kinds)
            text = _take_invisible(text, work, kinds)
        if (kinds is None or "controls" in kinds) and (_CONTROL.search(text) or "\x1b" in text):
            text = _take_controls(text, work)
        if not text.isascii():
            composed = _expand_compat(text, work, kinds)
            text = _fold_confusables(composed, work, kinds if composed is text else None)
        view = " ".join(text.split())
        for region in find_regions(view) if ("<" in view or "]" in view) else ():
            work.reveals.append(_region_reveal(region))
        data = view.encode("utf-8", "surrogatepass") if self.decoders and self.shortcuts else b""
        for decoder in self.decoders:
            if self.shortcuts and not decoder.may_apply(data):
                continue  # a full regex pass over the view would find nothing
            for decoded in decoder.decode(view):
                work.hidden.append((decoder.name, decoded))
                work.reveals.append(Reveal("decoded", len(decoded), decoded[:_SAMPLE], decoded[:400], decoder.name))
        segments: list[Segment] = []
        for origin, payload in work.hidden:
            if depth >= self.max_depth or len(segments) >= self.max_segments:
                work.reveals.append(Reveal("depth_limit", 1, payload[:_SAMPLE], note=origin))
                break
            inner = self._normalize(payload, depth + 1)
            segments.append(Segment(inner.view, origin))
            # Nested channels keep their path, outermost first: "url_encoding>base64".
            segments.extend(Segment(s.text, f"{origin}>{s.origin}") for s in inner.segments)
            work.reveals.extend(_nested(r, origin) for r in inner.reveals if r.span is None)
        return Normalized(view, tuple(segments[: self.max_segments]), tuple(work.reveals), truncated, text)


def _nested(reveal: Reveal, origin: str) -> Reveal:
    """A reveal from inside hidden text; decodings note the channel they were found in."""
    if reveal.kind != "decoded":
        return reveal
    return Reveal(reveal.kind, reveal.count, reveal.sample, reveal.payload, f"{origin}>{reveal.note}")


def _region_reveal(region: Region) -> Reveal:
    return Reveal(region.kind, 1, "", payload=region.payload, span=(region.start, region.end))


def _take_tags(text: str, work: _Work, kinds: frozenset[str] | None) -> str:
    """Remove tag characters and variation-selector runs; what they spell becomes hidden text."""
    if (kinds is None or "tags" in kinds) and _TAG_RUN.search(text):
        pieces: list[str] = []
        last = 0
        decoded: list[str] = []
        first = -1
        count = 0
        for run in _TAG_RUN.finditer(text):
            pieces.append(text[last : run.start()])
            last = run.end()
            spelled = "".join(chr(ord(c) - charsets.TAG_FIRST) for c in run.group() if 0x20 <= ord(c) - 0xE0000 < 0x7F)
            flag = run.start() > 0 and ord(text[run.start() - 1]) == charsets.BLACK_FLAG
            if flag and ord(run.group()[-1]) == charsets.TAG_CANCEL and spelled.isalnum() and len(spelled) <= 7:
                continue  # a subdivision flag such as England's, drawn with tag letters by design
            count += len(run.group())
            first = run.start() if first < 0 else first
            decoded.append(spelled)
        pieces.append(text[last:])
        if count:
            payload = " ".join(d for d in decoded if d)
            work.reveals.append(Reveal("tag_characters", count, _sample(text, first), payload=payload))
            work.hidden.append(("tag_characters", payload))
        text = "".join(pieces)
    if (kinds is None or "selectors" in kinds) and _VS_RUN.search(text):
        for run in _VS_RUN.finditer(text):
            data = bytes(
                ord(c) - 0xFE00 if ord(c) <= 0xFE0F else ord(c) - 0xE0100 + 16 for c in run.group() if ord(c) < 0xE01F0
            )
            payload = data.decode("utf-8", "replace")
            work.reveals.append(Reveal("variation_selectors", len(run.group()), _sample(text, run.start()), payload))
            work.hidden.append(("variation_selectors", payload))
        text = _VS_RUN.sub("", text)
    return text


def _take_invisible(text: str, work: _Work, kinds: frozenset[str] | None) -> str:
    """Remove zero-width, format and bidi characters; report only the ones that are not ordinary."""
    if (kinds is not None and "invisible" not in kinds) or not _INVISIBLE_RUN.search(text):
        return text
    has_rtl = _RTL.search(text) is not None
    pieces: list[str] = []
    last = 0
    hidden: list[int] = []
    bidi: list[int] = []
    first_hidden = first_bidi = -1
    for run in _INVISIBLE_RUN.finditer(text):
        pieces.append(text[last : run.start()])
        last = run.end()
        chars = run.group()
        before = text[run.start() - 1] if run.start() else ""
        after = text[run.end()] if run.end() < len(text) else ""
        joiners_only = all(ord(c) in (charsets.ZWJ, charsets.ZWNJ) or _is_selector(c) for c in chars)
        shaping = joiners_only and bool(before) and (_is_emoji_like(before) or _is_script_letter(before))
        if shaping and (not after or _is_emoji_like(after) or _is_script_letter(after) or _is_selector(chars[-1])):
            continue
        for pos, ch in enumerate(chars, start=run.start()):
            code = ord(ch)
            if code == charsets.BRAILLE_BLANK:
                pieces.append(" ")
            elif code == charsets.BOM and pos == 0:
                continue
            elif code in charsets.BIDI_OVERRIDES or (code in charsets.BIDI_OTHER and not has_rtl):
                bidi.append(code)
                first_bidi = pos if first_bidi < 0 else first_bidi
            elif code not in charsets.BIDI_OTHER:
                hidden.append(code)
                first_hidden = pos if first_hidden < 0 else first_hidden
    pieces.append(text[last:])
    if hidden:
        note = ", ".join(sorted({f"U+{c:04X}" for c in hidden})[:8])
        work.reveals.append(Reveal("invisible_characters", len(hidden), _sample(text, first_hidden), note=note))
    if bidi:
        overrides = any(c in charsets.BIDI_OVERRIDES for c in bidi)
        note = "direction overrides" if overrides else "direction marks, embeddings or isolates"
        work.reveals.append(Reveal("bidi_controls", len(bidi), _sample(text, first_bidi), note=note))
    return "".join(pieces)


def _take_controls(text: str, work: _Work) -> str:
    """Strip ANSI escape sequences and other terminal control characters, keeping the words between."""
    escapes = list(_ANSI.finditer(text))
    if escapes:
        kinds: set[str] = set()
        for esc in escapes:
            seq = esc.group()
            if esc.group(1) is not None:
                kinds.add("hyperlinks or titles")
                work.hidden.append(("ansi_escape", esc.group(1)))
            elif seq.endswith("m") and seq.startswith(("\x1b[", "\x9b")):
                params = seq.lstrip("\x1b\x9b[")[:-1].split(";")
                kinds.add("concealed text" if "8" in params else "styling")
            else:
                kinds.add("cursor or screen control")
        note = ", ".join(sorted(kinds))
        work.reveals.append(Reveal("ansi_escape", len(escapes), _sample(text, escapes[0].start()), note=note))
        text = _ANSI.sub("", text)
    controls = list(_CONTROL.finditer(text))
    if controls:
        work.reveals.append(Reveal("control_characters", len(controls), _sample(text, controls[0].start())))
        # Carriage returns and form feeds break lines; the rest (backspace, NUL, …) glue words together.
        text = _CONTROL.sub(lambda m: " " if m.group() in "\r\x0b\x0c\x1c\x1d\x1e\x1f" else "", text)
    return text


def _expand_compat(text: str, work: _Work, kinds: frozenset[str] | None) -> str:
    """Report styled letters, and apply NFKC (the same string object when it changes nothing)."""
    found = _STYLED.finditer(text) if kinds is None or "styled" in kinds else ()
    styled = [m for m in found if unicodedata.normalize("NFKC", m.group()).isalpha()]
    if len(styled) >= 3:
        sample = _sample(text, styled[0].start())
        folded = unicodedata.normalize("NFKC", "".join(m.group() for m in styled[:64]))
        work.reveals.append(Reveal("styled_characters", len(styled), sample, payload=folded))
    if unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


def _fold_confusables(text: str, work: _Work, kinds: frozenset[str] | None) -> str:
    if (kinds is None or "silent" in kinds) and _SILENT.search(text):
        text = text.translate({ord(k): v for k, v in charsets.SILENT_FOLDS.items()})
    if (kinds is not None and "confusables" not in kinds) or not _CONFUSABLE.search(text):
        return text
    ascii_part = text.encode("ascii", "ignore")
    latin = len(ascii_part) - len(ascii_part.translate(None, delete=_ALPHA_BYTES))
    latin_text = latin > len(_NON_LATIN_LOOKALIKE_SCRIPT.findall(text))
    folded_words: list[tuple[str, str]] = []
    table = {ord(k): v for k, v in charsets.CONFUSABLES.items()}

    def fold(match: regex.Match[str]) -> str:
        word = str(match.group())
        if latin_text or any(c in _ASCII_LETTERS for c in word):
            folded = word.translate(table)
            folded_words.append((word, folded))
            return folded
        return word

    text = _CONFUSABLE_WORD.sub(fold, text)
    if folded_words:
        words = ", ".join(f"{w}→{f}" for w, f in folded_words[:6])
        work.reveals.append(Reveal("confusables", len(folded_words), folded_words[0][0], payload=words))
    return text
