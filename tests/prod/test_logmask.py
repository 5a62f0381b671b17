"""Log masking (bot/logmask.py): phone and ID-card numbers never reach a log line."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from prodtools import ROOT

from bot.channels.guard import mask_pii
from bot.logmask import PiiFilter, mask_pii_stdlib, mask_record

SAMPLES = [
    "số tôi là 0912345678, cccd 079123456789",
    "gọi +84 912 345 678 hoặc 0912.345.678",
    "cmnd 123456789 nhé",
    "02963 957 006",
    "không có số nào",
    "mã 12345 và năm 2025",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_stdlib_copy_masks_like_the_channels(text):
    assert mask_pii_stdlib(text) == mask_pii(text)


def _record(msg, *args, exc_info=None):
    return logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, exc_info)


def test_record_message_arguments_and_traceback_are_masked():
    record = mask_record(_record("user %s said %r", "me", "số 0912345678"))
    assert "0912345678" not in record.getMessage() and "091*****78" in record.getMessage()
    try:
        raise ValueError("cccd 079123456789")
    except ValueError:
        record = mask_record(_record("failed", exc_info=sys.exc_info()))
    assert "079123456789" not in logging.Formatter().format(record)


def test_non_string_messages_are_masked():
    record = mask_record(_record({"text": "0912345678"}))
    assert "0912345678" not in record.getMessage()


def test_filter_installs_masking_for_every_handler(tmp_path):
    """A separate interpreter: the YAML config, then handlers added later (as Rasa does)."""
    code = f"""
import logging, logging.config, yaml
logging.config.dictConfig(yaml.safe_load(open({str(ROOT / "deploy" / "logging.yml")!r})))
handler = logging.FileHandler({str(tmp_path / "x.log")!r})
logging.getLogger().addHandler(handler)
logging.getLogger().setLevel(logging.DEBUG)
logging.getLogger("rasa.core.processor").debug("text %s", "số tôi là 0912345678, cccd 079123456789")
logging.getLogger("x").info('{{"text": "0912345678"}}')
"""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    out = (tmp_path / "x.log").read_text()
    assert "0912345678" not in out and "079123456789" not in out
    assert out.count("091*****78") == 2


def test_filter_object_masks_records_created_before_install():
    record = _record("0912345678")
    assert PiiFilter().filter(record) is True
    assert "0912345678" not in record.getMessage()


def test_action_server_runner_masks_its_logs(tmp_path):
    """`python -m bot.logmask MODULE` runs MODULE with masking (action environment: no Rasa)."""
    module = tmp_path / "noisy.py"
    module.write_text(
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "logging.getLogger('actions.knowledge').info('no confident answer for %r', 'số 0912345678')\n"
        "print('argv', sys.argv[1:])\n"
    )
    python = ROOT / ".venv-actions" / "bin" / "python"
    if not python.exists():
        pytest.skip("no action environment")
    result = subprocess.run(
        [str(python), "-m", "bot.logmask", "noisy", "--flag"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT}:{tmp_path}"},
    )
    assert result.returncode == 0, result.stderr
    assert "0912345678" not in result.stderr and "091*****78" in result.stderr
    assert "argv ['--flag']" in result.stdout
