"""The candidate's pages: their applications, the feedback on each, and its PDF summary."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.auth import kept
from portal.auth.areas import candidate_of
from portal.auth.models import KeptFormKind
from portal.db import utcnow
from portal.feedback import service
from portal.feedback.view import FeedbackView, load_feedback_view
from portal.forms import FormState, read_form
from portal.orgs.branding import organization_branding
from portal.pdf.download import summary_download
from portal.pdf.summary import summary_view
from portal.pool import panel as talent_pool
from portal.routing import keeps_typed
from portal.security.actors import Candidate
from portal.survey import service as survey
from portal.survey.service import survey_link
from portal.threads import service as threads
from portal.threads.forms import QuestionForm, one_newline
from portal.threads.service import ThreadHead
from portal.web import (
    client_ip_hash,
    db_reads,
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
POOL_DONE = frozenset({"joined", "changed", "duration", "left"})


async def applications(request: Request) -> Response:
    actor = candidate_of(request)
    async with db_session(request) as db:
        items = await service.list_applications(db, actor=actor)
        published = [item for item in items if item.has_feedback]
        if len(items) == 1 and published:
            return redirect(
                request, "candidate.feedback", application_id=published[0].application_id
            )
        branding = await organization_branding(db, organization_id=actor.organization_id)
    response = render(
        request,
        "candidate/applications.html",
        {"applications": items, "branding": branding, "candidate_name": actor.name},
        headers=PRIVATE,
    )
    remember_organization(request, response, branding.slug)
    return response


def _application_id(request: Request) -> int:
    application_id: int = request.path_params["application_id"]
    return application_id


async def _page_context(
    request: Request,
    db: AsyncSession,
    actor: Candidate,
    found: tuple[FeedbackView, ThreadHead],
    *,
    form: FormState | None = None,
    pool: talent_pool.PoolPanel | None = None,
    pool_read: bool = False,
) -> dict[str, Any]:
    """What candidate/feedback.html needs: the feedback, the conversation (nothing
    more to read when there is none) and the talent-pool panel (only when the
    feedback offers it; read here unless `pool_read`)."""
    page, head = found
    thread = await threads.load_candidate_thread(
        db, head=head, organization=page.branding.display_name, now=utcnow()
    )
    if not pool_read:
        pool = await _read_pool_panel(db, actor, page)
    return {
        "page": page,
        "thread": thread,
        "form": form or FormState(),
        "pool": _pool_done(request, pool),
        "survey": await survey.load_panel(
            db,
            actor=actor,
            application_id=page.application_id,
            secret_key=portal(request).settings.secret_key.get_secret_value(),
            now=utcnow(),
        ),
        "survey_done": request.query_params.get("survey", ""),
    }


async def _context(
    request: Request, actor: Candidate, *, form: FormState | None = None
) -> dict[str, Any] | None:
    """The page's context in a unit of work of its own; None if the application is
    not theirs or nothing is published (the same answer, so ids reveal nothing).
    Reads (and marking replies read, one statement), outside a transaction: the
    page, its conversation's head and the talent-pool panel come in one statement."""
    async with db_reads(request) as db:
        found = await talent_pool.load_page(
            db, actor=actor, application_id=_application_id(request)
        )
        if found is None:
            return None
        page, head, pool = found
        return await _page_context(
            request, db, actor, (page, head), form=form, pool=pool, pool_read=True
        )


async def _read_pool_panel(
    db: AsyncSession, actor: Candidate, page: FeedbackView
) -> talent_pool.PoolPanel | None:
    """The talent-pool panel read on its own: one more small indexed statement, only
    on pages whose feedback offers the pool."""
    if not page.pool_invitation_offered:
        return None
    return await talent_pool.load_panel(db, actor=actor, application_id=page.application_id)


def _pool_done(
    request: Request, pool: talent_pool.PoolPanel | None
) -> talent_pool.PoolPanel | None:
    """The panel, saying what just changed after a change made without JavaScript."""
    done = request.query_params.get("pool", "")
    if pool is not None and done in POOL_DONE:
        pool = dataclasses.replace(pool, done=done)
    return pool


# In the address after signing in again with a question kept (portal.auth.kept):
# only then is there anything to look for. Says nothing of whose or what.
KEPT_QUERY = "kept"


async def _restored_question(request: Request, actor: Candidate) -> FormState | None:
    """The question this candidate typed before their session ended, if it was kept
    (and it is theirs: kept text is bound to its writer, whoever signs in on the
    browser); handed back once."""
    if KEPT_QUERY not in request.query_params:
        return None
    async with db_session(request) as db:
        fields = await kept.take(
            db,
            owner=kept.SessionOwner(candidate_id=actor.candidate_id),
            kind=KeptFormKind.QUESTION,
            application_id=_application_id(request),
            now=utcnow(),
        )
    if not fields:
        return None
    return FormState(values={"body": fields.get("body", "")})


async def feedback(request: Request) -> Response:
    actor = candidate_of(request)
    restored = await _restored_question(request, actor)
    context = await _context(request, actor, form=restored)
    if context is None:
        return await not_found(request, LookupError(_application_id(request)))
    context["restored"] = restored is not None
    # Back from sending a question without JavaScript: the page opens on the message.
    context["asked"] = request.query_params.get("asked") == "1"
    response = render(request, "candidate/feedback.html", context, headers=PRIVATE)
    remember_organization(request, response, context["page"].branding.slug)
    return response


async def feedback_pdf(request: Request) -> Response:
    """The page as a PDF to keep, with what the page shows below the feedback: the
    answered questions and the talent-pool status."""
    actor = candidate_of(request)
    async with db_reads(request) as db:
        page = await load_feedback_view(db, actor=actor, application_id=_application_id(request))
        if page is not None:
            link = survey_link(portal(request).settings, page.application_id)
            page = await summary_view(
                db,
                page,
                actor=actor,
                survey_url=link,
            )
    if page is None:
        return await not_found(request, LookupError(_application_id(request)))
    return await summary_download(request, page)


QUESTION_FLOOD = (
    "You have sent several messages in the last few minutes. Please wait a little before "
    "sending another; your text is kept below."
)


async def _conversation(
    request: Request,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    """The conversation as it is now: only its block for htmx, else the whole page."""
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


async def keep_question(request: Request, owner: kept.SessionOwner) -> bool:
    """A question posted after the candidate's session ended: kept for them
    (`portal.auth.kept`), so that it is in the box when they sign in again."""
    _, form = await read_form(request, QuestionForm, values=one_newline)
    async with db_session(request) as db:
        return await kept.keep(
            db,
            owner=owner,
            kind=KeptFormKind.QUESTION,
            application_id=_application_id(request),
            fields={"body": form.value("body")},
            now=utcnow(),
        )


@keeps_typed(keep_question)
async def ask(request: Request) -> Response:
    """A candidate's question or follow-up about the application in the path."""
    actor = candidate_of(request)
    application_id = _application_id(request)
    async with db_reads(request) as db:
        found = await service.load_feedback_page(db, actor=actor, application_id=application_id)
    if found is None:
        return await not_found(request, LookupError(application_id))
    data, form = await read_form(request, QuestionForm, values=one_newline)
    refused: int | None = None
    if data is None:
        refused = 422
    elif not await portal(request).limiter.allow("question", str(actor.candidate_id)):
        form.errors["body"] = QUESTION_FLOOD
        refused = 429
    else:
        try:
            async with db_session(request) as db:
                thread = await threads.ask(
                    db,
                    actor=actor,
                    application_id=application_id,
                    body=data.body,
                    now=utcnow(),
                    settings=portal(request).settings,
                    ip_hash=client_ip_hash(request),
                )
        except (threads.Blocked, threads.ThreadClosed) as error:
            # The page says why (closed, or no longer able to post); the text stays.
            refused = 403 if isinstance(error, threads.Blocked) else 409
        else:
            if thread is None:  # feedback withdrawn a moment ago
                return await not_found(request, LookupError(application_id))
            if not is_htmx(request):
                return RedirectResponse(
                    path_for(request, "candidate.feedback", application_id=application_id)
                    + "?asked=1#conversation-message",
                    status_code=303,
                    headers={"cache-control": "no-store"},
                )
            form = FormState()
    context = await _context(request, actor, form=form)
    if context is None:
        return await not_found(request, LookupError(application_id))
    context["asked"] = refused is None
    return await _conversation(request, context, status_code=refused or 200)


# For a signed-in candidate (portal.auth.areas.CANDIDATE); the busiest routes first,
# as routes are tried in order.
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
