"""The survey's pages: a candidate's answer (a plain form post under the feedback,
back to the page with a message) and the admins' wording page."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import admin_of, candidate_of
from portal.concurrency import Conflict
from portal.db import utcnow
from portal.forms import FormState, read_form
from portal.security.actors import Staff
from portal.survey import service
from portal.survey.forms import LABELS, SurveyAnswerForm, SurveyWordingForm
from portal.web import client_ip_hash, db_session, path_for, portal, redirect_page, render

NO_STORE = {"cache-control": "no-store"}


def _secret(request: Request) -> str:
    return portal(request).settings.secret_key.get_secret_value()


async def answer(request: Request) -> Response:
    """Record the candidate's answer and go back to the page, at the survey, with a
    message; a bad answer (a forged post: the form offers only 1 to 5) goes back with
    what needs fixing."""
    actor = candidate_of(request)
    application_id: int = request.path_params["application_id"]
    data, _form = await read_form(request, SurveyAnswerForm)
    page = path_for(request, "candidate.feedback", application_id=application_id)
    try:
        async with db_session(request) as db:
            # Someone else's application is a 404 whatever was posted.
            await service.check_answerable(db, actor=actor, application_id=application_id)
            if data is None:
                return redirect_page(request, page + "?survey=invalid#survey")
            await service.answer(
                db,
                actor=actor,
                application_id=application_id,
                helpfulness=data.helpfulness,
                fairness=data.fairness,
                comment=data.comment,
                secret_key=_secret(request),
                now=utcnow(),
            )
    except service.NotAnswerable:
        raise HTTPException(404) from None
    except service.AnswerClosed:
        return redirect_page(request, page + "?survey=closed#survey")
    return redirect_page(request, page + "?survey=thanks#survey")


def _context(
    actor: Staff, wording: service.Wording, form: FormState, **more: Any
) -> dict[str, Any]:
    return {
        "staff": actor,
        "wording": wording,
        "form": form,
        "error_fields": {name: (name, label) for name, label in LABELS.items()},
        **more,
    }


async def wording_page(request: Request) -> Response:
    actor = admin_of(request)
    async with db_session(request) as db:
        wording = await service.wording_of(db, organization_id=actor.organization_id)
    form = FormState(
        values={
            "helpfulness": wording.helpfulness,
            "fairness": wording.fairness,
            "comment": wording.comment,
            "version": str(wording.version),
        }
    )
    context = _context(actor, wording, form, saved="saved" in request.query_params)
    return render(request, "staff/survey_settings.html", context, headers=NO_STORE)


async def save_wording(request: Request) -> Response:
    actor = admin_of(request)
    data, form = await read_form(request, SurveyWordingForm)
    async with db_session(request) as db:
        wording = await service.wording_of(db, organization_id=actor.organization_id)
    if data is None:
        return render(
            request,
            "staff/survey_settings.html",
            _context(actor, wording, form),
            status_code=422,
            headers=NO_STORE,
        )
    try:
        async with db_session(request) as db:
            await service.change_wording(
                db,
                actor=actor,
                helpfulness=data.helpfulness,
                fairness=data.fairness,
                comment=data.comment,
                version=data.version,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except Conflict:
        # Kept as typed, against the version saved meanwhile: saving again overwrites it.
        form.values["version"] = str(wording.version)
        return render(
            request,
            "staff/survey_settings.html",
            _context(actor, wording, form, conflict=True),
            status_code=409,
            headers=NO_STORE,
        )
    return redirect_page(request, path_for(request, "staff.survey_settings") + "?saved=1")


candidate_routes = [
    Route(
        "/feedback/{application_id:id}/survey",
        answer,
        methods=["POST"],
        name="candidate.survey",
    )
]
admin_routes = [
    Route("/survey-settings", wording_page, methods=["GET"], name="staff.survey_settings"),
    Route("/survey-settings", save_wording, methods=["POST"], name="staff.survey_settings_save"),
]
