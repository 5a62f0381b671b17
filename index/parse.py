"""A user message parsed once into a typed question: places, star level, measure, what is asked.

    parser = QuestionParser.load()
    q = parser.parse("Sóc Trăng hay An Giang, nơi nào có nhiều 4 sao hơn")
    q.ask, q.scopes, q.metric, q.star        # Ask.COMPARE, ("Sóc Trăng", "An Giang"), "san_pham", "4"

The cues are data (data/language/cues.yml); an example corpus beside them is replayed by
tests/unit/test_parse.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.entities import find_provinces, find_stars
from bot.text import search_words
from index.cue_file import CUES_FILE, compile_cues
from index.locality import locality_of
from index.question_types import FIGURE_ASKS, NATIONAL, REASONING_ASKS, Ask, Question

__all__ = ["FIGURE_ASKS", "NATIONAL", "REASONING_ASKS", "Ask", "Question", "QuestionParser"]

DATE_IN_TEXT = re.compile(r"\b\d{1,2}\s*[/-]\s*\d{1,2}\s*[/-]\s*\d{2,4}\b|\b\d{1,2}\s*[/-]\s*(?:19|20)\d\d\b")


@dataclass(frozen=True)
class QuestionParser:
    """Cue tables compiled once."""

    asks: tuple[tuple[Ask, re.Pattern[str]], ...]
    ask_patterns: tuple[tuple[Ask, re.Pattern[str]], ...]
    figure: re.Pattern[str]
    target: re.Pattern[str]
    metrics: tuple[tuple[str, re.Pattern[str]], ...]
    stars: tuple[tuple[str, re.Pattern[str]], ...]
    national: re.Pattern[str]
    document_number: re.Pattern[str]
    neutral: frozenset[str] = frozenset()
    chat: frozenset[str] = frozenset()
    question_words: tuple[str, ...] = ()
    asks_document: re.Pattern[str] | None = None
    asks_article: re.Pattern[str] | None = None  # "bài viết ... ai viết / đăng ngày nào"
    article_words: frozenset[str] = frozenset()  # its words that name no article ("bai", "dang")
    percent: re.Pattern[str] | None = None
    rank_scope: re.Pattern[str] | None = None
    answer_types: tuple[tuple[str, re.Pattern[str]], ...] = ()
    rank_low: re.Pattern[str] | None = None
    address: re.Pattern[str] | None = None  # a sentence that gives an address
    figure_patterns: tuple[re.Pattern[str], ...] = ()
    continues: re.Pattern[str] | None = None  # a sentence that continues the one before
    details: re.Pattern[str] | None = None  # a sentence giving the details announced before
    star_names: dict[str, str] = field(default_factory=dict)  # how a special star level is written
    posts: re.Pattern[str] | None = None  # a post a question may name ("giám đốc")
    deputy: str = ""  # the prefix of a deputy's post ("phó")
    asks_post: re.Pattern[str] | None = None  # "X là ai": the answer states a post
    verifies_post: re.Pattern[str] | None = None  # "X là giám đốc phải không": X's post is checked
    post_words: re.Pattern[str] | None = None  # words of a post ("phó chủ tịch", "giám đốc")
    agencies: tuple[tuple[str, re.Pattern[str]], ...] = ()  # agencies a plan gives tasks to
    clause_break: re.Pattern[str] | None = None  # where a message asking several things divides
    merger: re.Pattern[str] | None = None  # words about the 2025 mergers (the table's note answers them)
    not_asks: re.Pattern[str] | None = None  # words holding an ask's cue without asking it ("hợp nhất")
    asks_from: re.Pattern[str] | None = None  # where a sentence turns to its question ("cho em hỏi")
    elliptical: re.Pattern[str] | None = None  # a follow-up that names only what changes ("còn X?")
    of_last: re.Pattern[str] | None = None  # a follow-up asking a part of the last answer ("trong đó …?")
    exists: re.Pattern[str] | None = None  # whether something exists yet ("đã có hàng 4 sao chưa?")
    source_clause: re.Pattern[str] | None = None  # "theo bài … thì": where a figure is read, not what
    states_money: re.Pattern[str] | None = None  # a text stating an amount of money ("35 triệu đồng")
    metric_groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # shares by group of owners
    fillers: re.Pattern[str] | None = None  # words of how a question is put ("nghe nói", "cụ thể")
    task_words: re.Pattern[str] | None = None  # words asking an agency's tasks ("phụ trách việc gì")
    as_of_phrase: re.Pattern[str] | None = None  # "tính đến cuối năm 2025": a date of a count
    target_strong: re.Pattern[str] | None = None  # words that make a question a target whatever its date
    reached_words: re.Pattern[str] | None = None  # "thực tế đã đạt": a count reached is asked
    achieved: re.Pattern[str] | None = None  # a count said to be reached ("đã hỗ trợ", "đến nay")
    tail_fillers: re.Pattern[str] | None = None  # chat words closing a message ("… luôn nha")
    locality_levels: tuple[str, ...] = ()  # words before a district's or commune's name ("huyen")
    person_pronoun: re.Pattern[str] | None = None  # someone named before ("ông ấy", "bà đó")
    event_person: re.Pattern[str] | None = None  # who did something at an event ("ai … chủ trì")
    star_ranges: tuple[tuple[int, re.Pattern[str]], ...] = ()  # "4 sao trở lên": levels 4 and 5
    sums_several: re.Pattern[str] | None = None  # a sum over places said before ("gộp hết lại")
    second_ask: re.Pattern[str] | None = None  # ", ai …" after words that ask already: a second ask
    like_last: re.Pattern[str] | None = None  # "… như vậy?": what the last question named
    ordinal: re.Pattern[str] | None = None  # a place in a list ("bước cuối", "bước thứ 3")

    @classmethod
    def load(cls, path: Path = CUES_FILE) -> QuestionParser:
        """Compile the cue file (index/cue_file.py)."""
        return cls(**compile_cues(yaml.safe_load(path.read_text(encoding="utf-8"))))

    def parse(self, text: str, known_scopes: frozenset[str] = frozenset()) -> Question:
        """The typed question of a (prepared) message."""
        folded = " ".join(search_words(text.replace("%", " phần trăm ")))
        folded_q = folded + (" ?" if "?" in text else "")
        provinces = tuple(dict.fromkeys(m.value for m in find_provinces(text)))
        scopes = provinces + (
            (NATIONAL,) if self.national.search(folded) and NATIONAL not in provinces else ()
        )
        stars = self._stars(text, folded)
        metric, named = "san_pham", False
        for name, pattern in self.metrics:
            if pattern.search(folded):
                metric, named = name, True
                break
        kind = "target" if self.target.search(folded) else "actual"
        years = re.findall(r"\b(20\d\d)\b", folded)
        asking = self.not_asks.sub(" ", folded_q) if self.not_asks else folded_q  # "hợp nhất" ranks nothing
        turn = list(self.asks_from.finditer(asking)) if self.asks_from else []
        if turn:  # "… (context), cho mình hỏi …": the question follows the turn
            asking = asking[turn[-1].end() :]
        ask = next((a for a, p in self.asks if p.search(asking)), Ask.OTHER)
        if ask in (Ask.SOURCE, Ask.WHEN):  # "bao nhiêu ...? số liệu năm nào?": a figure reply says both
            ask = self._with_figure_asked(ask, folded, folded_q)
        if ask in (Ask.OTHER, Ask.SUM):
            ask = next((a for a, p in self.ask_patterns if p.search(asking)), ask)
        if (
            ask == Ask.SUM
            and len(scopes) + len(stars) < 2
            and not (self.sums_several and self.sums_several.search(folded))
        ):
            ask = Ask.OTHER  # a "tổng số" of one place is one figure
        if kind == "target" and self.as_of_phrase and self.as_of_phrase.search(folded):
            if not (self.target_strong and self.target_strong.search(folded)):
                kind = "actual"  # "tính tới hết năm X": the date of a count, not the year of an aim
        if ask == Ask.PROGRESS:
            kind = "actual"
        reached = bool(self.reached_words and self.reached_words.search(folded)) or bool(
            self.as_of_phrase and self.as_of_phrase.search(folded)
        )
        ranged = any(p.search(folded) for _, p in self.star_ranges)
        if ranged and ask == Ask.OTHER and len(scopes) <= 1 and len(stars) > 1:
            ask = Ask.SUM  # a range of levels: the levels it spans, added up
        if ask == Ask.RANK and len(scopes) < 2 and not (self.rank_scope and self.rank_scope.search(folded)):
            ask = Ask.OTHER  # "xếp hạng sao" is about the star scale, not a ranking of places
        cued = bool(self.figure.search(folded)) or any(p.search(folded) for p in self.figure_patterns)
        cued = cued or bool(self.exists and self.exists.search(folded))  # "đã có hàng 4 sao chưa": a count
        asks_number = bool(self.asks_document and self.asks_document.search(folded))
        figure = cued and (named or bool(stars) or bool(scopes)) and not asks_number  # "quyết định số mấy"
        numbers = tuple(a or b for a, b in self.document_number.findall(folded))
        unknown = tuple(p for p in provinces if known_scopes and p not in known_scopes)
        month = re.search(r"\b(?:thang\s*)?(\d{1,2})\s*/\s*(20\d\d)\b", folded)
        as_of = f"{month.group(2)}-{int(month.group(1)):02d}" if month else (years[-1] if years else "")
        if ask == Ask.TREND:
            as_of = ""
        # words before "cho em hỏi" / "đề nghị cho biết" introduce the asker, they ask nothing
        opened = list(self.asks_from.finditer(folded)) if self.asks_from else []
        content = frozenset(self._unexplained(folded[opened[-1].end() :] if opened else folded, text))
        star_spans = " ".join(m.value for m in find_stars(text))
        undated = " ".join(search_words(DATE_IN_TEXT.sub(" ", text)))  # "(11/2024)" names a date, not a count
        values = tuple(
            float(n)
            for n in re.findall(r"(?<![/\d])\d+(?![/\d])", re.sub(r"\d+\s*sao", " ", undated))
            if n not in years and n not in numbers and n not in star_spans.split()
        )
        wants = tuple(name for name, p in self.answer_types if p.search(folded))
        return Question(
            text, folded, scopes, stars, metric, named, kind, years[-1] if years and kind == "target" else "",
            ask, figure, numbers, unknown, as_of if kind == "actual" else "", content, tuple(years), values,
            wants, bool(self.rank_low and self.rank_low.search(folded)), reached, self.locality(text),
        )  # fmt: skip

    def locality(self, text: str) -> str:
        """A district, town or commune the text names, folded; "" if none (index/locality.py)."""
        return locality_of(text, self.locality_levels)

    def _with_figure_asked(self, ask: Ask, folded: str, folded_q: str) -> Ask:
        """The kind of a two-part question that asks for figures and for their date or source.

        A reasoning cue ("nhiều hơn", "cộng lại") wins; a count asked ("bao nhiêu", "mấy") with
        no figure named makes it a figure question (a figure reply carries its date and source);
        otherwise it stays a question about the date or source of something named or said before.
        """
        reasoning = (
            Ask.COMPARE,
            Ask.DIFFERENCE,
            Ask.TREND,
            Ask.PROGRESS,
            Ask.SHARE,
        )  # cues that need no count
        found = [a for a, p in (*self.asks, *self.ask_patterns) if a in reasoning and p.search(folded_q)]
        if found:
            return found[0]
        counts = dict(self.answer_types).get("count")
        named = re.search(r"(?<![/\d])\d+(?![/\d])", re.sub(r"\d+\s*sao|\b20\d\d\b", " ", folded))
        if counts is not None and counts.search(folded) and not named:
            return Ask.OTHER
        return ask

    def _unexplained(self, folded: str, text: str) -> set[str]:
        """Words of the question that no cue, place, star level or number explains."""
        rest = self.tail_fillers.sub(" ", folded) if self.tail_fillers else folded
        for m in find_provinces(text):
            rest = rest.replace(" ".join(search_words(m.value)), " ")
            rest = rest.replace(" ".join(search_words(text[m.start : m.end])), " ")
        for pattern in (self.source_clause, self.exists, self.figure, self.target, self.national, *(p for _, p in self.asks),
                        *(p for _, p in self.metrics), *(p for _, p in self.stars), self.merger):  # fmt: skip
            if pattern is not None:
                rest = pattern.sub(" ", rest)
        return {w for w in rest.split() if not w.isdigit() and w not in self.neutral}

    def refers_to_person(self, q: Question) -> bool:
        """Does a question ask about someone named before ("bà đó làm chức vụ gì", "người ấy là ai")?"""
        pronoun = self.person_pronoun and self.person_pronoun.search(q.folded)
        return bool(pronoun) and (
            "person" in q.wants or bool(self.asks_post and self.asks_post.search(q.folded))
        )

    def posts_asked(self, folded: str) -> frozenset[str]:
        """Posts a folded text names without the deputy prefix ("giám đốc sở", not "phó giám đốc")."""
        if self.posts is None:
            return frozenset()
        return frozenset(
            m.group(0)
            for m in self.posts.finditer(folded)
            if not folded[: m.start()].endswith(f"{self.deputy} ")
        )

    def clauses(self, text: str) -> list[str]:
        """The parts of a message that asks several things ("…? …?", "…, và hiện nay …")."""
        if self.clause_break is None:
            return [text]
        parts = [p for p in self.clause_break.split(text) if p.strip()] or [text]
        return [piece for p in parts for piece in self._second_asks(p)]

    def _second_asks(self, part: str) -> list[str]:
        """A part divided where a comma opens a second ask ("… có mấy gian hàng, ai khai mạc?"), when the
        words before it ask something themselves (a greeting before "ai …" is no ask)."""
        if self.second_ask is None:
            return [part]
        pieces = [p for p in self.second_ask.split(part) if p.strip()]
        out = [pieces[0]] if pieces else [part]
        for piece in pieces[1:]:
            if self.asks_something(" ".join(search_words(out[-1]))):
                out.append(piece)
            else:
                out[-1] = f"{out[-1]}, {piece}"
        return out

    def is_elliptical(self, folded: str) -> bool:
        """Does a (short) message name only what changes from the last question ("còn X?"), asking
        nothing by itself (no question word: "con muốn hỏi OCOP là gì" is a question)?"""
        if not (self.elliptical and self.elliptical.search(folded)):
            return False
        return not self.asks_something(folded) and " gi " not in f" {folded} "

    def asks_something(self, folded: str) -> bool:
        """Does a folded text hold a question word (cues.yml `question_words`)?"""
        return any(f" {w} " in f" {folded} " for w in self.question_words)

    def ask_only_words(self, folded: str, tasks: bool, target: bool, share: bool) -> frozenset[str]:
        """Words of a folded question that only say how it is put or what it wants (cues `ask_only`):
        fillers; task words when an agency is named; target and share words when a target figure
        or a share is asked (the picker checks those apart)."""
        patterns = [
            self.fillers,
            self.task_words if tasks else None,
            self.target if target else None,
            self.percent if share else None,
        ]
        return frozenset(
            w for p in patterns if p is not None for m in p.finditer(folded) for w in m.group().split()
        )

    def asked_agencies(self, q: Question) -> frozenset[str]:
        """The agencies named by the sentences of a message that ask something: one that only says
        where the asker read about it ("Tôi đọc Báo X thấy …. Ai ký …?") names no agency asked."""
        sentences = (" ".join(search_words(s)) for s in re.split(r"(?<=[.!?])\s+", q.text))
        asking = [s for s in sentences if self.asks_something(s)]
        return self.agencies_in(" ".join(asking) or q.folded)

    def agencies_in(self, folded: str) -> frozenset[str]:
        """The agencies a folded text names ("so cong thuong" -> "so_cong_thuong")."""
        return frozenset(name for name, p in self.agencies if p.search(folded))

    def star_phrase(self, text: str) -> str | None:
        """The first star level a text states, written as a question would ("từ 3 sao trở lên", "4 sao")."""
        stars = self.stars_of(text)
        return (self.star_names.get(stars[0]) or f"{stars[0]} sao") if stars else None

    def stars_of(self, text: str) -> tuple[str, ...]:
        """Star levels a text states, as a question's are read ("từ 3 sao trở lên" -> "3+")."""
        return self._stars(text, " ".join(search_words(text)))

    def _stars(self, text: str, folded: str) -> tuple[str, ...]:
        """Star levels asked, special levels ("tiềm năng 5 sao", "từ 3 sao trở lên") first."""
        special = [name for name, p in self.stars if p.search(folded)]
        plain = [m.value for m in find_stars(text)]
        if "5_tiem_nang" in special or "5_de_nghi" in special:
            plain = [s for s in plain if s != "5"]
        if "3+" in special:
            plain = [s for s in plain if s != "3"]
        for low, pattern in self.star_ranges:  # "4 sao trở lên" spans levels 4 and 5
            if pattern.search(folded):
                plain = [s for s in plain if not s.isdigit() or int(s) < low]
                plain += [str(n) for n in range(low, 6)]
        return tuple(dict.fromkeys(special + plain))
