"""Localities a question names: a district, town, commune or a province's city.

    locality_of("huyện Chợ Mới có mấy sản phẩm", ("huyen", "xa"))   # "cho moi"
    locality_of("thanh pho long xuyen co may sp", ("thanh pho",))    # "long xuyen"

The statistics table counts provinces only: a question about a locality is not answered
with its province's figure (index/figure_stage.py).
"""

from __future__ import annotations

import itertools
import re

from bot.entities import find_provinces
from bot.segment import GAZETTEER
from bot.text import search_words

# Cities that are other names of a province (data/language/provinces.yml `aliases`: "Long
# Xuyên" -> An Giang), folded; a form of the province's own name ("TP Hồ Chí Minh") is not one.
CITIES = tuple(
    " ".join(search_words(alias))
    for alias, province in GAZETTEER["aliases"].items()
    if " ".join(search_words(province)) not in " ".join(search_words(alias))
)


def locality_of(text: str, levels: tuple[str, ...]) -> str:
    """A district, town or commune the text names ("huyện Cai Lậy" -> "cai lay"), folded; "" if none.

    Its name is the capitalised words after a level word (`levels`, cues.yml `locality_levels`); a province's
    name there ("thành phố Cần Thơ") is a province, not a locality."""
    folded_text = f" {' '.join(search_words(text))} "
    for city in CITIES:  # "thành phố long xuyên", however typed: a city of a province
        if any(f" {level} {city} " in folded_text for level in levels):
            return city
    words = re.findall(r"[^\W\d_]+", text)
    if sum(w[:1].islower() for w in words) * 3 < len(words):
        return ""  # ALL CAPS or Title Case: capitals do not mark names
    for part in re.split(r"[^\w\s]+", text):  # a name does not run on past punctuation
        words = re.findall(r"[^\W\d_]+", part)
        folded = [" ".join(search_words(w)) for w in words]
        for i in range(len(words)):
            for level in levels:
                size = len(level.split())
                if " ".join(folded[i : i + size]) != level:
                    continue
                name = list(itertools.takewhile(lambda w: w[:1].isupper(), words[i + size : i + size + 3]))
                if name and not find_provinces(" ".join(name)):
                    return " ".join(search_words(" ".join(name)))
    return ""
