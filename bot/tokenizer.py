"""Rasa tokenizer component for Vietnamese: pyvi word segmentation, folded lemmas."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.segment import segment
from bot.text import fold, nfc


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(Tokenizer):
    """Segments Vietnamese into words; token.lemma is the accent-folded lowercase form.

    Token text and offsets point into the user's own text, so entities line up; the
    lemma ("dien_thoai") is what the count-vector featurizers see (use_lemma), so
    text typed with and without diacritics gets the same features.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the default config (same keys as Rasa's own tokenizers)."""
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def supported_languages() -> list[str] | None:
        """Vietnamese only."""
        return ["vi"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseTokenizer:
        """Create the component."""
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokenize one attribute of a message."""
        text = message.get(attribute) or ""
        if text != nfc(text):
            # Decomposed input (some phone keyboards): work on, and keep, the NFC form so
            # that token offsets and entity spans refer to the same string.
            text = nfc(text)
            message.set(attribute, text)
        tokens = [Token(w.text, w.start, lemma=w.folded, data={"folded": w.folded}) for w in segment(text)]
        if not tokens:
            # Nothing word-like (emoji only, punctuation): keep one token so that
            # featurizers and DIET still get an input; the fallback will answer.
            stripped = text.strip() or "_"
            start = max(text.find(stripped), 0)
            tokens = [Token(stripped, start, lemma=fold(stripped).lower()[:32] or "_")]
        return self._apply_token_pattern(tokens)
