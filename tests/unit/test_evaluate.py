"""Tests for tests/eval/evaluate.py: folding, matching, the REST loop and the project question set."""

from __future__ import annotations

import importlib.util
import json
import random
import re
import sys
import threading
import unicodedata
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.text import fold_compact, has_diacritics

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "tests" / "eval" / "questions.yaml"
DEV = Path("/work/shared/eval/dev.yaml")

_spec = importlib.util.spec_from_file_location("evaluate", ROOT / "tests" / "eval" / "evaluate.py")
ev = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("evaluate", ev)  # dataclasses look the module up
_spec.loader.exec_module(ev)


def rule_fold(text: str) -> str:
    """The folding rule written out literally, as a second implementation to compare against."""
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn").replace("đ", "d")
    text = re.sub(r"(?<=\d)[.\s-](?=\d)", "", text)
    return re.sub(r"\s+", " ", text).strip()


# --- folding ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Đường dây nóng Sở Nông nghiệp", "duong day nong so nong nghiep"),
        ("ĐIỆN THOẠI: 02963.957.006", "dien thoai: 02963957006"),
        ("0378 247 247", "0378247247"),
        ("0913-979-245", "0913979245"),
        ("02963.957.049 - 0378.247.247", "02963957049 - 0378247247"),  # " - " is two separators
        ("khoảng 17.400 sản phẩm", "khoang 17400 san pham"),
        ("dự kiến khoảng 5-8 sản phẩm", "du kien khoang 58 san pham"),
        ("400–500 sản phẩm 5 sao", "400–500 san pham 5 sao"),  # en dash is not a separator
        ("1. 2", "1. 2"),
        ("vượt 2,9 lần", "vuot 2,9 lan"),  # comma is not a separator
        ("  Xin   chào\n\n anh/chị \t", "xin chao anh/chi"),
        ("165\n182", "165182"),  # digit groups join across a newline too (the rule)
        ("thutuchanhchinh@angiang.gov.vn", "thutuchanhchinh@angiang.gov.vn"),
        ("Ngày 06/11/2024", "ngay 06/11/2024"),
        ("☎️ 0913 979 245", "☎ 0913979245"),  # variation selector U+FE0F is a nonspacing mark
    ],
)
def test_fold_examples(raw: str, folded: str) -> None:
    assert ev.fold(raw) == folded


def test_fold_decomposed_input_equals_composed() -> None:
    composed = "Tiền Giang có bao nhiêu sản phẩm"
    assert (
        ev.fold(unicodedata.normalize("NFD", composed))
        == ev.fold(composed)
        == "tien giang co bao nhieu san pham"
    )


def test_fold_agrees_with_bot_text_on_vietnamese() -> None:
    samples = [
        "Ông Nguyễn Sĩ Lâm (Giám Đốc Sở) Điện thoại: 0913.979.245",
        "Tổ kiểm tra công vụ – 02963.957.049 - 0378.247.247",
        "Sản phẩm đạt từ 70 đến 89 điểm được xếp hạng OCOP 4 sao.",
        "Hỗ trợ đăng ký nhãn hiệu tối đa 35 triệu đồng; ưu tiên HTX, DN nhỏ và vừa.",
    ]
    for s in samples:
        assert ev.fold(s) == fold_compact(s)


def test_fold_differs_from_bot_text_where_the_rule_is_stricter() -> None:
    # bot.text.fold_compact keeps these marks; the scoring rule removes every nonspacing mark.
    for s in ("ά", "й", "x\u0303", "ok\ufe0f"):
        assert ev.fold(s) != fold_compact(s)
        assert ev.fold(s) == rule_fold(s)


def test_fold_matches_the_rule_on_random_text() -> None:
    rng = random.Random(1234)
    alphabet = list("aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯ0123456789 .-\n\t,:/@") + [
        "á",
        "à",
        "ả",
        "ã",
        "ạ",
        "ế",
        "ề",
        "ể",
        "ễ",
        "ệ",
        "ố",
        "ờ",
        "ữ",
        "Ự",
        "Ỷ",
        "\u0301",
        "\u0323",
        "\ufe0f",
        "İ",
        "ά",
        "й",
        "٣",
        "\u00a0",
        "😊",
    ]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert ev.fold(text) == rule_fold(text), repr(text)


# --- replies and matching -------------------------------------------------------------------------


def test_reply_text_collects_text_buttons_images_and_custom() -> None:
    messages = [
        {
            "recipient_id": "u",
            "text": "Gọi Phòng Tổng hợp",
            "buttons": [{"title": "📞 02963 957 006", "payload": "tel:02963957006"}],
        },
        {"recipient_id": "u", "image": "https://example.org/a.png"},
        {"recipient_id": "u", "custom": {"phone": "0913.979.245"}},
    ]
    text = ev.reply_text(messages)
    folded = ev.fold(text)
    assert "goi phong tong hop" in folded
    assert "tel:02963957006" in folded
    assert "https://example.org/a.png" in folded
    assert "0913979245" in folded


def test_judge_all_groups_must_match_any_regex_inside_a_group() -> None:
    item = {"expect": [["thuc pham"], ["do uong", "nuoc giai khat"]], "expect_none": [r"\b19 ?°"]}
    assert ev.judge(item, "gom thuc pham, do uong") == []
    assert ev.judge(item, "gom thuc pham va nuoc giai khat") == []
    problems = ev.judge(item, "gom thuc pham")
    assert len(problems) == 1 and "do uong" in problems[0]
    assert len(ev.judge(item, "")) == 2


def test_judge_expect_none() -> None:
    item = {"expect": [["xin loi"]], "expect_none": [r"\b23 ?°", "23 do c"]}
    assert ev.judge(item, "xin loi, toi khong co thong tin thoi tiet") == []
    assert ev.judge(item, "xin loi, da nang 23°c") == [r"must not match: \b23 ?°"]


def test_regexes_run_on_folded_text_only() -> None:
    item = {"expect": [["02963957006"], [r"\b165\b", r"\b182\b"]]}
    reply = "An Giang có 182 sản phẩm. Liên hệ: 02963.957.006"
    assert ev.judge(item, ev.fold(reply)) == []
    assert ev.judge(item, reply) != []


# --- question files -------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "q.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_items_reports_format_problems(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
items:
- id: a
  turns: ["x"]
  expect: [["ok"]]
- id: a
  turns: ["y"]
  expect: [["(unclosed"]]
- id: c
  turns: []
- id: d
  turns: ["z"]
  expect: ["not a list"]
""",
    )
    with pytest.raises(ValueError) as err:
        ev.load_items(path)
    message = str(err.value)
    assert "duplicate id" in message
    assert "bad regex" in message
    assert "turns must be" in message
    assert "no expectation" in message
    assert "expect must be" in message


def test_select_by_tags() -> None:
    items = [{"id": 1, "tags": ["stats"]}, {"id": 2, "tags": ["hotline", "person"]}, {"id": 3}]
    assert [i["id"] for i in ev.select(items, "")] == [1, 2, 3]
    assert [i["id"] for i in ev.select(items, "person,stats")] == [1, 2]


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert ev.percentile(values, 0.5) == 50.0
    assert ev.percentile(values, 0.95) == 95.0
    assert ev.percentile([3.0], 0.99) == 3.0


# --- the REST loop against a tiny fake server -----------------------------------------------------


class FakeBot(BaseHTTPRequestHandler):
    """Answers like the REST channel; remembers (sender, message) pairs."""

    calls: list[tuple[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        sender, message = body["sender"], body["message"]
        FakeBot.calls.append((sender, message))
        if message == "boom":
            self.send_response(500)
            self.end_headers()
            return
        if message == "còn Sóc Trăng?":
            previous = [m for s, m in FakeBot.calls[:-1] if s == sender]
            reply = [{"text": "Sóc Trăng có 189 sản phẩm" if previous else "Anh/chị hỏi gì ạ?"}]
        elif "điện thoại" in message:
            reply = [{"text": "Phòng Tổng hợp"}, {"text": "☎ 02963.957.006"}]
        elif "An Giang" in message:
            reply = [{"text": "An Giang có 165 sản phẩm OCOP"}]
        else:
            reply = []
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_url():
    FakeBot.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/rest/webhook"
    server.shutdown()
    server.server_close()


def test_run_item_multi_turn_same_sender_last_reply_only(fake_url: str) -> None:
    item = {
        "id": "m1",
        "turns": ["An Giang có bao nhiêu sản phẩm?", "còn Sóc Trăng?"],
        "expect": [[r"\b189\b"]],
        "expect_none": [r"\b165\b"],
    }
    result = ev.run_item(item, fake_url, timeout=5)
    assert result.ok, result.problems
    senders = {s for s, _ in FakeBot.calls}
    assert len(senders) == 1 and len(FakeBot.calls) == 2
    assert len(result.seconds) == 2


def test_run_item_fresh_sender_per_item(fake_url: str) -> None:
    item = {"id": "m2", "turns": ["còn Sóc Trăng?"], "expect": [[r"\b189\b"]]}
    ev.run_item({"id": "x", "turns": ["An Giang?"], "expect": [["165"]]}, fake_url, 5)
    result = ev.run_item(item, fake_url, timeout=5)
    assert not result.ok  # the previous item's conversation must not leak into this one
    assert FakeBot.calls[0][0] != FakeBot.calls[1][0]


def test_run_item_joins_messages_and_folds_phone_numbers(fake_url: str) -> None:
    item = {
        "id": "h",
        "turns": ["số điện thoại phòng tổng hợp"],
        "expect": [["phong tong hop"], ["02963957006"]],
    }
    assert ev.run_item(item, fake_url, timeout=5).ok


def test_run_item_http_error_and_empty_reply_fail(fake_url: str) -> None:
    failed = ev.run_item({"id": "e", "turns": ["boom"], "expect": [["x"]]}, fake_url, timeout=5)
    assert not failed.ok and failed.problems[0].startswith("error: HTTP 500")
    empty = ev.run_item({"id": "n", "turns": ["???"], "expect_none": ["x"], "expect": [[".+"]]}, fake_url, 5)
    assert not empty.ok and empty.reply == ""


def test_run_item_unreachable_server_fails() -> None:
    result = ev.run_item({"id": "u", "turns": ["hi"], "expect": [["x"]]}, "http://127.0.0.1:9/webhook", 2)
    assert not result.ok and result.problems[0].startswith("error:")


def test_main_prints_tags_failures_and_score_last(fake_url: str, tmp_path: Path, capsys) -> None:
    path = write(
        tmp_path,
        """
items:
- id: ok1
  turns: ["An Giang có bao nhiêu sản phẩm?"]
  tags: [stats]
  expect: [['\\b165\\b', '\\b182\\b']]
- id: bad1
  turns: ["An Giang 3 sao?"]
  tags: [stats, nodiacritics]
  expect: [['\\b146\\b']]
- id: ok2
  turns: ["số điện thoại"]
  tags: [hotline]
  expect: [["02963957006"]]
""",
    )
    out_json = tmp_path / "r.json"
    code = ev.main([str(path), "--url", fake_url, "--min-score", "0.6", "--json", str(out_json)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert lines[-1] == "score: 2/3 (66.7%)"
    text = "\n".join(lines)
    assert "WRONG bad1" in text and "reply: An Giang có 165 sản phẩm OCOP" in text
    assert "wrong: 1/3 (33.3%)" in text  # answered, but not with what was asked
    assert ev.main([str(path), "--url", fake_url, "--min-score", "0.6", "--max-wrong", "0.01"]) == 1
    assert "ok1" not in text.split("per tag:")[0]  # passing items are not listed without -v
    assert re.search(r"stats\s+1/2", text) and re.search(r"hotline\s+1/1", text)
    saved = json.loads(out_json.read_text(encoding="utf-8"))
    assert [r["id"] for r in saved] == ["ok1", "bad1", "ok2"] and saved[1]["ok"] is False

    assert ev.main([str(path), "--url", fake_url, "--min-score", "0.9"]) == 1
    assert ev.main([str(path), "--url", fake_url, "--tags", "hotline", "--min-score", "1"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "score: 1/1 (100.0%)"


def test_main_bad_file_exit_2(tmp_path: Path) -> None:
    assert ev.main([str(write(tmp_path, "items: 3\n")), "--check"]) == 2


# --- the project's question set -------------------------------------------------------------------

REQUIRED_TAGS = {
    "stats",
    "plans",
    "program",
    "join",
    "hotline",
    "person",
    "chitchat",
    "oos",
    "nodiacritics",
    "typo",
    "abbreviation",
    "multiturn",
    "robustness",
    "refusal",
}


@pytest.fixture(scope="module")
def questions() -> list[dict]:
    return ev.load_items(QUESTIONS)


def test_question_set_size_and_tags(questions: list[dict]) -> None:
    assert len(questions) >= 160
    tags = {t for q in questions for t in q.get("tags", [])}
    assert REQUIRED_TAGS <= tags
    for sub in ("register", "criteria", "stars", "validity", "benefits", "groups", "legal"):
        assert sub in tags


def test_question_set_no_diacritics_share(questions: list[dict]) -> None:
    plain = [q for q in questions if "nodiacritics" in q["tags"]]
    assert len(plain) >= 0.30 * len(questions)
    for q in plain:
        assert not any(has_diacritics(t) for t in q["turns"]), q["id"]


def test_question_set_multiturn_items_have_several_turns(questions: list[dict]) -> None:
    for q in questions:
        if "multiturn" in q["tags"]:
            assert len(q["turns"]) >= 2, q["id"]


def test_question_set_person_items_expect_a_number_or_email(questions: list[dict]) -> None:
    known = {"0913979245", "0919199392"}
    for q in questions:
        if "person" in q["tags"] and "hotline" in q["tags"] and "refusal" not in q["tags"]:
            patterns = " ".join(p for g in q.get("expect", []) for p in g)
            assert any(n in patterns for n in known) or "@angiang" in patterns, q["id"]


@pytest.mark.skipif(not DEV.exists(), reason="shared dev set not available")
def test_question_set_does_not_copy_dev_sentences(questions: list[dict]) -> None:
    dev = ev.load_items(DEV)
    dev_turns = {ev.fold(t) for d in dev for t in d["turns"]}
    copied = [(q["id"], t) for q in questions for t in q["turns"] if ev.fold(t) in dev_turns]
    assert copied == []
