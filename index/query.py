"""Turn a chat message into a search query: drop emoji, keep the question of a long
message, expand chat abbreviations, correct typos against the documents' vocabulary.

    "TG bnhieu chu the"               -> "Tien Giang bao nhieu chu the"
    "Sóc Trăg sảm phẩm 5 sao"          -> "Sóc Trăng sản phẩm 5 sao"
    "<ten sentences of context>: chứng nhận dùng mấy năm?"
                                       -> "chứng nhận dùng mấy năm?"
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml

from bot.entities import ABBREVIATIONS as PROVINCE_ABBREVIATIONS
from bot.entities import find_provinces, find_stars
from bot.text import (
    ABBREVIATIONS,
    CHAT_SHORTHAND,
    CHAT_WORDS,
    FUNCTION_WORDS,
    fold,
    fold_char,
    has_diacritics,
    search_words,
)
from index.lexicon import Lexicon

QUERY_LIMIT = 500  # characters of the (focused) question sent to retrieval
LONG_MESSAGE = 30  # words: longer messages are focused on their question sentence
SHORT_SENTENCE = 6  # words: a shorter question sentence keeps the sentence before it
# Below this share of words with accents (or with accents only on particles such as "ạ"),
# a message was typed without them: its stray accents are dropped so that retrieval treats
# it as unaccented text. Accented Vietnamese has accents on most words.
STRAY_SHARE = 0.2
PARTICLES = frozenset("ạ à ả ơi nhé nhá nhỉ hả hở ợ ạh".split())
# Chat shorthand expanded in the query text itself (retrieval's BM25 expands every
# abbreviation of bot.text, but the dense encoder only sees the text).
# Function and chat words of a question ("ocop là gì ạ"): with nothing else, the subject is bare.
_FUNCTION = FUNCTION_WORDS | CHAT_WORDS
BARE_SUBJECT = {"ocop": "chuong trinh ocop"}  # "ocop là gì" asks about the programme
DEFINITION = "la gi"  # folded "là gì": the canonical form of a definition question
_CUES = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "data" / "language" / "cues.yml").read_text(encoding="utf-8")
)
DEFINITIONS = tuple(sorted(_CUES["definition"], key=len, reverse=True))  # folded, longest first
_OPENERS = tuple(re.compile(p) for p in _CUES.get("openers") or ())

STAR_SIGNS = "⭐★"
_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+|\n+")
_QUESTION_CUE = re.compile(
    r"\?|\b(bao nhieu|bao lau|bao gio|gi|nao|the nao|ra sao|khong|chua|may|ai|o dau|lam sao|khi nao)\b"
)
_COUNT_CUE = re.compile(r"\b(bao nhieu|bnhieu|bn|may)\b")  # a question for a count
_REPEATED_PUNCT = re.compile(r"([?!.,])(?:\s*\1)+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([?!.,])")


def strip_noise(text: str) -> str:
    """Remove emoji and pictographs, collapse repeated punctuation ("??? 🤔🤔" -> "?")."""
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in STAR_SIGNS:  # "5⭐" is a star level (bot.entities.find_stars)
            kept.append(ch)
        elif cat in ("So", "Sk", "Cs", "Co", "Cn") or ch in "\u200d\ufe0f\ufe0e":
            kept.append(" ")
        else:
            kept.append(ch)
    out = _REPEATED_PUNCT.sub(r"\1", "".join(kept))
    out = _SPACE_BEFORE_PUNCT.sub(r"\1", out)
    return re.sub(r"\s+", " ", out).strip()


def drop_opener(text: str) -> str:
    """The message without an opening formula (a reader's letter "… hỏi:", a deputy's "… cho biết")."""
    folded = fold(text)  # as long as the text: a match's end is an offset into it
    for opener in _OPENERS:
        m = opener.match(folded)
        if m and len(text[m.end() :].split()) >= 3:
            return text[m.end() :]
    return text


def focus(text: str) -> str:
    """The question of a long message (the last sentence that asks something, or every sentence
    ending in "?" when there are several), without its opener."""
    text = drop_opener(text)
    if len(text.split()) <= LONG_MESSAGE:
        return text
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    if len(sentences) < 2:
        return text
    asking = [i for i, s in enumerate(sentences) if s.endswith("?")]
    if not asking:
        asking = [i for i, s in enumerate(sentences) if _QUESTION_CUE.search(fold(s))]
    if not asking:
        return text
    questions = [i for i in asking if sentences[i].endswith("?")]
    if len(questions) > 1:  # "… được lợi gì? Có đáng đăng ký không?": every question, in order
        return " ".join(drop_opener(sentences[i]) for i in questions)
    i = asking[-1]
    question = drop_opener(sentences[i])
    if i > 0 and (len(question.split()) < SHORT_SENTENCE or _names_what_before(question, sentences[i - 1])):
        question = f"{sentences[i - 1]} {question}"
    return question


def _names_what_before(question: str, before: str) -> bool:
    """Does a question for a count leave out the place or star level that the sentence before
    it names ("… Cần Thơ có hàng 5 sao. Vậy tổng cộng được bao nhiêu?")?"""
    if not _COUNT_CUE.search(fold(question).lower()) or find_provinces(question) or find_stars(question):
        return False
    return bool(find_provinces(before) or find_stars(before))


def unify_accents(text: str) -> str:
    """Drop the stray accents of a message typed without them ("ocop la gi ạ", "Sóc Trăng
    may chu the"): only sentence particles, or a small share of its words, have any."""
    words = re.findall(r"[^\W\d_]+", text)
    accented = [w for w in words if has_diacritics(w)]
    if not accented:
        return text
    only_particles = all(w.lower() in PARTICLES for w in accented)
    if not only_particles and (len(accented) / len(words) >= STRAY_SHARE or len(words) < 5):
        return text
    return "".join(fold_char(c).upper() if c.isupper() else fold_char(c) for c in text)


def _replace_words(text: str, replace: dict[str, str], lexicon: Lexicon | None, accented: bool) -> str:
    """Replace whole words (folded, case-insensitive) not part of codes like "148/QĐ-TTg"."""
    keys = "|".join(sorted((re.escape(k) for k in replace), key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w/-])({keys})(?![\w/-])")
    folded = fold(text)  # same length as text: spans map back
    out, last = [], 0
    for m in pattern.finditer(folded):
        new = replace[m.group(1)]
        if accented and lexicon is not None and new.islower():  # "bao nhiu" -> "bao nhiêu"
            if " " in new:
                new = lexicon.accent(new)
            else:
                before = re.findall(r"\w+", folded[: m.start()])
                new = lexicon.written(new, before[-1].lower() if before else None)
        out.append(text[last : m.start()] + new)
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def expand_shorthand(text: str, lexicon: Lexicon | None) -> str:
    """Spell out chat abbreviations and province short forms in the text's own style."""
    accented = has_diacritics(text)
    replace = {short: ABBREVIATIONS[short] for short in CHAT_SHORTHAND}
    for short, name in PROVINCE_ABBREVIATIONS.items():
        replace[short] = name if accented else fold(name).title()
    return _replace_words(text, replace, lexicon, accented)


def expand_bare_subject(text: str, lexicon: Lexicon | None) -> str:
    """ "ocop là cái gì vậy ạ?" -> "chương trình OCOP là gì" (the subject alone says too little,
    and the filler words only dilute the query)."""
    folded = f" {' '.join(search_words(text))} "
    for phrase in DEFINITIONS:  # "nghĩa là gì", "là sao": the question word of a definition
        folded = folded.replace(f" {phrase} ", " ")
    terms = [w for w in folded.split() if w not in _FUNCTION]
    if len(terms) != 1 or terms[0] not in BARE_SUBJECT:
        return text
    question = f"{BARE_SUBJECT[terms[0]]} {DEFINITION}"
    return lexicon.accent(question) if lexicon is not None else question  # our words: accented


def prepare_variants(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """Search queries for a (cleaned) user message, best guess first.

    A message typed without accents gives two readings (index/accents.py): accents restored
    by the project's own bigram model (the dense encoder reads accented text far better),
    then by pyvi's general model; when one guesses a word wrong ("bay gio" -> "bay gió") the
    other usually does not, and the pipeline keeps the answer that scores best.
    """
    question = unify_accents(focus(strip_noise(text))[:QUERY_LIMIT].strip())
    question = expand_shorthand(question, lexicon)
    variants = [question]
    if lexicon is not None:
        keep = frozenset(ABBREVIATIONS) | frozenset(PROVINCE_ABBREVIATIONS)
        question = lexicon.correct(question, keep)
        variants = [question]
        if lexicon.accents is not None:
            variants = lexicon.accents.readings(question)
    return list(dict.fromkeys(expand_bare_subject(v, lexicon) or text for v in variants))


def prepare_question(text: str, lexicon: Lexicon | None = None) -> str:
    """The best search query for a (cleaned) user message."""
    return prepare_variants(text, lexicon)[0]
