"""Scorecards on the application page (add one, delete one after a confirmation),
"Draft from scorecards" for one application, and a bulk drafting run's progress."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import staff_of
from portal.db import utcnow
from portal.drafting import jobs as drafting_jobs
from portal.drafting import service as drafting
from portal.drafting.forms import DeleteScorecardForm, ScorecardForm
from portal.drafting.models import ScorecardSource
from portal.forms import read_form, validate_input
from portal.web import (
    client_ip_hash,
    db_session,
    is_htmx,
    path_for,
    portal,
    redirect_page,
    render,
)
from portal.workspace.routes import (
    APPLICATION,
    NO_STORE,
    application_context,
    application_id_of,
    application_url,
)

TEMPLATE = "staff/application.html"


async def add_scorecard(request: Request) -> Response:
    actor = staff_of(request)
    application_id = application_id_of(request)
    data, form = await read_form(request, ScorecardForm)
    if data is None:
        context = await application_context(request, actor, application_id)
        context["card_form"] = form
        return render(request, TEMPLATE, context, status_code=422, headers=NO_STORE)
    try:
        async with db_session(request) as db:
            await drafting.add_scorecard(
                db,
                actor=actor,
                application_id=application_id,
                card=data.scorecard(),
                source=ScorecardSource.FORM,
                staff_id=actor.staff_id,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except drafting.NotFound:
        raise HTTPException(404) from None
    return redirect_page(request, application_url(request, application_id, "scorecard_added"))


async def _card(request: Request, application_id: int, scorecard_id: int) -> Any:
    actor = staff_of(request)
    try:
        async with db_session(request) as db:
            cards = await drafting.scorecards_for(db, actor=actor, application_id=application_id)
    except drafting.NotFound:
        raise HTTPException(404) from None
    card = next((c for c in cards if c.id == scorecard_id), None)
    if card is None:
        raise HTTPException(404)
    return card


async def confirm_delete(request: Request) -> Response:
    actor = staff_of(request)
    application_id = application_id_of(request)
    context = await application_context(request, actor, application_id)
    chosen, _ = validate_input(
        DeleteScorecardForm, {"scorecard": request.query_params.get("scorecard", "")}
    )
    if chosen is None:
        return redirect_page(request, application_url(request, application_id))
    context["card"] = await _card(request, application_id, chosen.scorecard)
    return render(request, "staff/scorecard_delete.html", context, headers=NO_STORE)


async def delete_scorecard(request: Request) -> Response:
    actor = staff_of(request)
    application_id = application_id_of(request)
    data, _ = await read_form(request, DeleteScorecardForm)
    try:
        if data is None:
            async with db_session(request) as db:
                await drafting.scorecards_for(db, actor=actor, application_id=application_id)
            return redirect_page(request, application_url(request, application_id))
        async with db_session(request) as db:
            await drafting.delete_scorecard(
                db,
                actor=actor,
                application_id=application_id,
                scorecard_id=data.scorecard,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except drafting.NotFound:
        raise HTTPException(404) from None
    return redirect_page(request, application_url(request, application_id, "scorecard_deleted"))


async def draft_from_scorecards(request: Request) -> Response:
    """Draft the feedback from the scorecards as a new saved version (never published)
    and open it in the editor, where the check runs on it and each sentence's source
    is shown."""
    actor = staff_of(request)
    application_id = application_id_of(request)
    try:
        async with db_session(request) as db:
            await drafting.draft_one(
                db,
                actor=actor,
                application_id=application_id,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except drafting.NotFound:
        raise HTTPException(404) from None
    except drafting.AlreadyPublished:
        return redirect_page(request, application_url(request, application_id, "draft_published"))
    except drafting.NoScorecards:
        return redirect_page(request, application_url(request, application_id, "draft_nothing"))
    editor = path_for(request, "staff.feedback_editor", application_id=application_id)
    return redirect_page(request, f"{editor}?done=drafted")


async def drafting_run(request: Request) -> Response:
    """A bulk drafting run's progress: htmx asks again every two seconds while it runs;
    without JavaScript, reloading the page shows the same."""
    actor = staff_of(request)
    run_id = int(request.path_params["run_id"])
    async with db_session(request) as db:
        run = await drafting_jobs.load_run(db, actor=actor, run_id=run_id)
    if run is None:
        raise HTTPException(404)
    portal(request).wake_worker()
    context = {"staff": actor, "run": run, "total": len(run.application_ids)}
    block = "progress" if is_htmx(request) else None
    return render(request, "staff/drafting_run.html", context, headers=NO_STORE, block=block)


routes = [
    Route(APPLICATION + "/scorecards", add_scorecard, methods=["POST"], name="staff.scorecard_add"),
    Route(
        APPLICATION + "/scorecards/delete",
        confirm_delete,
        methods=["GET"],
        name="staff.scorecard_delete_confirm",
    ),
    Route(
        APPLICATION + "/scorecards/delete",
        delete_scorecard,
        methods=["POST"],
        name="staff.scorecard_delete",
    ),
    Route(
        APPLICATION + "/draft",
        draft_from_scorecards,
        methods=["POST"],
        name="staff.draft_from_scorecards",
    ),
    Route("/drafting/runs/{run_id:id}", drafting_run, methods=["GET"], name="staff.drafting_run"),
]
