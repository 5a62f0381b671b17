"""Extractive answers: pick the sentences of the best passages that answer the question."""

from __future__ import annotations

import difflib
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

# A question about a plan ("phấn đấu", "chỉ tiêu") vs. one about what exists; sentences alike.
_TARGET_Q = re.compile(
    r"\b(muc tieu|phan dau|chi tieu|du kien|ke hoach|dat ra|den nam|se co|dinh huong|muon co|toi thieu)\b"
)
_TARGET_S = re.compile(r"\b(muc tieu|phan dau|chi tieu|du kien|it nhat|dinh huong)\b")
_YEAR = re.compile(r"(?<![\d.])(?:19[89]\d|20[0-3]\d)(?!\d)")
# "vào ngày nào", "năm nào", "từ bao giờ": the sentence must state a date or a year.
_WHEN_Q = re.compile(r"\b(ngay nao|nam nao|thang nao|tu bao gio|tu khi nao|thoi diem nao)\b")
_FULL_DATE = re.compile(r"\b\d{1,2}/\d{1,2}\b|\bngay \d{1,2} thang \d{1,2}\b")
_DATE_S = re.compile(r"\b(?:19|20)\d\d\b|\d{1,2}/\d{1,2}|thang \d{1,2}\b")
# "kể tên", "những sản phẩm nào": a count ("02 sản phẩm 5 sao") does not name anything.
_NAME_Q = re.compile(
    r"\b(ke ten|liet ke|ten (cua )?(cac|nhung)|(san pham|diem du lich|diem|co so|hop tac xa|doanh nghiep)(?: ocop)? nao)\b"
)
_NAMES_S = re.compile(r":|\bnhu\b")
# "ai chủ trì ...": prefer sentences that name a person.
_WHO_Q = re.compile(r"(^|\s)ai (chu tri|phat bieu|ky|la|dung dau|phu trach|lanh dao)\b|\bla ai\b")
# What an amount of money is ("phí thẩm định", "giá", "hỗ trợ", "thưởng"): asked kind -> regex.
_MONEY_KINDS = (
    ("chi phi", r"\bchi phi\b"),
    ("kinh phi", r"\bkinh phi\b"),
    ("le phi", r"\ble phi\b"),
    ("phi", r"(?<!chi )(?<!kinh )(?<!le )\bphi\b"),
    ("gia", r"(?<!danh )(?<!quoc )(?<!tham )\bgia\b(?! tri| dinh| tang)"),
    ("ho tro", r"\bho tro\b"),
    ("thuong", r"\bthuong\b(?! mai| hieu)"),
    ("von", r"\bvon\b"),
    ("luong", r"\bluong\b"),
    ("lai suat", r"\blai suat\b"),
)
# An agency named in a question ("sở công thương", "phòng tổng hợp", "bộ tài chính").
_AGENCY = re.compile(r"\b(?:so|phong|bo|van phong) (?!san\b|pham\b)[a-z]+ [a-z]+")
# A decision's number and date ("Quyết định 919/QĐ-TTg ngày 01/08/2022", "53/2022/TT-BTC"):
# its year is when the text was signed, not the year a figure is about.
_DECISION_REF = re.compile(
    r"\b(?:quyet dinh|qd|thong tu|nghi dinh|ke hoach)\s*(?:so\s*)?[\w/.-]*"
    r"(?:\s*ngay \d{1,2}(?:/\d{1,2}/\d{4}| thang \d{1,2} nam \d{4}))?"
)
# A fee, price, loan or wage asked without "bao nhiêu tiền" ("lệ phí ... là bao nhiêu").
_PRICE_Q = re.compile(r"\b(le phi|chi phi|kinh phi|phi|gia|von|luong|lai suat)\b(?! tri)")
# A number naming a document ("152/KH-UBND", "1048"), not a year or an amount.
_ID_NUMBER = re.compile(
    r"(?<![\d.,])(?!(?:19|20)\d\d(?!\d))(\d{3,5})(?![\d.,]|\s*(?:%|san pham|sp|diem|trieu|chu the))"
)
# "từ 3 sao trở lên" is a total, not the count of 3-star products.
_STAR_RANGE = re.compile(r"\btu \d sao(?: tro len)?|\b\d sao tro len|\btu \d (?:den|toi) \d sao")
# A sentence that announces a list ("chia thành 6 nhóm") without giving it.
_ANNOUNCE = re.compile(
    r"\b(\d+|hai|ba|bon|nam|sau|bay|tam|chin|muoi) (nhom|buoc|phan|cap|loai|tieu chi|noi dung|nhiem vu|giai doan)\b"
)
# Questions that want a list or a procedure: neighbouring sentences that also answer are kept.
_LIST_Q = re.compile(
    r"\b(nhu the nao|the nao|lam sao|ra sao|nhung gi|gom nhung|gom gi|cac buoc|nhung (nhom|buoc|loai|giay to|mau)|"
    r"nhiem vu gi|lam gi|nhung \w+(?: \w+)? nao)\b"
)

# A sentence that only makes sense after the one before it.
_CONTINUES = re.compile(r"(trong do|trong so do|trong so nay|ngoai ra|dong thoi|tuy nhien|ben canh do)\b")
_SMALL_RANGE = re.compile(r"(?<![\d/.-])(\d{1,3})\s*[-–]\s*(\d{1,3})(?![\d/-])")


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
    text = _SMALL_RANGE.sub(r"\1 den \2", text)  # "5-8 sản phẩm" is a figure, "2021-2025" is not
    return bool(_FIGURE.search(text))


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
    q_tokens = _tokens(query)
    q_star = _stars(query)
    # star digits are weighed by the star rules below, not as words
    ids = _ID_NUMBER.findall(" ".join(q_tokens))
    # star digits and document numbers are weighed by their own rules below, not as words
    q_terms = {t for t in q_tokens if t not in STOP and t not in q_star and t not in ids}
    if (
        not q_terms
        and "ocop" in q_tokens
        and re.search(r"\b(la gi|nghia la|nghia gi|la sao)\b", " ".join(q_tokens))
    ):
        q_terms = {"ocop"}  # "OCOP là gì?": the programme itself is what is asked about
    q_prov = _provinces(query)
    s_tokens = _tokens(_without_provinces(sentence, q_prov))
    s_set = set(s_tokens)
    if not q_terms or len(s_tokens) < 3:
        return None
    if not re.search(r"[.!?…;:)”\"]\s*$", sentence) and not _DIGIT.search(sentence):
        return None  # a heading or caption ("Chương trình OCOP là gì và cơ sở pháp lý"), not an answer
    folded_q = " ".join(q_tokens)
    folded_s = fold(sentence).lower()
    years = set(_YEAR.findall(folded_q))
    # the sentence, its document's title and date, the sentence it continues ("Trong đó, ..."),
    # or "năm 2024" in its passage (not a decision's date "ngày 07/5/2018")
    before = previous if re.match(r"(trong do|trong so|ngoai ra|bao gom|gom)\b", folded_s) else ""
    own = folded_s if _WHEN_Q.search(folded_q) else _DECISION_REF.sub(" ", folded_s)
    stated = set(_YEAR.findall(fold(f"{before} {own} {title}")))
    stated |= set(re.findall(r"\bnam ((?:19|20)\d\d)\b", fold(passage).lower()))  # "đợt 3 năm 2024" heading
    if years and not years & stated:
        return None  # "năm 2019 ...": nothing here is about that year
    if _WHEN_Q.search(folded_q) and not _DATE_S.search(folded_s):
        return None  # asks when: the sentence must give a date or a year
    if re.search(r"\bngay nao\b", folded_q) and not _FULL_DATE.search(folded_s):
        return None  # "vào ngày nào": a day, not only a year
    weight = (lambda t: idf.get(t, 1.0)) if idf else (lambda t: 1.0)
    overlap = sum(weight(t) for t in q_terms & s_set) / sum(weight(t) for t in q_terms)
    phrase = len(_bigrams(q_tokens) & _bigrams(s_tokens))
    score = overlap + 0.25 * min(phrase, 4)
    if q_prov:
        about = _provinces(sentence) or _provinces(context) or _provinces(title)
        if not about & q_prov:
            return None  # about another province, or no province we can tell
        score += 0.4 if _provinces(sentence) else 0.2
    elif _provinces(sentence) and not any(_named_like(folded_q, name) for name in _provinces(sentence)):
        score -= 0.3  # a question about the programme: one province's facts answer it less well
    number_q = bool(_NUMBER_Q.search(folded_q))
    naming_q = bool(_NAME_Q.search(folded_q))
    if q_star:
        exact = (
            _stars(_STAR_RANGE.sub(" ", folded_s)) if not _STAR_RANGE.search(folded_q) else _stars(sentence)
        )
        if number_q or naming_q:
            if exact & q_star:
                score += 0.5
            elif _stars(sentence) & q_star:
                score -= 0.3  # only "từ 3 sao trở lên": a total, the answer if nothing better
            else:
                return None  # "bao nhiêu sản phẩm 3 sao" / "điểm nào đạt 4 sao": not this level
        elif exact & q_star:
            score += 0.2  # "đạt 4 sao có được thưởng không": the level is a detail of the question
        elif _stars(sentence):
            score -= 0.4  # about other star levels
    if naming_q and not re.search(r"\b(chua|khong)\s*$", folded_q) and not _NAMES_S.search(sentence):
        return None  # "kể tên ...": a count or a remark names nothing
    agency = _AGENCY.search(folded_q)
    if agency and re.search(rf"\b{agency.group(0)}\b", " ".join(s_tokens)):
        score += 1.0  # "Sở Công Thương làm gì": the sentence about that agency
    if _LIST_Q.search(folded_q) and is_list(sentence, asked_noun(folded_q)):
        score += 0.5 * overlap  # "gồm những nhóm nào": the sentence that gives the list
    if _WHO_Q.search(folded_q) and names_person(sentence):
        score += 0.5
    if ids:  # "kế hoạch 152", "bộ tiêu chí 1048": the passage about that document
        if _names_any(sentence, ids):
            score += 0.8
        elif _names_any(f"{passage} {document} {title}", ids):
            score += 0.3
        else:
            score -= 0.5
    if number_q:
        if not has_figure(sentence):
            return None
        unit = "%" if "%" in query else asked_unit(folded_q)
        if unit and not states_count_of(sentence, unit):
            return None  # asks "how many X" but the sentence counts something else
        if (unit in ("tien", "trieu") or _PRICE_Q.search(folded_q)) and not same_money_kind(
            folded_q, folded_s
        ):
            return None  # "phí thẩm định bao nhiêu tiền": a support amount is not a fee
        if key_overlap(q_terms, query, unit, s_set | set(_tokens(title))) < 0.3:
            return None  # a figure, but about little of what was asked ("xuất khẩu sang Nhật Bản")
        score += 1.4 if unit else 0.2
        if bool(_TARGET_Q.search(folded_q)) != bool(_TARGET_S.search(folded_s)):
            score -= 0.6  # a target answering "how many are there" (or the reverse)
    return score


# Words of figure questions that say nothing about what is counted.
_FILLERS = frozenset(
    "nhiu bn bnhieu may lau tong cong tat ca hien dat sp tinh thanh pho toan quoc nuoc "
    # target words (weighed by the target rule) and document references (by the number rule)
    "ke hoach chi tieu muc tieu phan dau du kien kh ubnd uy ban nhan dan qd ttg de an quyet dinh".split()
)


def key_overlap(q_terms: set[str], query: str, unit: str | None, s_set: set[str]) -> float:
    """Share of what a figure question is about (not its province, unit or stars) in a sentence."""
    drop = set(_tokens(" ".join(_provinces(query)))) | set((unit or "").split()) | {"sao", "nam"}
    drop |= {t for t in q_terms if t.isdigit()}
    key = q_terms - drop - _FILLERS
    if len(key) < 3:
        return 1.0  # "Sóc Trăng có bao nhiêu sản phẩm": nothing more to check
    return len(key & s_set) / len(key)  # unweighted: one rare word missing ("phải") is not enough


def _names_any(text: str, numbers: list[str]) -> bool:
    """Does the text name one of these (document) numbers?"""
    folded = fold(text)
    return any(re.search(rf"(?<!\d){n}(?!\d)", folded) for n in numbers)


def same_money_kind(folded_query: str, folded_sentence: str) -> bool:
    """Is the amount in the sentence the kind of money asked (fee, price, support, reward)?"""
    for _kind, pattern in _MONEY_KINDS:
        if re.search(pattern, folded_query):
            return bool(re.search(pattern, folded_sentence))
    return True


@functools.lru_cache(maxsize=50_000)
def _named_like(folded_query: str, province: str) -> bool:
    """Does the question name this province, perhaps misspelt ("Sóc Trănng", "tien giag")?"""
    target = " ".join(_tokens(province))
    words = folded_query.split()
    n = len(target.split())
    return any(
        difflib.SequenceMatcher(None, " ".join(words[i : i + n]), target).ratio() >= 0.8
        for i in range(len(words) - n + 1)
    )


def with_misspelt_province(query: str, hits: list[HitLike]) -> str:
    """The query, plus the province it names misspelt ("Sóc Trănng") if a passage names it."""
    if _provinces(query):
        return query
    folded_q = " ".join(_tokens(query))
    named = set()
    for hit in hits:
        named |= _provinces(hit.row.get("title", "")) | _provinces(" ".join(hit.row["sentences"]))
    like = sorted(name for name in named if _named_like(folded_q, name))
    return f"{query} ({like[0]})" if len(like) == 1 else query


def names_person(sentence: str) -> bool:
    """Does the sentence name a person (three capitalised syllables: "Lê Văn Đáng")?"""
    words = re.findall(r"[^\W\d_]+", _without_provinces(sentence, frozenset()))
    run = 0
    for w in words:
        run = run + 1 if w[0].isupper() and not w.isupper() else 0
        if run >= 3:
            return True
    return False


_QUESTION_WORDS = re.compile(r"\b(la bao nhieu|bao nhieu|bao nhiu|may|so luong|tong so|ty le)\b")


def subject_bigrams(folded_query: str) -> set[str]:
    """Content word pairs of what a "X là bao nhiêu" question is about ("phi tham", "tham dinh")."""
    m = _QUESTION_WORDS.search(folded_query)
    if not m:
        return set()
    head = _without_provinces(folded_query[: m.start()], frozenset())
    words = [w for w in search_words(head) if not w.isdigit()]
    return {f"{a} {b}" for a, b in zip(words, words[1:]) if a not in STOP and b not in STOP}


@functools.lru_cache(maxsize=50_000)
def _without_provinces(sentence: str, keep: frozenset[str]) -> str:
    """The sentence without names of provinces the question does not ask about.

    "Tiền Giang" must not answer "thưởng tiền", nor "Bắc Giang" a question about "giang".
    """
    out = sentence
    for m in reversed(find_provinces(sentence)):
        if m.value not in keep:
            out = out[: m.start] + " " + out[m.end :]
    return out


# Number words, without "một" (mostly an article: "một số", "Mỗi xã một sản phẩm").
_NUMERAL = r"(?:\d+|hai|ba|bon|tu|nam|sau|bay|tam|chin|muoi)"


@functools.lru_cache(maxsize=50_000)
def states_count_of(sentence: str, unit: str) -> bool:
    """Does the sentence give a number of `unit` ("102 chủ thể", "30%", "hai cấp")?"""
    folded = fold(sentence).lower()
    if unit == "%":
        return bool(re.search(r"\d\s*%|phan tram", folded))
    if unit == "thoi gian":  # a duration ("bao lâu")
        text = " ".join(search_words(_DATE_WORDS.sub(" ", folded)))
        return bool(
            re.search(r"\b(\d+|mot|hai|ba|bon|sau|bay|tam|chin|muoi) (ngay|thang|nam|tuan|gio)\b", text)
        )
    if unit in ("tien", "trieu"):  # an amount of money
        return bool(re.search(r"\d\s*(trieu|ty|nghin|ngan|dong|vnd)\b", folded))
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


# Words after "bao nhiêu" that are not the thing counted ("tăng từ bao nhiêu lên bao nhiêu").
_NOT_UNIT = STOP | frozenset("len xuong nua roi the thi vay ocop nam nay sp dat".split())
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
            return None  # "tăng từ bao nhiêu lên bao nhiêu": a change, not a count
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
            if _provinces(sentence):
                context = sentence
            if fold(sentence).strip().lower() == fold(hit.row.get("title", "")).strip().lower():
                continue  # the document's heading ("Chu trình OCOP hằng năm gồm 6 bước"), not an answer
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
    share = 0.5 if _LIST_Q.search(" ".join(_tokens(query))) else 0.8
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
    if first > 0 and _CONTINUES.match(fold(sentences[first]).lower()) and len(chosen) < max_sentences:
        n_words = sum(len(sentences[k].split()) for k in chosen) + len(sentences[first - 1].split())
        if n_words <= max_words:
            chosen.append(first - 1)  # "Trong đó, 19 sản phẩm 4 sao": say what "đó" is
    picked = [sentences[k] for k in sorted(chosen)]
    text = " ".join(picked)
    return Answer(picked, hit.row["doc_id"], hit.meta, has_figure(text), score)


def is_list(sentence: str, noun: str = "") -> bool:
    """Does the sentence enumerate ("gồm: a; b; c", "a, b, c và d", "QĐ 1048 và QĐ 781")?"""
    if ":" in sentence or sentence.count(";") >= 2 or sentence.count(",") >= 3:
        return True
    return bool(noun) and " ".join(_tokens(sentence)).count(noun) >= 3


def asked_noun(folded_query: str) -> str:
    """What "những X nào" asks to list ("quyet dinh"), or ""."""
    m = re.search(r"\bnhung (\w+(?: \w+)?) nao\b", folded_query)
    return m.group(1) if m else ""


def announces_list(sentence: str, following: str) -> bool:
    """Does the sentence announce a list ("chia thành 6 nhóm") that the next one gives?"""
    folded = fold(sentence).lower()
    if ":" in sentence or not _ANNOUNCE.search(folded):
        return False
    return is_list(following)


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
