"""Vocabulary of the document index, for typo correction and accent restoration of queries.

Built from the passages of the loaded index (and the province names), folded syllable by
syllable: "An Gaing" -> "An Giang", "bao nhiu" -> "bao nhiêu", "sảm phẩm" -> "sản phẩm".
Only words that are neither in the documents nor in pyvi's Vietnamese word list are
corrected (for a word typed with accents: that exact accented spelling), and only to a
word one edit away (insert, delete, replace, swap two neighbours; or the same letters with
other accents) that the documents or the word list put next to the same neighbour.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bot.segment import PROVINCES
from bot.text import fold, has_diacritics
from index.accents import AccentModel, nlu_examples
from index.keyboard import word_key

NLU_DIR = Path(__file__).resolve().parent.parent / "data" / "nlu"  # accented questions
_TOKEN = re.compile(r"\w+", re.UNICODE)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
MIN_LEN = 3  # shorter syllables are too ambiguous to correct ("sp", "ba", "có")
MIN_BIGRAM = 2  # a correction must be attested this often next to its neighbour
_TONES = {"\u0300": "f", "\u0301": "s", "\u0303": "x", "\u0309": "r", "\u0323": "j"}


def spelling_key(word: str) -> str:
    """Lowercase spelling with the tone moved to the end ("khỏe" and "khoẻ" are equal)."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = "".join(_TONES[c] for c in decomposed if c in _TONES)
    base = "".join(c for c in decomposed if c not in _TONES)
    return unicodedata.normalize("NFC", base) + tones


def edits1(word: str) -> set[str]:
    """Folded words one edit away (Damerau: insert, delete, replace, adjacent swap)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return (deletes | swaps | replaces | inserts) - {word}


@functools.lru_cache(maxsize=1)
def dictionary_words() -> tuple[str, ...]:
    """pyvi's Vietnamese word list (one word of one to four syllables per line)."""
    import pyvi

    path = os.path.join(os.path.dirname(pyvi.__file__), "models", "words.txt")
    with open(path, encoding="utf-8") as fh:
        return tuple(line.strip() for line in fh if line.strip())


def correction(
    word: str,
    known: Callable[[str], bool],
    support: Callable[[str], float],
    min_support: float,
    extra: set[str] = frozenset(),  # type: ignore[assignment]
) -> str | None:
    """The one typo corrector: the known word one edit away (`edits1`) that its context
    supports best, if the support reaches `min_support` (the documents' lexicon and the
    contact table each bring their own vocabulary and support).

    >>> correction("tahnh", lambda w: w == "thanh", lambda w: 2.0, 1.0)
    'thanh'
    """
    best, best_score = None, 0.0
    for cand in edits1(word) | set(extra):
        if not known(cand):
            continue
        score = support(cand)
        if score >= min_support and score > best_score:
            best, best_score = cand, score
    return best


class Lexicon:
    """Folded unigram / bigram counts of a text collection, with their written forms."""

    def __init__(self, texts: Iterable[str], dictionary: Iterable[str] = ()) -> None:
        """Count the syllables and syllable pairs of the texts (dictionary words count 2)."""
        self.unigrams: Counter[str] = Counter()
        self.bigrams: Counter[tuple[str, str]] = Counter()
        self.spellings: set[str] = set()  # lowercase words as written, with accents
        self.word_keys: set[str] = set()  # the same, keyed for the keyboard decoder
        self.accents: AccentModel | None = None  # accent restoration (from_retriever)
        forms: dict[str, Counter[str]] = {}
        pair_forms: dict[tuple[str, str], Counter[str]] = {}
        left_forms: dict[tuple[str, str], Counter[str]] = {}
        sources = [(texts, 1), (dictionary, MIN_BIGRAM)]
        for collection, weight in sources:
            for text in collection:
                tokens = [t.lower() for t in _TOKEN.findall(text) if not t.isdigit()]
                folded = [fold(t) for t in tokens]
                self.spellings.update(spelling_key(t) for t in tokens)
                self.word_keys.update(word_key(t) for t in tokens)
                for tok, f in zip(tokens, folded):
                    self.unigrams[f] += weight
                    forms.setdefault(f, Counter())[tok] += weight
                for i in range(len(folded) - 1):
                    pair = (folded[i], folded[i + 1])
                    self.bigrams[pair] += weight
                    pair_forms.setdefault(pair, Counter())[tokens[i + 1]] += weight
                    left_forms.setdefault(pair, Counter())[tokens[i]] += weight
        self._forms = {f: c.most_common(1)[0][0] for f, c in forms.items()}
        self._pair_forms = {p: c.most_common(1)[0][0] for p, c in pair_forms.items()}
        self._left_forms = {p: c.most_common(1)[0][0] for p, c in left_forms.items()}

    @classmethod
    def from_retriever(cls, retriever: Any, dictionary: Iterable[str] | None = None) -> Lexicon:
        """The vocabulary of a retriever's passages (real index or test fake), provinces
        and a word list (default: pyvi's)."""
        rows = getattr(getattr(retriever, "index", None), "rows", None) or getattr(retriever, "rows", [])
        texts = [str(r.get("title", "")) + ". " + " ".join(r.get("sentences", [])) for r in rows]
        words = list(dictionary_words() if dictionary is None else dictionary)
        lexicon = cls(texts + list(PROVINCES), words)
        examples = nlu_examples(NLU_DIR) if NLU_DIR.is_dir() else []
        lexicon.accents = AccentModel(texts + examples + words + list(PROVINCES))
        return lexicon

    def __contains__(self, folded: str) -> bool:
        """Tell whether the documents or the word list use this folded word."""
        return folded in self.unigrams

    def written(self, folded: str, previous: str | None = None) -> str:
        """The usual written (accented) form of a folded word, after `previous` if known."""
        if previous is not None and (previous, folded) in self._pair_forms:
            return self._pair_forms[(previous, folded)]
        return self._forms.get(folded, folded)

    def accent(self, folded_phrase: str) -> str:
        """Write a folded phrase with the documents' accents ("san pham" -> "sản phẩm")."""
        words = folded_phrase.split()
        out = [self.written(w, words[i - 1] if i else None) for i, w in enumerate(words)]
        if len(words) > 1 and (words[0], words[1]) in self._left_forms:
            out[0] = self._left_forms[(words[0], words[1])]
        return " ".join(out)

    def known(self, word: str) -> bool:
        """Tell whether a word is spelled as in the documents or the word list."""
        low = word.lower()
        return spelling_key(low) in self.spellings if has_diacritics(low) else fold(low) in self.unigrams

    def _support(self, prev: str | None, cand: str, nxt: str | None) -> int:
        """How often the documents put the candidate next to the query's neighbours."""
        left = self.bigrams.get((prev, cand), 0) if prev else 0
        right = self.bigrams.get((cand, nxt), 0) if nxt else 0
        return max(left, right)

    def best_correction(self, prev: str | None, word: str, nxt: str | None) -> str | None:
        """The folded correction of an unknown word in its (folded) context, or None."""
        folded = fold(word).lower()
        if len(folded) < MIN_LEN or not folded.isalpha() or not folded.isascii():
            return None
        if self.known(word):  # real words are kept, even in an odd pair
            return None
        extra = {folded} if has_diacritics(word) else set()
        return correction(
            folded,
            lambda cand: cand in self.unigrams,
            lambda cand: self._support(prev, cand, nxt) + 0.001 * self.unigrams[cand],
            MIN_BIGRAM,
            extra,
        )

    def correct(self, text: str, keep: frozenset[str] = frozenset()) -> str:
        """Correct the typos of a query; words in `keep` (folded) are never changed."""
        matches = list(_TOKEN.finditer(text))
        folded = [fold(m.group()).lower() for m in matches]
        accented = has_diacritics(text)
        out, last = [], 0
        for i, m in enumerate(matches):
            if folded[i] in keep or (m.group().isupper() and len(m.group()) > 1 and not text.isupper()):
                continue  # acronyms ("CCCD", "VNPT") are not typos (unless all is in capitals)
            prev = folded[i - 1] if i > 0 else None
            nxt = folded[i + 1] if i + 1 < len(matches) else None
            fix = self.best_correction(prev, m.group(), nxt)
            if fix is None:
                continue
            new = self.written(fix, prev) if accented else fix
            if m.group()[:1].isupper():
                new = new[:1].upper() + new[1:]
            out.append(text[last : m.start()] + new)
            last = m.end()
            folded[i] = fix
        out.append(text[last:])
        return "".join(out)


_CACHE: dict[int, tuple[Any, Lexicon]] = {}


def lexicon_for(retriever: Any) -> Lexicon | None:
    """The lexicon of a retriever's current index (rebuilt when the index is reloaded)."""
    if retriever is None:
        return None
    source = getattr(retriever, "index", retriever)
    cached = _CACHE.get(id(retriever))
    if cached is not None and cached[0] is source:
        return cached[1]
    lexicon = Lexicon.from_retriever(retriever)
    _CACHE[id(retriever)] = (source, lexicon)
    return lexicon
