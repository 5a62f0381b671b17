"""Questions about the documents themselves: who wrote an article, and whose a document number is.

    documents = DocumentQuestions(retriever, parser, provenance)
    documents.article(question, text)   # "bài … do ai viết, đăng ngày nào?": Reply or None
    documents.elsewhere(question)       # a provincial decision asked of the wrong province: Reply or None

An article is the one whose title and publisher hold most of the question's content words;
a provincial document number asked of one place is said to be another's only when every
sentence that states it is about that other place (index/provenance.py `number_elsewhere`).
"""

from __future__ import annotations

from bot.text import CHAT_WORDS, FUNCTION_WORDS, search_words
from index.parse import NATIONAL, Question, QuestionParser
from index.provenance import Provenance
from index.reply import Reply
from index.retrieve import HybridRetriever
from index.source import format_date, source_line

ARTICLE_MATCH = 0.5  # share of a question's content words an article's title must hold
ARTICLE_LEAD = 0.15  # ... and its lead over the next article's share


class DocumentQuestions:
    """Answers about an article's metadata and about whose a document number is."""

    def __init__(self, retriever: HybridRetriever, parser: QuestionParser, provenance: Provenance) -> None:
        """The index (metadata, IDF), the parser's cues and where document numbers are stated."""
        self.retriever, self.parser, self.provenance = retriever, parser, provenance

    def article(self, q: Question, text: str) -> Reply | None:
        """Who wrote the article whose title the question names, and where and when it was published.

        The article is the document whose title and publisher hold most of the question's content
        words (IDF-weighted); it must hold at least half of them and clearly lead the others."""
        if not (self.parser.asks_article and self.parser.asks_article.search(q.folded)):
            return None
        idf = self.retriever.idf
        skip = FUNCTION_WORDS | CHAT_WORDS | self.parser.article_words
        asked = {w for w in search_words(text) if w not in skip}
        if not asked:
            return None
        total = sum(idf.get(w, 1.0) for w in asked)
        index = self.retriever.index
        shares = []
        for doc in dict.fromkeys(r["doc_id"] for r in index.rows):
            meta = index.doc_meta(doc)
            have = set(search_words(f"{meta.get('title') or ''} {meta.get('publisher') or ''}"))
            shares.append((sum(idf.get(w, 1.0) for w in asked & have) / total, doc))
        shares.sort(reverse=True)
        best, doc = shares[0] if shares else (0.0, "")
        runner = shares[1][0] if len(shares) > 1 else 0.0
        if best < ARTICLE_MATCH or best - runner < ARTICLE_LEAD:
            return None  # no article the question clearly names
        meta = index.doc_meta(doc)
        author, date = str(meta.get("author") or ""), format_date(meta.get("date"))
        response = "utter_kb_article" + ("" if author else "_no_author") + ("" if date else "_undated")
        kwargs = {"title": str(meta.get("title") or ""), "publisher": str(meta.get("publisher") or ""),
                  "author": author, "date": date}  # fmt: skip
        return Reply("passage", response, kwargs, (f"doc:{doc}",), best, (), q.text)

    def elsewhere(self, q: Question) -> Reply | None:
        """A provincial document number asked of one place that the documents state only of another."""
        places = tuple(p for p in q.scopes if p != NATIONAL)
        if not q.document_numbers or not places:
            return None
        found = self.provenance.number_elsewhere(q.document_numbers[0], places)
        if found is None:
            return None
        sentence, doc, place = found
        meta = self.retriever.index.doc_meta(doc)
        kwargs = {
            "number": q.document_numbers[0],
            "asked": ", ".join(places),
            "place": place,
            "answer": sentence,
            "source": source_line(meta),
        }
        return Reply("passage", "utter_kb_document_other_place", kwargs, (f"doc:{doc}",), 1.0, (), q.text)
