"""The card stage of the pipeline: which answer card (or two, for a two-part question) answers.

cards = CardAnswerer(matcher, parser)
cards.answer(question, ["gửi giấy tờ OCOP chỗ nào"], Context(), tuning)   # Reply("card", ...) or None
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from bot.text import FUNCTION_WORDS, search_words
from index.card_match import CardMatcher
from index.cards import Card
from index.parse import NATIONAL, Ask, Question, QuestionParser
from index.reply import Reply
from index.source import format_date

if TYPE_CHECKING:
    from index.pipeline import Context
    from index.pipeline_tuning import PipelineTuning

FOLLOWUP_WORDS = 10  # a message this short may lean on the previous answer
PERSON = re.compile(r"\b(ong|ba|anh|chi) [a-z]+ [a-z]+\b.*\b(la ai|chuc vu|giu chuc|lam gi|o dau)\b")


def card_years(card: Card) -> str:
    """The text in which a card states its years: answer, paraphrases, source and validity."""
    return " ".join(
        (card.answer, *card.questions, card.source.title, str(card.source.date), str(card.valid_from))
    )


class CardAnswerer:
    """Chooses the card for a parsed question, with the thresholds `make tune` fitted."""

    def __init__(self, cards: CardMatcher, parser: QuestionParser) -> None:
        """The card matcher and the parser's language data (question words)."""
        self.cards, self.parser = cards, parser

    def answer(
        self, q: Question, variants: list[str], context: Context, tuning: PipelineTuning
    ) -> Reply | None:
        """The best card, unless the question asks for a province's own figures or plans."""
        own = q.figure or q.kind == "target" or q.ask != Ask.OTHER  # a place's own figures or plans
        if own and any(s != NATIONAL and s not in q.unknown_provinces for s in q.scopes):
            return None  # the table's provinces: their figures are the table's, not a card's
        if q.scopes and q.figure and q.kind == "actual" and not q.unknown_provinces:
            return None  # a national count: a figure, not how the programme works
        places = [" ".join(search_words(s)) for s in q.unknown_provinces]
        provincial = own and bool(
            places
        )  # another province's: only a card naming it ("Bắc Giang: mức thưởng")
        if PERSON.search(q.folded):
            return None  # "ông X là ai": people are in the contact table and the documents
        last = {r.split(":", 1)[1] for r in context.refs if r.startswith("card:")}
        related = set(last)
        for cid in last:
            card = self.cards.get(cid)
            related.update(card.related if card else ())
        best = None
        terms = {w for w in search_words(q.text) if w not in FUNCTION_WORDS}
        asked = f" {' '.join(search_words(' '.join(variants)))} "  # every reading of the message
        for text in variants:
            for m in self.cards.scored(text)[:3]:
                if provincial and not all(
                    f" {p} " in f" {' '.join(search_words(m.card.answer))} " for p in places
                ):
                    continue  # a reward in a province outside the table: only a card naming Bắc Giang answers
                if len(terms) < 2 and m.dense < tuning.card_single_word_dense:
                    continue  # "ocop ocop ocop": one word says too little
                if m.coverage < tuning.card_min_coverage:
                    continue  # "lệ phí": a question about something the card does not speak to
                if "money" in q.wants and not self._states_money(m.card.answer):
                    continue  # "phí bao nhiêu tiền": only a card stating an amount answers it
                if m.card.needs and not any(f" {' '.join(search_words(n))} " in asked for n in m.card.needs):
                    continue  # the card's subject ("hỗ trợ") is not what is asked ("phí đăng ký")
                if q.years and not any(self.speaks_to(m.card, y) for y in q.years):
                    older = self._older(m.card, q.years)  # "năm 2024 ai công nhận": the rule then
                    if older is None:
                        continue  # "giai đoạn 2026–2030": a year the card does not speak to
                    m = dataclasses.replace(m, card=older)
                bonus = m.card.id in related and len(text.split()) <= FOLLOWUP_WORDS
                threshold = tuning.card_followup_threshold if bonus else tuning.card_threshold
                if m.score >= threshold and (best is None or m.score > best[0].score):
                    best = (m, threshold)
        if best is None:
            return None
        card = best[0].card
        reply = self.card_reply(card, best[0].score, q.text)
        second = self._second_part(q, variants[0], card, tuning)
        if second is not None:  # "..., ... là gì?": two questions: each part gets its card
            part = self.card_reply(second, 0.0, q.text)
            reply = dataclasses.replace(
                reply, refs=reply.refs + part.refs, notes=reply.notes + ((part.response, part.kwargs),)
            )
        return reply

    def answer_parts(self, parts: list[str], context: Context, tuning: PipelineTuning) -> Reply | None:
        """Each part of a message asking several things ("… có được xét không, rồi bắt tay vào việc
        gì trước?") answered by its own card, read after the first part's card; None unless all are."""
        replies: list[Reply] = []
        for part in parts:
            after = dataclasses.replace(context, refs=replies[0].refs) if replies else context
            reply = self.answer(self.parser.parse(part), [part], after, tuning)
            if reply is None:
                return None
            replies.append(reply)
        first, notes, refs = replies[0], list(replies[0].notes), list(replies[0].refs)
        for reply in replies[1:]:
            if not set(reply.refs) <= set(refs):
                notes += reply.messages()
                refs += [r for r in reply.refs if r not in refs]
        return dataclasses.replace(first, refs=tuple(refs), notes=tuple(notes))

    def speaks_to(self, card: Card, year: str) -> bool:
        """Does a card state the year, or was it in force that year (a card superseded by another
        is in force from its `valid_from` to the other's; an open period covers no later year)?"""
        if year in card_years(card):
            return True
        after = self.cards.get(card.superseded_by) if card.superseded_by else None
        start, end = card.valid_from[:4], after.valid_from[:4] if after is not None else ""
        return bool(start and end) and start <= year <= end

    def _older(self, card: Card, years: tuple[str, ...]) -> Card | None:
        """The card that `card` superseded, when every year asked is before `card` took effect."""
        start = card.valid_from[:4]
        if not start or not all(y < start for y in years):
            return None
        return next((c for c in self.cards.store.cards() if c.superseded_by == card.id), None)

    def _second_part(self, q: Question, text: str, first: Card, tuning: PipelineTuning) -> Card | None:
        """A related card for the other question of a two-part question (two question words)."""
        asked = [w for w in self.parser.question_words if f" {w} " in f" {q.folded} "]
        if len(asked) < 2:
            return None
        for m in self.cards.scored(text)[1:4]:
            if m.card.id in first.related and m.score >= tuning.card_second_part:
                return m.card
        return None

    def _states_money(self, text: str) -> bool:
        """Does a text state an amount of money or a share of a cost (cues.yml `states_money`)?"""
        money = self.parser.states_money
        return money is None or bool(money.search(" ".join(search_words(text))))

    def card_reply(self, card: Card, score: float, question: str = "") -> Reply:
        """The reply for a card (its answer and legal source)."""
        source = card.source
        cite = source.title + (f", {source.article}" if source.article else "")
        kwargs = {
            "answer": card.answer,
            "source": cite,
            "issuer": source.issuer,
            "date": format_date(source.date),
        }
        notes: tuple[tuple[str, dict[str, str]], ...] = ()
        newer = self.cards.get(card.superseded_by) if card.superseded_by else None
        if newer is not None:  # "trước 07/2025 ...": true of its period, and said to be replaced
            notes = (
                (
                    "utter_card_superseded",
                    {"newer": newer.source.title, "since": format_date(newer.valid_from)},
                ),
            )
        return Reply("card", "utter_card_answer", kwargs, (f"card:{card.id}",), score, notes, question)
