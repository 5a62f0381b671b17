"""The passage stage: the documents' sentence that answers a question, with publisher and date.

    passages = PassageAnswerer(retriever, picker, parser)
    reply = passages.answer(question, readings)   # Reply("passage", "utter_kb_answer", ...) or None
    conf, answer, hits = passages.best(question, readings)

Each reading of the message (accents restored, as typed) is retrieved (index/retrieve.py);
the sentence picker (index/answer.py) scores the sentences of the best passages and decides,
with its calibrated threshold, whether one answers. The best-scoring reading wins.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from bot.text import fold
from index.answer import Answer, SentencePicker
from index.parse import NATIONAL, Question, QuestionParser
from index.reply import Reply
from index.retrieve import Hit, HybridRetriever
from index.sentence import DOCUMENT_NUMBER
from index.source import format_date, source_line


class PassageAnswerer:
    """Retrieves passages for each reading of a question and picks the answering sentences."""

    def __init__(self, retriever: HybridRetriever, picker: SentencePicker, parser: QuestionParser) -> None:
        """The index, the sentence picker and the parser's cue tables."""
        self.retriever, self.picker, self.parser = retriever, picker, parser

    def retrieve(
        self,
        q: Question,
        text: str,
        vector: Any = None,
        document: str | None = None,  # noqa: ANN401
    ) -> tuple[float, list[Hit], Any]:
        """Passages for one reading of the message: (confidence, hits, query vector).

        With `document` (a short follow-up after a passage answer), that document's passages
        come first when it has any among the candidates ("ai phát biểu?" about the same event).
        A question naming an agency keeps only the passages naming it (a plan's tasks for
        "Sở Công Thương"), as one asking for a document number keeps those stating one, and one
        checking a named person's post those naming the person.
        """
        vector = self.retriever.dense_query(text) if vector is None else vector
        person = self.picker.checks.checked_person(q)  # "ông X là giám đốc phải không?"
        agencies = frozenset() if person else self.parser.asked_agencies(q)
        deep = document is not None or bool(agencies) or bool(person)
        hits = self.retriever.search(text, 30 if deep else 5, vector=vector)
        if document is not None:
            hits = [h for h in hits if h.doc_id == document] or hits
        conf = self.retriever.confidence(hits)
        if agencies:  # "Sở Công Thương làm gì?": only passages naming that agency answer
            hits = [
                h for h in hits if agencies & self.parser.agencies_in(fold(" ".join(h.sentences)).lower())
            ]
        if person:  # only passages naming the person whose post is checked
            hits = [h for h in hits if person in fold(" ".join(h.sentences)).lower()]
        hits = hits[:5]
        if self.picker.checks.asks_number(q):
            hits = [
                h for h in hits if any(DOCUMENT_NUMBER.search(s) for s in h.sentences)
            ]  # only those stating one
        return conf, hits, vector

    def best(
        self,
        q: Question,
        variants: list[str],
        vectors: Sequence[Any] | None = None,
        document: str | None = None,
    ) -> tuple[float, Answer | None, list[Hit]]:
        """The best extractive answer over the message's readings: (confidence, answer, its hits).

        The sentence picker's score, not the retrieval's, decides between readings. `vectors`
        are the readings' query embeddings when already computed (tuning reuses them).
        """
        found: list[tuple[float, float, Answer, list[Hit]]] = []
        fallback: tuple[float, list[Hit]] = (-1.0, [])
        for i, text in enumerate(variants):
            conf, hits, vector = self.retrieve(q, text, vectors[i] if vectors is not None else None, document)
            if conf > fallback[0]:
                fallback = (conf, hits)
            if hits:  # the picker's calibrated rule decides (it weighs the retrieval's confidence too)
                answer = self.picker.compose(q, text, hits, self.retriever.idf, vector, conf)
                if answer is not None:
                    found.append((answer.score, conf, answer, hits))
        if found:
            _, conf, answer, hits = max(found, key=lambda f: f[0])
            return conf, answer, hits
        return max(fallback[0], 0.0), None, fallback[1]

    def answer(
        self, q: Question, variants: list[str], document: str | None = None, first: bool = False
    ) -> Reply | None:
        """An extractive answer from the documents, or None. A short follow-up that names no place
        and that nothing answers is read against the last answer's `document`; with `first` (an
        elliptical "còn X?"), only against it."""
        conf, answer, hits = (-1.0, None, []) if first and document else self.best(q, variants)
        if answer is None and document is not None and not q.scopes:  # elliptical: about the last document
            conf, answer, hits = self.best(q, variants, document=document)
        if answer is not None and q.unknown_provinces:
            around = " ".join(
                " ".join(h.sentences)
                for h in hits
                if h.doc_id == answer.doc_id and answer.sentences[0] in h.sentences
            )
            if not any(p.lower() in around.lower() for p in q.unknown_provinces):
                answer = None  # a sentence about another place does not answer for this one
        if answer is None:
            return None
        meta = answer.meta
        kwargs = {"answer": answer.text, "source": source_line(meta), "date": format_date(meta.get("date"))}
        response = "utter_kb_answer" if kwargs["date"] else "utter_kb_answer_undated"
        return Reply("passage", response, kwargs, (f"doc:{answer.doc_id}",), conf, (), q.text)

    def answer_parts(self, q: Question, parts: list[str]) -> Reply | None:
        """Each part of a message asking several things answered: a later part that names no place
        from the first part's document first, else with the places and stars of the whole (unless
        that repeats another part's answer); the first part's reply with the others as notes, or
        None when a part has no answer."""
        replies: list[Reply] = []
        places = ", ".join(s for s in q.scopes if s != NATIONAL)
        for text in parts:
            part, reply = self.parser.parse(text), None
            if replies and not part.scopes:  # "…, ai chủ trì?": about what the first part's answer is
                reply = self.answer(part, [text], replies[0].refs[0][4:], first=True)
            if reply is None and not part.scopes and places:
                placed = f"{places} {text}"
                reply = self.answer(
                    dataclasses.replace(self.parser.parse(placed), stars=part.stars or q.stars), [placed]
                )
            said = {r.kwargs.get("answer") for r in replies}
            if reply is None or reply.kwargs.get("answer") in said:  # the place's answer again: as written
                reply = self.answer(part, [text])
            if reply is None:
                return None
            if reply.kwargs.get("answer") not in said:
                replies.append(reply)
        first, rest = replies[0], replies[1:]
        return dataclasses.replace(
            first,
            refs=tuple(dict.fromkeys(ref for r in replies for ref in r.refs)),
            notes=first.notes + tuple(m for r in rest for m in r.messages()),
        )
