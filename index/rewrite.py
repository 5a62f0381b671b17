"""Follow-ups read against the conversation (index/pipeline.py, actions/followup.py): the previous
question with what a follow-up changes, a bare figure asked of another place, a part of the last card,
a count asked of the last answer's place.

rewrite("Sóc Trăng: hàng 3 sao là mấy?", "còn Tiền Giang?")   # "Tiền Giang: hàng 3 sao là mấy?"
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.entities import find_provinces, find_stars, replace_span
from bot.text import search_words
from index.parse import REASONING_ASKS, Ask, Question, QuestionParser
from index.reply import Reply
from index.units import asked_unit

if TYPE_CHECKING:
    from index.card_answers import CardAnswerer
    from index.pipeline import Context


def rewrite(previous: str, text: str, parser: QuestionParser | None = None) -> str | None:
    """Reuse the previous question with the province / star level of the follow-up.

    A follow-up that reasons over the last figures with another place ("cộng với Sóc Trăng?")
    is not rewritten: the pipeline adds the place to the last figures' places.
    """
    new_provinces = find_provinces(text)
    new_stars = find_stars(text)
    if not new_provinces and not new_stars:
        return None
    if parser is not None and new_provinces and parser.parse(text).ask in REASONING_ASKS:
        return None
    question = previous
    if new_stars:
        old = find_stars(question)
        star = (parser.star_phrase(text) if parser is not None else None) or f"{new_stars[0].value} sao"
        question = replace_span(question, old[0], star) if old else f"{question.rstrip(' ?')} {star}?"
    if new_provinces:
        old = find_provinces(question)
        name = new_provinces[0].value
        question = replace_span(question, old[0], name) if old else f"{name}: {question}"
    return question


def star_follow_up(q: Question, refs: Sequence[str]) -> bool:
    """A star level asked after a figure, with nothing else named ("thế loại 4 sao thì sao?")."""
    stat = any(r.startswith("stat:") for r in refs)
    return bool(q.stars and q.ask == Ask.OTHER and not q.scopes and not q.content and stat)


def bare_figure(q: Question, last: str = "") -> bool:
    """A figure asked of a place without saying of what ("<place> thì mấy?"): no measure, star level
    or reasoning named, and no unit but the one the last question counted ("thì bao nhiêu điểm?")."""
    unit = asked_unit(q.folded)
    if unit is not None:
        before = asked_unit(" ".join(search_words(last))) if last else None
        if before is None or before.split()[0] != unit.split()[0]:
            return False
    return bool(q.scopes and q.figure and not q.metric_named and not q.stars and q.ask == Ask.OTHER)


def part_of_last_card(
    q: Question, refs: Sequence[str], cards: CardAnswerer, parser: QuestionParser
) -> Reply | None:
    """The last card again, when a follow-up asks a part of it that it states: a star level
    ("trong đó … 4 sao?"), or a place in a list it gives ("còn bước cuối?", "bước thứ 3?")."""
    of_last = bool(parser.of_last and parser.of_last.search(q.folded))
    placed = bool(parser.ordinal and parser.ordinal.search(q.folded)) and bool(q.content)
    for ref in refs if of_last or placed else ():
        card = cards.cards.get(ref[5:]) if ref.startswith("card:") else None
        if card is None:
            continue
        if of_last and q.stars and set(q.stars) <= set(parser.stars_of(card.answer)):
            return cards.card_reply(card, 1.0, q.text)
        if placed and q.content <= set(search_words(card.answer)):
            return cards.card_reply(card, 1.0, q.text)
    return None


def place_of_last(context: Context, parse: Callable[[str], Question]) -> str | None:
    """The one place the last answer was about (its figures', else its question's), if any; a
    card is about the programme, not a place ("trong đó …" after it asks a part of the card)."""
    if not context.last_question or any(r.startswith("card:") for r in context.refs):
        return None
    places = context.figure_scopes or parse(context.last_question).scopes
    return places[0] if len(places) == 1 else None  # NATIONAL ("Việt Nam") reads as the national scope


def asks_of_a_place(q: Question, parser: QuestionParser) -> bool:
    """A follow-up that asks a place's count of something named (a measure, a star level, the
    total), or whether it has some star level yet: it is about the place of the last answer."""
    total = dict(parser.asks).get(Ask.SUM)  # "tất cả là mấy?": the place's total
    only_total = bool(total and total.search(q.folded)) and not q.content  # nothing else named
    named = q.metric_named or bool(q.stars) or only_total
    exists = bool(q.stars and parser.exists and parser.exists.search(q.folded))
    return ((q.figure or "count" in q.wants) and named and q.ask == Ask.OTHER) or exists


def other_group(
    q: Question, context: Context, parse: Callable[[str], Question], parser: QuestionParser
) -> Question | None:
    """The last figure's question, for another group of the same share ("còn doanh nghiệp?" after
    the cooperatives' share: cues.yml `metric_groups`), or None."""
    if not (context.last_question and any(r.startswith("stat:") for r in context.refs)):
        return None
    if not parser.is_elliptical(q.folded):
        return None
    base = parse(context.last_question)
    if base.metric not in parser.metric_groups:
        return None
    padded = f" {' '.join(search_words(q.text))} "
    for metric, words in parser.metric_groups.items():
        if metric != base.metric and any(f" {w} " in padded for w in words):
            return dataclasses.replace(base, metric=metric, text=q.text)
    return None


def with_last_stars(
    q: Question, last_question: str, parse: Callable[[str], Question], parser: QuestionParser
) -> Question:
    """A figure follow-up ending "… như vậy?" that names no star level, with the last question's
    ("hàng 4 sao nghĩa là gì?", then "Cần Thơ có mấy sản phẩm như vậy?"); else the question as is."""
    if (
        q.stars
        or not q.figure
        or not last_question
        or not (parser.like_last and parser.like_last.search(q.folded))
    ):
        return q
    stars = parse(last_question).stars
    return dataclasses.replace(q, stars=stars) if stars else q


def target_of_last(q: Question, context: Context, parse: Callable[[str], Question]) -> Question | None:
    """The last figure's question as a target, when a follow-up asks the target of the same
    thing ("chỉ tiêu đặt ra mấy điểm?" after a count of points of sale), else None."""
    if q.kind != "target" or q.scopes or q.stars or q.metric_named or q.years or not context.last_question:
        return None  # a year named ("đến 2030 thì được mấy?"): a target of that year, asked as such
    if not any(r.startswith("stat:") for r in context.refs):
        return None
    last = parse(context.last_question)
    unit, before = asked_unit(q.folded), asked_unit(last.folded)
    if unit is not None and (before is None or before.split()[0] != unit.split()[0]):
        return None  # a target of products after a count of points of sale: another measure
    if not last.figure or last.kind == "target":
        return None
    return dataclasses.replace(last, kind="target", as_of="", reached=False)
