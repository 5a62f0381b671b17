"""The console's background index rebuild (console/rebuild.py) with a stand-in embedder: progress
stages, requests made during a build served by one more build, a failed build reported while
the served index stays as it was, and the status sentences of messages.yml."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from console.app import messages
from console.rebuild import IndexRebuilder
from console.views_docs import status_text
from index.settings import Settings
from tests.staff.conftest import fake_embed


class StandIn:
    """The embedder interface over hashed words; `gate` holds passage encoding until set."""

    model_id = "stand-in"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.gate = threading.Event()
        self.gate.set()
        self.calls = 0

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return fake_embed(texts)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.calls += 1
        self.gate.wait(10)
        if self.fail:
            raise RuntimeError("out of memory while embedding")
        return fake_embed(texts)


def doc(folder: Path, name: str, sentences: int) -> None:
    """A document of `sentences` sentences (about one passage per five)."""
    body = " ".join(
        f"Câu số {i} của tài liệu {name} nói về sản phẩm OCOP của tỉnh." for i in range(sentences)
    )
    (folder / f"{name}.md").write_text(f'---\ntitle: "{name}"\npublisher: "Sở"\n---\n{body}\n', "utf-8")


def settings_in(tmp_path: Path) -> Settings:
    """Two documents and an index folder."""
    docs = tmp_path / "docs"
    docs.mkdir()
    doc(docs, "mot", 80)
    doc(docs, "hai", 5)
    return Settings(docs_dir=docs, build_dir=tmp_path / "index")


def test_progress_and_requests_during_a_build(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    embedder = StandIn()
    embedder.gate.clear()  # the first build waits in its first chunk of passages
    seen: list[tuple[str, int, int]] = []
    rebuilder = IndexRebuilder(settings, lambda s: embedder)
    original = rebuilder._report
    rebuilder._report = lambda stage, done, total: (
        seen.append((stage, done, total)),
        original(stage, done, total),
    )
    first = rebuilder.request()
    for _ in range(100):
        if rebuilder.status()["stage"] == "embed":
            break
        threading.Event().wait(0.05)
    running = rebuilder.status()
    assert running["state"] == "running" and running["total"] > 8 and running["done"] == 0
    assert "0/" in status_text(messages(), running)
    doc(settings.docs_dir, "ba", 5)  # a document added while the build runs ...
    second, third = rebuilder.request(), rebuilder.request()
    embedder.gate.set()
    status = rebuilder.wait(third, 30)
    assert (first, second, third) == (1, 2, 3) and status["completed"] == 3 and status["state"] == "done"
    assert status["documents"] == 3  # ... is in the index: one more build served both requests
    stages = [s for s, _, _ in seen]
    assert stages[0] == "read" and stages[-1] == "save" and stages.count("read") == 2  # two builds, not three
    builds: list[list[tuple[int, int]]] = []
    for stage, done, total in seen:
        if stage == "read":
            builds.append([])
        elif stage == "embed":
            builds[-1].append((done, total))
    assert all(b == sorted(b) and b[-1][0] == b[-1][1] for b in builds)  # counts go up to the total
    assert builds[0][-1][1] > 8 and builds[1][-1][1] == 1  # the second embeds only the new document
    assert "3 tài liệu" in status_text(messages(), status)


def test_a_failed_build_is_reported_and_the_index_stays(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    good = IndexRebuilder(settings, lambda s: StandIn())
    assert good.wait(good.request(), 30)["state"] == "done"
    files = {p: p.read_bytes() for p in sorted(settings.build_dir.rglob("*")) if p.is_file()}
    doc(settings.docs_dir, "ba", 5)
    bad = IndexRebuilder(settings, lambda s: StandIn(fail=True))
    status = bad.wait(bad.request(), 30)
    assert status["state"] == "failed" and "out of memory" in status["error"]
    text = status_text(messages(), status)
    assert "chỉ mục cũ" in text and "out of memory" in text
    assert {p: p.read_bytes() for p in sorted(settings.build_dir.rglob("*")) if p.is_file()} == files
    assert not settings.build_dir.with_name("index.tmp").exists()
