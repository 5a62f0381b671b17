"""Embedded default (`make run`): conversations survive a restart of the Rasa server.

endpoints.yml keeps conversations in a SQLite file (OCOP_TRACKER_DB, var/tracker.db under
scripts/serve.py). Here: a conversation, a restart of the Rasa process in the middle of it,
then follow-ups that only make sense with the slots set before the restart.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid

from prodtools import ROOT, RUN_ID, base_settings, post


def test_restart_mid_conversation_keeps_the_context(prod, soak):
    var_dir = ROOT / "var" / "prod-test" / f"embedded-{RUN_ID}"
    s = base_settings(prod, var_dir)
    s.endpoints, s.credentials = ROOT / "endpoints.yml", ROOT / "credentials.yml"
    s.extra_env = {"OCOP_TRACKER_DB": str(var_dir / "tracker.db")}
    port = s.rasa_ports[0]
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    sender = f"embedded-{uuid.uuid4().hex[:6]}"
    p = prod.Profile(s)
    try:
        p.start_actions()
        p.start_rasa(port)
        p.wait_actions()
        p.wait_rasa(port)
        status, replies = post(url, sender, "Tiền Giang có bao nhiêu sản phẩm OCOP 4 sao?")
        assert status == 200 and soak.context_ok(replies, "Tiền Giang")

        p.stop_process(p.rasa_name(port))  # restart mid-conversation
        p.start_rasa(port)
        p.wait_rasa(port)

        status, replies = post(url, sender, "còn An Giang?")
        text = soak.reply_text(replies)
        assert status == 200 and "Nguồn" in text and soak.context_ok(replies, "An Giang"), text
        assert "muốn hỏi thông tin gì về tỉnh này" not in text  # what it says without context
        status, replies = post(url, sender, "thế còn 3 sao?")
        assert status == 200 and soak.context_ok(replies, "An Giang"), soak.reply_text(replies)
    finally:
        p.stop()
    with sqlite3.connect(var_dir / "tracker.db") as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (sender,)
        ).fetchall()
    assert [json.loads(r[0])["text"] for r in rows][-3:] == [
        "Tiền Giang có bao nhiêu sản phẩm OCOP 4 sao?",
        "còn An Giang?",
        "thế còn 3 sao?",
    ]
    shutil.rmtree(var_dir, ignore_errors=True)
