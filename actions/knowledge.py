"""Knowledge answers: retrieve from the document index, answer extractively with a source."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.hotline import lookup_and_answer, reverse_lookup
from actions.lexicon import lexicon_for
from actions.query import prepare_variants
from bot.entities import find_provinces, find_stars
from bot.text import clean_user_text
from index.answer import compose
from index.source import format_date, source_line

logger = logging.getLogger(__name__)
OCOP_CONTACT_QUERY = "đường dây nóng ngành nông nghiệp OCOP"
MERGED = {"An Giang", "Sóc Trăng", "Kiên Giang"}
MESSAGE_LIMIT = 4000  # characters read from a message; the query is its question (≤ 500)


def hotline_text(book: Any, query: str = OCOP_CONTACT_QUERY) -> str:
    """The best hotline for a question as "name – title, organisation: phones"."""
    if book is None:
        return ""
    match = book.lookup(query)
    contacts = match.contacts or book.general()
    if not contacts:
        return ""
    c = contacts[0]
    role = ", ".join(part for part in (c.title, c.organisation) if part)
    return f"{c.name} – {role}: {', '.join(c.phones_display)}"


class KnowledgeAnswerer:
    """Answers one question from a retriever (real index or in-memory fake)."""

    def __init__(self, retriever: Any, contacts: Any) -> None:
        """Take the storage in the constructor (like rasa-sdk's knowledge-base action)."""
        self.retriever = retriever
        self.contacts = contacts

    def variants(self, text: str) -> list[str]:
        """Search queries for a user message (question focused, typos corrected), best first."""
        try:
            lexicon = lexicon_for(self.retriever)
        except Exception as exc:  # noqa: BLE001 - correction is an extra: answer without it
            logger.error("query lexicon unavailable: %s", exc)
            lexicon = None
        return prepare_variants(text, lexicon)

    async def prepare(self, text: str) -> list[str]:
        """`variants` off the event loop (the typo vocabulary is rebuilt after an index reload)."""
        return await resources.in_encoder_thread(self.variants, text)

    def _search(self, queries: list[str]) -> tuple[str, list[Any]]:
        """The query whose retrieval is the most confident, with its hits."""
        best: tuple[float, str, list[Any]] | None = None
        for query in queries:
            hits = self.retriever.search(query, 5)
            confidence = self.retriever.confidence(hits)
            if best is None or confidence > best[0]:
                best = (confidence, query, hits)
        return best[1], best[2]

    async def answer(
        self, question: str, dispatcher: CollectingDispatcher, intent: str, alternatives: tuple[str, ...] = ()
    ) -> bool:
        """Utter an answer or a refusal with a hotline; return True if answered.

        `alternatives` are other readings of the same message (as typed: restored by the
        retriever's pyvi restorer instead of ours); the most confident retrieval is answered."""
        if reverse_lookup(self.contacts, question):  # "số 0919 199 392 là của ai?"
            lookup_and_answer(self.contacts, question, {}, dispatcher, "ask_person", None)
            return True
        contact = hotline_text(self.contacts)
        if self.retriever is None:
            dispatcher.utter_message(response="utter_kb_unavailable", contact=contact)
            return False
        try:
            self.retriever.reload_if_changed()
        except Exception as exc:  # noqa: BLE001 - keep serving the previous index
            logger.error("index reload failed, keeping the previous index: %s", exc)
        question, hits = await resources.in_encoder_thread(self._search, [question, *alternatives])
        idf = getattr(self.retriever, "idf", None)
        answer = compose(question, hits, idf) if self.retriever.confident(hits) else None
        if answer is None:
            logger.info("no confident answer for %r", question)
            dispatcher.utter_message(response="utter_kb_no_answer", contact=contact)
            return False
        meta = answer.meta
        kwargs = {"answer": answer.text, "source": source_line(meta), "date": format_date(meta.get("date"))}
        if not kwargs["date"]:
            dispatcher.utter_message(response="utter_kb_answer_undated", **kwargs)
        elif answer.has_figures and intent == "ask_ocop_stats":
            dispatcher.utter_message(response="utter_kb_answer_figures", as_of=kwargs["date"], **kwargs)
        else:
            dispatcher.utter_message(response="utter_kb_answer", **kwargs)
        provinces = {m.value for m in find_provinces(answer.text + " " + question)}
        if answer.has_figures and provinces & MERGED and str(meta.get("date", "")) < "2025-07":
            dispatcher.utter_message(response="utter_kb_note_merger")
        return True


def question_slots(question: str) -> list[EventType]:
    """Remember the question and its province / star level for follow-ups."""
    events: list[EventType] = [SlotSet("last_question", question), SlotSet("pending", None)]
    provinces = find_provinces(question)
    stars = find_stars(question)
    if provinces:
        events.append(SlotSet("province", provinces[0].value))
    if stars:
        events.append(SlotSet("star", stars[0].value))
    return events


class ActionAnswerKnowledge(Action):
    """Answer figures, plans and program questions from the documents."""

    def __init__(self, retriever: Any = None, contacts: Any = None) -> None:
        """Use the given storage, or the server's shared one."""
        self._retriever, self._contacts = retriever, contacts

    def name(self) -> str:
        """Action name."""
        return "action_answer_knowledge"

    def answerer(self) -> KnowledgeAnswerer:
        """Build the answerer from injected or shared resources."""
        retriever = self._retriever if self._retriever is not None else resources.load_knowledge().value
        contacts = self._contacts if self._contacts is not None else resources.load_contacts().value
        return KnowledgeAnswerer(retriever, contacts)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Answer the latest user message."""
        text = clean_user_text(tracker.latest_message.get("text") or "", MESSAGE_LIMIT)
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        answerer = self.answerer()
        question, *alternatives = await answerer.prepare(text)
        answered = await answerer.answer(question, dispatcher, intent, tuple(alternatives))
        if not answered and not find_provinces(question) and not find_stars(question):
            # a refused message with nothing a follow-up could change ("phí thẩm định?",
            # pasted markup) keeps the conversation's question for "còn Tiền Giang thì sao?"
            return []
        return question_slots(question)
