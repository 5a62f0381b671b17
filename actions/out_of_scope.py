"""Out-of-scope messages: the response selector's reply, unless the programme's own words say otherwise.

    ActionOutOfScope(pipeline)   # rules: intents out_of_scope and nlu_fallback -> action_out_of_scope

The response selector sometimes files an OCOP procedure question under "thủ tục hành chính"
(the renewal of an expired OCOP certificate). A message that uses the programme's own terms
(cues.yml `programme_terms`) or names a document by its number ("QĐ 919") is first put to the
question-answering pipeline (which refuses numbers the documents do not hold); its answer is
given when it has one, the selector's out-of-scope reply otherwise. A message the NLU could not
read at all (nlu_fallback: typos, odd wording) is treated the same way, with utter_default as
the reply when the knowledge has nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.handoff import offers_handoff
from actions.knowledge import answer_if_known
from bot.text import clean_user_text, search_words
from ops.metrics import record_answer

_CUES = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "data" / "language" / "cues.yml").read_text(encoding="utf-8")
)
PROGRAMME_TERMS = re.compile(_CUES["programme_terms"])
DEFAULT_RESPONSE = "utter_out_of_scope/other"
FALLBACK = "utter_default"  # a message the NLU could not read (rule: nlu_fallback -> this action)


def selected_response(tracker: Tracker) -> str:
    """The out-of-scope response the response selector picked ("utter_out_of_scope/public_service")."""
    selectors = tracker.latest_message.get("response_selector") or {}
    selector = selectors.get("out_of_scope") or selectors.get("default") or {}  # one selector: "default"
    key = str((selector.get("response") or {}).get("intent_response_key") or "")  # "out_of_scope/prices"
    return f"utter_{key}" if key.startswith("out_of_scope/") else DEFAULT_RESPONSE


@offers_handoff
class ActionOutOfScope(Action):
    """Reply to an out-of-scope message; programme questions filed there go to the pipeline."""

    def __init__(self, pipeline: Any = None) -> None:  # noqa: ANN401 - an AnswerPipeline or None
        """Use the given pipeline, or the server's shared one."""
        self._pipeline = pipeline

    def name(self) -> str:
        """Action name."""
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Answer from the knowledge when the message is about the programme and it can; else decline."""
        text = clean_user_text(tracker.latest_message.get("text") or "", 1000)
        words = " ".join(search_words(text))
        pipeline = self._pipeline if self._pipeline is not None else resources.load_knowledge().value
        numbered = pipeline is not None and bool(pipeline.parser.document_number.search(words))
        if PROGRAMME_TERMS.search(words) or numbered:  # "QĐ 919 nói về gì": a document the knowledge may hold
            answered = await answer_if_known(pipeline, text, tracker, dispatcher)
            if answered is not None:
                return answered
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        dispatcher.utter_message(
            response=FALLBACK if intent == "nlu_fallback" else selected_response(tracker)
        )
        record_answer("fallback")
        return []
