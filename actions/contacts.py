"""Hotline contact book: load and validate the staff-edited table, match questions to contacts."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path

from actions.contact_table import (  # noqa: F401 - re-exported: the table's public names
    COLUMNS,
    REQUIRED,
    Contact,
    _bare_name,
    _parse_row,
    _read_csv,
    _read_yaml,
    _signature,
    phone_digits,
)
from bot.text import ABBREVIATIONS, DIRECTORY_ABBREVIATIONS, fold, has_diacritics, nfc
from index.lexicon import correction

FIELD_WEIGHTS = {"name": 4.0, "title": 2.0, "organisation": 1.5, "topics": 1.0}
MIN_SCORE = 0.5  # best score below this -> kind "none"
GROUP_RATIO = 0.6  # organisation/topic answers keep contacts scoring >= ratio * best
# Chat abbreviations (folded) -> expansion, the shared ones plus the directory's own;
# applied to questions and table cells alike.
_ABBR = ABBREVIATIONS | DIRECTORY_ABBREVIATIONS
_MARKERS = {
    "email": ("email", "thư điện tử"),
    "phone": ("điện thoại", "hotline", "đường dây nóng", "gọi", "số máy", "phone", "zalo"),
}
_HONORIFICS = {"ong", "ba", "anh", "chi", "co"}  # folded ông, bà, anh, chị, cô (not chú: Chu is a surname)
Token = tuple[str, str]  # (folded syllable, raw lowercase syllable)


def _tokens(text: str) -> list[Token]:
    """Tokenise into (folded, raw) syllables; expand abbreviations, spell consonant+y as +i (Sỹ = Sĩ)."""
    pairs = [(re.sub(r"^([^aeiouy]+)y$", r"\1i", fold(w)), w) for w in re.findall(r"\w+", nfc(text).lower())]
    return [t for f, w in pairs for t in ([(x, x) for x in _ABBR[f].split()] if f in _ABBR else [(f, w)])]


def _find(tokens: list[Token] | tuple[Token, ...], phrase: str) -> bool:
    """Find the phrase in the tokens; syllables the user typed with accents must match them."""
    key = _tokens(phrase)
    return any(
        all(
            q[0] == k[0] and (not has_diacritics(q[1]) or q[1] == k[1])
            for q, k in zip(tokens[i:], key, strict=False)
        )
        for i in range(len(tokens) - len(key) + 1)
    )


@dataclass
class Match:
    """Lookup result: what matched, contacts (best first), the field asked for."""

    kind: str  # "person" | "title" | "organisation" | "topic" | "none"
    contacts: list[Contact] = dc_field(default_factory=list)
    field: str = "any"  # "phone" | "email" | "any"
    unknown_province: str | None = None  # asked-for province that the table does not cover


class ContactBook:
    """Validated contacts with a weighted term-overlap matcher; reloads when the file changes."""

    def __init__(self, path: str | Path | None = None) -> None:
        """Create an empty book (use ContactBook.load to read a file)."""
        self.path = Path(path) if path else None
        self.contacts: list[Contact] = []
        self.errors: list[str] = []
        self._signature = _signature(self.path)
        self._index()

    @classmethod
    def load(cls, path: str | Path) -> ContactBook:
        """Load a CSV or YAML table; never raises, bad rows are reported in book.errors."""
        book, path = cls(path), Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
            rows = (_read_yaml if path.suffix.lower() in {".yml", ".yaml"} else _read_csv)(text)
        except Exception as exc:  # noqa: BLE001 - unreadable or malformed file: report it
            book.errors.append(f"{path.name}: không đọc được tệp liên hệ ({exc})")
            return book
        seen: dict[str, str] = {}
        for line, raw in rows:
            result = _parse_row(raw, f"{path.name} dòng {line}", seen)
            book.errors += result if isinstance(result, list) else []
            book.contacts += [result] if isinstance(result, Contact) else []
        if not book.contacts:
            book.errors.append(f"{path.name}: không có dòng liên hệ hợp lệ")
        book._index()
        return book

    @property
    def ok(self) -> bool:
        """True when a table was read and holds at least one valid contact."""
        return bool(self.contacts)

    def reload_if_changed(self) -> bool:
        """Re-read the file if its mtime or size changed (keeps the last good rows on failure)."""
        signature = _signature(self.path)
        if self.path is None or signature == self._signature:
            return False
        fresh = type(self).load(self.path)
        if fresh.ok or not self.ok:  # swap rows and index together
            self.contacts, self._weights, self._idf, self._vocab = (
                fresh.contacts,
                fresh._weights,
                fresh._idf,
                fresh._vocab,
            )
        self.errors, self._signature = fresh.errors, signature
        return True

    def general(self, province: str | None = None) -> list[Contact]:
        """General hotlines to list when nothing specific matches (optionally one province)."""
        return [
            c
            for c in self.contacts
            if c.general and (not province or fold(c.province or province) == fold(province))
        ]

    def topics(self) -> list[str]:
        """Distinct topic labels, in table order, for clarification buttons."""
        return list(dict.fromkeys(c.topic_label for c in self.contacts if c.topic_label))

    def _index(self) -> None:
        """Weigh each contact's terms (field weight / phrase length) and compute term idf."""
        self._weights: list[dict[tuple[str, ...], tuple[float, str]]] = []  # term -> weight, field
        for c in self.contacts:
            weights: dict[tuple[str, ...], tuple[float, str]] = {}  # bigram or one-syllable phrase
            org = fold(c.organisation)
            if c.province:
                org = re.sub(rf"\b(tinh |thanh pho |tp )?{re.escape(fold(c.province))}\b", "", org)
            for fld, text in [
                ("name", _bare_name(c.name)),
                ("title", c.title),
                *(("organisation", p) for p in re.split(r"\s+va\s+|[,;&–-]", org)),
                *(("topics", t) for t in (*c.topics, c.topic_label)),
            ]:
                s = [t[0] for t in _tokens(text)]
                terms = [(s[0],)] if len(s) == 1 else list(dict.fromkeys(zip(s, s[1:], strict=False)))
                for term in terms:
                    if FIELD_WEIGHTS[fld] / len(terms) > weights.get(term, (0.0, ""))[0]:
                        weights[term] = (FIELD_WEIGHTS[fld] / len(terms), fld)
            own = fold(c.name.split()[0])  # "ông Lâm"; formal only, so "anh làm ơn" is no name
            for honorific in ({own} if own in _HONORIFICS else {"ong", "ba"}) if c.is_person else ():
                weights[(honorific, _tokens(c.name)[-1][0])] = (FIELD_WEIGHTS["name"], "name")
            self._weights.append(weights)
        df = Counter(t for weights in self._weights for t in weights)
        self._idf = {t: math.log((len(self.contacts) + 1) / k) for t, k in df.items()}
        self._vocab = frozenset(w for t in df for w in t if len(w) >= 5)

    def _fix(self, tokens: list[Token], j: int) -> str:
        """Fix a typo (one edit in 5+ letters) if the fix forms a known term with a neighbour."""
        if len(word := tokens[j][0]) < 5 or word in self._vocab:
            return word
        before, after = tokens[j - 1][0] if j else "", tokens[j + 1][0] if j + 1 < len(tokens) else ""
        fix = correction(
            word,
            lambda v: v in self._vocab,
            lambda v: float(bool({(before, v), (v, after), (v,)} & self._idf.keys())),
            1.0,
        )
        return fix or word

    def lookup(self, text: str, entities: dict[str, list[str]] | None = None) -> Match:
        """Match a question (plus NLU entities) to contacts by weighted term overlap."""
        entities = entities or {}
        segments = re.split(r"[,.;:!?()\[\]\n|/]+", (text or "")[:1000])
        segments += [v for k in ("agency", "topic") for v in entities.get(k) or [] if v]
        segments += [f"{h} {_bare_name(v)}" for v in entities.get("person") or [] if v for h in ("ông", "bà")]
        tokens = [tok for s in segments for tok in [*_tokens(s), ("|", "|")]]
        asked = [f for f, markers in _MARKERS.items() if any(_find(tokens, m) for m in markers)]
        wanted = asked[0] if len(asked) == 1 else "any"
        places = [v for v in entities.get("province") or [] if v] + [
            p for p in dict.fromkeys(c.province for c in self.contacts) if p and _find(tokens, p)
        ]
        allowed = {" ".join(t[0] for t in _tokens(p)) for p in places}
        candidates = [
            i
            for i, c in enumerate(self.contacts)
            if not places or not c.province or " ".join(t[0] for t in _tokens(c.province)) in allowed
        ]
        if places and not candidates:
            return Match("none", [], wanted, unknown_province=places[0])
        fixed = [(self._fix(tokens, j), r) for j, (_, r) in enumerate(tokens)]
        pairs = [*((t,) for t in fixed), *zip(fixed, fixed[1:], strict=False)]
        grams = {tuple(t[0] for t in g): g for g in pairs if all(t[0] != "|" for t in g)}
        scored: list[tuple[float, int, dict[str, float]]] = []
        for i in candidates:
            head = fold(self.contacts[i].title).split(" ")[0]
            per_field: dict[str, float] = {}
            for term in grams.keys() & self._weights[i].keys():
                weight, fld = self._weights[i][term]
                if fld == "title" and head != "pho" and ("pho", head) in grams:
                    continue  # "phó giám đốc" is not "giám đốc": a rank prefix has to agree
                if (
                    fld == "name"
                    and term[0] in _HONORIFICS
                    and not _find(grams[term][1:], self.contacts[i].name.split()[-1])
                ):
                    continue  # "ông Lâm" matches, "ông làm ơn" (typed with accents) does not
                per_field[fld] = per_field.get(fld, 0.0) + weight * self._idf[term]
            if sum(per_field.values()) >= MIN_SCORE:
                scored.append((sum(per_field.values()), i, per_field))
        if not scored:
            return Match("none", [], wanted)
        scored.sort(key=lambda s: (-s[0], s[1]))
        best, first, fields = scored[0]
        top = max(fields, key=lambda f: (fields[f], FIELD_WEIGHTS[f]))
        person = "person" if self.contacts[first].is_person else "organisation"
        kind = {"name": person, "title": "title", "organisation": "organisation"}.get(top, "topic")
        single = kind in ("person", "title")
        return Match(
            kind,
            [
                self.contacts[i]
                for score, i, f in scored
                if (not single or top in f) and score >= (0.999 if single else GROUP_RATIO) * best
            ],
            wanted,
        )
