"""Shared resources of the action server: knowledge retriever and contact book.

Loaded once when the server starts (`preload`), never at import; actions receive them
through their constructors, so tests pass in-memory fakes instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
CONTACTS_FILE = Path(os.environ.get("OCOP_CONTACTS_FILE", ROOT / "data" / "contacts.csv"))

# One thread encodes queries: the event loop stays free, and one torch thread per query
# keeps latency flat under load (two threads contend on a 2-core machine).
_ENCODER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encode")
T = TypeVar("T")


async def in_encoder_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking call (encode + search) off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_ENCODER, fn, *args)


@dataclass
class Loaded:
    """A resource, or the reason it could not be loaded."""

    value: Any = None
    error: str | None = None


_lock = threading.Lock()
_knowledge: Loaded | None = None
_contacts: Loaded | None = None


def load_knowledge() -> Loaded:
    """Load the question-answering pipeline once: model, index, cards, statistics (clear error if unusable)."""
    global _knowledge
    contacts = load_contacts().value
    with _lock:
        if _knowledge is None:
            try:
                from index.pipeline import build_pipeline
                from index.settings import Settings

                pipeline = build_pipeline(Settings.from_env(), contacts)
                _knowledge = Loaded(pipeline)
                logger.info(
                    "knowledge loaded: %s passages, %s cards, %s statistics rows",
                    len(pipeline.retriever.index.rows), len(pipeline.cards.store.cards()),
                    len(pipeline.figures.table.rows()),
                )  # fmt: skip
            except Exception as exc:  # noqa: BLE001 - reported, the server still answers
                _knowledge = Loaded(error=str(exc))
                logger.error("KNOWLEDGE INDEX UNAVAILABLE: %s", exc)
        return _knowledge


def load_contacts() -> Loaded:
    """Load the contact table once; bad rows are reported, good rows kept."""
    global _contacts
    with _lock:
        if _contacts is None:
            from actions.contacts import ContactBook

            book = ContactBook.load(CONTACTS_FILE)
            for err in book.errors:
                logger.error("CONTACTS: %s", err)
            _contacts = Loaded(book, None if book.contacts else "; ".join(book.errors))
        return _contacts


def preload() -> list[str]:
    """Load everything at server start; return the problems found (empty if none)."""
    problems = []
    knowledge, contacts = load_knowledge(), load_contacts()
    if knowledge.error:  # content problems (cards, statistics rows) are only logged: valid rows serve
        problems.append(f"knowledge index: {knowledge.error}")
    if contacts.value is not None:
        problems.extend(f"contacts: {e}" for e in contacts.value.errors)
    return problems
