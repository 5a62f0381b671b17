"""Answer cards: list, new, edit, versions and revert (editors change; viewers read)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from sanic import Request, Sanic, response
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse

from console.app import render, require
from console.cardfiles import CardError, locate
from console.cardops import create_card, raw_from_form, update_card
from console.config import PREFIX
from console.content import revert_to, root_of, split_path
from console.history import version, versions
from console.views_docs import docs_changed


def form_of(raw: dict) -> dict[str, str]:
    """A card mapping as the edit form's fields."""
    source = raw.get("source") or {}
    fields = {k: str(raw.get(k) or "") for k in ("id", "topic", "answer", "valid_from", "contact")}
    fields["questions"] = "\n".join(str(q) for q in raw.get("questions") or [])
    fields["related"] = " ".join(str(r) for r in raw.get("related") or [])
    fields.update(
        {f"source_{k}": str(source.get(k) or "") for k in ("title", "issuer", "date", "number", "article")}
    )
    return fields


def register(app: Sanic) -> None:
    """Add the routes."""
    cfg, db, msg = app.ctx.cfg, app.ctx.db, app.ctx.msg

    def edit_page(
        request: Request,
        form: dict,
        new: bool,
        status: int = 200,
        problems: Sequence[str] = (),
        name: str = "",
    ) -> HTTPResponse:
        """The card form (new or existing), with the problems of the last attempt."""
        history = versions(db, name, 50) if name else []
        return render(
            request, "card_form.html", status=status, form=form, new=new, problems=list(problems),
            file=name, history=history, added=request.args.get("added"),
        )  # fmt: skip

    @app.get(f"{PREFIX}/cards")
    async def card_list(request: Request) -> HTTPResponse:
        """Every card, and the problems the files have now."""
        store = app.ctx.cards
        store.reload_if_changed()
        cards = sorted(store.cards(), key=lambda c: (c.where.split(":")[0], c.id))
        return render(request, "cards.html", cards=cards, errors=store.errors, folder=str(cfg.cards_dir))

    @app.get(f"{PREFIX}/cards/new")
    async def card_new_form(request: Request) -> HTTPResponse:
        """A new card, its questions taken from an unanswered group (`?q=...&q=...`)."""
        require(request, "editor")
        form = {"questions": "\n".join(request.args.getlist("q") or [])}
        return edit_page(request, form, new=True)

    @app.post(f"{PREFIX}/cards/new")
    async def card_create(request: Request) -> HTTPResponse:
        """Validate and write a new card."""
        user = require(request, "editor")
        form = {k: request.form.get(k) or "" for k in request.form}
        try:
            create_card(db, cfg.cards_dir, user.name, raw_from_form(form))
        except CardError as err:
            return edit_page(request, form, new=True, status=400, problems=err.problems)
        app.ctx.cards.reload_if_changed()
        return response.redirect(f"{PREFIX}/cards/{form['id'].strip()}?added=new")

    @app.get(f"{PREFIX}/cards/<card_id:str>")
    async def card_edit_form(request: Request, card_id: str) -> HTTPResponse:
        """A card's form (read-only for viewers) and its file's versions."""
        found = locate(cfg.cards_dir, card_id)
        if found is None:
            raise NotFound(msg["card_missing"])
        return edit_page(request, form_of(found.raw), new=False, name=found.name)

    @app.post(f"{PREFIX}/cards/<card_id:str>")
    async def card_update(request: Request, card_id: str) -> HTTPResponse:
        """Validate and write an edited card."""
        user = require(request, "editor")
        found = locate(cfg.cards_dir, card_id)
        if found is None:
            raise NotFound(msg["card_missing"])
        form = {k: request.form.get(k) or "" for k in request.form}
        form["id"] = card_id
        try:
            update_card(db, cfg.cards_dir, user.name, card_id, raw_from_form(form, found.raw))
        except CardError as err:
            return edit_page(request, form, new=False, status=400, problems=err.problems, name=found.name)
        app.ctx.cards.reload_if_changed()
        return response.redirect(f"{PREFIX}/cards/{card_id}?added=saved")

    @app.get(f"{PREFIX}/versions")
    async def version_list(request: Request) -> HTTPResponse:
        """Every stored version of the content files."""
        reverted = request.args.get("reverted")
        return render(request, "versions.html", history=versions(db, None, 300), reverted=reverted)

    @app.get(f"{PREFIX}/versions/<version_id:int>")
    async def version_view(request: Request, version_id: int) -> HTTPResponse:
        """What reverting to a version would change (a diff against the file now)."""
        row = version(db, version_id)
        if row is None:
            raise NotFound(msg["version_missing"])
        area, name = split_path(row.path)
        path = root_of(cfg, area) / name
        now = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        then = (row.content or "").splitlines()
        diff = list(difflib.unified_diff(now, then, "hiện tại", f"phiên bản {version_id}", lineterm="", n=2))
        return render(request, "version.html", row=row, diff=diff)

    @app.post(f"{PREFIX}/versions/<version_id:int>/revert")
    async def version_revert(request: Request, version_id: int) -> HTTPResponse:
        """Give the file back its content before that change."""
        user = require(request, "editor")
        try:
            target = revert_to(db, cfg, user.name, version_id)
        except CardError as err:
            return render(
                request, "error.html", status=400, message=msg["card_invalid"], problems=err.problems
            )
        app.ctx.cards.reload_if_changed()
        docs_changed(app, target)
        return response.redirect(f"{PREFIX}/versions?reverted={version_id}")
