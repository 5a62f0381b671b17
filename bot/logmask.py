"""Mask phone and ID-card numbers typed by users in every log line of a process.

Rasa process: `rasa run --logging-config-file deploy/logging.yml` (the process table
ops/processes.py passes it). The YAML declares `PiiFilter`; building it installs a log-record
factory, so records of *every* logger and handler are masked - including the handlers
Rasa adds after reading the file (coloredlogs on the console, `--log-file`, structlog's
JSON lines, which go through the standard `logging` module).

Action server (a separate environment without Rasa): start it as

    python -m bot.logmask actions.server --port 5055 ...

which installs the same masking and then runs the module as `__main__`.

Masking (`mask_pii`) is the channels' own (`bot.channels.guard.mask_pii`) when Rasa is
importable, else an identical stdlib-only copy (tests/prod/test_logmask.py checks both
agree). Formatted message, arguments, traceback text and stack info are masked.
"""

from __future__ import annotations

import logging
import re
import runpy
import sys
from typing import Any

_PHONE = re.compile(r"(?<!\d)(\+?84|0)(\d[\d .-]{7,12}\d)(?!\d)")
_ID_CARD = re.compile(r"(?<!\d)\d{9}(?:\d{3})?(?!\d)")


def mask_pii_stdlib(text: str) -> str:
    """Same rules as bot.channels.guard.mask_pii, without importing Rasa."""
    text = _PHONE.sub(lambda m: m.group(0)[:3] + "*" * max(0, len(m.group(0)) - 5) + m.group(0)[-2:], text)
    return _ID_CARD.sub(lambda m: "*" * (len(m.group(0)) - 3) + m.group(0)[-3:], text)


try:  # the Rasa environment: one source of truth with the channels
    from bot.channels.guard import mask_pii
except ImportError:  # the action environment has no Rasa
    mask_pii = mask_pii_stdlib

_FORMATTER = logging.Formatter()
_installed = False


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a record in place: message (with its arguments), traceback, stack info."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string must not break logging
        message = f"{record.msg} {record.args}"
    masked = mask_pii(message)
    if masked != message or not isinstance(record.msg, str):
        record.msg, record.args = masked, ()
    if record.exc_info and not record.exc_text:
        try:
            record.exc_text = mask_pii(_FORMATTER.formatException(record.exc_info))
        except Exception:  # noqa: BLE001
            pass
    elif record.exc_text:
        record.exc_text = mask_pii(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_pii(record.stack_info)
    return record


def install() -> None:
    """Mask every record created from now on in this process (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True


class PiiFilter(logging.Filter):
    """Logging filter masking PII; constructing it installs the process-wide masking."""

    def __init__(self, name: str = "") -> None:
        """Build the filter and install the record factory."""
        super().__init__(name)
        install()

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record (again: records built before install()) and keep it."""
        mask_record(record)
        return True


def main(argv: list[str] | None = None) -> None:
    """`python -m bot.logmask MODULE ARGS...`: run MODULE as __main__ with masked logs."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        raise SystemExit("usage: python -m bot.logmask MODULE [ARGS...]")
    install()
    module, sys.argv = argv[0], argv
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
