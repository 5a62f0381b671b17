"""Uploaded documents: each format converted to the index's Markdown form, bad files and
metadata refused with their Vietnamese message (console/documents.py, console/messages.yml)."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest

from console.app import messages
from console.documents import (
    UploadError,
    check_date,
    check_meta,
    check_url,
    extract,
    file_name,
    reflow,
    to_markdown,
)
from index.ingest import load_document, make_passages

FIXTURE_PDF = Path(__file__).parent / "fixtures" / "upload" / "phien-cho-bay-nui.pdf"
LIMIT = 1_000_000
META = {
    "title": "Phiên chợ sản phẩm OCOP vùng Bảy Núi",
    "publisher": "Sở Nông nghiệp và Môi trường An Giang",
    "date": "12/03/2026",
    "source_url": "https://www.angiang.gov.vn/tin/phien-cho-ocop",
}


def refused(name: str, data: bytes, limit: int = LIMIT) -> UploadError:
    """The error an upload is refused with (fails the test when it is accepted)."""
    with pytest.raises(UploadError) as err:
        extract(name, data, limit)
    text = err.value.text(messages())
    assert "{" not in text and text.strip(), text  # a complete Vietnamese message
    return err.value


def docx_bytes(build: object = None) -> bytes:
    """A small Word document made with python-docx: a heading, a paragraph, a table."""
    import docx

    document = docx.Document()
    document.add_heading("Kết quả OCOP huyện Tri Tôn", level=1)
    document.add_paragraph("Năm 2025, huyện Tri Tôn có 14 sản phẩm được công nhận OCOP 3 sao trở lên.")
    table = document.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "Xã", (0, 1): "Số sản phẩm", (1, 0): "Ô Lâm", (1, 1): "5"}.items():
        table.cell(r, c).text = text
    document.add_paragraph("Các sản phẩm chủ lực là đường thốt nốt và gạo nàng nhen.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def blank_pdf() -> bytes:
    """A valid PDF without any text (what a scan without OCR looks like to the index)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=420, height=595)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_text_is_extracted_and_reflowed() -> None:
    kind, text = extract("phien-cho.pdf", FIXTURE_PDF.read_bytes(), LIMIT)
    assert kind == "pdf"
    lines = text.splitlines()
    assert lines[0] == "Phiên chợ sản phẩm OCOP vùng Bảy Núi"  # the title stays its own line
    # a sentence broken over two lines of the page is one line again, spaces single
    assert "Phiên chợ có 48 gian hàng của các chủ thể OCOP đến từ 11 xã, phường trong vùng." in lines[1]
    assert "sau ba ngày phiên chợ đón khoảng 9.500 lượt khách." in lines[2] and "  " not in text


def test_docx_paragraphs_headings_and_tables_in_order() -> None:
    kind, text = extract("tri-ton.docx", docx_bytes(), LIMIT)
    assert kind == "docx"
    assert text.splitlines() == [
        "## Kết quả OCOP huyện Tri Tôn",
        "Năm 2025, huyện Tri Tôn có 14 sản phẩm được công nhận OCOP 3 sao trở lên.",
        "Xã; Số sản phẩm",
        "Ô Lâm; 5",
        "Các sản phẩm chủ lực là đường thốt nốt và gạo nàng nhen.",
    ]


def test_html_keeps_the_visible_text_only() -> None:
    page = (
        "<html><head><title>Tin</title><style>p{color:red}</style><script>var x = 'menu';</script></head>"
        "<body><nav>Trang chủ | Tin tức</nav><h1>Hội thảo OCOP</h1><p>Sáng 5/6, tỉnh tổ chức hội thảo "
        "&amp; trưng bày 30 sản phẩm.<br>Chiều cùng ngày có phiên giao thương.</p>"
        "<footer>Bản quyền thuộc về Sở</footer></body></html>"
    )
    kind, text = extract("tin.html", page.encode("utf-8"), LIMIT)
    assert kind == "html"
    assert text.splitlines() == [
        "Hội thảo OCOP",
        "Sáng 5/6, tỉnh tổ chức hội thảo & trưng bày 30 sản phẩm.",
        "Chiều cùng ngày có phiên giao thương.",
    ]


def test_markdown_front_matter_is_replaced_and_text_files_read_in_utf8_or_utf16() -> None:
    md = "---\ntitle: cũ\npublisher: ai đó\n---\n# Tiêu đề\nNội dung có đủ chữ để trợ lý đọc được.\n"
    assert extract("a.md", md.encode("utf-8"), LIMIT) == (
        "md",
        "# Tiêu đề\nNội dung có đủ chữ để trợ lý đọc được.",
    )
    txt = "Thông báo: hồ sơ OCOP nộp trước ngày 30/6.\r\n\r\n\r\n\r\nLiên hệ phòng Kinh tế."
    expected = "Thông báo: hồ sơ OCOP nộp trước ngày 30/6.\n\nLiên hệ phòng Kinh tế."
    assert extract("a.txt", txt.encode("utf-8-sig"), LIMIT) == ("txt", expected)
    assert extract("a.txt", txt.encode("utf-16"), LIMIT) == ("txt", expected)


def test_the_written_file_is_read_by_the_index_with_its_metadata(tmp_path: Path) -> None:
    meta = check_meta(META)
    _, text = extract("phien-cho.pdf", FIXTURE_PDF.read_bytes(), LIMIT)
    name = file_name(meta)
    assert name == "2026-03-12-phien-cho-san-pham-ocop-vung-bay-nui.md"
    path = tmp_path / name
    path.write_text(to_markdown(meta, text, "C:/Tai lieu/phien-cho.pdf"), encoding="utf-8")
    doc = load_document(path)
    assert doc.meta == {
        "title": META["title"],
        "publisher": META["publisher"],
        "date": "2026-03-12",
        "source_url": META["source_url"],
        "source_site": "angiang.gov.vn",
        "original_file": "phien-cho.pdf",
        "kind": "upload",
    }
    sentences = [s for p in make_passages(doc) for s in p.sentences]
    assert "Phiên chợ có 48 gian hàng của các chủ thể OCOP đến từ 11 xã, phường trong vùng." in sentences


def test_a_corrupt_pdf_is_refused() -> None:
    good = FIXTURE_PDF.read_bytes()
    assert refused("cut.pdf", good[: len(good) // 2]).key == "pdf_corrupt"  # a download that stopped halfway
    assert refused("junk.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 20).key == "pdf_corrupt"


def test_a_pdf_without_text_is_refused() -> None:
    assert refused("scan.pdf", blank_pdf()).key == "pdf_no_text"


def test_a_password_protected_pdf_is_refused() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(FIXTURE_PDF.read_bytes())))
    writer.encrypt(user_password="mat-khau", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    assert refused("khoa.pdf", out.getvalue()).key == "pdf_encrypted"


def test_wrong_extensions_and_contents_that_do_not_match_are_refused() -> None:
    assert refused("cu.doc", b"\xd0\xcf\x11\xe0 old word").key == "extension"
    assert refused("chuong-trinh.exe", b"MZ\x90\x00").key == "extension"
    assert refused("khong-duoi", b"abc").key == "extension"
    err = refused("bao-cao.pdf", "Đây là văn bản thuần, không phải PDF.".encode())
    assert (err.key, err.values["found"]) == ("mismatch", "text")
    assert "văn bản thuần" in err.text(messages())
    assert refused("ghi-chu.txt", FIXTURE_PDF.read_bytes()).values["found"] == "pdf"
    assert refused("tin.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").values["found"] == "binary"
    assert refused("bang.txt", docx_bytes()).values["found"] == "docx"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    assert refused("bang-tinh.docx", archive.getvalue()).values["found"] == "zip"


def test_a_damaged_word_document_is_refused() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document><w:body><w:p>")
    assert refused("hong.docx", archive.getvalue()).key == "docx_corrupt"


def test_empty_too_large_and_textless_files_are_refused() -> None:
    assert refused("rong.txt", b"").key == "empty"
    err = refused("lon.txt", "Văn bản dài. ".encode() * 1000, limit=5_000)
    assert (
        err.key == "too_large" and "5000" not in err.text(messages()) and "0.005 MB" in err.text(messages())
    )
    assert refused("dau-cham.txt", b". . . - - 1 2 3\n\n").key == "no_text"
    assert (
        refused("ma-cu.txt", "Thông báo đăng kí OCOP".encode("cp1258") * 3).key == "encoding"
    )  # Windows-1258


def test_metadata_is_required_and_checked() -> None:
    meta = check_meta({**META, "title": "  Phiên   chợ\nOCOP  "})
    assert (meta.title, meta.date) == ("Phiên chợ OCOP", "2026-03-12")
    for field in ("title", "publisher", "date", "source_url"):
        with pytest.raises(UploadError) as err:
            check_meta({**META, field: "  "})
        assert err.value.key == "meta_missing" and err.value.values == {"field": field}
        assert "{" not in err.value.text(messages())
    today = date(2026, 12, 6)
    assert [check_date(v, today) for v in ("2026-03-12", "12/3/2026", "03/2026", "2025")] == [
        "2026-03-12", "2026-03-12", "2026-03", "2025",
    ]  # fmt: skip
    for bad in ("2026-02-30", "31/13/2025", "2027-01-01", "1985", "hôm qua"):
        with pytest.raises(UploadError):
            check_date(bad, today)
    assert check_url("http://angiang.gov.vn:8080/a?b=c") == "http://angiang.gov.vn:8080/a?b=c"
    for bad in ("angiang.gov.vn/tin", "ftp://angiang.gov.vn/a", "https://localhost@evil.vn/", "https://a b.vn",
                "javascript:alert(1)", "https://không-có-đuôi", "https://x.vn:99999/"):  # fmt: skip
        with pytest.raises(UploadError) as err:
            check_url(bad)
        assert err.value.key == "bad_url"


def test_reflow_joins_wrapped_lines_only() -> None:
    page = [
        "Kế hoạch OCOP",  # a short title line
        "Năm 2026 tỉnh phấn đấu có thêm 40 sản phẩm đạt chuẩn OCOP từ 3",
        "sao trở lên, trong đó có 2 sản phẩm đạt 5 sao. Kinh phí thực hiện do",
        "ngân sách tỉnh bảo đảm.",
        "Điều 2. Tổ chức thực hiện",
    ]
    assert reflow(page) == [
        "Kế hoạch OCOP",
        "Năm 2026 tỉnh phấn đấu có thêm 40 sản phẩm đạt chuẩn OCOP từ 3 sao trở lên, trong đó có 2 sản "
        "phẩm đạt 5 sao. Kinh phí thực hiện do ngân sách tỉnh bảo đảm.",
        "Điều 2. Tổ chức thực hiện",
    ]
