"""Documents of the knowledge index: list, upload (PDF, DOCX, HTML, MD, TXT), remove, and the
progress of the background index rebuild that follows each change."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from pathlib import Path, PureWindowsPath
from typing import Any

from sanic import Request, Sanic, response
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse

from console.app import render, require
from console.cardfiles import CardError
from console.config import PREFIX, ConsoleConfig
from console.content import add_document, files_of, remove_document
from console.documents import META_FIELDS, UploadError, check_meta, extract, file_name, to_markdown
from console.history import versions
from console.rebuild import IndexRebuilder
from index.settings import Settings


def rebuilder_for(cfg: ConsoleConfig) -> IndexRebuilder:
    """The rebuilder of the assistant's index: the console's documents and index folders."""
    return IndexRebuilder(
        dataclasses.replace(Settings.from_env(), docs_dir=cfg.docs_dir, build_dir=cfg.index_dir)
    )


def document_rows(cfg: ConsoleConfig) -> list[dict[str, Any]]:
    """Each document file with the metadata answers cite (or the reason it cannot be read)."""
    from index.ingest import load_document

    rows = []
    for name in files_of(cfg, "docs"):
        path = cfg.docs_dir / name
        try:
            meta = load_document(path).meta
        except Exception as exc:  # noqa: BLE001 - shown next to the file
            rows.append({"name": name, "error": str(exc)})
            continue
        rows.append({"name": name, "meta": meta, "size": path.stat().st_size, "error": None})
    return rows


def status_text(msg: dict, status: dict[str, Any]) -> str:
    """The rebuild status as a sentence for staff (messages.yml `rebuild`)."""
    key = status["stage"] if status["state"] == "running" else status["state"]
    finished = datetime.fromtimestamp(status["finished"]).strftime("%H:%M:%S") if status["finished"] else ""
    return msg["rebuild"].get(key, key).format(**{**status, "finished": finished})


def register(app: Sanic) -> None:
    """Add the routes."""
    cfg, db, msg = app.ctx.cfg, app.ctx.db, app.ctx.msg
    app.ctx.rebuilder = rebuilder_for(cfg)

    def page(request: Request, status: int = 200, **context: Any) -> HTTPResponse:
        """The documents page: the list, the upload form, the rebuild's progress."""
        context.setdefault("form", {})
        return render(
            request, "documents.html", status=status, docs=document_rows(cfg), folder=str(cfg.docs_dir),
            rebuild=status_text(msg, app.ctx.rebuilder.status()), limit=f"{cfg.upload_max_bytes / 1e6:g}",
            uploaded=request.args.get("uploaded"), removed=request.args.get("removed"), **context,
        )  # fmt: skip

    @app.get(f"{PREFIX}/documents")
    async def document_list(request: Request) -> HTTPResponse:
        """Every document of the index and the upload form."""
        return page(request)

    @app.get(f"{PREFIX}/documents/status")
    async def rebuild_status(request: Request) -> HTTPResponse:
        """The rebuild's progress (polled by static/documents.js)."""
        status = app.ctx.rebuilder.status()
        return response.json({**status, "text": status_text(msg, status)})

    @app.post(f"{PREFIX}/documents")
    async def document_upload(request: Request) -> HTTPResponse:
        """Check, convert and write an uploaded document, then rebuild the index in the background."""
        user = require(request, "editor")
        form = {f: request.form.get(f) or "" for f in META_FIELDS}
        upload = request.files.get("file")
        original = PureWindowsPath((upload.name or "") if upload else "").name  # "C:\\...\\a.pdf" or "a.pdf"
        try:
            if upload is None or not original:
                raise UploadError("no_file")
            meta = check_meta(form)
            # pypdf and python-docx work off the event loop: other staff pages stay responsive
            _, text = await asyncio.to_thread(extract, original, upload.body, cfg.upload_max_bytes)
            name = file_name(meta)
            if (cfg.docs_dir / name).exists():
                raise UploadError("exists", name=name)
            note = msg["documents"]["note_upload"].format(name=original)
            add_document(db, cfg, user.name, name, to_markdown(meta, text, original), note)
        except UploadError as err:
            return page(request, status=400, form=form, problems=[err.text(msg)])
        except CardError as err:
            return page(request, status=400, form=form, problems=err.problems)
        app.ctx.rebuilder.request()
        return response.redirect(f"{PREFIX}/documents?uploaded={name}")

    @app.post(f"{PREFIX}/documents/rebuild")
    async def document_rebuild(request: Request) -> HTTPResponse:
        """Rebuild the index now (e.g. after documents were changed on disk)."""
        require(request, "editor")
        app.ctx.rebuilder.request()
        return response.redirect(f"{PREFIX}/documents")

    @app.get(f"{PREFIX}/documents/<name:str>")
    async def document_view(request: Request, name: str) -> HTTPResponse:
        """A document's file as the index reads it, and its versions."""
        if name not in files_of(cfg, "docs"):
            raise NotFound(msg["documents"]["missing"])
        text = (cfg.docs_dir / name).read_text(encoding="utf-8")
        history = versions(db, f"docs/{name}", 50)
        return render(request, "document.html", name=name, text=text, history=history, problems=[])

    @app.post(f"{PREFIX}/documents/<name:str>/remove")
    async def document_remove(request: Request, name: str) -> HTTPResponse:
        """Remove a document (a version keeps it) and rebuild the index."""
        user = require(request, "editor")
        if name not in files_of(cfg, "docs"):
            raise NotFound(msg["documents"]["missing"])
        try:
            remove_document(db, cfg, user.name, name, msg["documents"]["note_remove"].format(name=name))
        except CardError as err:
            text = (cfg.docs_dir / name).read_text(encoding="utf-8")
            history = versions(db, f"docs/{name}", 50)
            return render(
                request,
                "document.html",
                status=400,
                name=name,
                text=text,
                history=history,
                problems=err.problems,
            )
        app.ctx.rebuilder.request()
        return response.redirect(f"{PREFIX}/documents?removed={name}")


def docs_changed(app: Sanic, target: str) -> None:
    """After a content file changed ("docs/<name>" from a revert or a text edit): rebuild the index."""
    if Path(target).parts[:1] == ("docs",):
        app.ctx.rebuilder.request()
