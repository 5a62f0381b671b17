"""The cue file (data/language/cues.yml) compiled into the question parser's patterns.

    data = yaml.safe_load(CUES_FILE.read_text(encoding="utf-8"))
    parser = QuestionParser(**compile_cues(data))      # what QuestionParser.load does

Phrase lists become one whole-word regex; regex entries are compiled as written; an optional
entry the file leaves out is None (the parser then skips that reading).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.text import CHAT_WORDS, FUNCTION_WORDS
from index.question_types import Ask

CUES_FILE = Path(__file__).resolve().parent.parent / "data" / "language" / "cues.yml"

# Optional entries written as one regex (field name = key).
REGEXES = (
    "asks_article", "asks_post", "verifies_post", "post_words", "clause_break", "asks_from", "elliptical",
    "of_last", "exists", "source_clause", "states_money", "as_of_phrase", "target_strong", "reached_words",
    "achieved", "tail_fillers", "event_person", "sums_several", "person_pronoun", "second_ask", "like_last", "ordinal",
)  # fmt: skip
# Optional entries written as a list of phrases (field name = key).
PHRASES = ("posts", "merger", "not_asks")


def phrase_re(phrases: list[str]) -> re.Pattern[str]:
    """One regex matching any of the folded phrases as whole words."""
    alts = sorted((re.escape(p.strip()) for p in phrases), key=len, reverse=True)
    return re.compile(r"(?<![\w])(?:" + "|".join(alts) + r")(?![\w])")


def _starts(words: list[str]) -> re.Pattern[str]:
    """A regex for a sentence opening with one of the words ("Trong đó", "Cụ thể")."""
    return re.compile(r"^(?:" + "|".join(map(re.escape, words)) + r")\b")


def compile_cues(data: dict[str, Any]) -> dict[str, Any]:
    """The parser's fields from the loaded cue file."""
    only = data.get("ask_only") or {}
    fields: dict[str, Any] = {
        "asks": tuple((Ask(k), phrase_re(v)) for k, v in data["asks"].items()),
        "ask_patterns": tuple((Ask(k), re.compile("|".join(v))) for k, v in data["ask_patterns"].items()),
        "figure": phrase_re(data["figure"]),
        "target": phrase_re(data["target"]),
        "metrics": tuple((k, phrase_re(v)) for k, v in data["metrics"].items()),
        "stars": tuple((str(k), phrase_re(v)) for k, v in data["stars"].items()),
        "national": phrase_re(data["national"]),
        "document_number": re.compile(data["document_number"]),
        "neutral": FUNCTION_WORDS | CHAT_WORDS | frozenset(" ".join(data["neutral"]).split()),
        "chat": CHAT_WORDS,
        "question_words": tuple(data["question_words"]),
        "asks_document": re.compile(data["asks_document"]),
        "article_words": frozenset(str(data.get("article_words") or "").split()),
        "percent": phrase_re(data["percent"]),
        "rank_scope": re.compile(data["rank_scope"]),
        "answer_types": tuple((k, phrase_re(v)) for k, v in data["answer_types"].items()),
        "address": re.compile(data["address"]),
        "rank_low": re.compile(data["rank_low"]),
        "figure_patterns": tuple(re.compile(x) for x in data["figure_patterns"]),
        "continues": _starts(data["continues"]),
        "details": _starts(data["details"]),
        "star_names": {str(k): v for k, v in (data.get("star_names") or {}).items()},
        "deputy": data.get("deputy", ""),
        "agencies": tuple((k, phrase_re(v)) for k, v in (data.get("agencies") or {}).items()),
        "metric_groups": {k: tuple(v) for k, v in (data.get("metric_groups") or {}).items()},
        "locality_levels": tuple(data.get("locality_levels") or ()),
        "star_ranges": tuple((int(k), phrase_re(v)) for k, v in (data.get("star_ranges") or {}).items()),
        "fillers": phrase_re(only["fillers"] + (only.get("types") or [])) if only.get("fillers") else None,
        "task_words": phrase_re(only["tasks"]) if only.get("tasks") else None,
    }
    fields.update({k: re.compile(data[k]) if data.get(k) else None for k in REGEXES})
    fields.update({k: phrase_re(data[k]) if data.get(k) else None for k in PHRASES})
    return fields
