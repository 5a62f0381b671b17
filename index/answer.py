"""Extractive answers: pick the sentences of the best passages that answer the question."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from bot.text import fold
from index.question import (
    ADDRESS_Q,
    ADDRESS_S,
    AGENCY,
    AUTHORITY_Q,
    AUTHORITY_S,
    CONTINUES,
    DATE_S,
    DECISION_REF,
    DIGIT,
    EXIST_Q,
    FULL_DATE,
    ID_NUMBER,
    LIST_Q,
    LOCAL_S,
    NAME_Q,
    NAMES_S,
    NATIONAL_Q,
    NUMBER_Q,
    PERSON_Q,
    POINTS_Q,
    PRICE_Q,
    STAR_RANGE,
    STOP,
    TARGET_Q,
    TARGET_S,
    TITLE_S,
    WHEN_Q,
    WHO_Q,
    YEAR,
    announces_list,
    asked_noun,
    bigrams,
    contains_points,
    folded_tokens,
    has_figure,
    is_list,
    key_overlap,
    named_like,
    names_any,
    names_person,
    provinces_in,
    stars_in,
    without_provinces,
)
from index.units import asked_unit, same_money_kind, states_count_of


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


def score_sentence(
    sentence: str,
    query: str,
    context: str,
    title: str,
    idf: dict[str, float] | None = None,
    passage: str = "",
    document: str = "",
    previous: str = "",
) -> float | None:
    """Score how well one sentence answers the query; None if it cannot be the answer.

    `context` is the text before the sentence in its passage (what "tỉnh", "Trong đó"
    refer to); `title` names what the document is about (with its date);
    `passage` is the whole passage (where a year asked about may be stated);
    `document` what was retrieved of the whole document (where its number is stated);
    `previous` the sentence before (a year asked about may be stated there).
    """
    q_tokens = folded_tokens(query)
    q_star = stars_in(query)
    # star digits are weighed by the star rules below, not as words
    ids = ID_NUMBER.findall(" ".join(q_tokens))
    # star digits and document numbers are weighed by their own rules below, not as words
    q_terms = {t for t in q_tokens if t not in STOP and t not in q_star and t not in ids}
    if (
        not q_terms
        and "ocop" in q_tokens
        and re.search(r"\b(la gi|nghia la|nghia gi|la sao)\b", " ".join(q_tokens))
    ):
        q_terms = {"ocop"}  # "OCOP là gì?": the programme itself is what is asked about
    q_prov = provinces_in(query)
    s_tokens = folded_tokens(without_provinces(sentence, q_prov))
    s_set = set(s_tokens)
    if not q_terms or len(s_tokens) < 3:
        return None
    if not re.search(r"[.!?…;:)”\"]\s*$", sentence) and not DIGIT.search(sentence):
        return None  # a heading or caption ("Chương trình OCOP là gì và cơ sở pháp lý"), not an answer
    folded_q = " ".join(q_tokens)
    folded_s = fold(sentence).lower()
    years = set(YEAR.findall(folded_q))
    # the sentence, its document's title and date, the sentence it continues ("Trong đó, ..."),
    # or "năm 2024" in its passage (not a decision's date "ngày 07/5/2018")
    before = previous if re.match(r"(trong do|trong so|ngoai ra|bao gom|gom)\b", folded_s) else ""
    own = folded_s if WHEN_Q.search(folded_q) else DECISION_REF.sub(" ", folded_s)
    stated = set(YEAR.findall(fold(f"{before} {own} {title}")))
    stated |= set(re.findall(r"\bnam ((?:19|20)\d\d)\b", fold(passage).lower()))  # "đợt 3 năm 2024" heading
    if years and not years & stated:
        return None  # "năm 2019 ...": nothing here is about that year
    if WHEN_Q.search(folded_q) and not DATE_S.search(folded_s):
        return None  # asks when: the sentence must give a date or a year
    if re.search(r"\bngay nao\b", folded_q) and not FULL_DATE.search(folded_s):
        return None  # "vào ngày nào": a day, not only a year
    weight = (lambda t: idf.get(t, 1.0)) if idf else (lambda t: 1.0)
    overlap = sum(weight(t) for t in q_terms & s_set) / sum(weight(t) for t in q_terms)
    phrase = len(bigrams(q_tokens) & bigrams(s_tokens))
    score = overlap + 0.25 * min(phrase, 4)
    if q_prov:
        about = provinces_in(sentence) or provinces_in(context) or provinces_in(title)
        if not about & q_prov:
            return None  # about another province, or no province we can tell
        score += 0.4 if provinces_in(sentence) else 0.2
    elif provinces_in(sentence) and not any(named_like(folded_q, name) for name in provinces_in(sentence)):
        score -= 0.3  # a question about the programme: one province's facts answer it less well
    number_q = bool(NUMBER_Q.search(folded_q))
    if not q_prov and NATIONAL_Q.search(folded_q):
        local = LOCAL_S.search(folded_s) or provinces_in(f"{sentence} {context} {title}")
        if local and number_q:
            return None  # a national question: one city's or province's count is not the answer
        score += -0.5 if local else 0.3 if NATIONAL_Q.search(folded_s) else 0.0
    if AUTHORITY_Q.search(folded_q):
        score += 0.5 if AUTHORITY_S.search(folded_s) else -0.3  # "ai công nhận": names the authority
    naming_q = bool(NAME_Q.search(folded_q))
    if q_star:
        exact = (
            stars_in(STAR_RANGE.sub(" ", folded_s)) if not STAR_RANGE.search(folded_q) else stars_in(sentence)
        )
        if number_q or naming_q or EXIST_Q.search(folded_q):
            if exact & q_star:
                score += 0.5
            elif stars_in(sentence) & q_star:
                score -= 0.3  # only "từ 3 sao trở lên": a total, the answer if nothing better
            else:
                return None  # a star level asked that the sentence does not state: not this level
        elif exact & q_star:
            score += 0.2  # a yes/no question naming a level: the level is a detail of the question
        elif stars_in(sentence):
            score -= 0.4  # about other star levels
    if naming_q and not re.search(r"\b(chua|khong)\s*$", folded_q) and not NAMES_S.search(sentence):
        return None  # "kể tên ...": a count or a remark names nothing
    agency = AGENCY.search(folded_q)
    if agency and re.search(rf"\b{agency.group(0)}\b", " ".join(s_tokens)):
        score += 1.0  # "Sở Công Thương làm gì": the sentence about that agency
    if LIST_Q.search(folded_q) and is_list(sentence, asked_noun(folded_q)):
        score += 0.5 * overlap  # "gồm những nhóm nào": the sentence that gives the list
    if PERSON_Q.search(folded_q) and not names_person(sentence):
        return None  # "Giám đốc Sở ... là ai": a sentence naming nobody does not answer
    if ADDRESS_Q.search(folded_q) and not ADDRESS_S.search(folded_s):
        return None  # "địa chỉ ... ở đâu": a plan to open sales points is not an address
    points = POINTS_Q.search(folded_q)
    if points and (held := contains_points(folded_s, int(points.group(1)))) is not None:
        score += 1.0 if held else -0.5  # "60 điểm thì mấy sao": the band that holds 60
    if WHO_Q.search(folded_q) and names_person(sentence):
        score += 0.9 if TITLE_S.search(folded_s) else 0.5  # "X là ai": the sentence giving X's title
    if ids:  # "kế hoạch 152", "bộ tiêu chí 1048": the passage about that document
        if names_any(sentence, ids):
            score += 0.8
        elif names_any(f"{passage} {document} {title}", ids):
            score += 0.3
        else:
            score -= 0.5
    if number_q:
        if not has_figure(sentence):
            return None
        unit = "%" if "%" in query else asked_unit(folded_q)
        if unit and not states_count_of(sentence, unit):
            return None  # asks "how many X" but the sentence counts something else
        if (unit in ("tien", "trieu") or PRICE_Q.search(folded_q)) and not same_money_kind(
            folded_q, folded_s
        ):
            return None  # "phí thẩm định bao nhiêu tiền": a support amount is not a fee
        if key_overlap(q_terms, query, unit, s_set | set(folded_tokens(title))) < 0.3:
            return None  # a figure, but about little of what was asked (an export market asked)
        score += 1.4 if unit else 0.2
        if bool(TARGET_Q.search(folded_q)) != bool(TARGET_S.search(folded_s)):
            score -= 0.6  # a target answering "how many are there" (or the reverse)
    return score


# Words of figure questions that say nothing about what is counted.


def with_misspelt_province(query: str, hits: list[HitLike]) -> str:
    """The query, plus the province it names misspelt ("Sóc Trănng") if a passage names it."""
    if provinces_in(query):
        return query
    folded_q = " ".join(folded_tokens(query))
    named = set()
    for hit in hits:
        named |= provinces_in(hit.row.get("title", "")) | provinces_in(" ".join(hit.row["sentences"]))
    like = sorted(name for name in named if named_like(folded_q, name))
    return f"{query} ({like[0]})" if len(like) == 1 else query


def compose(
    query: str,
    hits: list[HitLike],
    idf: dict[str, float] | None = None,
    max_sentences: int = 4,
    max_words: int = 90,
    max_hits: int = 5,
) -> Answer | None:
    """Return the best extractive answer from the hits, or None if nothing answers."""
    if not hits:
        return None
    top_fused = max(h.fused for h in hits) or 1.0
    best: tuple[float, int, int] | None = None
    scored: dict[tuple[int, int], float] = {}
    query = with_misspelt_province(query, hits[:max_hits])
    doc_text: dict[str, str] = {}
    for hit in hits[:max_hits]:
        doc_text[hit.row["doc_id"]] = (
            doc_text.get(hit.row["doc_id"], "") + " " + " ".join(hit.row["sentences"])
        )
    for hi, hit in enumerate(hits[:max_hits]):
        sentences = hit.row["sentences"]
        context = ""  # the last earlier sentence of the passage that names a province
        title = f"{hit.row.get('title', '')} {hit.meta.get('date') or ''}"
        # the passage, with what the other retrieved passages of its document say (the
        # plan's number or year is often stated once, at the top of the document)
        passage = " ".join(sentences)
        document = doc_text.get(hit.row["doc_id"], "")
        for si, sentence in enumerate(sentences):
            previous = sentences[si - 1] if si else ""
            s = score_sentence(sentence, query, context, title, idf, passage, document, previous)
            if provinces_in(sentence):
                context = sentence
            if fold(sentence).strip().lower() == fold(hit.row.get("title", "")).strip().lower():
                continue  # the document's heading (a title that states the topic), not an answer
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
    # continues, or "Trong đó, ..." details), keeping document order. Questions asking
    # for a list or a procedure keep more of them.
    share = 0.5 if LIST_Q.search(" ".join(folded_tokens(query))) else 0.8
    for sj in (si + 1, si - 1, si + 2, si + 3):
        if len(chosen) >= max_sentences or not 0 <= sj < len(sentences):
            continue
        s2 = scored.get((hi, sj))
        n_words = sum(len(sentences[k].split()) for k in chosen) + len(sentences[sj].split())
        if s2 is not None and s2 >= share * score and n_words <= max_words:
            chosen.append(sj)
    if si + 1 < len(sentences) and si + 1 not in chosen and len(chosen) < max_sentences:
        nxt = sentences[si + 1]
        n_words = sum(len(sentences[k].split()) for k in chosen) + len(nxt.split())
        if n_words <= max_words and (
            fold(nxt).lower().startswith(("trong do", "bao gom", "gom")) or announces_list(sentences[si], nxt)
        ):
            chosen.append(si + 1)
    first = min(chosen)
    if first > 0 and CONTINUES.match(fold(sentences[first]).lower()) and len(chosen) < max_sentences:
        n_words = sum(len(sentences[k].split()) for k in chosen) + len(sentences[first - 1].split())
        if n_words <= max_words:
            chosen.append(first - 1)  # "Trong đó, 19 sản phẩm 4 sao": say what "đó" is
    picked = [sentences[k] for k in sorted(chosen)]
    text = " ".join(picked)
    return Answer(picked, hit.row["doc_id"], hit.meta, has_figure(text), score)
