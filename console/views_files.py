"""Content files edited as text: statistics rows, contacts (and card files), with the loaders' checks."""

from __future__ import annotations

from sanic import Request, Sanic, response
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse

from console.app import render, require
from console.cardfiles import CardError
from console.config import PREFIX
from console.content import AREAS, files_of, root_of, save_text
from console.history import versions
from console.views_docs import docs_changed


def register(app: Sanic) -> None:
    """Add the routes."""
    cfg, db = app.ctx.cfg, app.ctx.db

    def file_text(area: str, name: str) -> str:
        """The current text of an editable file (404 for anything else)."""
        if area not in AREAS or name not in files_of(cfg, area):
            raise NotFound("not found")
        return (root_of(cfg, area) / name).read_text(encoding="utf-8")

    @app.get(f"{PREFIX}/files")
    async def file_list(request: Request) -> HTTPResponse:
        """The content files of each area."""
        return render(request, "files.html", areas={a: files_of(cfg, a) for a in AREAS})

    @app.get(f"{PREFIX}/files/<area:str>/<name:str>")
    async def file_form(request: Request, area: str, name: str) -> HTTPResponse:
        """A file's text (read-only for viewers), its current problems and versions."""
        text = file_text(area, name)
        return render(
            request, "file_form.html", area=area, name=name, text=text, problems=[],
            history=versions(db, f"{area}/{name}", 50), saved=request.args.get("saved"),
        )  # fmt: skip

    @app.post(f"{PREFIX}/files/<area:str>/<name:str>")
    async def file_save(request: Request, area: str, name: str) -> HTTPResponse:
        """Validate and write a file's new text."""
        user = require(request, "editor")
        file_text(area, name)
        text = request.form.get("text") or ""
        try:
            save_text(db, cfg, user.name, area, name, text)
        except CardError as err:
            return render(
                request, "file_form.html", status=400, area=area, name=name, text=text,
                problems=err.problems, history=versions(db, f"{area}/{name}", 50), saved=None,
            )  # fmt: skip
        app.ctx.cards.reload_if_changed()
        docs_changed(app, f"{area}/{name}")
        return response.redirect(f"{PREFIX}/files/{area}/{name}?saved=1")
