"""The candidate's pages: their applications, the feedback on each, and its PDF summary."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth import Candidate, current_actor, remember_actor, session_id_hash
from portal.db import MAX_ID, utcnow
from portal.feedback import service
from portal.feedback.view import FeedbackView
from portal.pdf.renderer import RenderTimeout, etag_matches, summary_filename
from portal.web import (
    db_session,
    error_page,
    not_found,
    portal,
    redirect,
    render,
    sign_in_required,
)

PRIVATE = {"cache-control": "private, no-store"}


async def applications(request: Request) -> Response:
    actor = await current_actor(request)
    if not isinstance(actor, Candidate):
        return sign_in_required(request)
    async with db_session(request) as db:
        items = await service.list_applications(db, actor=actor)
        published = [item for item in items if item.has_feedback]
        if len(items) == 1 and published:
            return redirect(
                request, "candidate.feedback", application_id=published[0].application_id
            )
        branding = await service.branding(db, organization_id=actor.organization_id)
    return render(
        request,
        "candidate/applications.html",
        {"applications": items, "branding": branding, "candidate_name": actor.name},
        headers=PRIVATE,
    )


async def _feedback_page(request: Request) -> FeedbackView | Response:
    """The signed-in candidate's page for the application in the path, or the answer
    to give instead (sign in, or not found)."""
    application_id: int = request.path_params["application_id"]
    if application_id > MAX_ID:
        # Beyond the id column's range: no such page (and no database error).
        return await not_found(request, LookupError(application_id))
    id_hash = session_id_hash(request)
    if id_hash is None:
        return sign_in_required(request)
    # The busiest page: its one statement checks the session too, and the actor it
    # finds is handed to portal.auth, so nothing asks the database twice.
    who, page = await service.load_feedback_page(
        portal(request).reader,
        id_hash=id_hash,
        application_id=application_id,
        now=utcnow(),
        settings=portal(request).settings,
    )
    if who is not None:
        remember_actor(request, who)
    if not isinstance(who, Candidate):
        return sign_in_required(request)
    if page is None:
        # Not theirs, or nothing published yet: the same answer, so ids reveal nothing.
        return await not_found(request, LookupError(application_id))
    return page


async def feedback(request: Request) -> Response:
    page = await _feedback_page(request)
    if isinstance(page, Response):
        return page
    return render(request, "candidate/feedback.html", {"page": page}, headers=PRIVATE)


async def feedback_pdf(request: Request) -> Response:
    """The page as a PDF to keep; revalidated on every download (ETag), never shared."""
    page = await _feedback_page(request)
    if isinstance(page, Response):
        return page
    renderer = portal(request).pdf
    today = utcnow().date()
    etag = renderer.etag_for(page, generated_on=today)
    headers = {"etag": etag, "cache-control": "private, no-cache"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    try:
        pdf = await renderer.summary(page, generated_on=today, etag=etag)
    except RenderTimeout:
        return error_page(
            request,
            503,
            "Your PDF is taking too long",
            "We could not prepare the PDF in time. Please try again in a minute; your "
            "feedback is still on its page.",
        )
    filename = summary_filename(page, generated_on=today)
    headers["content-disposition"] = f'attachment; filename="{filename}"'
    return Response(pdf.body, media_type="application/pdf", headers=headers)


# The busiest routes first: routes are tried in order.
routes = [
    Route("/feedback/{application_id:int}", feedback, name="candidate.feedback"),
    Route("/feedback", applications, name="candidate.applications"),
    Route(
        "/feedback/{application_id:int}/summary.pdf", feedback_pdf, name="candidate.feedback_pdf"
    ),
]
