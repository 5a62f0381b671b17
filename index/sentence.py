"""What a sentence states: figures, dates, a person's name, a list, provinces, star levels (folded text)."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from bot.entities import find_provinces, find_stars
from bot.text import canonical_words, fold

DIGIT = re.compile(r"\d")
YEAR = re.compile(r"(?<![\d.])(?:19[89]\d|20[0-3]\d)(?!\d)")
DATE_S = re.compile(r"\b(?:19|20)\d\d\b|\d{1,2}/\d{1,2}|thang \d{1,2}\b")
DOCUMENT_NUMBER = re.compile(r"\b\d{2,5}/(?:\d{4}/)?[A-ZĐ]{2,}")  # "1397/QĐ-UBND", "53/2022/TT-BTC"
# A figure: a number that is not a year, a date or a decision number ("2021-2025", "24/3").
DATE_WORDS = re.compile(r"ngay \d{1,2} thang \d{1,2}(?: nam \d{4})?|thang \d{1,2} nam \d{4}")
_FIGURE = re.compile(r"(?<![\d/.-])(?!(?:19|20)\d\d(?!\d))\d{1,6}(?:[.,]\d+)?(?![\d/-])")
_SMALL_RANGE = re.compile(r"(?<![\d/.-])(\d{1,3})\s*[-–]\s*(\d{1,3})(?![\d/-])")
# A number naming a document ("152/KH-UBND", "1048"), not a year or an amount.
ID_NUMBER = re.compile(
    r"(?<![\d.,])(?!(?:19|20)\d\d(?!\d))(\d{3,5})(?![\d.,]|\s*(?:%|san pham|sp|diem|trieu|chu the))"
)
# A sentence that announces a list ("chia thành 6 nhóm") without giving it.
_ANNOUNCE = re.compile(r"\b(\d+|hai|ba|bon|nam|sau|bay|tam|chin|muoi) [a-z]+\b")
_END = re.compile(r"[.!?…;:)”\"]\s*$")


def bigrams(tokens: tuple[str, ...] | list[str]) -> set[str]:
    """Adjacent token pairs."""
    return {f"{a} {b}" for a, b in zip(tokens, tokens[1:])}


@functools.lru_cache(maxsize=50_000)
def provinces_in(text: str) -> frozenset[str]:
    """Provinces named in a text (cached: passages' sentences recur across questions)."""
    return frozenset(m.value for m in find_provinces(text))


@functools.lru_cache(maxsize=50_000)
def folded_tokens(text: str) -> tuple[str, ...]:
    """Folded words with abbreviations expanded and equivalents in their first form (cached)."""
    return tuple(canonical_words(text))


@functools.lru_cache(maxsize=50_000)
def stars_in(text: str) -> frozenset[str]:
    """Star levels named in a text."""
    return frozenset(m.value for m in find_stars(text))


def has_figure(sentence: str) -> bool:
    """Tell whether a sentence states a figure (not only years, dates or decision numbers)."""
    text = DATE_WORDS.sub(" ", fold(sentence).lower())
    text = _SMALL_RANGE.sub(r"\1 den \2", text)  # "5-8 sản phẩm" is a figure, "2021-2025" is not
    return bool(_FIGURE.search(text))


def is_heading(sentence: str) -> bool:
    """A heading, caption or byline: no closing punctuation ("Cơ sở pháp lý", "Cổng thông tin ... 24/03/2021")."""
    return not _END.search(sentence)


def names_person(sentence: str) -> bool:
    """Does the sentence name a person (three capitalised syllables, as Vietnamese names are)?"""
    words = re.findall(r"[^\W\d_]+", without_provinces(sentence, frozenset()))
    run = 0
    for w in words:
        run = run + 1 if w[0].isupper() and not w.isupper() else 0
        if run >= 3:
            return True
    return False


def person_named(text: str) -> str:
    """The first person's name a text writes (three capitalised syllables, folded), or ""."""
    words = re.findall(r"[^\W\d_]+", without_provinces(text, frozenset()))
    run: list[str] = []
    for w in [*words, ""]:
        if w and w[0].isupper() and not w.isupper():
            run.append(w)
            continue
        if len(run) >= 3:
            return fold(" ".join(run[-3:])).lower()
        run = []
    return ""


@functools.lru_cache(maxsize=50_000)
def without_provinces(sentence: str, keep: frozenset[str]) -> str:
    """The sentence without names of provinces the question does not ask about.

    "Tiền Giang" must not answer "thưởng tiền", nor "Bắc Giang" a question about "giang".
    """
    out = sentence
    for m in reversed(find_provinces(sentence)):
        if m.value not in keep:
            out = out[: m.start] + " " + out[m.end :]
    return out


def is_list(sentence: str) -> bool:
    """Does the sentence enumerate ("gồm: a; b; c", "a, b, c và d")?"""
    return ":" in sentence or sentence.count(";") >= 2 or sentence.count(",") >= 3


def announces_list(sentence: str, following: str) -> bool:
    """Does the sentence announce a list ("chia thành 6 nhóm") that the next one gives?"""
    folded = fold(sentence).lower()
    if ":" in sentence or not _ANNOUNCE.search(folded):
        return False
    return is_list(following)


def longest_run(a: Sequence[str], b: Sequence[str]) -> Sequence[str]:
    """The longest run of words that `a` and `b` share in the same order.

    >>> longest_run("so khoa hoc va cong nghe".split(), "cac so khoa hoc va cong nghe chu tri".split())
    ['so', 'khoa', 'hoc', 'va', 'cong', 'nghe']
    """
    best, end, prev = 0, 0, [0] * (len(b) + 1)
    for i, x in enumerate(a):
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b):
            if x == y:
                cur[j + 1] = prev[j] + 1
                if cur[j + 1] > best:
                    best, end = cur[j + 1], i + 1
        prev = cur
    return list(a[end - best : end])
