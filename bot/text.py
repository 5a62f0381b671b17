"""Vietnamese text helpers shared by the Rasa server, the action server and the index.

Standard library and PyYAML only: importable from both Python environments. Language data
(abbreviations) is read from data/language/.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff]")


def nfc(text: str) -> str:
    """Return the NFC form (Vietnamese typed on phones often arrives decomposed)."""
    return unicodedata.normalize("NFC", text)


def fold_char(ch: str) -> str:
    """Fold one character: lowercase, no tone or vowel marks, đ -> d (always one char)."""
    low = ch.lower()
    if len(low) != 1:
        return ch
    if low == "đ":
        return "d"
    base = unicodedata.normalize("NFD", low)[0]
    return base if base.isascii() or not base.isalpha() else low


class _FoldTable(dict):
    """str.translate table filled on first sight of each character (fold_char memoised)."""

    def __missing__(self, code: int) -> str:
        self[code] = folded = fold_char(chr(code))
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Lowercase and strip Vietnamese accents, keeping the string length unchanged."""
    return nfc(text).translate(_FOLD_TABLE)


def fold_compact(text: str) -> str:
    """Fold, join digit groups written with dots/spaces/dashes, and collapse spaces."""
    out = fold(text)
    out = re.sub(r"(?<=\d)[.\s-](?=\d)", "", out)
    return re.sub(r"\s+", " ", out).strip()


def has_diacritics(text: str) -> bool:
    """Tell whether the text carries any Vietnamese accent (so was typed with diacritics)."""
    return any(fold_char(c) != c.lower() for c in text if c.isalpha())


_TAG_RE = re.compile(r"</?[a-zA-Z][^<>]{0,100}>")


def clean_user_text(text: str, limit: int = 2000) -> str:
    """Normalise user input: NFC, no control characters or markup tags, collapsed spaces, bounded length."""
    text = _CONTROL_RE.sub(" ", nfc(text or ""))
    text = _TAG_RE.sub(" ", text)  # "<b>An Giang</b>": markup pasted from a web page
    text = re.sub(r"\s+", " ", text).strip()
    return text[:limit]


def words(text: str) -> list[str]:
    """Split folded text into word tokens (syllables for Vietnamese)."""
    return _WORD_RE.findall(fold(text))


# Function, chat and contact-only words (folded): data/language/function_words.yml, the
# one table every matcher reads.
FUNCTION_WORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "language" / "function_words.yml"
_FUNCTION_DATA = yaml.safe_load(FUNCTION_WORDS_FILE.read_text(encoding="utf-8"))
FUNCTION_WORDS = frozenset(" ".join(_FUNCTION_DATA["function"]).split())
CHAT_WORDS = frozenset(" ".join(_FUNCTION_DATA["chat"]).split())
CONTACT_WORDS = frozenset(" ".join(_FUNCTION_DATA["contact"]).split())
PROGRAMME_WORDS = frozenset(" ".join(_FUNCTION_DATA["programme"]).split())

# Abbreviations common in the documents and in chat, expanded for matching (folded):
# data/language/abbreviations.yml (one table for retrieval, answer checks and contacts).
ABBREVIATIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "language" / "abbreviations.yml"
_ABBREVIATION_DATA = yaml.safe_load(ABBREVIATIONS_FILE.read_text(encoding="utf-8"))
ABBREVIATIONS: dict[str, str] = {str(k): str(v) for k, v in _ABBREVIATION_DATA["words"].items()}
CHAT_SHORTHAND: tuple[str, ...] = tuple(str(k) for k in _ABBREVIATION_DATA["chat"])
DIRECTORY_ABBREVIATIONS: dict[str, str] = {str(k): str(v) for k, v in _ABBREVIATION_DATA["directory"].items()}
DOTTED_ABBREVIATIONS: tuple[str, ...] = tuple(str(k) for k in _ABBREVIATION_DATA.get("dotted", ()))
# Variant -> first form ("toi thieu" -> "it nhat", "%" -> "phan tram"): abbreviations.yml `equivalents`.
EQUIVALENTS: dict[str, str] = {
    str(v): str(k) for k, vs in (_ABBREVIATION_DATA.get("equivalents") or {}).items() for v in vs
}
_SYMBOLS = {v: k for v, k in EQUIVALENTS.items() if not _WORD_RE.fullmatch(v.replace(" ", ""))}
_PHRASES = {tuple(v.split()): tuple(k.split()) for v, k in EQUIVALENTS.items() if v not in _SYMBOLS}
_LONGEST = max((len(v) for v in _PHRASES), default=0)


def search_words(text: str) -> list[str]:
    """Folded words with abbreviations expanded ("HTX" -> "hop tac xa"), for matching."""
    out: list[str] = []
    for w in words(text):
        out.extend(ABBREVIATIONS.get(w, w).split())
    return out


def canonical_words(text: str) -> list[str]:
    """`search_words` with every equivalent written as its first form ("tối thiểu" -> "it nhat")."""
    for symbol, form in _SYMBOLS.items():
        text = text.replace(symbol, f" {form} ")
    tokens, out, i = search_words(text), [], 0
    while i < len(tokens):
        for n in range(min(_LONGEST, len(tokens) - i), 0, -1):
            form = _PHRASES.get(tuple(tokens[i : i + n]))
            if form is not None:
                out.extend(form)
                i += n
                break
        else:
            out.append(tokens[i])
            i += 1
    return out
