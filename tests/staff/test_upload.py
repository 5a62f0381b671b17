"""Document upload in the console on a free port: a PDF uploaded by an editor is written to the
documents folder, the index is rebuilt in the background, and a pipeline built before the upload
(the action server's, `index.pipeline.build_pipeline`) answers from it without restart; reverting
the upload gives the index its old documents back. Bad files are refused and change nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import shutil
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import pytest_asyncio
from sanic import Sanic

from console.app import create_app, messages
from console.auth import create_user
from console.config import ConsoleConfig
from console.db import make_engine
from tests.staff.test_web import Client

ROOT = Path(__file__).resolve().parents[2]
PDF = Path(__file__).parent / "fixtures" / "upload" / "phien-cho-bay-nui.pdf"
KEPT_DOCS = (
    "ag-2025-02-so-lieu-ocop-cong-thong-tin-tinh.md",
    "vn-2025-so-lieu-ocop-toan-quoc.md",
)  # small: quick builds
META = {
    "title": "Phiên chợ sản phẩm OCOP vùng Bảy Núi",
    "publisher": "Sở Nông nghiệp và Môi trường An Giang",
    "date": "2026-03-12",
    "source_url": "https://angiang.gov.vn/tin-tuc/phien-cho-ocop-bay-nui",
}
QUESTION = "Phiên chợ OCOP vùng Bảy Núi có bao nhiêu gian hàng?"
MSG = messages()


class Uploader(Client):
    """The browser-like client, plus multipart form posts (a file input)."""

    def _multipart(self, path: str, fields: dict[str, str], file: tuple[str, bytes]) -> tuple[int, str, dict]:
        import urllib.error
        import urllib.request

        boundary = uuid.uuid4().hex
        body = io.BytesIO()
        for key, value in fields.items():
            body.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
            )
        name, data = file
        body.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        body.write(data + f"\r\n--{boundary}--\r\n".encode())
        headers = {**self.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        req = urllib.request.Request(self.base + path, data=body.getvalue(), headers=headers)
        try:
            with self.opener.open(req, timeout=30) as resp:
                return resp.status, resp.read().decode(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(), dict(err.headers)

    async def upload(self, name: str, data: bytes, **meta: str) -> tuple[int, str, dict]:
        """Post the upload form with a file and the metadata (default: META)."""
        token = await self.csrf("/staff/documents")
        return await asyncio.to_thread(
            self._multipart, "/staff/documents", {"csrf": token, **META, **meta}, (name, data)
        )

    async def rebuilt(self, timeout: float = 180.0) -> dict[str, Any]:
        """Poll the rebuild status (as the page does) until every requested build finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, body, _ = await self.get("/staff/documents/status")
            assert status == 200, body
            state = json.loads(body)
            if state["requested"] and state["completed"] >= state["requested"]:
                return state
            await asyncio.sleep(0.3)
        raise AssertionError(f"no rebuild finished in {timeout} s: {state}")


def folder_state(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of a folder with its bytes and modification time."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


@pytest_asyncio.fixture
async def console(config: ConsoleConfig, tmp_path: Path) -> Any:
    """The console on 127.0.0.1:<free port> over a documents folder of two small documents and its
    index folder, with an editor and a viewer; a small upload limit (50 kB) to test it."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in KEPT_DOCS:
        shutil.copy(ROOT / "data" / "docs" / name, docs / name)
    cfg = dataclasses.replace(config, docs_dir=docs, index_dir=tmp_path / "index", upload_max_bytes=50_000)
    engine = make_engine(cfg.db_url)
    create_user(engine, "sua", "sua-mat-khau", "editor")
    create_user(engine, "xem", "xem-mat-khau", "viewer")
    Sanic.test_mode = True
    app = create_app(cfg)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    srv = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await srv.startup()
    await srv.before_start()
    await srv.after_start()
    yield {"base": f"http://127.0.0.1:{sock.getsockname()[1]}", "config": cfg, "app": app}
    await srv.before_stop()
    srv.close()
    await srv.after_stop()


async def test_an_uploaded_pdf_is_answered_without_restart_and_revert_restores_the_index(
    console: dict,
) -> None:
    from index.embed import load_embedder
    from index.pipeline import Context, build_pipeline
    from index.retrieve import HybridRetriever
    from index.settings import Settings
    from index.store import build

    cfg: ConsoleConfig = console["config"]
    settings = dataclasses.replace(
        Settings.from_env(), docs_dir=cfg.docs_dir, build_dir=cfg.index_dir, cards_dir=cfg.cards_dir,
        stats_dir=cfg.stats_dir,
    )  # fmt: skip
    embedder = load_embedder(settings)
    before = build(settings, embedder, progress=False)  # the index the assistant serves now
    assert sorted(before["documents"]) == sorted(Path(n).stem for n in KEPT_DOCS)
    pipeline = await asyncio.to_thread(
        build_pipeline, settings, None, HybridRetriever(cfg.index_dir, embedder)
    )
    refused = await asyncio.to_thread(pipeline.answer, QUESTION, Context())
    assert refused.kind == "refusal", refused  # nothing about this market yet
    pairs = pipeline.lexicon.bigrams[("bay", "nui")]  # the typo corrector's counts of "Bảy Núi"

    viewer, editor = Uploader(console["base"]), Uploader(console["base"])
    await viewer.login("xem", "xem-mat-khau")
    assert (await viewer.upload("phien-cho.pdf", PDF.read_bytes()))[0] == 403
    await editor.login("sua", "sua-mat-khau")
    status, body, headers = await editor.upload("phien-cho.pdf", PDF.read_bytes())
    assert status == 302, body
    name = "2026-03-12-phien-cho-san-pham-ocop-vung-bay-nui.md"
    assert headers["Location"] == f"/staff/documents?uploaded={name}"
    text = (cfg.docs_dir / name).read_text("utf-8")
    assert text.startswith('---\ntitle: "Phiên chợ sản phẩm OCOP vùng Bảy Núi"\n') and "48 gian hàng" in text

    status, body, _ = await editor.upload("C:\\Tai lieu\\phien-cho.pdf", PDF.read_bytes())
    assert status == 400 and MSG["upload"]["exists"].format(name=name) in body  # the same one again
    state = await editor.rebuilt()
    assert (state["state"], state["documents"], state["error"]) == ("done", 3, None), state
    page = (await editor.get("/staff/documents"))[1]
    assert name in page and "angiang.gov.vn" in page and "3 tài liệu" in page  # listed; rebuild done

    reply = await asyncio.to_thread(pipeline.answer, QUESTION, Context())  # the same pipeline: no restart
    assert reply.kind == "passage" and reply.refs == (f"doc:{Path(name).stem}",), reply
    assert "48 gian hàng" in reply.kwargs["answer"]
    assert reply.kwargs["source"].startswith(META["publisher"]) and reply.kwargs["date"] == "12/03/2026"
    assert pipeline.lexicon.bigrams[("bay", "nui")] > pairs  # the reloaded index's words are known too

    versions = (await editor.get(f"/staff/documents/{name}"))[1]
    version_id = int(versions.split('href="/staff/versions/')[1].split('"')[0])
    token = await editor.csrf("/staff/versions")
    status, _, _ = await editor.post(f"/staff/versions/{version_id}/revert", {"csrf": token})
    assert status == 302 and not (cfg.docs_dir / name).exists()
    state = await editor.rebuilt()
    assert state["state"] == "done" and state["documents"] == 2, state
    manifest = json.loads((cfg.index_dir / "manifest.json").read_text("utf-8"))
    assert manifest["documents"].keys() == before["documents"].keys()
    again = await asyncio.to_thread(pipeline.answer, QUESTION, Context())
    assert again.kind == "refusal", again


async def test_bad_files_are_refused_with_a_message_and_nothing_changes(console: dict) -> None:
    cfg: ConsoleConfig = console["config"]
    cfg.index_dir.mkdir()
    (cfg.index_dir / "manifest.json").write_text('{"documents": {}}', "utf-8")  # stands for the served index
    docs, index = folder_state(cfg.docs_dir), folder_state(cfg.index_dir)
    editor = Uploader(console["base"])
    await editor.login("sua", "sua-mat-khau")
    pdf = PDF.read_bytes()
    from tests.staff.test_documents import blank_pdf

    upload = MSG["upload"]
    cases = [  # (file name, bytes, metadata changes, the start of the expected message)
        ("hong.pdf", pdf[: len(pdf) // 2], {}, upload["pdf_corrupt"].split("“")[0]),
        ("scan.pdf", blank_pdf(), {}, upload["pdf_no_text"].split("“")[0]),
        ("ghi-chu.txt", pdf, {}, upload["mismatch"].split("“")[0]),
        ("cu.doc", b"\xd0\xcf\x11\xe0", {}, upload["extension"].split("“")[0]),
        ("lon.txt", "Văn bản rất dài. ".encode() * 4000, {}, upload["too_large"].split("“")[0]),
        ("rong.md", b"", {}, upload["empty"].split("“")[0]),
        ("phien-cho.pdf", pdf, {"source_url": ""}, "Vui lòng điền đường dẫn nguồn"),
        ("phien-cho.pdf", pdf, {"source_url": "angiang.gov.vn/tin"}, upload["bad_url"].split("“")[0]),
        ("phien-cho.pdf", pdf, {"date": "30/02/2026"}, upload["bad_date"].split("“")[0]),
    ]
    for name, data, meta, expected in cases:
        status, body, _ = await editor.upload(name, data, **meta)
        assert status == 400 and expected in body, (name, meta, body[-1500:])
        assert meta.get("date", META["date"]) in body  # the form keeps what was typed
    big = b"%PDF-1.7\n" + b"0" * 2_100_000  # beyond what Sanic reads at all
    status, body, _ = await editor.upload("lon.pdf", big)
    assert status == 413 and MSG["upload"]["request_too_large"].split("{")[0] in body, body[-800:]
    status, body, _ = await editor.post(
        "/staff/documents/vn-2025-so-lieu-ocop-toan-quoc.md/remove",
        {"csrf": await editor.csrf("/staff/documents")},
    )  # the statistics table quotes this document
    assert status == 400 and "vn-2025-so-lieu-ocop-toan-quoc.md" in body and "ocop_stats.csv" in body
    assert folder_state(cfg.docs_dir) == docs and folder_state(cfg.index_dir) == index
    assert console["app"].ctx.rebuilder.status()["requested"] == 0  # no rebuild was started
