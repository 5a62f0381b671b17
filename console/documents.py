"""Documents uploaded in the console: checked, then converted to the form the index reads
(`data/docs/*.md`: YAML front matter with the metadata, then the text, one paragraph a line).

    meta = check_meta(form)                      # title, publisher, date, source URL (UploadError)
    kind, text = extract("bao-cao.pdf", data, max_bytes=10_000_000)   # UploadError on a bad file
    name, markdown = file_name(meta), to_markdown(meta, text, "bao-cao.pdf")

UploadError carries a key of `upload:` in console/messages.yml and its values: no Vietnamese
text here. PDF through pypdf, DOCX through python-docx, HTML through lxml.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import PurePath
from urllib.parse import urlsplit

import yaml

from bot.text import fold, nfc

FORMATS = {".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html", ".md": "md", ".txt": "txt"}
META_FIELDS = ("title", "publisher", "date", "source_url")
MIN_LETTERS = 20  # fewer letters than this is no text (a scanned PDF, an empty template)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff]")
_SENTENCE_END = re.compile(r"[.!?:;…\"”)\]]$")
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$|^localhost$", re.I)
_BLOCKS = (
    "p",
    "div",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "blockquote",
    "pre",
)
_DROP = "//script|//style|//nav|//header|//footer|//aside|//noscript|//form|//iframe|//template"


class UploadError(Exception):
    """A file or metadata the console refuses: a key of `upload` in messages.yml and its values."""

    def __init__(self, key: str, **values: object) -> None:
        """Keep the message key and the values it is formatted with."""
        super().__init__(key)
        self.key, self.values = key, values

    def text(self, messages: Mapping[str, object]) -> str:
        """The Vietnamese message for staff."""
        table, names = messages["upload"], messages["upload_values"]  # names: field and format keys
        assert isinstance(table, Mapping) and isinstance(names, Mapping)
        values = {k: names.get(k, {}).get(v, v) if isinstance(v, str) else v for k, v in self.values.items()}
        return str(table[self.key]).format(**values)


@dataclass(frozen=True)
class DocMeta:
    """What an uploaded document says about itself (all required)."""

    title: str
    publisher: str
    date: str  # ISO: yyyy-mm-dd, yyyy-mm or yyyy
    source_url: str

    @property
    def site(self) -> str:
        """The source's host name without "www."."""
        host = urlsplit(self.source_url).hostname or ""
        return host[4:] if host.startswith("www.") else host


def _one_line(value: str | None) -> str:
    """A form value on one line, without control characters."""
    return re.sub(r"\s+", " ", _CONTROL.sub(" ", nfc(value or ""))).strip()


def check_date(value: str, today: date | None = None) -> str:
    """yyyy-mm-dd, dd/mm/yyyy, yyyy-mm, mm/yyyy or yyyy -> ISO; a real date, not in the future."""
    today = today or date.today()
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", value)
    if m is None:
        m2 = re.fullmatch(r"(?:(\d{1,2})/)?(\d{1,2})/(\d{4})", value)
        if m2 is None:
            raise UploadError("bad_date", value=value)
        m_day, m_month, m_year = m2.groups()
        parts = (m_year, m_month, m_day)
    else:
        parts = m.groups()
    year, month, day = (int(p) if p else None for p in parts)
    try:
        when = date(year, month or 1, day or 1)  # type: ignore[arg-type]
    except ValueError:
        raise UploadError("bad_date", value=value) from None
    if year < 1990 or when > today:
        raise UploadError("bad_date", value=value)
    return "-".join([f"{year:04d}"] + [f"{p:02d}" for p in (month, day) if p is not None])


def check_url(value: str) -> str:
    """An absolute http(s) address with a real host name (no spaces, no credentials)."""
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        raise UploadError("bad_url", value=value) from None
    if (
        parts.scheme not in ("http", "https") or not _HOST.match(host) or not port_ok
        or " " in value or "@" in parts.netloc or len(value) > 500
    ):  # fmt: skip
        raise UploadError("bad_url", value=value)
    return value


def check_meta(form: Mapping[str, str | None]) -> DocMeta:
    """The metadata of an upload form, each field required and checked."""
    values = {f: _one_line(form.get(f)) for f in META_FIELDS}
    for field in META_FIELDS:
        if not values[field]:
            raise UploadError("meta_missing", field=field)
    if len(values["title"]) > 300 or len(values["publisher"]) > 300:
        raise UploadError("meta_too_long")
    return DocMeta(
        values["title"], values["publisher"], check_date(values["date"]), check_url(values["source_url"])
    )


def sniff(data: bytes) -> str:
    """What the bytes are: pdf, docx, zip (another archive), binary or text."""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return "docx" if "word/document.xml" in archive.namelist() else "zip"
        except zipfile.BadZipFile:
            return "zip"
    head = data[:4096]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has a BOM
        return "binary"
    return "text"


def _decode(name: str, data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with BOM; anything else is refused."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError("encoding", name=name) from None


def reflow(lines: list[str]) -> list[str]:
    """Join the lines of a PDF page into paragraphs: a line ends a paragraph when it ends a
    sentence or is much shorter than the page's lines (a title, the last line)."""
    lines = [re.sub(r"\s+", " ", line).strip() for line in lines]
    lines = [line for line in lines if line]
    if not lines:
        return []
    widths = sorted(len(line) for line in lines)
    full = widths[int(0.8 * (len(widths) - 1))]
    out: list[str] = []
    joining = False
    for line in lines:
        if joining and out:
            out[-1] = out[-1][:-1] + line if out[-1].endswith("-") else f"{out[-1]} {line}"
        else:
            out.append(line)
        joining = not _SENTENCE_END.search(line) and len(line) >= 0.6 * full
    return out


def _pdf_text(name: str, data: bytes) -> str:
    """The text layer of a PDF (pypdf), page by page."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        encrypted = reader.is_encrypted
    except Exception:  # noqa: BLE001 - pypdf raises many kinds of errors on a damaged file
        raise UploadError("pdf_corrupt", name=name) from None
    if encrypted:  # readable only without a password (AES would also need `cryptography`)
        try:
            opened = bool(reader.decrypt(""))
        except Exception:  # noqa: BLE001
            opened = False
        if not opened:
            raise UploadError("pdf_encrypted", name=name)
    try:
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception:  # noqa: BLE001
        raise UploadError("pdf_corrupt", name=name) from None
    if sum(ch.isalpha() for page in pages for ch in page) < MIN_LETTERS:
        raise UploadError("pdf_no_text", name=name)
    return "\n\n".join("\n".join(reflow(page.splitlines())) for page in pages)


def _docx_text(name: str, data: bytes) -> str:
    """Paragraphs and table rows of a Word document in their order (python-docx)."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                for row in block.rows:
                    cells = list(dict.fromkeys(c.text.strip() for c in row.cells if c.text.strip()))
                    if cells:
                        lines.append("; ".join(cells))
                continue
            text = block.text.strip()
            style = (block.style.name if block.style is not None else "") or ""
            heading = style.startswith(("Heading", "Title"))
            lines.append(f"## {text}" if heading and text else text)
    except Exception:  # noqa: BLE001 - a damaged archive or XML
        raise UploadError("docx_corrupt", name=name) from None
    return "\n".join(lines)


def html_text(raw: str) -> str:
    """The visible text of an HTML page, a line per block (scripts, menus, footers dropped)."""
    import lxml.html
    from lxml.etree import ParserError

    try:
        root = lxml.html.document_fromstring(raw)
    except (ParserError, ValueError):
        return ""
    for bad in root.xpath(_DROP):
        bad.drop_tree()
    for el in root.iter("br", "td", "th", *_BLOCKS):
        el.tail = ("\n" if el.tag not in ("td", "th") else " ") + (el.tail or "")
    body = root.find("body")
    return (body if body is not None else root).text_content()


def _markdown_body(raw: str) -> str:
    """A Markdown file's text without its own front matter (the form's metadata replace it)."""
    from index.ingest import parse_front_matter

    try:
        return parse_front_matter(raw)[1]
    except (ValueError, yaml.YAMLError):
        return raw


def clean(text: str) -> str:
    """NFC, no control characters, single spaces, at most one blank line between paragraphs."""
    text = _CONTROL.sub(" ", nfc(text.replace("\r\n", "\n").replace("\r", "\n")))
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def extract(name: str, data: bytes, max_bytes: int) -> tuple[str, str]:
    """The format and the text of an uploaded file; UploadError for anything the index could not use."""
    suffix = PurePath(name).suffix.lower()
    if not data:
        raise UploadError("empty", name=name)
    if len(data) > max_bytes:
        raise UploadError("too_large", name=name, size=f"{len(data) / 1e6:.1f}", limit=f"{max_bytes / 1e6:g}")
    kind = FORMATS.get(suffix)
    if kind is None:
        raise UploadError("extension", name=name, ext=suffix or "?")
    found = sniff(data)
    if found != ("pdf" if kind == "pdf" else "docx" if kind == "docx" else "text"):
        raise UploadError("mismatch", name=name, ext=suffix, found=found)
    if kind == "pdf":
        text = _pdf_text(name, data)
    elif kind == "docx":
        text = _docx_text(name, data)
    else:
        raw = _decode(name, data)
        text = html_text(raw) if kind == "html" else _markdown_body(raw) if kind == "md" else raw
    text = clean(text)
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        raise UploadError("no_text", name=name)
    return kind, text


def file_name(meta: DocMeta) -> str:
    """The document's file name: its date and title in ASCII ("2026-03-12-phien-cho-ocop.md")."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(meta.title).lower().replace("đ", "d")).strip("-")
    slug = slug[:60].rsplit("-", 1)[0] if len(slug) > 60 else slug
    return f"{meta.date}-{slug or 'tai-lieu'}.md"


def to_markdown(meta: DocMeta, text: str, original: str) -> str:
    """The document file: front matter (the metadata the answers cite) and the text."""
    head = {
        "title": meta.title,
        "publisher": meta.publisher,
        "date": meta.date,
        "source_url": meta.source_url,
        "source_site": meta.site,
        "original_file": PurePath(original).name,
        "kind": "upload",
    }
    front = "".join(f"{key}: {json.dumps(value, ensure_ascii=False)}\n" for key, value in head.items())
    return f"---\n{front}---\n{text}\n"
