"""The staff console closes the loop in a real browser, against the servers of `make e2e`.

1. A question the assistant refuses is asked through REST.
2. The console (python -m console serve, in .venv-actions, on a free port) reads the same
   tracker store and cards folder; an editor created with the CLI logs in in headless
   Chromium (tests/e2e/console_check.mjs), finds the question in the unanswered list and
   makes it a new card.
3. The same question asked again through REST gets the card's answer (no restart).

The served assistant must read a temporary copy of the cards (python -m ops.serve --cards-copy
sets OCOP_CARDS_DIR and passes it, with OCOP_TRACKER_DB, to the tests): the test refuses to
run on data/cards and puts the copy back as it found it at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import say, text_of

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "e2e" / "console_check.mjs"
RESULTS = ROOT / "results" / "e2e"
CONSOLE_PY = ROOT / ".venv-actions" / "bin" / "python"
# Invented for this test: no card, statistic or document covers it (checked: refused).
QUESTION = "Chủ thể OCOP có được vay vốn ưu đãi để mua máy đóng gói không?"
ANSWER = (
    "Chủ thể OCOP có thể đề nghị vay vốn ưu đãi để mua máy đóng gói qua Ngân hàng Chính sách xã hội "
    "theo hướng dẫn của Văn phòng Điều phối nông thôn mới tỉnh."
)
TIMEOUT = float(os.environ.get("E2E_BROWSER_TIMEOUT", "240"))


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def served_paths() -> tuple[Path, Path]:
    """The tracker store file and cards folder the servers use (a copy of the cards, never data/cards)."""
    tracker, cards = os.environ.get("OCOP_TRACKER_DB"), os.environ.get("OCOP_CARDS_DIR")
    if not tracker or not cards:
        pytest.fail(
            "OCOP_TRACKER_DB and OCOP_CARDS_DIR are not set: run under python -m ops.serve --cards-copy (make e2e)"
        )
    if Path(cards).resolve() == (ROOT / "data" / "cards").resolve():
        pytest.fail("OCOP_CARDS_DIR is data/cards: this test writes a card, serve a copy (--cards-copy)")
    return Path(tracker), Path(cards)


@pytest.fixture(scope="module")
def console(rasa_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The console on a free port, with an editor; the cards folder restored afterwards."""
    tracker, cards = served_paths()
    saved = {p.name: p.read_bytes() for p in cards.glob("*.yml")}
    work = tmp_path_factory.mktemp("console")
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        OCOP_CONSOLE_DB=f"sqlite:///{work / 'console.db'}",
        OCOP_TRACKER_DB=str(tracker),
        OCOP_CARDS_DIR=str(cards),
        HF_HUB_OFFLINE="1",
    )
    env.pop("OCOP_TRACKER_URL", None)
    user, password = "e2e-bientap", uuid.uuid4().hex
    created = subprocess.run(
        [str(CONSOLE_PY), "-m", "console", "create-user", user, "--role", "editor"],
        input=password + "\n", capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    port = free_port()
    log = open(work / "console.log", "wb")  # noqa: SIM115 - closed in the teardown
    proc = subprocess.Popen(
        [str(CONSOLE_PY), "-m", "console", "serve", "--port", str(port)],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/staff"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/login", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"the console did not start: {(work / 'console.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield {"url": base, "user": user, "password": password, "cards": cards, "log": work / "console.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        for path in cards.glob("*.yml"):
            if path.name not in saved:
                path.unlink()
        for name, content in saved.items():
            if (cards / name).read_bytes() != content:
                (cards / name).write_bytes(content)


@pytest.fixture(scope="module")
def loop(console: dict) -> dict:
    """Ask, make a card in the browser, ask again: what each step saw."""
    node = shutil.which("node")
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if node is None or not Path(chromium).exists():
        pytest.fail("node and chromium are needed: run `make web browser`")
    before = text_of(say(f"e2e-console-{uuid.uuid4().hex[:8]}", QUESTION))
    card_id = f"vay-von-may-dong-goi-{uuid.uuid4().hex[:6]}"
    cmd = [node, str(SCRIPT), "--url", console["url"], "--user", console["user"]]
    cmd += ["--password", console["password"], "--question", QUESTION, "--card-id", card_id]
    cmd += ["--topic", "vay vốn", "--answer", ANSWER, "--screenshots", str(RESULTS), "--timeout", "90"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    (RESULTS / "console_report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    after = text_of(say(f"e2e-console-{uuid.uuid4().hex[:8]}", QUESTION))
    return {"before": before, "report": report, "after": after, "card_id": card_id, "cards": console["cards"]}


def test_the_question_is_refused_first(loop: dict) -> None:
    assert ANSWER not in loop["before"]
    assert "Xin lỗi" in loop["before"], loop["before"]


def test_the_browser_makes_it_a_card(loop: dict) -> None:
    report = loop["report"]
    assert report["error"] is None, (
        f"{report['error']}\nsteps: {report['steps']}\nproblems: {report['problems']}"
    )
    assert report["loginRedirect"] == "/staff/login"
    assert report["inConversations"]  # listed under Hội thoại, filtered by channel and outcome
    assert report["groupFound"] and QUESTION in report["groupText"]
    assert QUESTION in report["prefilledQuestions"].splitlines()
    assert report["problems"] == [] and report["saved"], report
    assert report["cardUrl"] == f"/staff/cards/{loop['card_id']}"
    written = "".join(p.read_text("utf-8") for p in loop["cards"].glob("*.yml"))
    assert f"- id: {loop['card_id']}" in written


def test_asking_again_gets_the_card(loop: dict) -> None:
    assert "vay vốn ưu đãi để mua máy đóng gói qua Ngân hàng Chính sách xã hội" in loop["after"], loop[
        "after"
    ]
    assert "Căn cứ" in loop["after"]


def test_console_pages_stay_local_and_clean(loop: dict) -> None:
    report = loop["report"]
    assert (
        report["externalRequests"] == [] and report["cspViolations"] == [] and report["consoleErrors"] == []
    )
