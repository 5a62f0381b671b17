"""The one question-answering pipeline: message -> typed question -> figure, card or passage.

    pipeline = build_pipeline(Settings.from_env(), contacts)
    reply = pipeline.answer("ag voi tg ben nao hon ve so 4 sao", Context())
    reply.response, reply.kwargs, reply.refs      # "utter_stat_compare", {...}, ("stat:...", ...)

A message is prepared and parsed once (index/query.py, index/parse.py), then answered from
the statistics table (index/figures.py), the cards (index/card_answers.py) or the passages
(index/retrieve.py, index/answer.py), in that order, or refused with the fitting hotline.
The action server, `make tune`, `python -m index eval` and the profiler call this object.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.segment import GAZETTEER
from bot.text import CHAT_WORDS, FUNCTION_WORDS, PROGRAMME_WORDS, fold
from index import rewrite as followups
from index.answer import SentencePicker
from index.card_answers import FOLLOWUP_WORDS, CardAnswerer
from index.card_match import CardMatcher
from index.cards import CardStore
from index.document_questions import DocumentQuestions
from index.figure_stage import FigureStage
from index.figures import FigureAnswerer
from index.hotline_hint import ContactDirectory, hotline_text
from index.keyboard import KeyboardDecoder
from index.labels import Labels
from index.lexicon import Lexicon
from index.parse import REASONING_ASKS, Ask, Question, QuestionParser
from index.passages import PassageAnswerer
from index.pipeline_tuning import TUNING_FILE, PipelineTuning, stamp
from index.product_groups import ProductGroups, group_reply
from index.provenance import Provenance, stats_cite
from index.query import prepare_variants
from index.reply import Reply
from index.retrieve import HybridRetriever
from index.star_scale import ScoreStage, StarScale
from index.stats import StatsTable, document_texts

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Context:
    """What the conversation remembers of the last knowledge answer (from slots)."""

    last_question: str = ""
    refs: tuple[str, ...] = ()
    figure_scopes: tuple[str, ...] = ()


class AnswerPipeline:
    """Routes a parsed question to the statistics table, a card or the passages."""

    def __init__(
        self,
        retriever: HybridRetriever,
        cards: CardMatcher,
        figures: FigureAnswerer,
        parser: QuestionParser,
        contacts: ContactDirectory | None = None,
        lexicon: Lexicon | None = None,
        tuning: PipelineTuning | None = None,
        merged: Sequence[dict[str, str]] = (),  # the 2025 mergers (data/language/provinces.yml)
        picker: SentencePicker | None = None,
        product_groups: ProductGroups | None = None,
        star_scale: StarScale | None = None,
    ) -> None:
        """Take every store in the constructor (fakes in tests, real ones in the server)."""
        self.retriever, self.cards, self.figures, self.parser = retriever, cards, figures, parser
        self.contacts, self.lexicon = contacts, lexicon
        self.tuning = tuning or PipelineTuning.load()
        self._follow_tuning = tuning is None  # explicit tuning (tests) is kept; else index/pipeline.json
        self._tuning_stamp = stamp(TUNING_FILE)
        self.cards.weights = self.tuning.card_weights
        self.merged = {m["province"]: m for m in merged}
        self.product_groups = product_groups or ProductGroups.load()
        self.star_scale = star_scale or StarScale.load()
        self.keyboard = KeyboardDecoder.load(lexicon.word_keys) if lexicon is not None else None
        self.card_answers = CardAnswerer(cards, parser)
        self.score_stage = ScoreStage(self.star_scale, self.card_answers)
        self.picker = picker or SentencePicker(
            retriever.embedder, parser, None, FUNCTION_WORDS | CHAT_WORDS | PROGRAMME_WORDS
        )
        self.passages = PassageAnswerer(retriever, self.picker, parser)
        self.provenance = Provenance(
            figures.table,
            cards,
            lambda doc: retriever.index.doc_meta(doc),
            figures.cite,
            lambda: retriever.index,
        )
        self.figure_stage = FigureStage(figures, parser, self.provenance, self.merged, self._refuse)
        self.documents = DocumentQuestions(retriever, parser, self.provenance)

    # ---- preparation -------------------------------------------------------------
    def prepare(self, message: str) -> list[str]:
        """Search readings of a message, best first (keyboard leftovers decoded first)."""
        text = self.keyboard.decode(message) if self.keyboard is not None else message
        return prepare_variants(text, self.lexicon)

    def parse(self, text: str) -> Question:
        """The typed question of a prepared text."""
        return self.figure_stage.parse(text)

    def refresh(self) -> None:
        """Pick up edited cards, statistics rows, retuned thresholds and a rebuilt index (no restart)."""
        if self._follow_tuning and stamp(TUNING_FILE) != self._tuning_stamp:
            self._tuning_stamp = stamp(TUNING_FILE)
            self.tuning = PipelineTuning.load()
        self.cards.weights = self.tuning.card_weights
        self.cards.refresh()
        self.figures.table.reload_if_changed()
        try:
            reloaded = self.retriever.reload_if_changed()
        except Exception as exc:  # noqa: BLE001 - keep serving the previous index
            logger.error("index reload failed, keeping the previous index: %s", exc)
            return
        if reloaded and self.lexicon is not None:  # new documents' words are known to the corrector
            from index.lexicon import lexicon_for

            self.lexicon = lexicon_for(self.retriever)
            self.keyboard = KeyboardDecoder.load(self.lexicon.word_keys)
            logger.info("knowledge index reloaded: %s passages", len(self.retriever.index.rows))

    # ---- answering -----------------------------------------------------------------
    def answer(self, message: str, context: Context = Context()) -> Reply:
        """The reply to one user message in its conversation context (a refusal if anything fails)."""
        try:
            return self._answer(message, context)
        except Exception:  # noqa: BLE001 - a bug must not cost the user an answer
            logger.exception("pipeline failed on %r", message)
            contact = {"contact": hotline_text(self.contacts, message)}
            return Reply("refusal", "utter_kb_no_answer", contact, question=message)

    def _answer(self, message: str, context: Context) -> Reply:
        """`answer` without the safety net."""
        self.refresh()
        variants = self.prepare(message) or [message]
        q = self.parse(variants[0])
        short = len(message.split()) <= FOLLOWUP_WORDS
        if q.ask in (Ask.SOURCE, Ask.WHEN) and q.values:  # a figure named by its value: its date or source
            rows = [
                r
                for r in self.figures.table.rows()
                if r.value in q.values and (not q.scopes or r.scope in q.scopes)
            ]
            if rows:
                return self.provenance.about(tuple(f"stat:{r.id}" for r in rows), q.ask == Ask.WHEN)
        if q.ask in (Ask.SOURCE, Ask.WHEN) and context.refs and short and not q.scopes:
            return self.provenance.about(context.refs, q.ask == Ask.WHEN) or self._refuse(
                q, "utter_kb_no_answer"
            )
        scored = self.score_stage.answer(q, context.refs, short)
        if scored is not None:  # "hội đồng chấm 72 điểm là hạng mấy?"
            return scored
        article = self.documents.article(q, variants[0])  # "bài viết về … ai viết, đăng ngày nào?"
        if article is not None:
            return article
        if q.document_numbers and not any(self.provenance.mentioned(n) for n in q.document_numbers):
            return self._refuse(q, "utter_kb_unknown_document", number=q.document_numbers[0])
        elsewhere = self.documents.elsewhere(q)
        if elsewhere is not None:  # "Quyết định 1397 của An Giang?": the documents say whose it is
            return elsewhere
        if (
            short
            and context.last_question
            and (followups.bare_figure(q, context.last_question) or followups.star_follow_up(q, context.refs))
        ):
            # "<place> thì mấy?" after another question: that question, for this place
            again = followups.rewrite(context.last_question, variants[0], self.parser)
            if again and fold(again).lower() != fold(variants[0]).lower():
                return self._answer(again, Context((), context.refs, context.figure_scopes))
        place = (
            followups.place_of_last(context, self.parse)
            if short and not (q.scopes or q.unknown_provinces)
            else None
        )
        if place and followups.asks_of_a_place(q, self.parser):
            # "thế có mấy chủ thể?", "đã có hàng 4 sao chưa?" after an answer about one place
            return self._answer(f"{place} {variants[0]}", Context((), context.refs, context.figure_scopes))
        if short:  # "… như vậy?" after a question about a star level: that level
            q = followups.with_last_stars(q, context.last_question, self.parse, self.parser)
        reasoning = q.ask in (*REASONING_ASKS, Ask.TREND, Ask.PROGRESS)
        adds_place = (  # "cộng với Sóc Trăng?" after a figure of another place (one place alone has no sum)
            len(q.scopes) == 1 and len(q.stars) < 2 and q.ask in (Ask.COMPARE, Ask.DIFFERENCE, Ask.SUM)
            and bool(context.figure_scopes) and q.scopes[0] not in context.figure_scopes
        )  # fmt: skip
        if reasoning and (not q.scopes or adds_place):
            q = self.figure_stage.with_context(q, context)
        again = (
            followups.part_of_last_card(q, context.refs, self.card_answers, self.parser) if short else None
        )
        if again is not None:  # "trong đó bao nhiêu 5 sao?" after a card that says it
            return again
        aimed = followups.target_of_last(q, context, self.parse) if short else None
        if aimed is not None:  # "thế chỉ tiêu thì sao?" after a figure: the same measure's target
            return self.figure_stage.answer(aimed, context) or self._refuse(q, "utter_kb_no_answer")
        switched = followups.other_group(q, context, self.parse, self.parser) if short else None
        if switched is not None:  # "thế còn doanh nghiệp?" after the cooperatives' share
            return self.figure_stage.answer(switched, context) or self._refuse(q, "utter_kb_no_answer")
        figure = self.figure_stage.answer(q, context)
        if figure is not None and q.kind == "target":  # a target, then "and now?"
            return self.figure_stage.with_figure_part(figure, q, self.parser.clauses(variants[0]))
        if figure is not None:
            return figure
        parts = self.parser.clauses(
            variants[0]
        )  # "..., và hiện nay có bao nhiêu?": the card answers the first
        first = self.parse(parts[0]) if len(parts) > 1 else q
        card = self.card_answers.answer(first, variants, context, self.tuning)
        if card is None and len(parts) > 1:  # several asks: each part's own card, or none
            card = self.card_answers.answer_parts(parts, context, self.tuning)
        if card is not None:
            return self.figure_stage.with_figure_part(card, q, parts)
        grouped = group_reply(self.product_groups, self.card_answers, [message, variants[0]])
        if grouped is not None:  # "mai vàng với cây thế thuộc nhóm nào?"
            return grouped
        short_doc = next((r[4:] for r in context.refs if r.startswith("doc:")), None) if short else None
        if short and self.parser.is_elliptical(q.folded):  # "còn X?": about the last answer or nothing
            if short_doc is None:
                return self._refuse(q, "utter_kb_no_answer")
            return self.passages.answer(q, variants, short_doc, first=True) or self._refuse(
                q, "utter_kb_no_answer"
            )
        if short_doc and context.last_question and self.parser.refers_to_person(q):
            # "bà đó làm chức vụ gì" after a passage naming someone: that sentence states the post
            last = self.prepare(context.last_question)
            found = self.passages.answer(self.parse(last[0]), last, short_doc)
            if found is not None:
                return found
        return self._passage(q, variants, short_doc)

    def _passage(self, q: Question, variants: list[str], document: str | None = None) -> Reply:
        """An answer from the documents (each part's when a message asks several things; a count of a
        product named only from a sentence naming it), or a refusal with the fitting hotline."""
        parts = self.parser.clauses(variants[0]) if document is None else []
        found = self.passages.answer_parts(q, parts) if len(parts) > 1 else None
        found = found or self.passages.answer(q, variants, document)
        if (
            found
            and "count" in q.wants
            and self.product_groups.unnamed(q.text, found.kwargs.get("answer", ""))
        ):
            found = None
        return found or self._refuse(q, "utter_kb_no_answer")

    def _refuse(self, q: Question, response: str, **kwargs: str) -> Reply:
        """A refusal naming the hotline that fits the question's topic."""
        return Reply(
            "refusal",
            response,
            {"contact": hotline_text(self.contacts, q.text), **kwargs},
            (),
            0.0,
            (),
            q.text,
        )


def build_pipeline(
    settings: Any, contacts: ContactDirectory | None = None, retriever: HybridRetriever | None = None
) -> AnswerPipeline:  # noqa: ANN401
    """The served pipeline: index, cards, statistics table, parser, lexicon (one factory for all callers)."""
    from index.embed import load_embedder
    from index.lexicon import lexicon_for

    if retriever is None:
        retriever = HybridRetriever(settings.build_dir, load_embedder(settings))
    cards = CardStore(settings.cards_dir)
    table = StatsTable.load(settings.stats_dir, document_texts(settings.docs_dir))
    for problem in cards.errors + table.errors:
        logger.error("CONTENT: %s", problem)
    merged = GAZETTEER["merged_2025"]
    parser = QuestionParser.load()
    figures = FigureAnswerer(table, Labels.load(), stats_cite(lambda doc: retriever.index.doc_meta(doc)))
    return AnswerPipeline(
        retriever, CardMatcher(
            cards, retriever.embedder, stopwords=FUNCTION_WORDS | CHAT_WORDS, question_words=parser.question_words
        ), figures, parser, contacts,
        lexicon_for(retriever), merged=merged,
    )  # fmt: skip
