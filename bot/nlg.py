"""Domain responses filled with numbers from the contact table, so a changed number needs no retraining.

Responses name a contact field as `{<contact id>.<field>}` (bot/contact_values.py). Rasa
loads this generator from the endpoints file:

    nlg:
      type: bot.nlg.ContactNLG
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

from bot.contact_values import ContactValues, shared_values


class ContactNLG(TemplatedNaturalLanguageGenerator):
    """The domain's templated responses, with contact placeholders filled from the table."""

    def __init__(
        self, endpoint_config: Any = None, domain: Any = None, values: ContactValues | None = None
    ) -> None:
        """Build from the domain's responses (Rasa passes endpoint_config and domain)."""
        super().__init__(domain.responses if domain is not None else {})
        self.contact_values = values or shared_values()

    def _fill_response(
        self, response: dict[str, Any], filled_slots: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Fill slots, keyword arguments and contact fields (an action's own arguments win)."""
        return super()._fill_response(response, filled_slots, **{**self.contact_values.values(), **kwargs})
