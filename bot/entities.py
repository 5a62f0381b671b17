"""Rule-based detection of provinces and star levels in Vietnamese text (folded)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.segment import PROVINCES
from bot.text import fold

# Short forms people type in chat; only whole words, case-insensitive.
ABBREVIATIONS = {
    "ag": "An Giang",
    "tg": "Tiền Giang",
    "st": "Sóc Trăng",
    "hn": "Hà Nội",
    "hcm": "Hồ Chí Minh",
    "tphcm": "Hồ Chí Minh",
    "sg": "Hồ Chí Minh",
    "ct": "Cần Thơ",
}
_CANONICAL = {"TP Hồ Chí Minh": "Hồ Chí Minh", "Long Xuyên": "An Giang", "Châu Đốc": "An Giang"}
_NUMBER_WORDS = {"mot": "1", "hai": "2", "ba": "3", "bon": "4", "tu": "4", "nam": "5"}


@dataclass(frozen=True)
class Mention:
    """A detected value and where it stands in the text."""

    value: str
    start: int
    end: int


def _province_patterns() -> list[tuple[re.Pattern[str], str]]:
    """Build folded regexes for full names (longest first) and abbreviations."""
    pats = []
    names = sorted(set(PROVINCES), key=len, reverse=True)
    for name in names:
        folded = r"\s+".join(re.escape(p) for p in fold(name).lower().split())
        pats.append((re.compile(rf"(?<!\w){folded}(?!\w)"), _CANONICAL.get(name, name)))
    # Frequent typos of the three provinces of the corpus (missing final letter).
    for typo, name in (("soc trag", "Sóc Trăng"), ("tien gian", "Tiền Giang"), ("an gian", "An Giang")):
        pats.append((re.compile(rf"(?<!\w){typo}(?!\w)"), name))
    for abbr, name in ABBREVIATIONS.items():
        pats.append((re.compile(rf"(?<!\w){abbr}(?!\w)"), name))
    return pats


_PATTERNS: list[tuple[re.Pattern[str], str]] | None = None
_STAR_RE = re.compile(r"(?<!\w)(\d|mot|hai|ba|bon|tu|nam)\s*(?:sao|\*|⭐)")


def find_provinces(text: str) -> list[Mention]:
    """Return the provinces named in the text, in order, without overlaps."""
    global _PATTERNS
    if _PATTERNS is None:
        _PATTERNS = _province_patterns()
    low = fold(text).lower()
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for pat, name in _PATTERNS:
        for m in pat.finditer(low):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append(Mention(name, m.start(), m.end()))
    return sorted(found, key=lambda m: m.start)


def find_stars(text: str) -> list[Mention]:
    """Return star levels ("3 sao", "ba sao", "5*") as digits with their spans."""
    low = fold(text).lower()
    out = []
    for m in _STAR_RE.finditer(low):
        digit = _NUMBER_WORDS.get(m.group(1), m.group(1))
        if m.group(1) == "nam" and low[max(0, m.start() - 3) : m.start()] == "ha ":
            continue  # "Hà Nam sao?" is the province, not "five stars"
        if digit in "12345":
            out.append(Mention(digit, m.start(), m.end()))
    return out


def replace_span(text: str, mention: Mention, new: str) -> str:
    """Replace a mention's span (offsets are the same in folded and original text)."""
    return text[: mention.start] + new + text[mention.end :]


def canonical_provinces(text: str) -> str:
    """Rewrite province mentions (typos, "tg", "soc trang") as canonical names."""
    for mention in reversed(find_provinces(text)):
        text = replace_span(text, mention, mention.value)
    return text
