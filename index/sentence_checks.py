"""What a question fixes and the signals of each candidate sentence (read once per question).

    checks = SentenceChecks(parser, stopwords)
    view = checks.view(question, query_text, idf)        # content words, place, stars, unit, kinds
    checks.fits(view, sentence, previous, places, stars, around)   # states what the question fixes?
    checks.features(view, sentence, previous, here, stars, around, hit)  # lexical and type signals

A sentence that does not state what the parsed question fixes (the province, the year, the
star level, the unit counted, a named agency or post, a document number asked, the kind of
answer: a count, a date, a duration, a person, an address, money) is no candidate. These
are checks of the question's type, read from the cues (data/language/cues.yml).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.text import fold
from index.parse import NATIONAL, Question, QuestionParser
from index.sentence import (
    DATE_S,
    DOCUMENT_NUMBER,
    YEAR,
    bigrams,
    folded_tokens,
    has_figure,
    is_heading,
    is_list,
    longest_run,
    names_person,
    person_named,
    provinces_in,
    stars_in,
    without_provinces,
)
from index.units import asked_unit, states_count_of

REQUIRED_KINDS = ("count", "date", "duration", "person", "address", "money")


# A period ("2021-2025", "2021 đến 2025"; folded words: "2021 2025"), not one year.
PERIOD = re.compile(r"\b(?:19|20)\d\d\s*(?:-|–|den|toi)?\s*(?:19|20)\d\d\b")


# A sentence that states its own time ("đến nay", a year) does not take the year of the one before.
OWN_TIME = re.compile(r"\b(?:den nay|hien nay|hien tai|tinh den nay|cho den nay|(?:19|20)\d\d)\b")


class HitLike(Protocol):
    """What the checks need from a retrieved passage."""

    row: dict[str, Any]
    fused: float
    meta: dict[str, Any]


@dataclass(frozen=True)
class Asked:
    """A question as the picker reads it: content words, pairs, place, stars, unit, kinds."""

    question: Question
    tokens: tuple[str, ...]
    terms: frozenset[str]
    total: float  # IDF mass of the terms
    pairs: set[str]
    asked: frozenset[str]  # provinces asked about
    stars: frozenset[str]
    unit: str | None
    kinds: tuple[str, ...]  # REQUIRED_KINDS the question asks for
    agencies: frozenset[str]  # agencies the question names ("so_cong_thuong")
    posts: frozenset[str]  # posts the question names without "phó" ("giam doc")
    asks_post: bool  # "X là ai": the sentence must state a post
    asks_number: bool  # "quyết định số mấy": the sentence must state a document number
    person: str  # the person whose post a question checks ("ông X là giám đốc phải không"), folded
    weight: Callable[[str], float]

    @property
    def target_count(self) -> bool:
        """Does the question ask a count aimed at ("phấn đấu bao nhiêu")? Then a sentence states an aim."""
        return self.question.kind == "target" and "count" in self.question.wants

    @property
    def reached_count(self) -> bool:
        """Does the question ask a count reached ("thực tế đã đạt", "tính đến cuối năm")? Then no aim answers."""
        q = self.question
        return q.kind == "actual" and "count" in q.wants and q.reached

    @property
    def typed(self) -> bool:
        """Does the question fix what is counted or which agency is tasked (every candidate states it)?"""
        return bool(self.unit or self.agencies)


@dataclass(frozen=True)
class Around:
    """What surrounds a passage's sentences: title (with date), publisher, numbers, years of the title."""

    title: str
    publisher: str
    heading: str  # the folded document title
    numbers: list[str]  # numbers stated in what was retrieved of the document
    years: frozenset[str]  # years stated in the title or in what was retrieved of the document
    dated: frozenset[str]  # years of the title and of the document's date


class SentenceChecks:
    """The parser's cue tables applied to candidate sentences."""

    def __init__(self, parser: QuestionParser, stopwords: frozenset[str] = frozenset()) -> None:
        """The parser (cues) and the words that say nothing about the topic."""
        self.parser, self.stopwords = parser, stopwords

    def view(self, q: Question, query: str, idf: dict[str, float] | None) -> Asked | None:
        """What the question asks, read once for all its candidate sentences (None: nothing)."""
        weight: Callable[[str], float] = (lambda t: idf.get(t, 1.0)) if idf else (lambda t: 1.0)
        tokens = folded_tokens(query)
        asked = frozenset((set(q.scopes) & provinces_in(query) or set(q.scopes)) - {NATIONAL})  # no country
        place_words = {w for name in asked for w in folded_tokens(name)}
        agencies = self.parser.asked_agencies(q)
        posts = self.parser.posts_asked(q.folded)
        asks_post = not posts and bool(self.parser.asks_post and self.parser.asks_post.search(q.folded))
        person = self.checked_person(q) if posts else ""
        target_figure = q.kind == "target" and "count" in q.wants  # "mục tiêu ... bao nhiêu"
        unit = "%" if "%" in query else asked_unit(" ".join(tokens))
        only = self.parser.ask_only_words(" ".join(tokens), bool(agencies), target_figure, unit == "%")
        only |= self._claimed(" ".join(tokens), q) if person else frozenset()
        if q.document_numbers:  # "theo Quyết định 919": only the document stating it is a candidate
            only |= {
                w for m in self.parser.document_number.finditer(" ".join(tokens)) for w in m.group().split()
            }
        skip = self.stopwords | set(q.stars) | set(q.years) | place_words | only | {"sao"}
        terms = frozenset(t for t in tokens if t not in skip)
        if not terms and not q.wants:
            return None  # nothing asked beyond function words and the programme's name ("ocop ocop ...")
        kinds = tuple(k for k in q.wants if k in REQUIRED_KINDS)
        number = self.asks_number(q)
        if number:
            kinds = tuple(k for k in kinds if k == "date")  # "quyết định số mấy": a number, not a count
        if person:  # the post (and its agency) named may be wrong: the documents say X's own
            posts, asks_post, agencies = frozenset(), True, frozenset()
        return Asked(
            q, tokens, terms, sum(weight(t) for t in terms) or 1.0, bigrams(tokens), asked, frozenset(q.stars),
            unit, kinds, agencies,
            posts, asks_post, number, person, weight,
        )  # fmt: skip

    def fits(
        self,
        view: Asked,
        sentence: str,
        previous: str,
        places: frozenset[str],
        stated: frozenset[str],
        around: Around,
        following: str = "",
    ) -> bool:
        """Does the sentence state what the question fixes (REQUIRED_KINDS and the comment above it)?"""
        q, folded = view.question, fold(sentence).lower()
        near = fold(sentence)  # a sentence without a time of its own is about the one before's year
        if not OWN_TIME.search(near.lower()):
            near += " " + fold(previous)
        if is_heading(sentence):  # a heading's year may come in the line after it
            near += " " + fold(following)
        if view.asked and not view.asked & places:
            return False  # about another province, or about none we can tell
        if q.years and not set(q.years) & (
            around.years if PERIOD.search(q.folded) else around.dated | set(YEAR.findall(near))
        ):
            return False  # a year asked that neither the sentence (see `near`) nor the title states;
            # a period ("giai đoạn 2021-2025") that what was retrieved of the document does not state
        if view.stars and not {x[0] for x in view.stars} & {x[0] for x in stated | stars_in(sentence)}:
            return False  # another star level (a special level counts as its number of stars)
        if view.unit and not states_count_of(sentence, view.unit):
            return False  # "bao nhiêu chủ thể": a count of something else
        if view.target_count and self.first_figure(sentence) == "reached":
            return False  # "phấn đấu bao nhiêu": a count achieved is not the count aimed at
        if view.reached_count and self.first_figure(sentence) == "aimed":
            return False  # "thực tế đã đạt bao nhiêu": a count aimed at is not one achieved
        if q.locality and f" {q.locality} " not in f" {' '.join(folded_tokens(sentence))} ":
            return False  # "huyện Cai Lậy …": only a sentence naming that district answers
        if any(not self.states(k, sentence, folded) for k in view.kinds):
            return False
        words = " ".join(folded_tokens(sentence))
        if view.posts and not view.posts & self.parser.posts_asked(words):
            return False  # "giám đốc sở là ai": a deputy ("phó giám đốc") is someone else
        if view.asks_post and not (self.parser.post_words and self.parser.post_words.search(words)):
            return False  # "X là ai": a sentence quoting X without saying X's post does not answer
        if view.person and view.person not in folded:
            return False  # "ông X là giám đốc phải không": only a sentence naming X says X's post
        if view.agencies and not view.agencies & self.parser.agencies_in(f"{fold(previous).lower()} {words}"):
            return False  # "Sở Công Thương làm gì": another agency's tasks are not its tasks
        if view.agencies and is_heading(sentence):
            return False  # a title after a byline naming the agency states no task of it
        if view.asks_number and not DOCUMENT_NUMBER.search(sentence):
            return False  # "quyết định số mấy": only a sentence stating a document number
        if q.document_numbers and not any(n in around.numbers for n in q.document_numbers):
            return False  # "Quyết định số N ...": only the document that states that number answers
        return not (around.publisher and around.publisher in folded and is_heading(sentence))  # a byline

    def first_figure(self, sentence: str) -> str:
        """What the words before a sentence's first figure say of it: "aimed" ("phấn đấu 10 điểm"),
        "reached" ("Tỉnh đã hỗ trợ 08 điểm"), or "" (neither, or both)."""
        words = " ".join(folded_tokens(sentence))
        first = re.search(r"\b(?!(?:19|20)\d\d\b)\d", words)  # a year is when, not what is counted
        if first is None or self.parser.achieved is None:
            return ""
        before = words[: first.start()]
        aimed, reached = bool(self.parser.target.search(before)), bool(self.parser.achieved.search(before))
        return "aimed" if aimed and not reached else "reached" if reached and not aimed else ""

    def features(
        self,
        view: Asked,
        sentence: str,
        previous: str,
        here: frozenset[str],
        stated: frozenset[str],
        around: Around,
        hit: HitLike,
    ) -> dict[str, float]:
        """The lexical and type signals of one candidate (dense and passage are added by the caller)."""
        weight, terms, folded = view.weight, view.terms, fold(sentence).lower()
        s_tokens = folded_tokens(without_provinces(sentence, view.asked))
        s_set = set(s_tokens)
        ctx_set = s_set | set(folded_tokens(around.title)) | set(folded_tokens(previous))
        return {
            "coverage": sum(weight(t) for t in terms & s_set) / view.total,
            "context": sum(weight(t) for t in terms & ctx_set) / view.total,
            "phrase": len(view.pairs & bigrams(s_tokens)) / max(1, len(view.pairs)),
            "run": sum(weight(t) for t in longest_run(view.tokens, s_tokens)) / view.total,
            "document_match": float(any(n in around.numbers for n in view.question.document_numbers)),
            "list_missing": float("list" in view.question.wants and not is_list(sentence)),
            "province_match": float(bool(view.asked & here)),
            "star_match": float(bool(view.stars & stated)),
            "local": float(not view.asked and bool(here)),
            "target_mismatch": float(  # a plan's sentence may state its target cue once, before or in the title
                (view.question.kind == "target")
                != bool(
                    self.parser.target.search(
                        f"{fold(around.title).lower()} {fold(previous).lower()} {folded}"
                    )
                )
            ),
            "heading": float(is_heading(sentence) or folded.strip() == around.heading),
            "related": float(hit.row.get("section") == "related"),
        }

    def _claimed(self, folded: str, q: Question) -> frozenset[str]:
        """The words of a post check's claim ("X có phải là trưởng ban không"): the post
        and agency named may be wrong, so they are no content words; the person's name is."""
        patterns = [self.parser.post_words, self.parser.verifies_post]
        patterns += [p for _, p in self.parser.agencies]
        return frozenset(
            w for p in patterns if p is not None for m in p.finditer(folded) for w in m.group().split()
        )

    def checked_person(self, q: Question) -> str:
        """The person whose post a question checks ("ông X là giám đốc sở phải không?"), folded, or ""."""
        if not (self.parser.verifies_post and self.parser.verifies_post.search(q.folded)):
            return ""
        return person_named(q.text) if self.parser.posts_asked(q.folded) else ""

    def asks_number(self, q: Question) -> bool:
        """Does the question ask for a document's number ("quyết định số mấy")?"""
        return bool(self.parser.asks_document and self.parser.asks_document.search(q.folded))

    def states(self, want: str, sentence: str, folded: str) -> bool:
        """Does the sentence state the kind of thing asked (a count, a date, a person, a list)?"""
        if want == "count":
            return has_figure(sentence)
        if want == "date":
            return bool(DATE_S.search(folded))
        if want == "duration":
            return states_count_of(sentence, "thoi gian")
        if want == "person":
            return names_person(sentence)
        if want == "list":
            return is_list(sentence)
        if want == "money":
            return states_count_of(sentence, "tien")
        if want == "address":
            return bool(self.parser.address and self.parser.address.search(" ".join(folded_tokens(sentence))))
        return True
