"""The candidate's pages: their applications and the feedback on each."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.db import MAX_ID, utcnow
from portal.feedback import service
from portal.security.sessions import cookie_name, session_hash
from portal.web import (
    db_session,
    not_found,
    portal,
    redirect,
    render,
    sign_in_required,
    signed_in_candidate,
)

PRIVATE = {"cache-control": "private, no-store"}


async def applications(request: Request) -> Response:
    async with db_session(request) as db:
        who = await signed_in_candidate(request, db)
        if who is None:
            return sign_in_required(request)
        items = await service.list_applications(db, candidate_id=who.candidate_id)
        published = [item for item in items if item.has_feedback]
        if len(items) == 1 and published:
            return redirect(
                request, "candidate.feedback", application_id=published[0].application_id
            )
        branding = await service.branding(db, organization_id=who.organization_id)
    return render(
        request,
        "candidate/applications.html",
        {"applications": items, "branding": branding, "candidate_name": who.candidate_name},
        headers=PRIVATE,
    )


async def feedback(request: Request) -> Response:
    application_id: int = request.path_params["application_id"]
    if application_id > MAX_ID:
        # Beyond the id column's range: no such page (and no database error).
        return await not_found(request, LookupError(application_id))
    settings = portal(request).settings
    id_hash = session_hash(request.cookies.get(cookie_name(settings)))
    if id_hash is None:
        return sign_in_required(request)
    who, page = await service.load_feedback_page(
        portal(request).reader,
        id_hash=id_hash,
        application_id=application_id,
        now=utcnow(),
        settings=settings,
    )
    if who is None:
        return sign_in_required(request)
    if page is None:
        # Not theirs, or nothing published yet: the same answer, so ids reveal nothing.
        return await not_found(request, LookupError(application_id))
    return render(request, "candidate/feedback.html", {"page": page}, headers=PRIVATE)


routes = [
    Route("/feedback", applications, name="candidate.applications"),
    Route("/feedback/{application_id:int}", feedback, name="candidate.feedback"),
]
