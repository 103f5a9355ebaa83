"""Character tables used by normalisation: invisible, bidi, look-alike and styled characters.

Kept apart from the normaliser so the tables can grow (and be reviewed) without touching logic.
All values are immutable constants.
"""

from __future__ import annotations

from types import MappingProxyType

# Unicode "tag" block: once used for language tags, now a way to write ASCII that renders as nothing.
TAG_FIRST = 0xE0000
TAG_LAST = 0xE007F
TAG_CANCEL = 0xE007F
BLACK_FLAG = 0x1F3F4  # subdivision flags (England, Scotland, Wales) legitimately use tag letters

# Variation selectors: one after an emoji or ideograph is normal; a run of them can smuggle bytes.
VS_RANGES = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))

# Bidirectional controls. Overrides reorder what is displayed against the logical order (Trojan Source);
# embeddings, isolates and marks also appear in genuine right-to-left text.
BIDI_OVERRIDES = frozenset({0x202D, 0x202E})
BIDI_OTHER = frozenset({0x200E, 0x200F, 0x061C, 0x202A, 0x202B, 0x202C, 0x2066, 0x2067, 0x2068, 0x2069})
BIDI_ALL = BIDI_OVERRIDES | BIDI_OTHER

ZWJ = 0x200D
ZWNJ = 0x200C
BOM = 0xFEFF
BRAILLE_BLANK = 0x2800

# Every format (Cf) character in Unicode 15, plus letters and marks that render as nothing.
# A test checks this class against `unicodedata` so a newer Unicode cannot silently widen the gap.
INVISIBLE_CLASS = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef"
)

# Right-to-left letters (Hebrew, Arabic, Syriac, Thaana, NKo, presentation forms): their presence makes
# bidi marks and isolates ordinary rather than suspicious.
RTL_CLASS = "\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc"

# Letters from Cyrillic, Greek and other scripts that render like Latin letters. Deliberately small:
# only shapes that are indistinguishable in common fonts.
CONFUSABLES = MappingProxyType(
    {
        # Cyrillic lower case
        "а": "a",
        "е": "e",
        "ѕ": "s",
        "і": "i",
        "ј": "j",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "ԁ": "d",
        "һ": "h",
        "ӏ": "l",
        "ԛ": "q",
        "ԝ": "w",
        "ү": "y",
        "ɡ": "g",
        # Cyrillic upper case
        "А": "A",
        "В": "B",
        "Е": "E",
        "Ѕ": "S",
        "І": "I",
        "Ј": "J",
        "К": "K",
        "М": "M",
        "Н": "H",
        "О": "O",
        "Р": "P",
        "С": "C",
        "Т": "T",
        "У": "Y",
        "Х": "X",
        "Ү": "Y",
        "Ԁ": "D",
        "Ԛ": "Q",
        "Ԝ": "W",
        "Ӏ": "I",
        # Greek
        "α": "a",
        "ο": "o",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ρ": "p",
        "υ": "u",
        "χ": "x",
        "Α": "A",
        "Β": "B",
        "Ε": "E",
        "Ζ": "Z",
        "Η": "H",
        "Ι": "I",
        "Κ": "K",
        "Μ": "M",
        "Ν": "N",
        "Ο": "O",
        "Ρ": "P",
        "Τ": "T",
        "Υ": "Y",
        "Χ": "X",
        # Armenian
        "օ": "o",
        "ս": "u",
    }
)

# Latin letters that case folding treats unlike plain i/j; folded quietly (Turkish text uses them).
SILENT_FOLDS = MappingProxyType({"ı": "i", "İ": "I", "ȷ": "j"})

# Code point ranges whose NFKC form is a plain letter or digit: styled "mathematical" letters,
# full-width forms, circled and parenthesised letters. Used to report styling used as camouflage.
STYLED_CLASS = "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u2460-\u24ff\U0001d400-\U0001d7ff\U0001f130-\U0001f189"
