"""What a question asks and what a sentence states: units, figures, targets, dates, lists (folded text)."""

from __future__ import annotations

import difflib
import functools
import re

from bot.entities import find_provinces, find_stars
from bot.text import FUNCTION_WORDS, fold, search_words

# "còn", "hiện nay" and the programme's own name say nothing about which sentence answers
STOP = FUNCTION_WORDS | frozenset("con hien nay ocop".split())
NUMBER_Q = re.compile(
    r"\b(bao nhieu|bao nhiu|bao nhieu|may|so luong|tong so|ty le|phan tram|bao lau|so san pham|so chu the)\b"
)
DIGIT = re.compile(r"\d")
# A figure: a number that is not a year, a date or a decision number ("2021-2025", "24/3").
DATE_WORDS = re.compile(r"ngay \d{1,2} thang \d{1,2}(?: nam \d{4})?|thang \d{1,2} nam \d{4}")
_FIGURE = re.compile(
    r"(?<![\d/.-])(?!(?:19|20)\d\d(?!\d))\d{1,6}(?:[.,]\d+)?(?![\d/-])\s*(%|san pham|chu the|sao|diem|thang|nam|trieu|diem ban)?"
)

# A question about a plan ("phấn đấu", "chỉ tiêu") vs. one about what exists; sentences alike.
TARGET_Q = re.compile(
    r"\b(muc tieu|phan dau|chi tieu|du kien|ke hoach|dat ra|den nam|se co|dinh huong|muon co|toi thieu"
    r"|du dinh|du tinh|tinh mo|se mo|se phat trien)\b"
)
TARGET_S = re.compile(r"\b(muc tieu|phan dau|chi tieu|du kien|it nhat|dinh huong)\b")
YEAR = re.compile(r"(?<![\d.])(?:19[89]\d|20[0-3]\d)(?!\d)")
# "vào ngày nào", "năm nào", "từ bao giờ": the sentence must state a date or a year.
WHEN_Q = re.compile(r"\b(ngay nao|nam nao|thang nao|tu bao gio|tu khi nao|thoi diem nao)\b")
FULL_DATE = re.compile(r"\b\d{1,2}/\d{1,2}\b|\bngay \d{1,2} thang \d{1,2}\b")
DATE_S = re.compile(r"\b(?:19|20)\d\d\b|\d{1,2}/\d{1,2}|thang \d{1,2}\b")
# "kể tên", "những sản phẩm nào": a count ("02 sản phẩm 5 sao") does not name anything.
NAME_Q = re.compile(
    r"\b(ke ten|liet ke|ten (cua )?(cac|nhung)|(san pham|diem du lich|diem|co so|hop tac xa|doanh nghiep)(?: ocop)? nao)\b"
)
NAMES_S = re.compile(r":|\bnhu\b")
# A question about the whole country, and sentences about one locality ("toàn thành phố có").
NATIONAL_Q = re.compile(r"\b(ca nuoc|toan quoc|tren toan quoc|viet nam)\b")
LOCAL_S = re.compile(r"\b(toan tinh|toan thanh pho|toan huyen|cua tinh|tinh da|tinh co|thanh pho co)\b")
# "đã có ... nào chưa": a yes/no question about things of one kind (a star level)
EXIST_Q = re.compile(
    r"\bnao (chua|khong|ko)\s*$|\bco (san pham|sp|diem|co so|hop tac xa|doanh nghiep)\b.* (chua|khong|ko)\s*$"
)
# "ai / cơ quan nào cấp, công nhận": the answer names an authority
AUTHORITY_Q = re.compile(
    r"\b(ai|co quan nao|cap nao|don vi nao) (cap|cong nhan|xet|danh gia|phe duyet|ban hanh|quyet dinh)"
)
AUTHORITY_S = re.compile(r"\b(ubnd|uy ban nhan dan|bo truong|bo nong nghiep|hoi dong|chu tich|thu tuong)\b")
# "ai chủ trì ...": prefer sentences that name a person.
WHO_Q = re.compile(
    r"(^|\s)ai (chu tri|phat bieu|ky|la|dung dau|phu trach|lanh dao)\b|\bla ai\b|\bchuc (vu|danh)\b"
)
# "X là ai", "giữ chức vụ gì": asks who a person is, so the answer names one
PERSON_Q = re.compile(r"\bla ai\b|\bchuc (vu|danh)\b")
# "địa chỉ ... ở đâu": the answer gives an address
ADDRESS_Q = re.compile(r"\bdia chi\b")
ADDRESS_S = re.compile(r"\b(dia chi|so nha|duong|phuong|khom|ap) \w")
POINTS_Q = re.compile(r"\b(\d{1,3}) diem\b")


def contains_points(folded_sentence: str, points: int) -> bool | None:
    """Whether a score band of the sentence ("từ 50 đến 69 điểm", "dưới 30 điểm") holds the
    points asked; None when the sentence gives no band."""
    bands = [
        (int(a), int(b)) for a, b in re.findall(r"tu (\d{1,3}) (?:den|toi) (\d{1,3}) diem", folded_sentence)
    ]
    bands += [(0, int(x) - 1) for x in re.findall(r"duoi (\d{1,3}) diem", folded_sentence)]
    if not bands:
        return None
    return any(low <= points <= high for low, high in bands)


# a person's title next to the name ("Phó Chủ tịch UBND tỉnh ... <name>")
TITLE_S = re.compile(
    r"\b(chu tich|giam doc|chanh van phong|truong phong|chi cuc truong|bi thu|truong ban|to truong)\b"
)
# An agency named in a question ("sở công thương", "phòng tổng hợp", "bộ tài chính").
AGENCY = re.compile(r"\b(?:so|phong|bo|van phong) (?!san\b|pham\b)[a-z]+ [a-z]+")
# A decision's number and date ("Quyết định 919/QĐ-TTg ngày 01/08/2022", "53/2022/TT-BTC"):
# its year is when the text was signed, not the year a figure is about.
DECISION_REF = re.compile(
    r"\b(?:quyet dinh|qd|thong tu|nghi dinh|ke hoach)\s*(?:so\s*)?[\w/.-]*"
    r"(?:\s*ngay \d{1,2}(?:/\d{1,2}/\d{4}| thang \d{1,2} nam \d{4}))?"
)
# A fee, price, loan or wage asked without "bao nhiêu tiền" ("lệ phí ... là bao nhiêu").
PRICE_Q = re.compile(r"\b(le phi|chi phi|kinh phi|phi|gia|von|luong|lai suat)\b(?! tri)")
# A number naming a document ("152/KH-UBND", "1048"), not a year or an amount.
ID_NUMBER = re.compile(
    r"(?<![\d.,])(?!(?:19|20)\d\d(?!\d))(\d{3,5})(?![\d.,]|\s*(?:%|san pham|sp|diem|trieu|chu the))"
)
# "từ 3 sao trở lên" is a total, not the count of 3-star products.
STAR_RANGE = re.compile(r"\btu \d sao(?: tro len)?|\b\d sao tro len|\btu \d (?:den|toi) \d sao")
# A sentence that announces a list ("chia thành 6 nhóm") without giving it.
_ANNOUNCE = re.compile(
    r"\b(\d+|hai|ba|bon|nam|sau|bay|tam|chin|muoi) (nhom|buoc|phan|cap|loai|tieu chi|noi dung|nhiem vu|giai doan)\b"
)
# Questions that want a list or a procedure: neighbouring sentences that also answer are kept.
LIST_Q = re.compile(
    r"\b(nhu the nao|the nao|lam sao|ra sao|nhung gi|gom nhung|gom gi|cac buoc|nhung (nhom|buoc|loai|giay to|mau)|"
    r"nhiem vu gi|lam gi|nhung \w+(?: \w+)? nao)\b"
)

# A sentence that only makes sense after the one before it.
CONTINUES = re.compile(r"(trong do|trong so do|trong so nay|ngoai ra|dong thoi|tuy nhien|ben canh do)\b")
_SMALL_RANGE = re.compile(r"(?<![\d/.-])(\d{1,3})\s*[-–]\s*(\d{1,3})(?![\d/-])")


def bigrams(tokens: list[str]) -> set[str]:
    """Adjacent token pairs."""
    return {f"{a} {b}" for a, b in zip(tokens, tokens[1:])}


@functools.lru_cache(maxsize=50_000)
def provinces_in(text: str) -> frozenset[str]:
    """Provinces named in a text (cached: passages' sentences recur across questions)."""
    return frozenset(m.value for m in find_provinces(text))


@functools.lru_cache(maxsize=50_000)
def folded_tokens(text: str) -> tuple[str, ...]:
    """Folded words with abbreviations expanded (cached)."""
    return tuple(search_words(text))


@functools.lru_cache(maxsize=50_000)
def stars_in(text: str) -> frozenset[str]:
    """Star levels named in a text."""
    return frozenset(m.value for m in find_stars(text))


def has_figure(sentence: str) -> bool:
    """Tell whether a sentence states a figure (not only years, dates or decision numbers)."""
    text = DATE_WORDS.sub(" ", fold(sentence).lower())
    text = _SMALL_RANGE.sub(r"\1 den \2", text)  # "5-8 sản phẩm" is a figure, "2021-2025" is not
    return bool(_FIGURE.search(text))


_FILLERS = frozenset(
    "nhiu bn bnhieu may lau tong cong tat ca hien dat sp tinh thanh pho toan quoc nuoc "
    # target words (weighed by the target rule) and document references (by the number rule)
    "ke hoach chi tieu muc tieu phan dau du kien kh ubnd uy ban nhan dan qd ttg de an quyet dinh".split()
)


def key_overlap(q_terms: set[str], query: str, unit: str | None, s_set: set[str]) -> float:
    """Share of what a figure question is about (not its province, unit or stars) in a sentence."""
    drop = set(folded_tokens(" ".join(provinces_in(query)))) | set((unit or "").split()) | {"sao", "nam"}
    drop |= {t for t in q_terms if t.isdigit()}
    key = q_terms - drop - _FILLERS
    if len(key) < 3:
        return 1.0  # a bare count of products: nothing more to check
    return len(key & s_set) / len(key)  # unweighted: one rare word missing ("phải") is not enough


def names_any(text: str, numbers: list[str]) -> bool:
    """Does the text name one of these (document) numbers?"""
    folded = fold(text)
    return any(re.search(rf"(?<!\d){n}(?!\d)", folded) for n in numbers)


@functools.lru_cache(maxsize=50_000)
def named_like(folded_query: str, province: str) -> bool:
    """Does the question name this province, perhaps misspelt ("Sóc Trănng", "tien giag")?"""
    target = " ".join(folded_tokens(province))
    words = folded_query.split()
    n = len(target.split())
    return any(
        difflib.SequenceMatcher(None, " ".join(words[i : i + n]), target).ratio() >= 0.8
        for i in range(len(words) - n + 1)
    )


def names_person(sentence: str) -> bool:
    """Does the sentence name a person (three capitalised syllables, as Vietnamese names are)?"""
    words = re.findall(r"[^\W\d_]+", without_provinces(sentence, frozenset()))
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
    head = without_provinces(folded_query[: m.start()], frozenset())
    words = [w for w in search_words(head) if not w.isdigit()]
    return {f"{a} {b}" for a, b in zip(words, words[1:]) if a not in STOP and b not in STOP}


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


def is_list(sentence: str, noun: str = "") -> bool:
    """Does the sentence enumerate ("gồm: a; b; c", "a, b, c và d", "QĐ 1048 và QĐ 781")?"""
    if ":" in sentence or sentence.count(";") >= 2 or sentence.count(",") >= 3:
        return True
    return bool(noun) and " ".join(folded_tokens(sentence)).count(noun) >= 3


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
