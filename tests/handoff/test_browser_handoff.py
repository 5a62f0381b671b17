"""Two real browser pages (tests/handoff/handoff_check.mjs): a citizen on the web chat asks for
a person; staff take the conversation in the console and reply; the citizen sees the reply and
the assistant stays silent; staff close it and the assistant answers again. The screenshots of
both sides go to results/handoff/ (docs/screenshot-handoff-*.png are copies)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.handoff.stack import EDITOR, ROOT, Stack

RESULTS = ROOT / "results" / "handoff"
REPLY = "Chào anh/chị, tôi là cán bộ Văn phòng Điều phối. Hồ sơ đang chờ Hội đồng cấp huyện chấm điểm."


@pytest.fixture(scope="module")
def report(stack: Stack) -> dict:
    """Run the two pages; the JSON report."""
    node, chromium = shutil.which("node"), os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if node is None or not Path(chromium).exists():
        pytest.fail("node and chromium are needed: run `make web browser`")
    cmd = [node, str(ROOT / "tests" / "handoff" / "handoff_check.mjs"), "--web", stack.web_url]
    cmd += ["--console", stack.console_url, "--user", EDITOR[0], "--password", EDITOR[1]]
    cmd += ["--screenshots", str(RESULTS), "--timeout", "90"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "handoff_report.json").write_text(json.dumps(data, ensure_ascii=False, indent=2))
    data["events"] = stack.events(data["session"]) if data.get("session") else []
    return data


def test_the_citizen_is_offered_a_person_and_the_assistant_stops(report: dict) -> None:
    assert report["error"] is None, f"{report['error']}\nsteps: {report['steps']}"
    assert "trợ lý ảo tạm ngừng trả lời" in report["offer"] and report["confirmTitle"].endswith("Gặp cán bộ")
    assert "cán bộ" in report["handoffMessage"]
    assert report["silentAfterFirst"] == []  # nothing said while handed off


def test_staff_take_it_in_the_inbox_and_the_reply_reaches_the_web_chat(report: dict) -> None:
    assert report["error"] is None, report["error"]
    assert report["inboxCount"] and int(report["inboxCount"]) >= 1
    assert "Đang chờ cán bộ" in report["inboxRow"] and "socketio" in report["inboxRow"]
    assert report["transcriptHasFirst"]  # the whole conversation, with the assistant's answers
    assert "đã nhận" in report["takenNotice"] and EDITOR[0] in report["takenSeenByCitizen"]
    assert report["replyNotice"] == "Đã gửi tin nhắn cho người hỏi."
    assert report["replySeenByCitizen"] and report["secondSeenByStaff"]
    assert report["silentAfterSecond"] == []


def test_after_closing_the_assistant_is_back(report: dict) -> None:
    assert report["error"] is None, report["error"]
    assert "kết thúc" in report["closeNotice"] and "quay lại" in report["backMessage"]
    assert "95" in report["answerAgain"]


def test_every_message_of_the_handoff_is_in_the_tracker(report: dict) -> None:
    kinds = [e["event"] for e in report["events"]]
    assert kinds.count("pause") == 1 and kinds.count("resume") == 1
    staff = [
        e for e in report["events"] if e["event"] == "bot" and (e.get("metadata") or {}).get("handoff_staff")
    ]
    assert [e["text"] for e in staff if not e["metadata"].get("utter_action")] == [REPLY]
    assert all(e["metadata"]["delivered"] for e in staff)  # the socket was connected
    paused = kinds.index("pause")
    users = [e["text"] for e in report["events"][paused:] if e["event"] == "user"]
    assert "Vậy tôi cần bổ sung giấy tờ gì không ạ?" in users  # logged while handed off
