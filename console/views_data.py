"""Overview, conversations (masked; CSV export) and unanswered questions."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from urllib.parse import urlencode

from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from bot.logmask import mask_pii_stdlib as mask
from console import insights
from console.app import render, require
from console.cardfiles import CardError
from console.cardops import add_questions
from console.clusters import normalize
from console.config import PREFIX
from console.history import dismiss, dismissed, undismiss
from console.outcomes import DISLIKED, OUTCOMES
from index.cards import CardStore

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (user text may start with "=")."""
    return "'" + text if text.startswith(FORMULA_START) else text


CSV_FIELDS = (
    "time", "conversation", "channel", "question", "outcome", "responses", "refs", "reply", "feedback",
    "feedback_comment",
)  # fmt: skip


def register(app: Sanic) -> None:
    """Add the routes."""
    cfg, db, msg = app.ctx.cfg, app.ctx.db, app.ctx.msg
    app.ctx.cards = CardStore(cfg.cards_dir)
    app.ctx.embed = insights.Embeddings()

    def period(request: Request, default_days: int = 30) -> tuple[float | None, float | None]:
        """The period of the date filters (default: the last `default_days` days)."""
        since = insights.parse_day(request.args.get("from"))
        until = insights.parse_day(request.args.get("to"), end=True)
        return (since if since is not None else time.time() - default_days * 86400), until

    @app.get(f"{PREFIX}/")
    async def overview(request: Request) -> HTTPResponse:
        """Questions per day and channel, and how they were answered."""
        since, until = period(request)
        turns = await asyncio.to_thread(insights.turns_between, app.ctx.tracker, since, until)
        days = insights.daily_counts(turns)
        channels = sorted({c for d in days for c in d["channels"]})
        totals = insights.outcome_totals(turns)
        refs = insights.top_refs(turns)
        feedback = insights.feedback_totals(turns)
        charts = insights.chart_data(days, totals, refs, msg, feedback)
        return render(
            request, "home.html", days=days, channels=channels, totals=totals, count=len(turns),
            refs=refs, charts=charts, feedback=feedback,
        )  # fmt: skip

    @app.get(f"{PREFIX}/conversations")
    async def conversation_list(request: Request) -> HTTPResponse:
        """Conversations filtered by date, channel and outcome."""
        since, until = period(request)
        turns = await asyncio.to_thread(insights.turns_between, app.ctx.tracker, since, until)
        channel, outcome = request.args.get("channel", ""), request.args.get("outcome", "")
        found = insights.conversations(turns, channel, outcome)
        query = urlencode({k: request.args.get(k) for k in request.args})
        return render(
            request,
            "conversations.html",
            conversations=found[:300],
            total=len(found),
            channels=sorted({t.channel for t in turns}),
            outcomes=(*OUTCOMES, DISLIKED),
            args={k: request.args.get(k, "") for k in ("from", "to", "channel", "outcome")},
            query=query,
            mask=mask,
        )

    @app.get(f"{PREFIX}/conversations/<sender:str>")
    async def conversation(request: Request, sender: str) -> HTTPResponse:
        """One conversation's transcript, phone and ID numbers masked."""
        events = insights.read_events(app.ctx.tracker, sender=sender)
        turns = await asyncio.to_thread(lambda: insights.build_turns(events))
        return render(request, "conversation.html", sender=sender, turns=turns, mask=mask)

    @app.get(f"{PREFIX}/conversations.csv")
    async def export(request: Request) -> HTTPResponse:
        """The filtered turns as CSV; unmasked only for admins (`?raw=1`)."""
        raw = request.args.get("raw") == "1"
        if raw:
            require(request, "admin")
        since, until = period(request)
        turns = await asyncio.to_thread(insights.turns_between, app.ctx.tracker, since, until)
        channel, outcome = request.args.get("channel", ""), request.args.get("outcome", "")
        show = safe_cell if raw else (lambda s: safe_cell(mask(s)))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_FIELDS)
        for conv in insights.conversations(turns, channel, outcome):
            for t in conv.turns:
                writer.writerow(
                    [time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t.at)), show(t.sender), t.channel]
                    + [show(t.text), t.outcome, " ".join(t.responses), " ".join(t.refs or ())]
                    + [show(" | ".join(t.replies)), t.feedback or "", show(t.feedback_comment or "")]
                )
        name = "hoi-thoai" + ("-day-du" if raw else "") + ".csv"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return response.text(out.getvalue(), headers=headers, content_type="text/csv; charset=utf-8")

    @app.get(f"{PREFIX}/unanswered")
    async def unanswered(request: Request) -> HTTPResponse:
        """Refused and fallback questions grouped by meaning, then the questions whose answer was
        rated 👎, grouped the same way, with what an editor can do."""
        days = request.args.get("days", "90")
        days = max(1, min(365, int(days))) if days.isdigit() else 90
        store, embed = app.ctx.cards, app.ctx.embed
        hidden_rows = dismissed(db)
        hidden = {row.text for row in hidden_rows}
        groups = await asyncio.to_thread(
            insights.unanswered_groups, app.ctx.tracker, store, embed, days, hidden
        )
        disliked = await asyncio.to_thread(
            insights.disliked_groups, app.ctx.tracker, store, embed, days, hidden
        )
        needle = (request.args.get("q") or "").strip()
        if needle:
            groups = insights.matching(groups, needle)
            disliked = insights.matching(disliked, needle)
        shown, disliked_shown = groups[:100], disliked[:100]
        options: dict[str, list] = {}
        disliked_options: dict[str, list] = {}
        if request.ctx.user.can("editor"):
            for found, into in ((shown, options), (disliked_shown, disliked_options)):
                for group in found[:30]:
                    into[group.key] = await asyncio.to_thread(
                        insights.cards_by_similarity, store, embed, group.centroid
                    )
        return render(
            request,
            "unanswered.html",
            groups=shown,
            total=len(groups),
            days=days,
            needle=needle,
            hidden=hidden_rows,
            options=options,
            disliked=disliked_shown,
            disliked_total=len(disliked),
            disliked_options=disliked_options,
            all_cards=sorted(store.cards(), key=lambda c: c.id),
            new_card_url=lambda g: f"{PREFIX}/cards/new?" + urlencode([("q", q) for q in g.questions[:20]]),
            mask=mask,
        )

    @app.post(f"{PREFIX}/unanswered/add")
    async def add_to_card(request: Request) -> HTTPResponse:
        """Add the checked questions of a group to a card as paraphrases."""
        user = require(request, "editor")
        card_id = request.form.get("card") or ""
        questions = request.form.getlist("q") or []
        try:
            added = add_questions(db, cfg.cards_dir, user.name, card_id, questions)
        except CardError as err:
            return render(
                request, "error.html", status=400, message=msg["card_invalid"], problems=err.problems
            )
        app.ctx.cards.reload_if_changed()
        return response.redirect(f"{PREFIX}/cards/{card_id}?added={added}")

    @app.post(f"{PREFIX}/unanswered/dismiss")
    async def dismiss_questions(request: Request) -> HTTPResponse:
        """Hide the checked questions of a group (not to be answered: weather, lottery, ...)."""
        user = require(request, "editor")
        dismiss(db, user.name, [normalize(q) for q in request.form.getlist("q") or []])
        return response.redirect(f"{PREFIX}/unanswered")

    @app.post(f"{PREFIX}/unanswered/restore")
    async def restore_question(request: Request) -> HTTPResponse:
        """Show a dismissed question again."""
        user = require(request, "editor")
        undismiss(db, user.name, request.form.get("text") or "")
        return response.redirect(f"{PREFIX}/unanswered")
