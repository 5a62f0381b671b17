"""The knowledge index rebuilt in the background after a document changes, with its progress.

    rebuilder = IndexRebuilder(settings)          # docs_dir, build_dir, model of the assistant
    ticket = rebuilder.request()                  # returns at once; one build at a time
    rebuilder.status()                            # {"state": "running", "stage": "embed", "done": 8, ...}

Requests made while a build runs are served by one more build afterwards. The build is
`index.store.build` (unchanged documents keep their vectors; the new index is written aside and
swapped in whole), so a failed build leaves the served index as it was. The action server sees the
new manifest at its next question and swaps the index in without restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from index.settings import Settings

logger = logging.getLogger(__name__)


class IndexRebuilder:
    """One background thread building the index whenever a request is pending."""

    def __init__(self, settings: Settings, load_embedder: Callable[[Settings], Any] | None = None) -> None:
        """Remember where to build; the embedding model is loaded at the first build."""
        self.settings = settings
        self._load_embedder = load_embedder
        self._embedder: Any = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._state: dict[str, Any] = {
            "state": "idle", "stage": "", "done": 0, "total": 0, "requested": 0, "completed": 0,
            "passages": None, "documents": None, "error": None, "started": None, "finished": None,
        }  # fmt: skip

    def request(self) -> int:
        """Ask for a build (started now, or after the one running); the request's number."""
        with self._lock:
            self._state["requested"] += 1
            ticket = self._state["requested"]
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="index-rebuild", daemon=True)
                self._thread.start()
        return ticket

    def status(self) -> dict[str, Any]:
        """A snapshot of the progress: state idle | running | done | failed, stage, counts."""
        with self._lock:
            return dict(self._state)

    def wait(self, ticket: int, timeout: float) -> dict[str, Any]:
        """Block until the build covering `ticket` finished (or the timeout); the status then."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            if status["completed"] >= ticket:
                return status
            time.sleep(0.1)
        return self.status()

    def _report(self, stage: str, done: int, total: int) -> None:
        """Progress from the build (read, embed, save)."""
        with self._lock:
            self._state.update(stage=stage, done=done, total=total)

    def _work(self) -> None:
        """Build while requests are pending, then let the thread end."""
        while True:
            with self._lock:
                if self._state["completed"] >= self._state["requested"]:
                    self._thread = None
                    return
                target = self._state["requested"]
                self._state.update(
                    state="running", stage="model", done=0, total=0, error=None, started=time.time()
                )
            result: dict[str, Any] = {"state": "done"}
            try:
                manifest = self._build()
                result.update(passages=manifest["passages"], documents=len(manifest["documents"]))
            except Exception as exc:  # noqa: BLE001 - reported in the console; the old index stays
                logger.exception("index rebuild failed")
                result.update(state="failed", error=str(exc)[:500])
            with self._lock:
                self._state.update(result, completed=target, finished=time.time(), stage="")

    def _build(self) -> dict[str, Any]:
        """Load the model once, then build the index incrementally."""
        from index.store import build

        if self._embedder is None:
            if self._load_embedder is None:
                from index.embed import load_embedder

                self._load_embedder = load_embedder
            self._embedder = self._load_embedder(self.settings)
        return build(self.settings, self._embedder, progress=False, report=self._report)
