"""Read program documents, strip page boilerplate, split into sentence-bounded passages."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.text import DOTTED_ABBREVIATIONS, fold, nfc

SUFFIXES = (".md", ".txt", ".html", ".htm")

_WEATHER = re.compile(r"^[^\d:]{2,40}:\s*-?\d+\s*°\s*C\b.*$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+){2,}(?:\.(?:jpe?g|png|gif|webp))?$", re.I)
_IMAGE = re.compile(r"\.(?:jpe?g|png|gif|webp)\s*$", re.I)
_TIMESTAMP = re.compile(r"^\d{1,2}:\d{2}\s+\d{1,2}/\d{1,2}/\d{4}$")
_COUNTER = re.compile(r"^(?:lượt xem|lượt truy cập|ngày đăng|in)\b.*$|^\d{1,7}$", re.I)
_TEASER_PREFIX = re.compile(r"^(?:[A-ZĐ]{2,5})\s+-\s+")
_SECTION = {
    "tin lien quan",
    "tin moi hon",
    "tin khac",
    "xem them",
    "moi nhat doc nhieu",
    "hinh anh hoat dong",
    "lien ket website",
    "quang cao",
    "thong ke",
    "giao dien di dong",
    "thu vien nong thon moi",
    "luot truy cap",
}
_SENT_END = re.compile(r"[.!?…;]\s+")
_ABBREV_END = re.compile(  # "TP." or an initial ends no sentence; "OCOP." does (abbreviations.yml)
    r"(?:(?<![\w.])[A-ZĐ]|" + "|".join(rf"(?<![\w.]){re.escape(a)}" for a in DOTTED_ABBREVIATIONS) + r")\.$"
)


@dataclass
class Document:
    """A program document with its metadata (title, publisher, date, ...)."""

    doc_id: str
    path: str
    meta: dict[str, Any]
    text: str
    sha256: str


@dataclass
class Passage:
    """A run of whole sentences from one document."""

    doc_id: str
    position: int
    sentences: list[str]
    section: str = "body"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The passage text."""
        return " ".join(self.sentences)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def parse_front_matter(raw: str) -> tuple[dict[str, Any], str]:
    """Split YAML front matter (between --- lines) from the body."""
    import yaml

    if raw.startswith("---"):
        parts = raw.split("\n---", 1)
        if len(parts) == 2:
            head = parts[0][3:]
            body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
            meta = yaml.safe_load(head) or {}
            if not isinstance(meta, dict):
                raise ValueError("front matter is not a mapping")
            return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in meta.items()}, body
    return {}, raw


def html_to_text(raw: str) -> str:
    """Turn an HTML page into text lines (scripts, styles and nav removed)."""
    raw = re.sub(r"(?is)<(script|style|nav|header|footer|aside)\b.*?</\1>", " ", raw)
    raw = re.sub(r"(?i)<br\s*/?>|</(p|div|li|h[1-6]|tr)>", "\n", raw)
    return html.unescape(re.sub(r"<[^>]+>", " ", raw))


def load_document(path: Path) -> Document:
    """Read one document file (md/txt with optional front matter, or html)."""
    raw = nfc(path.read_text(encoding="utf-8"))
    meta, body = parse_front_matter(raw)
    if path.suffix.lower() in (".html", ".htm"):
        body = html_to_text(body)
    meta.setdefault("title", path.stem)
    sha = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    return Document(path.stem, str(path), meta, body, sha)


def load_documents(folder: Path) -> list[Document]:
    """Read every supported document of a folder, sorted by name."""
    return [load_document(p) for p in sorted(folder.iterdir()) if p.suffix.lower() in SUFFIXES]


def _is_boilerplate(line: str) -> bool:
    """Tell whether a line is page furniture rather than content."""
    key = fold(line).lower().strip(" .:|")
    return bool(
        key in _SECTION
        or _WEATHER.match(line)
        or _SLUG.match(line)
        or _IMAGE.search(line)
        or _TIMESTAMP.match(line)
        or _COUNTER.match(line)
        or line.endswith("|")
    )


def clean_lines(text: str) -> list[tuple[str, str]]:
    """Return (section, line) pairs without boilerplate; repeated titles start a block."""
    out: list[tuple[str, str]] = []
    section = "body"
    prev = ""
    for raw_line in text.splitlines():
        line = re.sub(r"^#+\s*", "", re.sub(r"\s+", " ", raw_line).strip())
        if not line:
            continue
        key = fold(line).lower().strip(" .:|")
        if key in {"tin lien quan", "tin moi hon", "tin khac", "xem them", "moi nhat doc nhieu"}:
            section = "related"
        if _is_boilerplate(line):
            continue
        if line == prev:  # teaser titles are printed twice: keep one, start a block
            out.pop()
            out.append(("|", ""))
            out.append((section, line))
            continue
        prev = line
        out.append((section, _TEASER_PREFIX.sub("", line)))
    return out


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences, keeping abbreviations such as "TP." intact."""
    pieces, last = [], 0
    for m in _SENT_END.finditer(paragraph):
        nxt = paragraph[m.end() : m.end() + 2].lstrip('"“(')
        if nxt[:1].isupper() or nxt[:1].isdigit():
            pieces.append(paragraph[last : m.end()])
            last = m.end()
    pieces.append(paragraph[last:])
    sentences: list[str] = []
    for piece in pieces:
        piece = piece.strip()
        if sentences and _ABBREV_END.search(sentences[-1]):
            sentences[-1] += " " + piece
        else:
            sentences.append(piece)
    return [s.strip() for s in sentences if s.strip()]


def make_passages(doc: Document, max_words: int = 90) -> list[Passage]:
    """Group whole sentences into passages of at most ~max_words words."""
    passages: list[Passage] = []
    current: list[str] = []
    current_section = "body"

    def flush(carry: bool = False) -> None:
        if sum(len(s.split()) for s in current) >= 4:  # drop bylines such as "Thanh Tuấn"
            passages.append(Passage(doc.doc_id, len(passages), list(current), current_section))
        last = current[-1] if current else ""
        current.clear()
        # Passages cut inside a paragraph overlap by one sentence, so that a sentence
        # such as "Trong đó, ..." keeps the sentence it refers to.
        if carry and last and len(last.split()) <= 45:
            current.append(last)

    for section, line in clean_lines(doc.text):
        if section == "|":
            flush()
            continue
        if section != current_section:
            flush()
            current_section = section
        for sentence in split_sentences(line):
            words = len(sentence.split())
            if current and sum(len(s.split()) for s in current) + words > max_words:
                flush(carry=True)
            current.append(sentence)
        if section == "related" or len(line.split()) < 12:
            continue  # titles and teasers stay with the line that follows them
        if sum(len(s.split()) for s in current) >= max_words * 0.6:
            flush()
    flush()
    return passages
