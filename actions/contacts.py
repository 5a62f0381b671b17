"""Hotline contact book: load and validate the staff-edited table, match questions to contacts."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field as dc_field
from datetime import date
from pathlib import Path
from typing import Any

from bot.text import fold, has_diacritics, nfc

COLUMNS = ("id", "name", "title", "organisation", "province", "topics", "phones", "email",
           "source", "verified_on", "general", "topic_label")
REQUIRED = ("id", "name", "organisation")
FIELD_WEIGHTS = {"name": 4.0, "title": 2.0, "organisation": 1.5, "topics": 1.0}
KINDS = {"title": "title", "organisation": "organisation", "topics": "topic"}
MIN_SCORE = 0.5  # best score below this -> kind "none"
GROUP_RATIO = 0.6  # organisation/topic answers keep contacts scoring >= ratio * best
# Chat abbreviations (folded) -> expansion; applied to questions and table cells alike.
_ABBR = {
    "sdt": "so dien thoai", "dt": "dien thoai", "dthoai": "dien thoai", "mail": "email",
    "gmail": "email", "tthc": "thu tuc hanh chinh", "nn": "nong nghiep", "snn": "so nong nghiep",
    "ptnt": "phat trien nong thon", "nnptnt": "nong nghiep phat trien nong thon",
    "ubnd": "uy ban nhan dan", "vp": "van phong", "cvp": "chanh van phong",
    "pcvp": "pho chanh van phong", "cbcc": "can bo cong chuc", "ktcv": "kiem tra cong vu",
    "ntm": "nong thon moi", "dvc": "dich vu cong", "htx": "hop tac xa", "sp": "san pham",
    "ag": "an giang", "hcm": "ho chi minh", "tphcm": "ho chi minh",
}
_MARKERS = {"email": ("email", "thư điện tử"),
            "phone": ("điện thoại", "hotline", "đường dây nóng", "gọi", "số máy", "phone", "zalo")}
_HONORIFICS = ("ông", "bà", "anh", "chị", "cô", "chú")
_NO_TYPO_FIX = {"khong", "nhung", "duoc", "nguoi", "thong", "trong", "nhanh", "muon"}
_SEGMENT_RE = re.compile(r"[,.;:!?()\[\]\n|/]+")
_EMAIL_RE = re.compile(r"[^@\s;,]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_PHONE_RE = re.compile(r"0\d{9}|02\d{9}|1[89]00\d{4}(\d{2})?")
Token = tuple[str, str]  # (folded syllable, raw lowercase syllable)
Term = tuple[str, ...]  # a syllable bigram, or one syllable for one-syllable phrases


def _tokens(text: str) -> list[Token]:
    """Tokenise into (folded, raw) syllables, expanding chat abbreviations."""
    out: list[Token] = []
    for raw in re.findall(r"\w+", nfc(text).lower()):
        expansion = _ABBR.get(fold(raw))
        out += [(w, w) for w in expansion.split()] if expansion else [(fold(raw), raw)]
    return out


def _compatible(query: Token, key: Token) -> bool:
    """Same folded syllable, and the same accents whenever the user typed accents."""
    return query[0] == key[0] and (not has_diacritics(query[1]) or query[1] == key[1])


def _find(tokens: list[Token], phrase: str) -> bool:
    """Tell whether an accent-compatible occurrence of the phrase is in the tokens."""
    key = _tokens(phrase)
    return any(all(map(_compatible, tokens[i:i + len(key)], key))
               for i in range(len(tokens) - len(key) + 1))


def _near(a: str, b: str) -> bool:
    """Optimal-string-alignment distance <= 1 (one substitution, insertion, deletion or swap)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    if len(a) == len(b):
        return a[i + 1:] == b[i + 1:] or (a[i + 2:] == b[i + 2:] and a[i:i + 2] == b[i:i + 2][::-1])
    return a[i + 1:] == b[i:] if len(a) > len(b) else a[i:] == b[i + 1:]


def _cell(value: Any) -> str:
    """Turn a CSV/YAML cell into a stripped string (lists joined with ';')."""
    if isinstance(value, (list, tuple)):
        return ";".join(map(_cell, value))
    return "" if value is None else str(value).strip()


def _split(value: str) -> tuple[str, ...]:
    """Split a multi-value cell on ';' or new lines."""
    return tuple(p.strip() for p in re.split(r"[;\n]", value) if p.strip())


def phone_digits(raw: str) -> str | None:
    """Normalise a Vietnamese phone number to 0-prefixed digits, or None when invalid."""
    digits = re.sub(r"[\s.\-()]", "", raw)
    digits = "0" + digits[3:] if digits.startswith("+84") else digits
    return digits if _PHONE_RE.fullmatch(digits) else None


def _group(digits: str) -> str:
    """Group digits for reading: 0913 979 245, 02963 957 006, 1900 1234."""
    head, rest = digits[:5 if len(digits) == 11 else 4], digits[5 if len(digits) == 11 else 4:]
    parts = [rest] if len(rest) <= 4 else [rest[i:i + 3] for i in range(0, len(rest), 3)]
    return " ".join([head, *parts])


def _bare_name(name: str) -> str:
    """Name without a leading honorific (Ông Lê Hoàng Tâm -> Lê Hoàng Tâm)."""
    first, _, rest = name.partition(" ")
    return rest if rest and fold(first) in {fold(h) for h in _HONORIFICS} else name


@dataclass(frozen=True)
class Contact:
    """One hotline row: a unit or a named official, with phones and email."""

    id: str
    name: str
    title: str
    organisation: str
    province: str
    topics: tuple[str, ...]
    phones: tuple[str, ...]
    email: str
    source: str
    verified_on: str
    general: bool = False
    topic_label: str = ""

    @property
    def is_person(self) -> bool:
        """Whether the row names a person (has a title or starts with an honorific)."""
        return bool(self.title) or _bare_name(self.name) != self.name

    @property
    def digits(self) -> tuple[str, ...]:
        """Phone numbers as bare digits (0913979245)."""
        return tuple(d for d in map(phone_digits, self.phones) if d)

    @property
    def phones_display(self) -> tuple[str, ...]:
        """Phone numbers grouped for reading (0913 979 245)."""
        return tuple(map(_group, self.digits))

    @property
    def tel_uris(self) -> tuple[str, ...]:
        """Phone numbers as tel: URIs for call buttons."""
        return tuple(f"tel:{d}" for d in self.digits)


@dataclass
class Match:
    """Lookup result: what matched, contacts (best first), the field asked for."""

    kind: str  # "person" | "title" | "organisation" | "topic" | "none"
    contacts: list[Contact] = dc_field(default_factory=list)
    field: str = "any"  # "phone" | "email" | "any"
    unknown_province: str | None = None  # a province was asked for that the table lacks


def _parse_row(raw: dict[str, Any], where: str, seen: dict[str, str]) -> Contact | list[str]:
    """Validate one raw row; return the contact or the error messages."""
    get = {k: _cell(raw.get(k)) for k in COLUMNS}
    errors = [f"{where}, trường {k}: thiếu giá trị bắt buộc" for k in REQUIRED if not get[k]]
    phones, emails, when = _split(get["phones"]), _split(get["email"]), get["verified_on"]
    errors += [f"{where}, trường phones: số điện thoại không hợp lệ: '{p}'"
               for p in phones if not phone_digits(p)]
    errors += [f"{where}, trường email: email không hợp lệ: '{e}'"
               for e in emails if not _EMAIL_RE.fullmatch(e)]
    if not phones and not emails:
        errors.append(f"{where}, trường phones/email: cần ít nhất một số điện thoại hoặc email")
    try:  # ISO (2024-11-06) or Vietnamese day/month/year (06/11/2024)
        day = re.sub(r"^(\d\d?)/(\d\d?)/(\d{4})$", r"\3-\2-\1", when).split("-")
        when = date(*map(int, day)).isoformat() if when else ""
    except (TypeError, ValueError):
        errors.append(f"{where}, trường verified_on: ngày không hợp lệ: '{when}'")
    flag = fold(get["general"])
    if get["id"] in seen:
        errors.append(f"{where}, trường id: mã '{get['id']}' trùng với {seen[get['id']]}")
    if errors:
        return errors
    seen[get["id"]] = where
    return Contact(get["id"], get["name"], get["title"], get["organisation"], get["province"],
                   _split(get["topics"]), phones, "; ".join(emails), get["source"],
                   when, flag in {"1", "x", "true", "yes", "co"}, get["topic_label"])


def _read_csv(text: str) -> list[tuple[int, dict[str, Any]]]:
    """Read CSV text (',' or Excel's ';' delimiter) into (line number, row) pairs."""
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in (*REQUIRED, "phones", "email") if c not in header]
    if missing:
        raise ValueError(f"dòng 1: thiếu cột {', '.join(missing)}")
    rows, start = [], reader.line_num + 1
    for record in reader:
        if any(cell.strip() for cell in record):
            rows.append((start, dict(zip(header, record))))
        start = reader.line_num + 1
    return rows


def _read_yaml(text: str) -> list[tuple[int, dict[str, Any]]]:
    """Read a YAML list of mappings into (line number, row) pairs."""
    import yaml  # only needed for YAML tables

    node, data = yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)
    if not isinstance(data, list) or node is None:
        raise ValueError("cần một danh sách liên hệ (list of mappings)")
    return [(n.start_mark.line + 1, {str(k).lower(): v for k, v in item.items()}
             if isinstance(item, dict) else {}) for item, n in zip(data, node.value)]


def _signature(path: Path | None) -> tuple[int, int] | None:
    """(mtime_ns, size) of the file, or None when it cannot be stat'ed."""
    try:
        stat = path.stat() if path else None
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size) if stat else None


class ContactBook:
    """Validated contacts with a weighted term-overlap matcher; reloads when the file changes."""

    def __init__(self, path: str | Path | None = None) -> None:
        """Create an empty book (use ContactBook.load to read a file)."""
        self.path = Path(path) if path else None
        self.contacts: list[Contact] = []
        self.errors: list[str] = []
        self._readable, self._signature = False, _signature(self.path)
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
        book._readable, seen = True, {}
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
        """True when the file was read and holds at least one valid contact."""
        return self._readable and bool(self.contacts)

    def reload_if_changed(self) -> bool:
        """Re-read the file if its mtime or size changed (keeps the last good rows on failure)."""
        signature = _signature(self.path)
        if self.path is None or signature == self._signature:
            return False
        fresh = type(self).load(self.path)
        if fresh.ok or not self.ok:
            self.contacts, self._readable = fresh.contacts, fresh._readable
            self._index()
        self.errors, self._signature = fresh.errors, signature
        return True

    def get(self, contact_id: str) -> Contact | None:
        """Contact with the given id, if any."""
        return next((c for c in self.contacts if c.id == contact_id), None)

    def general(self, province: str | None = None) -> list[Contact]:
        """General hotlines to list when nothing specific matches (optionally one province)."""
        return [c for c in self.contacts if c.general and (
            not province or not c.province or fold(c.province) == fold(province))]

    def topics(self) -> list[str]:
        """Distinct topic labels, in table order, for clarification buttons."""
        return list(dict.fromkeys(c.topic_label for c in self.contacts if c.topic_label))

    def _index(self) -> None:
        """Weigh each contact's terms (field weight / phrase length) and compute term idf."""
        self._weights: list[dict[Term, tuple[float, str]]] = []
        self._accents: list[dict[Term, tuple[Token, Token]]] = []
        self._heads: list[str] = []
        for c in self.contacts:
            weights: dict[Term, tuple[float, str]] = {}
            org = fold(c.organisation)
            if c.province:
                org = re.sub(rf"\b(tinh |thanh pho |tp )?{re.escape(fold(c.province))}\b", "", org)
            for fld, text in [("name", _bare_name(c.name)), ("title", c.title),
                              *(("organisation", p) for p in re.split(r"\s+va\s+|[,;&–-]", org)),
                              *(("topics", t) for t in (*c.topics, c.topic_label))]:
                s = [t[0] for t in _tokens(text)]
                terms = [(s[0],)] if len(s) == 1 else list(dict.fromkeys(zip(s, s[1:])))
                for term in terms:
                    if FIELD_WEIGHTS[fld] / len(terms) > weights.get(term, (0.0, ""))[0]:
                        weights[term] = (FIELD_WEIGHTS[fld] / len(terms), fld)
            given = _tokens(_bare_name(c.name))[-1:] if c.is_person else []
            # "ông Lâm": honorific + given name, accent-checked so "ông làm ơn" is no match.
            accents = {(h[0], g[0]): (h, g) for g in given
                       for h in (_tokens(word)[0] for word in _HONORIFICS)}
            weights.update({term: (FIELD_WEIGHTS["name"], "name") for term in accents})
            self._weights.append(weights)
            self._accents.append(accents)
            self._heads.append(fold(c.title).split(" ")[0])
        df: dict[Term, int] = {}
        for term in (t for weights in self._weights for t in weights):
            df[term] = df.get(term, 0) + 1
        self._idf = {t: math.log((len(self.contacts) + 1) / k) for t, k in df.items()}
        self._vocab = sorted({w for t in df for w in t if len(w) >= 5})

    def _fix(self, word: str) -> str:
        """Correct a one-edit typo towards a known table syllable of 5+ letters."""
        if len(word) < 5 or word in _NO_TYPO_FIX or word in self._vocab:
            return word
        return next((v for v in self._vocab if _near(word, v)), word)

    def lookup(self, text: str, entities: dict[str, list[str]] | None = None) -> Match:
        """Match a question (plus NLU entities) to contacts by weighted term overlap."""
        entities = entities or {}
        segments = _SEGMENT_RE.split((text or "")[:1000])
        segments += [v for k in ("person", "agency", "topic") for v in entities.get(k) or [] if v]
        tokens = [tok for s in segments for tok in [*_tokens(s), ("|", "|")]]
        fields = [f for f, markers in _MARKERS.items() if any(_find(tokens, m) for m in markers)]
        wanted = fields[0] if len(fields) == 1 else "any"
        # Provinces come from the NLU entity or from the table's own province names.
        asked = [v for v in entities.get("province") or [] if v]
        asked += [p for p in dict.fromkeys(c.province for c in self.contacts) if p and _find(tokens, p)]
        allowed = {" ".join(t[0] for t in _tokens(p)) for p in asked}
        candidates = [i for i, c in enumerate(self.contacts) if not asked or not c.province
                      or " ".join(t[0] for t in _tokens(c.province)) in allowed]
        if asked and not candidates:
            return Match("none", [], wanted, unknown_province=asked[0])
        fixed = [(self._fix(f), r) for f, r in tokens]
        grams: dict[Term, list[tuple[Token, ...]]] = {}
        for gram in [*((t,) for t in fixed), *zip(fixed, fixed[1:])]:
            if all(t[0] != "|" for t in gram):
                grams.setdefault(tuple(t[0] for t in gram), []).append(gram)
        scored: list[tuple[float, int, dict[str, float]]] = []
        for i in candidates:
            # "phó giám đốc" must not match the title "giám đốc": a rank prefix has to agree.
            blocked = self._heads[i] != "pho" and ("pho", self._heads[i]) in grams
            per_field: dict[str, float] = {}
            for term in grams.keys() & self._weights[i].keys():
                weight, fld = self._weights[i][term]
                key = self._accents[i].get(term)
                if (fld == "title" and blocked) or (
                        key and not any(all(map(_compatible, q, key)) for q in grams[term])):
                    continue
                per_field[fld] = per_field.get(fld, 0.0) + weight * self._idf[term]
            if sum(per_field.values()) >= MIN_SCORE:
                scored.append((sum(per_field.values()), i, per_field))
        if not scored:
            return Match("none", [], wanted)
        scored.sort(key=lambda s: (-s[0], s[1]))
        best, first, fields = scored[0]
        top = max(fields, key=lambda f: (fields[f], FIELD_WEIGHTS[f]))
        is_person = self.contacts[first].is_person
        kind = ("person" if is_person else "organisation") if top == "name" else KINDS[top]
        single = kind in ("person", "title")
        chosen = [self.contacts[i] for score, i, f in scored
                  if score >= (0.999 if single else GROUP_RATIO) * best and (not single or top in f)]
        return Match(kind, chosen, wanted)
