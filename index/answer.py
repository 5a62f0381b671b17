"""Extractive answers: pick the sentences of the best passages that answer the question."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Protocol

from bot.entities import find_provinces, find_stars
from bot.text import fold, search_words

STOP = frozenset(
    "a ah ak ad ai anh bao cho chi cua co cac da day de den di do duoc em gi ha hay hoi ko k "
    "khong la lam lai ma minh muon nao nay nhe nhieu nhung noi o oi ra roi tai the thi thay "
    "toi trong tu va ve vay voi vui xin z j dc nhi u ong ba con hien nay ocop".split()
)
_NUMBER_Q = re.compile(
    r"\b(bao nhieu|bao nhiu|bao nhieu|may|so luong|tong so|ty le|phan tram|bao lau|so san pham|so chu the)\b"
)
_DIGIT = re.compile(r"\d")
# A figure: a number that is not a year, a date or a decision number ("2021-2025", "24/3").
_DATE_WORDS = re.compile(r"ngay \d{1,2} thang \d{1,2}(?: nam \d{4})?|thang \d{1,2} nam \d{4}")
_FIGURE = re.compile(
    r"(?<![\d/.-])(?!(?:19|20)\d\d(?!\d))\d{1,6}(?:[.,]\d+)?(?![\d/-])\s*(%|san pham|chu the|sao|diem|thang|nam|trieu|diem ban)?"
)


class HitLike(Protocol):
    """What the composer needs from a retrieved passage."""

    row: dict[str, Any]
    fused: float
    meta: dict[str, Any]


@dataclass
class Answer:
    """The chosen sentences and where they come from."""

    sentences: list[str]
    doc_id: str
    meta: dict[str, Any]
    has_figures: bool
    score: float

    @property
    def text(self) -> str:
        """The answer text."""
        return " ".join(self.sentences)


def _bigrams(tokens: list[str]) -> set[str]:
    """Adjacent token pairs."""
    return {f"{a} {b}" for a, b in zip(tokens, tokens[1:])}


@functools.lru_cache(maxsize=50_000)
def _provinces(text: str) -> frozenset[str]:
    """Provinces named in a text (cached: passages' sentences recur across questions)."""
    return frozenset(m.value for m in find_provinces(text))


@functools.lru_cache(maxsize=50_000)
def _tokens(text: str) -> tuple[str, ...]:
    """Folded words with abbreviations expanded (cached)."""
    return tuple(search_words(text))


@functools.lru_cache(maxsize=50_000)
def _stars(text: str) -> frozenset[str]:
    """Star levels named in a text."""
    return frozenset(m.value for m in find_stars(text))


def has_figure(sentence: str) -> bool:
    """Tell whether a sentence states a figure (not only years, dates or decision numbers)."""
    text = _DATE_WORDS.sub(" ", fold(sentence).lower())
    return bool(_FIGURE.search(text))


def score_sentence(
    sentence: str, query: str, context: str, title: str, idf: dict[str, float] | None = None
) -> float | None:
    """Score how well one sentence answers the query; None if it cannot be the answer.

    `context` is the text before the sentence in its passage (what "tỉnh", "Trong đó"
    refer to); `title` names what the document is about.
    """
    q_tokens = _tokens(query)
    q_terms = {t for t in q_tokens if t not in STOP}
    s_tokens = _tokens(sentence)
    s_set = set(s_tokens)
    if not q_terms or len(s_tokens) < 3:
        return None
    if not re.search(r"[.!?…;:)”\"]\s*$", sentence) and not _DIGIT.search(sentence):
        return None  # a heading or caption ("Chương trình OCOP là gì và cơ sở pháp lý"), not an answer
    weight = (lambda t: idf.get(t, 1.0)) if idf else (lambda t: 1.0)
    overlap = sum(weight(t) for t in q_terms & s_set) / sum(weight(t) for t in q_terms)
    phrase = len(_bigrams(q_tokens) & _bigrams(s_tokens))
    score = overlap + 0.25 * min(phrase, 4)
    q_prov = _provinces(query)
    if q_prov:
        about = _provinces(sentence) or _provinces(context) or _provinces(title)
        if not about & q_prov:
            return None  # about another province, or no province we can tell
        score += 0.4 if _provinces(sentence) else 0.2
    q_star = _stars(query)
    if q_star:
        score += 0.5 if _stars(sentence) & q_star else -0.4
    folded_q = " ".join(q_tokens)
    if _NUMBER_Q.search(folded_q):
        if not has_figure(sentence):
            return None
        unit = asked_unit(folded_q)
        if unit and not states_count_of(sentence, unit):
            return None  # asks "how many X" but the sentence counts something else
        score += 1.4 if unit else 0.2
    return score


# Number words, without "một" (mostly an article: "một số", "Mỗi xã một sản phẩm").
_NUMERAL = r"(?:\d+|hai|ba|bon|tu|nam|sau|bay|tam|chin|muoi)"


@functools.lru_cache(maxsize=50_000)
def states_count_of(sentence: str, unit: str) -> bool:
    """Does the sentence give a number of `unit` ("102 chủ thể", "30%", "hai cấp")?"""
    folded = fold(sentence).lower()
    if unit == "%":
        return bool(re.search(r"\d\s*%|phan tram", folded))
    folded = re.sub(r"(\d)\s*%", r"\1 phantram", _DATE_WORDS.sub(" ", folded))  # "40% chủ thể" is a share
    text = " ".join(search_words(folded))
    return bool(re.search(rf"\b{_NUMERAL}(?: den {_NUMERAL})? {re.escape(unit)}\b", text))


_UNIT_RE = re.compile(
    r"\b(?:bao nhieu|bao nhiu|may|so luong|tong so|so)\s+(phan tram|ty le|(?:\w+ ){0,1}\w+)"
)
_UNITS = {
    "san pham",
    "chu the",
    "diem",
    "huyen",
    "nhom",
    "buoc",
    "cap",
    "sao",
    "phan",
    "thang",
    "nam",
    "ngay",
    "tien",
    "trieu",
    "lan",
    "diem ban",
    "tinh",
    "xa",
    "hop tac",
    "doanh nghiep",
}


def asked_unit(folded_query: str) -> str | None:
    """The thing counted in "bao nhiêu X" / "mấy X" (two syllables at most), or "%"."""
    m = _UNIT_RE.search(folded_query)
    if not m:
        return None
    unit = m.group(1)
    if unit.startswith("phan tram") or unit.startswith("ty le"):
        return "%"
    if unit in _UNITS:
        return unit
    first = unit.split()[0]
    return first if first in _UNITS else None


def compose(
    query: str,
    hits: list[HitLike],
    idf: dict[str, float] | None = None,
    max_sentences: int = 4,
    max_words: int = 90,
) -> Answer | None:
    """Return the best extractive answer from the hits, or None if nothing answers."""
    if not hits:
        return None
    top_fused = max(h.fused for h in hits) or 1.0
    best: tuple[float, int, int] | None = None
    scored: dict[tuple[int, int], float] = {}
    for hi, hit in enumerate(hits[:5]):
        sentences = hit.row["sentences"]
        context = ""  # the last earlier sentence of the passage that names a province
        title = hit.row.get("title", "")
        for si, sentence in enumerate(sentences):
            s = score_sentence(sentence, query, context, title, idf)
            if _provinces(sentence):
                context = sentence
            if s is None:
                continue
            s += 0.3 * hit.fused / top_fused
            if hit.row.get("section") == "related":
                s -= 0.2  # a teaser of another article: prefer full articles and our summaries
            scored[(hi, si)] = s
            if best is None or s > best[0]:
                best = (s, hi, si)
    if best is None or best[0] < 0.5:
        return None
    score, hi, si = best
    hit = hits[hi]
    sentences = hit.row["sentences"]
    chosen = [si]
    # Add neighbouring sentences of the same passage that also answer (e.g. a list that
    # continues, or "Trong đó, ..." details), keeping document order.
    for sj in (si + 1, si - 1, si + 2, si + 3):
        if len(chosen) >= max_sentences or not 0 <= sj < len(sentences):
            continue
        s2 = scored.get((hi, sj))
        n_words = sum(len(sentences[k].split()) for k in chosen) + len(sentences[sj].split())
        if s2 is not None and s2 >= 0.8 * score and n_words <= max_words:
            chosen.append(sj)
    if si + 1 < len(sentences) and si + 1 not in chosen and len(chosen) < max_sentences:
        nxt = sentences[si + 1]
        n_words = sum(len(sentences[k].split()) for k in chosen) + len(nxt.split())
        if fold(nxt).lower().startswith(("trong do", "bao gom", "gom")) and n_words <= max_words:
            chosen.append(si + 1)
    picked = [sentences[k] for k in sorted(chosen)]
    text = " ".join(picked)
    return Answer(picked, hit.row["doc_id"], hit.meta, has_figure(text), score)


def format_date(value: Any) -> str:
    """ISO date (yyyy-mm-dd, yyyy-mm or yyyy) -> Vietnamese dd/mm/yyyy form."""
    text = str(value or "").strip()
    parts = text.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{parts[2]}/{parts[1]}/{parts[0]}"
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return f"{parts[1]}/{parts[0]}"
    return text


def source_line(meta: dict[str, Any]) -> str:
    """Publisher (and original sources for our summaries) for the answer's source line."""
    publisher = str(meta.get("publisher") or "").strip()
    site = str(meta.get("source_site") or "").strip()
    if not publisher or "không rõ" in publisher:
        author = str(meta.get("author") or "").strip()
        publisher = f"“{meta.get('title', '')}”" + (f" – {author}" if author else "")
    sources = meta.get("sources") or []
    if sources:
        return f"{publisher} – " + "; ".join(str(s) for s in sources[:2])
    if site and site.lower() not in publisher.lower() and "không rõ" not in site:
        return f"{publisher} ({site})"
    return publisher
