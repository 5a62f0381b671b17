"""Vietnamese word segmentation with character offsets (pyvi + a folded lexicon).

Text typed with diacritics is segmented by pyvi's CRF model. pyvi cannot segment text
typed without diacritics, so for that case syllables are merged by maximum matching
against pyvi's own word list (and province names), folded. Both paths give the same
folded word forms ("số điện thoại" and "so dien thoai" -> "so", "dien_thoai").
"""

from __future__ import annotations

import functools
import os
import re
import string
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.text import fold, has_diacritics

_SYLLABLE_RE = re.compile(
    r"\w+://\S+"  # url
    r"|[\w.+-]+@(?:[\w-]+\.)+[\w-]+"  # email
    r"|\d+(?:[.,\-/]\d+)+"  # numbers with separators: 02963.957.006, 2021-2025, 24/3
    r"|[^\W_]+",  # a word or syllable (letters and digits)
    re.UNICODE,
)

GAZETTEER_FILE = Path(__file__).resolve().parent.parent / "data" / "language" / "provinces.yml"
GAZETTEER = yaml.safe_load(GAZETTEER_FILE.read_text(encoding="utf-8"))
PROVINCES = [*GAZETTEER["provinces"], *GAZETTEER["aliases"]]


# Names that must stay whole words, never merged with a neighbour ("an giang co" is
# "an_giang co", not "an giang_co"): entity spans then line up with token boundaries.
PROTECTED = (
    "phòng tổng hợp;tổ kiểm tra công vụ;sở nông nghiệp;thủ tục hành chính;công vụ;nông nghiệp;"
    "nguyễn sĩ lâm;lê hoàng tâm;ủy ban nhân dân;ubnd tỉnh;giám đốc sở;chánh văn phòng;cán bộ;gây khó dễ"
).split(";")


@dataclass(frozen=True)
class Word:
    """One segmented word: original surface text, offsets, and folded form."""

    text: str
    start: int
    end: int
    folded: str


def syllables(text: str) -> list[tuple[str, int, int]]:
    """Split text into syllables/atoms with offsets; punctuation and emoji are dropped."""
    return [(m.group(0), m.start(), m.end()) for m in _SYLLABLE_RE.finditer(text)]


@functools.lru_cache(maxsize=1)
def _lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """Folded two- and three-syllable words from pyvi's word list plus place names."""
    import pyvi

    path = os.path.join(os.path.dirname(pyvi.__file__), "models", "words.txt")
    bi: set[str] = set()
    tri: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        entries = fh.read().split("\n")
    for entry in entries + PROVINCES:
        parts = fold(entry).lower().split()
        (bi if len(parts) == 2 else tri if len(parts) == 3 else set()).add(" ".join(parts))
    return frozenset(bi), frozenset(tri)


@functools.lru_cache(maxsize=1)
def _pyvi_model():  # noqa: ANN202 - pyvi has no types
    """Load pyvi's CRF segmenter once (about 0.5 s)."""
    from pyvi.ViTokenizer import ViTokenizer

    return ViTokenizer


def _is_word(syl: str) -> bool:
    """Tell whether a syllable may join a multi-syllable word."""
    return syl.isalpha() and syl not in string.punctuation


@functools.lru_cache(maxsize=1)
def _protected() -> tuple[tuple[str, ...], ...]:
    """Folded protected phrases (provinces and agency names), longest first."""
    phrases = {tuple(fold(p).lower().split()) for p in PROVINCES + list(PROTECTED)}
    return tuple(sorted((p for p in phrases if len(p) > 1), key=len, reverse=True))


def _cuts(sylls: list[str]) -> set[int]:
    """Syllable indices where a word boundary is required (edges of protected phrases)."""
    low = [fold(s).lower() for s in sylls]
    cuts: set[int] = set()
    for phrase in _protected():
        n = len(phrase)
        for i in range(len(low) - n + 1):
            if tuple(low[i : i + n]) == phrase:
                cuts.update((i, i + n))
    for i in range(1, len(low)):
        if low[i] == "sao" and low[i - 1].isdigit():  # "5 sao" is a star level, not "sao la"
            cuts.update((i, i + 1))
    return cuts


def _labels_pyvi(sylls: list[str]) -> list[bool]:
    """Return, per syllable, whether it continues the previous word (pyvi CRF)."""
    vt = _pyvi_model()
    labels = vt.model.predict([vt.sent2features(sylls, False)])[0]
    joins = [False]
    for i in range(1, len(sylls)):
        prev, cur = sylls[i - 1], sylls[i]
        joins.append(
            labels[i] == "I_W"
            and _is_word(prev)
            and _is_word(cur)
            and not (cur[0].istitle() and not prev[0].istitle())
        )
    return joins


def _labels_lexicon(sylls: list[str]) -> list[bool]:
    """Return join flags by maximum matching on folded syllables (fewest words wins)."""
    bi, tri = _lexicon()
    low = [fold(s).lower() for s in sylls]
    cuts = _cuts(sylls)
    n = len(low)
    best: list[tuple[int, int]] = [(0, 0)] * (n + 1)  # (words used, last word length)
    for i in range(1, n + 1):
        options = [(best[i - 1][0] + 1, 1)]
        for size, table in ((2, bi), (3, tri)):
            j = i - size
            if any(j < c < i for c in cuts):
                continue
            if j >= 0 and all(_is_word(s) for s in sylls[j:i]) and " ".join(low[j:i]) in table:
                options.append((best[j][0] + 1, size))
        best[i] = min(options, key=lambda o: (o[0], -o[1]))
    joins = [False] * n
    i = n
    while i > 0:
        size = best[i][1]
        for k in range(i - size + 1, i):
            joins[k] = True
        i -= size
    return joins


def segment(text: str) -> list[Word]:
    """Segment text into words with offsets into the given string."""
    sylls = syllables(text)
    if not sylls:
        return []
    surface = [s for s, _, _ in sylls]
    joins = _labels_pyvi(surface) if has_diacritics(text) else _labels_lexicon(surface)
    for cut in _cuts(surface):
        if cut < len(joins):
            joins[cut] = False
    groups: list[list[tuple[str, int, int]]] = []
    for syl, join in zip(sylls, joins):
        if join and groups:
            groups[-1].append(syl)
        else:
            groups.append([syl])
    words = []
    for group in groups:
        start, end = group[0][1], group[-1][2]
        folded = "_".join(fold(s).lower() for s, _, _ in group)
        words.append(Word(text[start:end], start, end, folded))
    return words


def folded_words(text: str) -> list[str]:
    """Return the folded word forms of a text (handy for features and BM25)."""
    return [w.folded for w in segment(text)]
