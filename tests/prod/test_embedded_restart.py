"""Embedded default (`make run`): a killed Rasa server comes back by itself, conversations go on.

endpoints.yml keeps conversations in a SQLite file (OCOP_TRACKER_DB, var/tracker.db under
`make run`). Here, `make run`'s profile (ops/serve.py's settings, supervisord): a
conversation, the Rasa process killed in the middle of it and restarted by supervisord, then
follow-ups that only make sense with the slots set before the restart.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import time
import uuid

from prodtools import ACTIONS_PORT, RASA_PORTS, ROOT, RUN_ID, post


def test_killed_rasa_comes_back_and_keeps_the_context(prod, soak):
    var_dir = ROOT / "var" / "prod-test" / f"embedded-{RUN_ID}"
    s = prod.Settings.for_run()
    s.rasa_ports, s.actions_ports, s.var_dir, s.web = [RASA_PORTS[0]], [ACTIONS_PORT], var_dir, False
    s.extra_env = {"OCOP_TRACKER_DB": str(var_dir / "tracker.db")}
    port = s.rasa_ports[0]
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    sender = f"embedded-{uuid.uuid4().hex[:6]}"
    p = prod.Profile(s)
    assert [x.name for x in p.programs] == [f"actions-{ACTIONS_PORT}", f"rasa-{port}"]
    try:
        p.start(progress=False)
        status, replies = post(url, sender, "Tiền Giang có bao nhiêu sản phẩm OCOP 4 sao?")
        assert status == 200 and soak.context_ok(replies, "Tiền Giang")

        name = p.rasa_name(port)
        old = p.pid(name)
        os.killpg(old, signal.SIGKILL)  # a crash mid-conversation: supervisord starts it again
        deadline = time.monotonic() + 10
        while p.pid(name) in (0, old):
            assert time.monotonic() < deadline, f"{name} not restarted within 10 s: {p.status()[name]}"
            time.sleep(0.2)
        p.wait_ready([name])

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
