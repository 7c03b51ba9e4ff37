"""The candidate's pages: their applications, the feedback on each, and its PDF summary."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.auth.areas import candidate_found, candidate_of, candidate_session
from portal.db import utcnow
from portal.feedback import service
from portal.feedback.summary import summary_view
from portal.feedback.view import FeedbackView
from portal.forms import FormState, read_form
from portal.pdf.download import summary_download
from portal.pool import panel as talent_pool
from portal.threads import service as threads
from portal.threads.forms import QuestionForm, one_newline
from portal.threads.service import NO_THREAD, ThreadHead
from portal.web import (
    db_session,
    is_htmx,
    not_found,
    path_for,
    portal,
    redirect,
    remember_organization,
    render,
)

PRIVATE = {"cache-control": "private, no-store"}
NO_STORE_PRIVATE = {"cache-control": "no-store"}
# What the pool panel says after a change made without JavaScript (?pool=...).
POOL_DONE = frozenset({"joined", "changed", "left"})


async def applications(request: Request) -> Response:
    actor = candidate_of(request)
    async with db_session(request) as db:
        items = await service.list_applications(db, actor=actor)
        published = [item for item in items if item.has_feedback]
        if len(items) == 1 and published:
            return redirect(
                request, "candidate.feedback", application_id=published[0].application_id
            )
        branding = await service.branding(db, organization_id=actor.organization_id)
    response = render(
        request,
        "candidate/applications.html",
        {"applications": items, "branding": branding, "candidate_name": actor.name},
        headers=PRIVATE,
    )
    remember_organization(request, response, branding.slug)
    return response


async def _feedback_page(request: Request) -> tuple[FeedbackView, ThreadHead] | Response:
    """The signed-in candidate's page for the application in the path with what its
    statement found of the conversation, or the answer to give instead (not found).
    The statement checks the session too: the area's guard (`CANDIDATE_PAGE`) lets
    in only the candidate it finds."""
    application_id: int = request.path_params["application_id"]
    id_hash = candidate_session(request)
    # The busiest page: its one statement checks the session too, and the actor it
    # finds is handed to portal.auth, so nothing asks the database twice.
    who, page, head = await service.load_feedback_page(
        portal(request).reader,
        id_hash=id_hash,
        application_id=application_id,
        now=utcnow(),
        settings=portal(request).settings,
    )
    candidate_found(request, who)
    if page is None:
        # Not theirs, or nothing published yet: the same answer, so ids reveal nothing.
        return await not_found(request, LookupError(application_id))
    return page, head


async def feedback_context(
    request: Request, page: FeedbackView, head: ThreadHead
) -> dict[str, Any]:
    """What candidate/feedback.html needs besides the feedback: the conversation."""
    thread = await threads.load_candidate_thread(
        portal(request).reader,
        head=head,
        organization=page.branding.display_name,
        now=utcnow(),
    )
    return {
        "page": page,
        "thread": thread,
        "form": FormState(),
        "pool": await pool_panel(request, page),
    }


async def pool_panel(request: Request, page: FeedbackView) -> talent_pool.PoolPanel | None:
    """The talent-pool panel: one more small indexed statement, only on pages whose
    feedback offers the pool."""
    if not page.pool_invitation_offered:
        return None
    actor = candidate_of(request)
    pool = await talent_pool.load_panel(
        portal(request).reader,
        candidate_id=actor.candidate_id,
        organization_id=actor.organization_id,
        application_id=page.application_id,
    )
    done = request.query_params.get("pool", "")
    if pool is not None and done in POOL_DONE:
        pool = dataclasses.replace(pool, done=done)
    return pool


async def feedback(request: Request) -> Response:
    found = await _feedback_page(request)
    if isinstance(found, Response):
        return found
    page, head = found
    if head is NO_THREAD:
        # The common case, kept to the bare render: no thread, nothing to load (but
        # the talent-pool panel, when the feedback offers it).
        pool = await pool_panel(request, page)
        response = render(
            request, "candidate/feedback.html", {"page": page, "pool": pool}, headers=PRIVATE
        )
    else:
        context = await feedback_context(request, page, head)
        response = render(request, "candidate/feedback.html", context, headers=PRIVATE)
    remember_organization(request, response, page.branding.slug)
    return response


async def feedback_pdf(request: Request) -> Response:
    """The page as a PDF to keep."""
    found = await _feedback_page(request)
    if isinstance(found, Response):
        return found
    page, head = found
    # What the page shows below the feedback, in the PDF too: the answered questions
    # and the talent-pool status.
    actor = candidate_of(request)
    page = await summary_view(
        portal(request).reader,
        page,
        candidate_id=actor.candidate_id,
        organization_id=actor.organization_id,
        thread_id=head.thread_id,
    )
    return await summary_download(request, page)


QUESTION_FLOOD = (
    "You have sent several messages in the last few minutes. Please wait a little before "
    "sending another; your text is kept below."
)


async def _conversation(
    request: Request,
    page: FeedbackView,
    head: ThreadHead,
    *,
    form: FormState,
    status_code: int = 200,
) -> Response:
    """The conversation as it is now: only its block for htmx, else the whole page."""
    context = await feedback_context(request, page, head)
    context["form"] = form
    if is_htmx(request):
        return render(
            request,
            "candidate/_thread.html",
            context,
            status_code=status_code,
            block="thread",
            headers=NO_STORE_PRIVATE,
        )
    return render(
        request,
        "candidate/feedback.html",
        context,
        status_code=status_code,
        headers=NO_STORE_PRIVATE,
    )


async def ask(request: Request) -> Response:
    """A candidate's question or follow-up about the application in the path."""
    found = await _feedback_page(request)
    if isinstance(found, Response):
        return found
    page, head = found
    actor = candidate_of(request)
    data, form = await read_form(request, QuestionForm, values=one_newline)
    if data is None:
        return await _conversation(request, page, head, form=form, status_code=422)
    if not await portal(request).limiter.allow("question", str(actor.candidate_id)):
        form.errors["body"] = QUESTION_FLOOD
        return await _conversation(request, page, head, form=form, status_code=429)
    try:
        async with db_session(request) as db:
            thread = await threads.ask(
                db,
                actor=actor,
                application_id=page.application_id,
                body=data.body,
                now=utcnow(),
            )
    except (threads.Blocked, threads.ThreadClosed) as refused:
        # The page says why (closed, or no longer able to post); the text stays.
        found = await _feedback_page(request)
        if isinstance(found, Response):
            return found
        status = 403 if isinstance(refused, threads.Blocked) else 409
        return await _conversation(request, *found, form=form, status_code=status)
    if thread is None:  # feedback withdrawn a moment ago
        return await not_found(request, LookupError(page.application_id))
    if is_htmx(request):
        return await _conversation(request, page, threads.head_of(thread), form=FormState())
    return RedirectResponse(
        path_for(request, "candidate.feedback", application_id=page.application_id)
        + "#conversation",
        status_code=303,
        headers={"cache-control": "no-store"},
    )


# The busiest routes first: routes are tried in order. For a signed-in candidate, as
# their page's own statement finds them (portal.auth.areas.CANDIDATE_PAGE).
page_routes = [
    Route("/feedback/{application_id:id}", feedback, name="candidate.feedback"),
    Route("/feedback/{application_id:id}/summary.pdf", feedback_pdf, name="candidate.feedback_pdf"),
    Route(
        "/feedback/{application_id:id}/questions",
        ask,
        methods=["POST"],
        name="candidate.ask",
    ),
]
# For a signed-in candidate (portal.auth.areas.CANDIDATE).
candidate_routes = [Route("/feedback", applications, name="candidate.applications")]
