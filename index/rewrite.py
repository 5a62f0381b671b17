"""A follow-up read as the previous question with what it changes (index/pipeline.py, actions/followup.py).

rewrite("Tiền Giang có bao nhiêu sản phẩm 4 sao?", "còn An Giang?")   # "An Giang có bao nhiêu sản phẩm 4 sao?"
"""

from __future__ import annotations

from bot.entities import find_provinces, find_stars, replace_span
from index.parse import REASONING_ASKS, QuestionParser


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
