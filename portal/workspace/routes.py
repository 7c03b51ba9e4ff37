"""The recruiter's workspace pages: the applications list, an application, its links
and its PDF summary. (The feedback editor is in `portal.workspace.editor`.)"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import staff_of
from portal.db import utcnow
from portal.drafting import service as drafting
from portal.feedback.view import Version, load_feedback_view
from portal.forms import FormState, validate_input
from portal.pdf.download import summary_download
from portal.pdf.summary import summary_view
from portal.security.actors import Staff
from portal.survey.service import survey_link
from portal.timing import service as timing
from portal.timing.models import SendState
from portal.timing.untold import untold_days
from portal.web import (
    client_ip_hash,
    db_session,
    parse_form,
    parse_query,
    path_for,
    portal,
    redirect_page,
    render,
)
from portal.workspace import service
from portal.workspace.forms import BULK_MAX, ApplicationFilter, FeedbackFilter, LinkForm, Sort
from portal.workspace.service import STAGE_NAMES

NO_STORE = {"cache-control": "no-store"}
# What the application page says after an action (?done=...): fixed texts only.
DONE = {
    "resent": "A new invitation is on its way to the candidate, with a link of its own.",
    "revoked": "The link no longer works.",
    "saved": "Saved as a new version.",
    "unchanged": "Nothing had changed, so no new version was saved.",
    # Scorecards and drafting from them (portal.workspace.scorecard_routes).
    "scorecard_added": "Scorecard added.",
    "scorecard_deleted": "Scorecard deleted.",
    "draft_published": "The feedback is published already: a draft from the scorecards was "
    "not made. Edit the feedback instead.",
    "draft_nothing": "This application has no scorecards to draft from yet: add one below.",
    "drafted": "Drafted from the scorecards and saved as a new version. Nothing is published: "
    "review each sentence (its source is listed under the editor), correct it, then publish.",
    "published": "Published. The candidate can read it; when their email goes is shown below.",
    # The send window's actions (portal.workspace.sending_routes).
    "sent_now": "Sent now: the invitation email is queued, with your reason on record.",
    "called_sent": "Call ticked off: the invitation email is queued.",
    "called_scheduled": "Call ticked off: the invitation email goes when the send window opens.",
    # After a rejection added by hand (portal.workspace.rejection_routes).
    "added": "Rejection added. Write the feedback now or later: the candidate hears nothing "
    "until it is published.",
    "added_existing": "Rejection added to a candidate already on file: the email address "
    "matched their record.",
    "added_existing_name": "Rejection added to a candidate already on file: the email address "
    "matched their record. The name on file, shown here, was kept; the name you typed was "
    "different and was not saved.",
}
FEEDBACK_WORDS = {"none": "No feedback", "draft": "Draft", "published": "Published"}
SORT_WORDS = {
    Sort.NEWEST: "Newest decision first",
    Sort.OLDEST: "Oldest decision first",
    Sort.NAME: "Candidate name",
    Sort.JOB: "Job",
}


def application_id_of(request: Request) -> int:
    """The application in the path (`{application_id:id}`: within the column's range)."""
    application_id: int = request.path_params["application_id"]
    return application_id


async def applications(request: Request) -> Response:
    actor = staff_of(request)
    filters, form, status = parse_query(request, ApplicationFilter)
    return await applications_page(request, actor, filters=filters, form=form, status=status)


async def applications_page(
    request: Request,
    actor: Staff,
    *,
    filters: ApplicationFilter,
    form: FormState,
    status: int = 200,
    bulk: FormState | None = None,
) -> Response:
    """The list for `filters` (the filter form as typed: `form`); `bulk` is the bulk
    bar's form as posted, when it comes back to be corrected."""
    async with db_session(request) as db:
        listing = await service.list_applications(db, actor=actor, filters=filters)
    kept = {name: value for name, value in form.values.items() if name != "page"}
    context = {
        "staff": actor,
        "listing": listing,
        "form": form,
        "kept": kept,
        "filters": filters,
        "stages": STAGE_NAMES,
        "feedback_words": FEEDBACK_WORDS,
        "feedback_filters": [f.value for f in FeedbackFilter],
        "sorts": SORT_WORDS,
        "bulk": bulk or FormState(),
        "bulk_max": BULK_MAX,
        "now": utcnow(),
    }
    return render(
        request,
        "staff/applications.html",
        context,
        status_code=status,
        headers=NO_STORE,
        block="results",
    )


async def application_context(
    request: Request, actor: Staff, application_id: int
) -> dict[str, Any]:
    try:
        async with db_session(request) as db:
            detail = await service.application_detail(
                db, actor=actor, application_id=application_id
            )
            scorecards = await drafting.scorecards_for(
                db, actor=actor, application_id=application_id
            )
            measured = await drafting.usefulness(db, actor=actor, application_id=application_id)
            sending = await timing.send_status(db, actor=actor, application_id=application_id)
    except (service.ApplicationNotFound, drafting.NotFound):
        raise HTTPException(404) from None
    return {
        "staff": actor,
        "application": detail,
        "scorecards": scorecards,
        "measured": measured,
        "sending": sending,
        "untold_days": untold_days(detail.decided_at, utcnow()),
        "send_form": FormState(),
        "card_form": None,
        "blank_form": FormState(),
        "now": utcnow(),
        "done": DONE.get(request.query_params.get("done", "")),
        "error": "",
    }


async def application(request: Request) -> Response:
    actor = staff_of(request)
    context = await application_context(request, actor, application_id_of(request))
    return render(request, "staff/application.html", context, headers=NO_STORE)


def application_url(request: Request, application_id: int, done: str = "") -> str:
    url = path_for(request, "staff.application", application_id=application_id)
    return f"{url}?{urlencode({'done': done})}" if done else url


async def summary_pdf(request: Request) -> Response:
    """The candidate's PDF: of the published feedback, or with ``?version=latest`` of
    the newest version (a draft's preview)."""
    actor = staff_of(request)
    application_id = application_id_of(request)
    latest = request.query_params.get("version") == "latest"
    async with db_session(request) as db:
        page = await load_feedback_view(
            db,
            actor=actor,
            application_id=application_id,
            version=Version.LATEST if latest else Version.PUBLISHED,
        )
        if page is None:
            raise HTTPException(404)
        # The same document the candidate downloads, answered questions and pool included.
        link = survey_link(portal(request).settings, page.application_id)
        page = await summary_view(
            db,
            page,
            actor=actor,
            survey_url=link,
        )
    return await summary_download(request, page)


async def resend(request: Request) -> Response:
    actor = staff_of(request)
    application_id = application_id_of(request)
    try:
        async with db_session(request) as db:
            await service.resend_invitation(
                db,
                actor=actor,
                application_id=application_id,
                settings=portal(request).settings,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except service.ApplicationNotFound:
        raise HTTPException(404) from None
    except service.NoPublishedFeedback:
        context = await application_context(request, actor, application_id)
        context["error"] = "Publish the feedback first: an invitation leads the candidate to it."
        return render(request, "staff/application.html", context, status_code=409, headers=NO_STORE)
    except service.FirstEmailWaiting as waiting:
        context = await application_context(request, actor, application_id)
        context["error"] = (
            "The candidate's first email has not gone yet: it waits for the call before "
            "sending. Tick the call off below once you have spoken to them."
            if waiting.state == SendState.WAITING_FOR_CALL
            else "The candidate's first email has not gone yet: it waits for the send window. "
            "To send it now instead, give your reason below."
        )
        return render(request, "staff/application.html", context, status_code=409, headers=NO_STORE)
    portal(request).wake_worker()
    return redirect_page(request, application_url(request, application_id, "resent"))


async def _link_of(request: Request, actor: Staff, application_id: int, link_id: int) -> Any:
    async with db_session(request) as db:
        return await service.find_link(
            db, actor=actor, application_id=application_id, link_id=link_id
        )


async def confirm_revoke(request: Request) -> Response:
    actor = staff_of(request)
    application_id = application_id_of(request)
    context = await application_context(request, actor, application_id)
    chosen, _ = validate_input(LinkForm, {"link": request.query_params.get("link", "")})
    link = None
    if chosen is not None:
        link = await _link_of(request, actor, application_id, chosen.link)
    if link is None:
        # No link chosen (or not one of this application's): back to the list of links.
        return redirect_page(request, application_url(request, application_id))
    context["link"] = link
    return render(request, "staff/revoke_link.html", context, headers=NO_STORE)


async def revoke(request: Request) -> Response:
    actor = staff_of(request)
    application_id = application_id_of(request)
    context = await application_context(request, actor, application_id)
    data = await parse_form(request, LinkForm, template="staff/application.html", context=context)
    if isinstance(data, Response):
        return data
    async with db_session(request) as db:
        done = await service.revoke_link(
            db,
            actor=actor,
            application_id=application_id,
            link_id=data.link,
            now=utcnow(),
            ip_hash=client_ip_hash(request),
        )
    if not done:
        if await _link_of(request, actor, application_id, data.link) is None:
            raise HTTPException(404)
        context["error"] = "That link had already been used or revoked."
        return render(request, "staff/application.html", context, status_code=409, headers=NO_STORE)
    return redirect_page(request, application_url(request, application_id, "revoked"))


APPLICATION = "/applications/{application_id:id}"
routes = [
    Route("/applications", applications, methods=["GET"], name="staff.applications"),
    Route(APPLICATION, application, methods=["GET"], name="staff.application"),
    Route(APPLICATION + "/summary.pdf", summary_pdf, methods=["GET"], name="staff.summary_pdf"),
    Route(APPLICATION + "/links", resend, methods=["POST"], name="staff.link_resend"),
    Route(
        APPLICATION + "/links/revoke",
        confirm_revoke,
        methods=["GET"],
        name="staff.link_revoke_confirm",
    ),
    Route(APPLICATION + "/links/revoke", revoke, methods=["POST"], name="staff.link_revoke"),
]
