"""What a figure counts: the unit a question asks for, and whether a sentence counts it."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from bot.text import FUNCTION_WORDS, fold, search_words
from index.sentence import DATE_WORDS

_CUES = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "data" / "language" / "cues.yml").read_text(encoding="utf-8")
)
_UNITS = frozenset(_CUES["units"])
_UNIT_FORMS: dict[str, tuple[str, ...]] = {
    unit: (unit, *forms) for unit, forms in (_CUES.get("unit_forms") or {}).items()
}
_NOT_UNIT = FUNCTION_WORDS | frozenset(" ".join(_CUES["not_units"]).split())

# Number words, without "một" (mostly an article: "một số", "Mỗi xã một sản phẩm").
_NUMERAL = r"(?:\d+|hai|ba|bon|tu|nam|sau|bay|tam|chin|muoi)"


@functools.lru_cache(maxsize=50_000)
def states_count_of(sentence: str, unit: str) -> bool:
    """Does the sentence give a number of `unit` ("102 chủ thể", "30%", "hai cấp")?"""
    folded = fold(sentence).lower()
    if unit == "%":
        return bool(re.search(r"\d\s*%|phan tram", folded))
    if unit == "thoi gian":  # a duration ("bao lâu")
        text = " ".join(search_words(DATE_WORDS.sub(" ", folded)))
        return bool(
            re.search(r"\b(\d+|mot|hai|ba|bon|sau|bay|tam|chin|muoi) (ngay|thang|nam|tuan|gio)\b", text)
        )
    if unit in ("tien", "trieu"):  # an amount of money
        return bool(re.search(r"\d\s*(trieu|ty|nghin|ngan|dong|vnd)\b", folded))
    folded = re.sub(r"(\d)\s*%", r"\1 phantram", DATE_WORDS.sub(" ", folded))  # "40% chủ thể" is a share
    text = " ".join(search_words(folded))
    forms = "|".join(re.escape(" ".join(search_words(f))) for f in _UNIT_FORMS.get(unit, (unit,)))
    return bool(re.search(rf"\b{_NUMERAL}(?: den {_NUMERAL})? (?:{forms})\b", text))


_UNIT_RE = re.compile(
    r"\b(?:bao nhieu|bao nhiu|may|so luong|tong so|so)\s+(phan tram|ty le|(?:\w+ ){0,1}\w+)"
)
_OPEN_UNIT_RE = re.compile(r"\bbao (?:nhieu|nhiu) (\w+)(?: (\w+))?")


def asked_unit(folded_query: str) -> str | None:
    """The thing counted in "bao nhiêu X" / "mấy X" (two syllables at most), or "%".

    Known units match on their first syllable ("bao nhiêu điểm bán"); any other
    two-syllable noun right after "bao nhiêu" ("bao nhiêu thành viên") is kept as is,
    so that a sentence counting something else cannot answer it. "bao nhiêu X" is read
    before "số X" ("hồ sơ ... bao nhiêu tiền" asks for money, not for "sơ").
    """
    if re.search(r"\bbao lau\b", folded_query):
        return "thoi gian"
    found = [m.group(1) for m in _UNIT_RE.finditer(folded_query)]
    found.sort(
        key=lambda u: 0 if re.search(rf"\b(bao nhieu|bao nhiu|may) {re.escape(u)}", folded_query) else 1
    )
    for unit in found:
        if unit.split()[0] in ("len", "xuong"):
            return None  # "từ ... lên ...": a change, not a count
        if unit.startswith("phan tram") or unit.startswith("ty le"):
            return "%"
        if unit in _UNITS:
            return unit
        if unit.split()[0] in _UNITS:
            return unit.split()[0]
    m = _OPEN_UNIT_RE.search(folded_query)
    if not m or m.group(1) in _NOT_UNIT:
        return None
    if m.group(2) and m.group(2) not in _NOT_UNIT:
        return f"{m.group(1)} {m.group(2)}"  # "bao nhiêu thành viên"
    return m.group(1)  # "bao nhiêu người?"
