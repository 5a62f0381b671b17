"""Tests for the hotline contact book (actions/contacts.py): loading, validation, matching."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from actions.contacts import Contact, ContactBook, Match, phone_digits

ROOT = Path(__file__).resolve().parents[2]
TONG_HOP, KIEM_TRA = "ag-ubnd-tong-hop", "ag-to-kiem-tra-cong-vu"
LAM, TAM = "ag-snn-giam-doc", "ag-snn-pho-chanh-van-phong"
HEADER = "id,name,title,organisation,province,topics,phones,email,source,verified_on,general,topic_label\n"


@pytest.fixture(scope="module")
def book() -> ContactBook:
    """The real staff table shipped in data/contacts.csv."""
    loaded = ContactBook.load(ROOT / "data" / "contacts.csv")
    assert loaded.ok, loaded.errors
    return loaded


def ids(match: Match) -> list[str]:
    """Contact ids of a match, best first."""
    return [c.id for c in match.contacts]


def by_id(book: ContactBook, contact_id: str) -> Contact:
    """The contact with this id."""
    return next(c for c in book.contacts if c.id == contact_id)


# --- the shipped table -------------------------------------------------------------------------


def test_shipped_table_is_valid_and_faithful(book: ContactBook) -> None:
    assert book.errors == []
    assert [c.id for c in book.contacts] == [TONG_HOP, KIEM_TRA, LAM, TAM]
    assert by_id(book, TONG_HOP).email == "thutuchanhchinh@angiang.gov.vn"
    assert by_id(book, KIEM_TRA).phones == ("02963.957.049", "0378.247.247")
    assert by_id(book, LAM).title == "Giám đốc Sở"
    assert by_id(book, TAM).email == "lhtam@angiang.gov.vn"
    assert all(c.verified_on == "2024-11-06" and c.province == "An Giang" for c in book.contacts)
    assert all("06/11/2024" in c.source for c in book.contacts)


def test_general_and_topic_labels(book: ContactBook) -> None:
    assert [c.id for c in book.general()] == [TONG_HOP, LAM, TAM]
    assert [c.id for c in book.general("an giang")] == [TONG_HOP, LAM, TAM]
    assert book.general("Tiền Giang") == []
    assert book.topics() == ["Thủ tục hành chính", "Cán bộ, công vụ", "Nông nghiệp, OCOP"]


def test_topic_label_buttons_round_trip(book: ContactBook) -> None:
    for label in book.topics():
        match = book.lookup(label)
        assert match.contacts, label
        assert all(c.topic_label == label for c in match.contacts), label


def test_phones_display_and_tel_uris(book: ContactBook) -> None:
    assert by_id(book, TONG_HOP).phones_display == ("02963 957 006",)
    assert by_id(book, KIEM_TRA).phones_display == ("02963 957 049", "0378 247 247")
    assert by_id(book, LAM).phones_display == ("0913 979 245",)
    assert by_id(book, KIEM_TRA).tel_uris == ("tel:02963957049", "tel:0378247247")
    assert by_id(book, TAM).tel_uris == ("tel:0919199392",)


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("0913.979.245", "0913979245"),
        ("02963.957.006", "02963957006"),
        ("0913 979 245", "0913979245"),
        ("+84 913 979 245", "0913979245"),
        ("(0296) 3957-049", "02963957049"),
        ("1900 1234", "19001234"),
        ("12ab", None),
        ("091397924", None),
        ("09139792455", None),
        ("12963957006", None),
        ("", None),
    ],
)
def test_phone_digits(raw: str, digits: str | None) -> None:
    assert phone_digits(raw) == digits


# --- matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Phòng Tổng hợp: administrative procedures
        ("Số điện thoại Phòng Tổng hợp UBND tỉnh", [TONG_HOP]),
        ("so dien thoai phong tong hop ubnd tinh an giang", [TONG_HOP]),
        ("Tôi muốn phản ánh việc giải quyết thủ tục hành chính bị chậm", [TONG_HOP]),
        ("sđt phản ánh tthc", [TONG_HOP]),
        ("so dt gop y ve thu tuc hanh chinh", [TONG_HOP]),
        ("hồ sơ nộp ở bộ phận một cửa bị trễ hạn thì hỏi ai", [TONG_HOP]),
        ("Làm thủ tục trên dịch vụ công trực tuyến bị lỗi, liên hệ ở đâu?", [TONG_HOP]),
        # Tổ kiểm tra công vụ: conduct of officials
        ("email tổ kiểm tra công vụ", [KIEM_TRA]),
        ("đt tổ ktcv", [KIEM_TRA]),
        ("Cán bộ xã nhũng nhiễu, gây khó khăn cho dân thì báo ở đâu?", [KIEM_TRA]),
        ("can bo co thai do hach dich thi phan anh cho ai", [KIEM_TRA]),
        ("sdt phan anh cong chuc vi pham", [KIEM_TRA]),
        # agriculture department hotline: both officials, director first
        ("Tôi cần gọi đường dây nóng của Sở Nông nghiệp", [LAM, TAM]),
        ("hotline so nn&ptnt", [LAM, TAM]),
        ("muốn hỏi về sản phẩm OCOP thì liên hệ ai", [LAM, TAM]),
        ("số điện thoại ngành nông nghiệp an giang", [LAM, TAM]),
        ("chăn nuôi, thủy sản hỏi ai", [LAM, TAM]),
    ],
)
def test_topic_and_organisation_questions(book: ContactBook, question: str, expected: list[str]) -> None:
    match = book.lookup(question)
    assert match.kind in ("topic", "organisation"), match
    assert ids(match) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("so dien thoai ong le hoang tam", TAM),
        ("Cho tôi xin số của ông Lê Hoàng Tâm", TAM),
        ("LÊ HOÀNG TÂM", TAM),
        ("ông Tâm ở sở nông nghiệp", TAM),
        ("ông Tâm giám đốc sở", TAM),  # an explicit name outranks a (wrong) title
        ("ông Nguyễn Sĩ Lâm là ai", LAM),
        ("ong nguyen si lam", LAM),
        ("Nguyễn Sỹ Lâm", LAM),  # sĩ / sỹ spelling variant
        ("email ông Lâm", LAM),
        ("ông Lâm phó chánh văn phòng", LAM),
    ],
)
def test_person_questions_return_exactly_that_person(book: ContactBook, question: str, expected: str) -> None:
    match = book.lookup(question)
    assert match.kind == "person"
    assert ids(match) == [expected]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("ai là giám đốc sở", LAM),
        ("giám đốc sở nông nghiệp an giang là ai", LAM),
        ("gd so nong nghiep", None),  # "gd" is not expanded (chat "gđ" often means gia đình)
        ("phó chánh văn phòng sở", TAM),
        ("Email của Phó Chánh Văn phòng Sở Nông nghiệp An Giang", TAM),
        ("pho chanh van phong so nn", TAM),
    ],
)
def test_title_questions(book: ContactBook, question: str, expected: str | None) -> None:
    match = book.lookup(question)
    if expected is None:
        assert match.kind != "title"
    else:
        assert match.kind == "title"
        assert ids(match) == [expected]


def test_deputy_title_does_not_match_the_director(book: ContactBook) -> None:
    match = book.lookup("số điện thoại phó giám đốc sở")
    assert LAM not in ids(match)


def test_person_isolation_never_puts_the_other_official_first(book: ContactBook) -> None:
    tam = ["Lê Hoàng Tâm", "le hoang tam", "ông Tâm", "anh Le Hoang Tam", "sđt Lê Hoàng Tâm sở nông nghiệp"]
    lam = ["Nguyễn Sĩ Lâm", "nguyen si lam", "ông Lâm", "sđt ông Nguyễn Sĩ Lâm sở nông nghiệp"]
    for question in tam:
        assert ids(book.lookup(question))[:1] == [TAM], question
        assert LAM not in ids(book.lookup(question)), question
    for question in lam:
        assert ids(book.lookup(question))[:1] == [LAM], question
        assert TAM not in ids(book.lookup(question)), question


def test_given_name_needs_the_right_accents(book: ContactBook) -> None:
    # "làm ơn" folds to "lam on" but, typed with accents, is not the name Lâm.
    assert book.lookup("ông làm ơn cho tôi số điện thoại").kind == "none"
    assert ids(book.lookup("ông Lâm")) == [LAM]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("lien he nong ngiep", [LAM, TAM]),  # missing letter
        ("so dien thoai so nong nghiepp", [LAM, TAM]),  # extra letter
        ("le hoangg tam", [TAM]),
        ("ong nguyn si lam", [LAM]),
        ("thu tuc hanh chinhh", [TONG_HOP]),
        ("nhũng nhiẽu", [KIEM_TRA]),  # wrong tone mark
    ],
)
def test_small_typos_are_tolerated(book: ContactBook, question: str, expected: list[str]) -> None:
    assert ids(book.lookup(question)) == expected


def test_typo_fix_needs_context(book: ContactBook) -> None:
    # "giang" is one letter from "giong" (giống cây trồng) but An Giang must stay An Giang.
    assert book.lookup("số điện thoại an giang").kind == "none"


@pytest.mark.parametrize(
    ("question", "field"),
    [
        ("email tổ kiểm tra công vụ", "email"),
        ("cho xin mail phòng tổng hợp", "email"),
        ("địa chỉ thư điện tử của sở nông nghiệp", "email"),
        ("sdt phòng tổng hợp", "phone"),
        ("số đt tổ kiểm tra công vụ", "phone"),
        ("hotline so nong nghiep", "phone"),
        ("tôi muốn gọi cho ông Tâm", "phone"),
        ("đường dây nóng ngành nông nghiệp", "phone"),
        ("số điện thoại và email của ông Lâm", "any"),
        ("liên hệ tổ kiểm tra công vụ", "any"),
        ("gói hỗ trợ nông nghiệp hỏi ai", "any"),  # gói (package) is not gọi (call)
    ],
)
def test_field_detection(book: ContactBook, question: str, field: str) -> None:
    assert book.lookup(question).field == field


@pytest.mark.parametrize(
    "question",
    [
        "cho tôi xin số điện thoại",
        "tôi muốn liên hệ",
        "sdt",
        "số hotline là gì",
        "alo",
        "",
        "liên hệ như thế nào",
        "số điện thoại An Giang",
        "cho mình email với",
        "không biết hỏi ai",
    ],
)
def test_no_topic_means_none(book: ContactBook, question: str) -> None:
    match = book.lookup(question)
    assert match.kind == "none"
    assert match.contacts == []


def test_entities_are_used(book: ContactBook) -> None:
    assert ids(book.lookup("cho tôi số", {"agency": ["Tổ kiểm tra công vụ"]})) == [KIEM_TRA]
    assert ids(book.lookup("số của người này", {"person": ["Tâm"]})) == [TAM]
    assert ids(book.lookup("sdt", {"topic": ["thủ tục hành chính"]})) == [TONG_HOP]
    assert ids(book.lookup("hotline sở nông nghiệp", {"province": ["An Giang"]})) == [LAM, TAM]


def test_province_without_contacts(book: ContactBook) -> None:
    match = book.lookup("số điện thoại sở nông nghiệp", {"province": ["Tiền Giang"]})
    assert (match.kind, match.contacts, match.unknown_province) == ("none", [], "Tiền Giang")


# --- loading and validation -------------------------------------------------------------------

BROKEN = HEADER + (
    "a,Phòng A,,UBND tỉnh X,X,thủ tục,0913.979.245,a@x.gov.vn,src,2024-11-06,1,Thủ tục\n"  # line 2
    "b,Phòng B,,UBND tỉnh X,X,,12ab,b@x.gov.vn,src,2024-11-06,0,\n"  # line 3: bad phone
    "c,Phòng C,,UBND tỉnh X,X,,0913979246,c@@x,src,,0,\n"  # line 4: bad email
    "a,Phòng A2,,UBND tỉnh X,X,,0913979247,,src,,0,\n"  # line 5: duplicate id
    "\n"  # line 6: blank, skipped
    "d,,,UBND tỉnh X,X,,0913979248,,src,,0,\n"  # line 7: missing name
    'e,Phòng E,,UBND tỉnh X,X,"công vụ\ncán bộ",+84 378 247 247,,src,06/11/2024,0,\n'  # lines 8-9
    "f,Phòng F,,UBND tỉnh X,X,,,,src,,0,\n"  # line 10: neither phone nor email
    "g,Phòng G,,UBND tỉnh X,X,,0913979249,,src,2024-13-40,0,\n"  # line 11: bad date
)


def test_broken_rows_are_reported_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(BROKEN, encoding="utf-8")
    book = ContactBook.load(path)
    assert book.ok
    assert [c.id for c in book.contacts] == ["a", "e"]
    assert by_id(book, "e").topics == ("công vụ", "cán bộ")
    assert by_id(book, "e").verified_on == "2024-11-06"
    assert by_id(book, "e").tel_uris == ("tel:0378247247",)
    errors = "\n".join(book.errors)
    assert "contacts.csv dòng 3, trường phones: số điện thoại không hợp lệ: '12ab'" in errors
    assert any("dòng 4" in e and "email" in e and "c@@x" in e for e in book.errors)
    assert any("dòng 5" in e and "trường id" in e and "dòng 2" in e for e in book.errors)
    assert any("dòng 7" in e and "trường name" in e for e in book.errors)
    assert any("dòng 10" in e and "phones/email" in e for e in book.errors)
    assert any("dòng 11" in e and "verified_on" in e for e in book.errors)
    assert len(book.errors) == 6
    assert not any("dòng 8" in e or "dòng 2:" in e for e in book.errors)


def test_missing_file(tmp_path: Path) -> None:
    book = ContactBook.load(tmp_path / "nope.csv")
    assert not book.ok
    assert book.contacts == []
    assert len(book.errors) == 1 and "nope.csv" in book.errors[0]
    assert book.lookup("số điện thoại phòng tổng hợp").kind == "none"
    assert book.general() == [] and book.topics() == []


def test_garbage_file_never_raises(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(b"\xff\xfe\x00garbage")
    book = ContactBook.load(path)
    assert not book.ok and book.errors


def test_excel_semicolon_csv_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    text = HEADER.replace(",", ";") + 'a;Phòng A;;UBND tỉnh X;X;"thủ tục;hồ sơ";0913979245;;src;;1;\n'
    path.write_text("\ufeff" + text, encoding="utf-8")
    book = ContactBook.load(path)
    assert book.errors == []
    assert book.contacts[0].topics == ("thủ tục", "hồ sơ")


def test_yaml_table(tmp_path: Path) -> None:
    path = tmp_path / "contacts.yml"
    path.write_text(
        "- id: a\n"  # line 1
        "  name: Phòng A\n"
        "  organisation: UBND tỉnh X\n"
        "  topics: [thủ tục hành chính, hồ sơ]\n"
        "  phones: ['0913.979.245', '02963.957.006']\n"
        "  verified_on: 2024-11-06\n"
        "- id: b\n"  # line 7
        "  name: Phòng B\n"
        "  organisation: UBND tỉnh X\n"
        "  email: not-an-email\n",
        encoding="utf-8",
    )
    book = ContactBook.load(path)
    assert [c.id for c in book.contacts] == ["a"]
    assert book.contacts[0].topics == ("thủ tục hành chính", "hồ sơ")
    assert book.contacts[0].verified_on == "2024-11-06"
    assert len(book.errors) == 1 and "contacts.yml dòng 7" in book.errors[0]
    assert ids(book.lookup("sdt thủ tục hành chính")) == ["a"]


def test_reload_after_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(HEADER + "a,Phòng A,,UBND tỉnh X,X,thủ tục,0913979245,,src,,1,\n", encoding="utf-8")
    book = ContactBook.load(path)
    assert book.reload_if_changed() is False
    assert book.lookup("kiểm tra công vụ").kind == "none"
    path.write_text(
        path.read_text(encoding="utf-8") + "b,Tổ kiểm tra công vụ,,Tỉnh X,X,công vụ,0378247247,,src,,0,\n",
        encoding="utf-8",
    )
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert book.reload_if_changed() is True
    assert [c.id for c in book.contacts] == ["a", "b"]
    assert ids(book.lookup("kiểm tra công vụ")) == ["b"]
    assert book.reload_if_changed() is False
    path.unlink()  # a vanished file keeps serving the last good rows, with an error
    assert book.reload_if_changed() is True
    assert [c.id for c in book.contacts] == ["a", "b"] and book.errors


@pytest.mark.parametrize(
    "question",
    [
        "cán bộ một cửa đòi tiền bồi dưỡng mới nhận hồ sơ, tôi báo ai",
        "nop giay to ma can bo hach sach, hen toi hen lui, phan anh o dau",
        "làm giấy tờ ở xã bị gợi ý tiền trà nước thì phản ánh chỗ nào",
    ],
)
def test_an_officials_misconduct_names_the_conduct_team(book: ContactBook, question: str) -> None:
    """A complaint about an official's conduct at a counter: the conduct team is among the answers."""
    assert KIEM_TRA in ids(book.lookup(question))
