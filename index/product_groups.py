"""The OCOP product group of a product named in everyday words, for "may my product take part?".

    groups = ProductGroups.load()
    groups.asked("mai vàng với cây thế thuộc nhóm nào")  # [("mai vàng", "sinh vật cảnh"), ("cây thế", …)]
    group_reply(groups, card_answers, [message])  # the groups card + "mai vàng: sinh vật cảnh", or None

Language data: data/language/product_groups.yml (names per group, the question cue, the card).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from bot.text import fold, has_diacritics, nfc
from index.reply import Reply

if TYPE_CHECKING:
    from index.card_answers import CardAnswerer

DATA = Path(__file__).resolve().parent.parent / "data" / "language" / "product_groups.yml"


def _folded(text: str) -> str:
    """Lowercase, no accents, words joined by single spaces."""
    return " ".join(re.findall(r"[a-z0-9]+", fold(text).lower()))


def _words(text: str) -> str:
    """Lowercase words with their accents, joined by single spaces."""
    return " ".join(re.findall(r"\w+", nfc(text).lower()))


def _form(text: str, accented: bool) -> str:
    """The text as names are matched: with accents when it has them ("năm" is not "nấm")."""
    return _words(text) if accented else _folded(text)


@dataclass(frozen=True)
class ProductGroups:
    """Everyday product names -> OCOP group, and the cue of a question about taking part or group."""

    card: str
    asks: re.Pattern[str]
    names: tuple[tuple[str, str, str], ...]  # (folded name, name, group), longest first
    unaccented_ok: frozenset[str] = frozenset()  # folded one-word names safe in a text without accents
    producers: re.Pattern[str] | None = None  # a form of producer named: who may take part is asked

    @classmethod
    def load(cls, path: Path = DATA) -> ProductGroups:
        """Read the data file."""
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        names = [(_folded(n), str(n), str(g)) for g, ns in data["groups"].items() for n in ns]
        ok = frozenset(_folded(n) for n in data.get("unaccented_ok") or [])
        ordered = tuple(sorted(names, key=lambda x: -len(x[0])))
        producers = re.compile(data["producers"]) if data.get("producers") else None
        return cls(str(data["card"]), re.compile(data["asks"]), ordered, ok, producers)

    def named(self, text: str) -> list[tuple[str, str]]:
        """(name, group) of each product the text names, in order of mention; a text written with
        accents is matched with them, one without by its folded form."""
        accented = has_diacritics(text)
        rest, found = f" {_form(text, accented)} ", []
        for folded, name, group in self.names:
            if not accented and " " not in folded and folded not in self.unaccented_ok:
                continue  # "nam" may be năm as well as nấm
            key = f" {_form(name, accented)} "
            if key in rest:
                found.append((rest.index(key), name, group))
                rest = rest.replace(key, " | ")
        return [(name, group) for _, name, group in sorted(found)]

    def unnamed(self, question: str, answer: str) -> bool:
        """Does the question name a product that the answer does not ("bao nhiêu sản phẩm gạo")?"""
        names = [_folded(n) for n, _ in self.named(question)]
        return bool(names) and not any(f" {n} " in f" {_folded(answer)} " for n in names)

    def asked(self, text: str) -> list[tuple[str, str]]:
        """The products named, when the text asks whether they may take part or which group they are in
        (and names no form of producer: "tổ hợp tác của tôi có được xét không" asks who may)."""
        folded = _folded(text)
        if not self.asks.search(folded) or (self.producers and self.producers.search(folded)):
            return []
        return self.named(text)

    def by_group(self, text: str) -> list[tuple[str, str]]:
        """(names joined, group) for each group asked about, in order."""
        groups: dict[str, list[str]] = {}
        for name, group in self.asked(text):
            groups.setdefault(group, []).append(name)
        return [(", ".join(names), group) for group, names in groups.items()]


def group_reply(groups: ProductGroups, cards: CardAnswerer, texts: list[str]) -> Reply | None:
    """The groups card with a note naming each asked product's group, when a text asks one."""
    asked = next((found for text in texts if (found := groups.by_group(text))), [])
    card = cards.cards.get(groups.card) if asked else None
    if card is None:
        return None
    reply = cards.card_reply(card, 1.0, texts[0])
    notes = tuple(("utter_product_group", {"products": names, "group": group}) for names, group in asked)
    return dataclasses.replace(reply, notes=reply.notes + notes)
