"""What answered a turn: card, statistic, passage, contact, refusal, fallback or other."""

from __future__ import annotations

from collections.abc import Sequence

OUTCOMES = ("card", "statistic", "passage", "contact", "refusal", "fallback", "other")
UNANSWERED = ("refusal", "fallback")
# Answers that carry the 👍/👎 buttons (knowledge and hotline answers): what feedback rates.
ANSWERED = ("card", "statistic", "passage", "contact")
FEEDBACK_VALUES = ("up", "down")
# The conversations filter for turns rated 👎 (besides the outcomes).
DISLIKED = "disliked"
# The pipeline's and the contact action's refusals (domain/knowledge.yml, domain/hotline.yml).
REFUSALS = {
    "utter_kb_no_answer",
    "utter_kb_unknown_document",
    "utter_kb_unavailable",
    "utter_stat_missing",
    "utter_stat_cannot_compute",
    "utter_contact_none",
    "utter_contacts_unavailable",
    "utter_service_unavailable",
}
FALLBACKS = {"utter_default", "utter_ask_rephrase"}
_PREFIXES = (
    ("utter_out_of_scope", "fallback"),
    ("utter_card_", "card"),
    ("utter_stat_", "statistic"),
    ("utter_kb_", "passage"),
    ("utter_contact", "contact"),
)
_REFS = {"card": "card", "stat": "statistic", "doc": "passage"}


def response_outcome(name: str) -> str:
    """The outcome one response name stands for."""
    if name in REFUSALS:
        return "refusal"
    if name in FALLBACKS:
        return "fallback"
    return next((kind for prefix, kind in _PREFIXES if name.startswith(prefix)), "other")


def turn_outcome(responses: Sequence[str], refs: Sequence[str] | None) -> str:
    """The outcome of a turn from its responses (in order) and the answer_refs it set, if any.

    The first response that is not "other" decides; a refusal or fallback stays one even when
    refs were set; an answer takes the kind of its first ref (a card answer that set
    "stat:..." counts as a statistic: the ref is what the pipeline used).
    """
    kinds = [response_outcome(r) for r in responses]
    main = next((k for k in kinds if k != "other"), "other")
    if main in ("card", "statistic", "passage") and refs:
        return _REFS.get(str(refs[0]).split(":", 1)[0], main)
    return main
