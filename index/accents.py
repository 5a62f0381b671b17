"""Accent restoration for questions typed without diacritics, from the project's own text.

"duoc 60 diem thi may sao" -> "được 60 điểm thì mấy sao": each
folded syllable becomes one of the spellings seen in the documents, the NLU training
questions or pyvi's word list, chosen by a smoothed bigram model (Viterbi). The dense
encoder embeds text with accents much better than without; pyvi's own restorer, trained
on general text, gets domain words wrong ("Sản Phạm", "máy sáo"), but right some that the
domain model misses, so `readings` gives both and the pipeline keeps the answer that
scores best. This is the one place where accents are restored.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from bot.entities import find_provinces
from bot.text import fold, has_diacritics

_TOKEN = re.compile(r"\w+|\W+", re.UNICODE)
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
MAX_FORMS = 6  # spellings kept per folded syllable (most frequent first)
ACCENTED = 0.4  # share of words with accents of an NLU example typed with accents
SMOOTHING = 0.5  # weight of the unigram model inside the bigram estimate


def nlu_examples(nlu_dir: Path) -> list[str]:
    """The example sentences typed with accents in Rasa NLU files (annotations reduced to
    their text); examples typed without accents would teach unaccented spellings."""
    out: list[str] = []
    for path in sorted(nlu_dir.glob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith("- ") and not stripped.startswith(("- intent:", "- synonym:")):
                text = _ANNOTATION.sub(r"\1", stripped[2:])
                words = re.findall(r"[^\W\d_]+", text)
                if words and sum(has_diacritics(w) for w in words) / len(words) >= ACCENTED:
                    out.append(text)
    return out


def general_reading(text: str) -> str:
    """pyvi's accent restoration (trained on general text); the text as typed if it fails."""
    from pyvi import ViUtils

    try:
        out = ViUtils.add_accents(text)
    except Exception:  # noqa: BLE001 - pyvi fails on odd input: keep the text as typed
        return text
    typed, guessed = text.split(" "), out.split(" ")
    if len(typed) != len(guessed):
        return out
    for m in find_provinces(text):  # place names as typed: pyvi spells them wrong ("tiên giang")
        first, last = len(text[: m.start].split(" ")) - 1, len(text[: m.end].split(" "))
        guessed[first:last] = typed[first:last]
    return " ".join(guessed)


class AccentModel:
    """Bigram counts over lowercase accented syllables."""

    def __init__(self, texts: Iterable[str]) -> None:
        """Count spellings and spelling pairs of the texts (sentences or words)."""
        self.unigrams: Counter[str] = Counter()
        self.bigrams: Counter[tuple[str, str]] = Counter()
        forms: dict[str, Counter[str]] = {}
        for text in texts:
            tokens = [t.lower() for t in re.findall(r"[^\W\d_]+", text)]
            self.unigrams.update(tokens)
            self.bigrams.update(zip(tokens, tokens[1:]))
            for tok in tokens:
                forms.setdefault(fold(tok), Counter())[tok] += 1
        self.forms = {f: [w for w, _ in c.most_common(MAX_FORMS)] for f, c in forms.items()}
        self.total = sum(self.unigrams.values()) or 1

    def _p1(self, word: str) -> float:
        return (self.unigrams.get(word, 0) + 0.1) / self.total

    def _score(self, prev: str | None, word: str) -> float:
        """log P(word | prev), interpolated with the unigram probability."""
        p1 = self._p1(word)
        if prev is None:
            return math.log(p1)
        count_prev = self.unigrams.get(prev, 0)
        pair = self.bigrams.get((prev, word), 0)
        return math.log((pair + SMOOTHING * p1 * 1000) / (count_prev + SMOOTHING * 1000))

    def restore_words(self, folded_words: list[str], n: int = 1) -> list[list[str]]:
        """The `n` most likely spellings of the folded words (list Viterbi over the bigram model)."""
        if not folded_words:
            return [[]]
        lattice = [self.forms.get(w, [w]) for w in folded_words]
        best = {c: [(self._score(None, c), [c])] for c in lattice[0]}
        for options in lattice[1:]:
            best = {
                c: sorted(
                    ((s + self._score(p, c), path + [c]) for p, paths in best.items() for s, path in paths),
                    reverse=True,
                )[:n]
                for c in options
            }
        ranked = sorted((entry for paths in best.values() for entry in paths), reverse=True)
        return [path for _, path in ranked[:n]]

    def readings(self, text: str, n: int = 1, general: bool = True) -> list[str]:
        """Distinct readings of a text typed without accents, most likely first: the model's
        `n` best, then (with `general`) pyvi's general-text guess, which often gets right
        what the domain model gets wrong ("bay gio" -> "bay gió"), and the reverse."""
        if has_diacritics(text):
            return [text]
        parts = _TOKEN.findall(text)
        idx = [i for i, p in enumerate(parts) if re.fullmatch(r"[^\W\d_]+", p)]
        named = self._place_spellings(parts, idx, text)
        out = []
        for restored in self.restore_words([parts[i].lower() for i in idx], n):
            new = list(parts)
            for i, word in zip(idx, restored):
                original = parts[i]
                if original.isupper() and len(original) > 1:
                    continue  # acronyms (OCOP, UBND) as typed
                word = named.get(i, word)  # a province's own spelling ("long an" is not "lòng an")
                new[i] = word[:1].upper() + word[1:] if original[:1].isupper() else word
            out.append("".join(new))
        if general:
            out.append(general_reading(text))
        return list(dict.fromkeys(out))

    @staticmethod
    def _place_spellings(parts: list[str], idx: list[int], text: str) -> dict[int, str]:
        """Word positions of the provinces a text names by their full name, with that name's
        accented spelling ("long an" -> "long an", "soc trang" -> "sóc trăng")."""
        starts = [0, *itertools.accumulate(map(len, parts))]
        out: dict[int, str] = {}
        for m in find_provinces(text):
            inside = [i for i in idx if m.start <= starts[i] < m.end]
            spelled = m.value.lower().split()
            if [fold(parts[i]).lower() for i in inside] == [fold(w) for w in spelled]:
                out.update(zip(inside, spelled))
        return out

    def restore(self, text: str) -> str:
        """The text with accents, if it has none; case and punctuation are kept."""
        return self.readings(text, 1, general=False)[0]
