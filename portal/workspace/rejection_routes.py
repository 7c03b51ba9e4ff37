"""Adding a rejection by hand (`/staff/applications/new`): the form, then the feedback
editor of the new application. The rules are in `portal.workspace.rejection`."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import staff_of
from portal.candidates.decisions import earliest_day
from portal.candidates.service import job_titles
from portal.db import utcnow
from portal.forms import FormState, read_form
from portal.security.actors import Staff
from portal.web import (
    client_ip_hash,
    db_session,
    optional_path_for,
    path_for,
    redirect_page,
    render,
)
from portal.workspace import rejection
from portal.workspace.forms import RejectionForm
from portal.workspace.routes import NO_STORE
from portal.workspace.service import STAGE_NAMES

TEMPLATE = "staff/rejection_new.html"


async def _page(
    request: Request,
    actor: Staff,
    form: FormState,
    *,
    status: int = 200,
    duplicate: int | None = None,
) -> Response:
    async with db_session(request) as db:
        # An archived job takes no new rejections: it is not offered.
        jobs = await job_titles(db, actor=actor, archived=False)
    today = utcnow().date()
    context = {
        "staff": actor,
        "form": form,
        "jobs": jobs,
        "stages": STAGE_NAMES,
        "today": today.isoformat(),
        "earliest": earliest_day(today).isoformat(),
        "duplicate": duplicate,
        # The jobs page, where the app has one (a job is needed first).
        "new_job_url": optional_path_for(request, "staff.job_new"),
    }
    return render(request, TEMPLATE, context, status_code=status, headers=NO_STORE, block="form")


async def new_rejection(request: Request) -> Response:
    actor = staff_of(request)
    form = FormState(values={"decided_on": utcnow().date().isoformat()})
    return await _page(request, actor, form)


async def add_rejection(request: Request) -> Response:
    actor = staff_of(request)
    data, form = await read_form(request, RejectionForm)
    if data is None:
        return await _page(request, actor, form, status=422)
    try:
        async with db_session(request) as db:
            added = await rejection.add_rejection(
                db, actor=actor, form=data, now=utcnow(), ip_hash=client_ip_hash(request)
            )
    except rejection.BadDecisionDate as exc:
        form.errors["decided_on"] = str(exc)
        return await _page(request, actor, form, status=422)
    except rejection.UnknownJob:
        # Not a job of the organization's (a forged id, or one deleted meanwhile).
        form.errors["job"] = "Choose the job."
        return await _page(request, actor, form, status=422)
    except rejection.ArchivedJob:
        # Archived while the form was open.
        form.errors["job"] = (
            "That job was archived: it takes no new rejections. Choose another, or bring "
            "it back from the archive on its page first."
        )
        return await _page(request, actor, form, status=422)
    except rejection.AlreadyRejected as exc:
        return await _page(request, actor, form, status=409, duplicate=exc.application_id)
    done = "added"
    if added.existing_candidate:
        done = "added_existing_name" if added.name_kept else "added_existing"
    editor = path_for(request, "staff.feedback_editor", application_id=added.application_id)
    return redirect_page(request, f"{editor}?{urlencode({'done': done})}")


routes = [
    Route("/applications/new", new_rejection, methods=["GET"], name="staff.rejection_new"),
    Route("/applications/new", add_rejection, methods=["POST"], name="staff.rejection_add"),
]
