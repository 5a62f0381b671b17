"""What the pipeline answers: a domain response to utter, its values, and what answered it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reply:
    """One answer (or refusal) of the question-answering pipeline.

    kind: "card", "statistic", "passage", "refusal" or "followup"; response: the domain
    response to utter with `kwargs`; refs: what answered ("card:noi-nop-ho-so",
    "stat:ag-2024-sp-4", "doc:tg-2023-09-11-...#3"); notes: further responses to utter.
    """

    kind: str
    response: str
    kwargs: dict[str, str] = field(default_factory=dict)
    refs: tuple[str, ...] = ()
    confidence: float = 0.0
    notes: tuple[tuple[str, dict[str, str]], ...] = ()
    question: str = ""

    @property
    def answered(self) -> bool:
        """True unless the pipeline refused."""
        return self.kind != "refusal"

    def messages(self) -> list[tuple[str, dict[str, str]]]:
        """Every response to utter, in order, with its values."""
        return [(self.response, self.kwargs), *self.notes]
