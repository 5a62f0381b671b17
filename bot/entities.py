"""Rule-based detection of provinces and star levels in Vietnamese text (folded)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.segment import GAZETTEER, PROVINCES
from bot.text import fold, has_diacritics

# Short forms, other names and frequent misspellings: data/language/provinces.yml.
ABBREVIATIONS: dict[str, str] = dict(GAZETTEER["abbreviations"])
_CANONICAL: dict[str, str] = dict(GAZETTEER["aliases"])
_MISSPELLINGS: dict[str, str] = dict(GAZETTEER["misspellings"])
_NUMBER_WORDS = {"mot": "1", "hai": "2", "ba": "3", "bon": "4", "tu": "4", "nam": "5"}


@dataclass(frozen=True)
class Mention:
    """A detected value and where it stands in the text."""

    value: str
    start: int
    end: int


def _province_table() -> dict[str, str | None]:
    """Folded names, frequent typos and abbreviations -> name; their word prefixes -> None."""
    entries: dict[str, str] = {}
    for name in PROVINCES:
        entries[" ".join(_WORD_RE.findall(fold(name).lower()))] = _CANONICAL.get(name, name)
    entries.update(_MISSPELLINGS)
    entries.update(ABBREVIATIONS)
    table: dict[str, str | None] = {}
    for key in entries:
        words = key.split()
        for n in range(1, len(words)):
            table.setdefault(" ".join(words[:n]), None)
    table.update(entries)
    return table


_WORD_RE = re.compile(r"\w+")
_TABLE: dict[str, str | None] | None = None
_STAR_RE = re.compile(r"(?<!\w)(\d|mot|hai|ba|bon|tu|nam)\s*(?:sao|\*|⭐)")


def _other_word(span: str, name: str) -> bool:
    """Whether an accented span spells a province's letters with other accents (another word)."""
    if not has_diacritics(span):
        return False
    written = " ".join(span.lower().split())
    return fold(written) == fold(name).lower() and written != name.lower()


def find_provinces(text: str) -> list[Mention]:
    """Return the provinces named in the text, in order, without overlaps.

    One pass over the words collects, at each word, the longest name starting there
    (extending while the words are a prefix of some name); overlapping candidates are
    then settled in favour of the longer name ("Công nghệ An Giang" is An Giang, not
    Nghệ An), as a longest-name-first search would.
    """
    global _TABLE
    if _TABLE is None:
        _TABLE = _province_table()
    words = list(_WORD_RE.finditer(fold(text).lower()))
    candidates: list[tuple[str, int, int]] = []  # folded name, first word, last word
    for i in range(len(words)):
        key, best, j = words[i].group(), None, i
        while key in _TABLE:
            if _TABLE[key] is not None:
                best = (key, i, j)
            j += 1
            if j == len(words):
                break
            key = f"{key} {words[j].group()}"
        if best is not None:
            candidates.append(best)
    taken: list[tuple[int, int]] = []
    found: list[Mention] = []
    for key, i, j in sorted(candidates, key=lambda c: (-len(c[0]), c[1])):
        if any(i <= b and a <= j for a, b in taken):
            continue
        start, end = words[i].start(), words[j].end()
        if _other_word(text[start:end], _TABLE[key]):
            continue  # "đánh giá lại" is not Gia Lai: same letters, other accents
        taken.append((i, j))
        found.append(Mention(_TABLE[key], start, end))
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
