"""The pages every area shares: errors (HTML, htmx or JSON), "please sign in",
and the branding a visitor sees."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import sqlalchemy.exc
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from portal.api.problems import problem_response
from portal.auth import (
    Candidate,
    Staff,
    clear_session_cookie,
    current_actor,
    session_id_hash,
)
from portal.db import (
    DatabaseUnavailable,
    is_database_unavailable,
)
from portal.forms import FormState, read_typed_text
from portal.orgs.branding import Branding, read_branding
from portal.orgs.forms import is_slug
from portal.security.csrf import SAME_ORIGIN_PROVEN
from portal.security.token_paths import redact_path
from portal.web.paths import app_root_path, path_for
from portal.web.state import db_reads, is_htmx, portal
from portal.web.templates import render

if TYPE_CHECKING:
    pass


logger = logging.getLogger("portal")


# Pages no cache may keep. (Pages whose address holds a token get theirs, and
# their Referrer-Policy, from portal.security.token_paths whatever the handler says.)
NO_STORE = {"cache-control": "no-store"}


API_PREFIX = "/api"


def speaks_json(scope: Scope) -> bool:
    """Whether a request is in the API area, whose answers (errors included) are JSON.

    Read from the path rather than from routing, so that middleware refusing a
    request before it is routed (body limit, CSRF) answers in the same form."""
    path: str = scope.get("path", "")
    root = app_root_path(scope)
    if root and path.startswith(root):
        path = path[len(root) :]
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def error_page(
    request: Request,
    status_code: int,
    title: str,
    message: str,
    *,
    context: dict[str, Any] | None = None,
    retry_after_seconds: int = 60,
) -> Response:
    """An error in the form the request's area speaks: JSON for the API, the page's
    main content for htmx, a whole page otherwise. `context` is `visitor_context`'s,
    when the handler could look it up (not when the database may be the problem).
    A 429 says when to try again (`retry_after_seconds`)."""
    headers = {"cache-control": "no-store"}
    if status_code == 429:
        headers["retry-after"] = str(retry_after_seconds)
    if speaks_json(request.scope):
        # RFC 9457 problem details, as every error of the API (portal.api.problems).
        # The title is the status's own phrase: the pages' titles speak to people.
        return problem_response(
            status_code, detail=message, instance=request.url.path, headers=headers
        )
    if is_htmx(request):
        # An error replaces the page's content, not the small part the form targeted.
        headers.update({"hx-retarget": "#main", "hx-reswap": "innerHTML"})
    return render(
        request,
        "error.html",
        {**(context or {}), "title": title, "message": message},
        status_code=status_code,
        headers=headers,
        block="main",
    )


async def bad_request(request: Request, exc: Exception) -> Response:
    return error_page(
        request,
        400,
        "That request could not be read",
        "Go back, reload the page and try again.",
        context=await visitor_context(request),
    )


async def not_found(request: Request, exc: Exception) -> Response:
    return error_page(
        request,
        404,
        "Page not found",
        "There is nothing at this address, or it is not yours.",
        context=await visitor_context(request),
    )


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    return error_page(
        request,
        405,
        "Not allowed",
        "This address does not accept that request.",
        context=await visitor_context(request),
    )


async def server_error(request: Request, exc: Exception) -> Response:
    return error_page(
        request,
        500,
        "Something went wrong",
        "We could not complete that. Nothing you entered was lost; please try again shortly.",
    )


async def database_error(request: Request, exc: Exception) -> Response:
    """503 when the database is unavailable (see `is_database_unavailable`); any
    other database error is a bug, left to the 500 handler (which logs it)."""
    if not is_database_unavailable(exc):
        raise exc
    logger.warning("database unavailable on %s: %r", redact_path(request.url.path), exc)
    response = error_page(
        request,
        503,
        "Please try again shortly",
        "We could not reach our database just now. Nothing you entered was lost; please try "
        "again in a moment.",
    )
    response.headers["retry-after"] = "5"
    return response


def asgi_error_page(status_code: int, title: str, message: str) -> Any:
    """An ASGI app answering with an error page, for middleware that refuses a request."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        context = None if speaks_json(scope) else await visitor_context(request)
        response = error_page(request, status_code, title, message, context=context)
        await response(scope, receive, send)

    return app


def rate_limited(request: Request) -> Response:
    return error_page(
        request,
        429,
        "Please wait a moment",
        "There have been too many attempts from your connection. Please wait a minute and "
        "try again.",
    )


# Where htmx puts "your session ended" (see base.html's `session_message` block):
# a refused htmx request never swaps a sign-in page into the fragment it targeted,
# and the form stays as it was, its text in place.
SESSION_MESSAGE = "#session-message"


def session_ended_fragment(
    request: Request, *, signin_url: str, staff: bool, kept: bool, session_ended: bool = True
) -> Response:
    """401 for an htmx request that needs a sign-in: a short message swapped into the
    page's message area (`SESSION_MESSAGE`), with the way back in."""
    return render(
        request,
        "_session_ended.html",
        {
            "signin_url": signin_url,
            "staff": staff,
            "kept": kept,
            "session_ended": session_ended,
            "idle_minutes": portal(request).settings.session_idle_minutes,
        },
        status_code=401,
        headers={
            "cache-control": "no-store",
            "hx-retarget": SESSION_MESSAGE,
            "hx-reswap": "innerHTML",
        },
    )


STALE_FORM_TITLE = "This form has expired"
STALE_FORM = (
    "For your security the form could not be accepted. Go back, reload the page and try "
    "again. Cookies must be enabled for this site."
)


def csrf_rejected() -> Any:
    """The ASGI app answering a post refused for its CSRF token (403). For htmx, a
    message in the page's message area: the form stays as it is, its text in it.
    Without JavaScript, when the browser said the post came from a page of ours,
    the page shows back what was typed, to copy before reloading (nothing is kept
    on the server: without a valid token we cannot tell who sent it)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if speaks_json(scope):
            response = error_page(request, 403, STALE_FORM_TITLE, STALE_FORM)
        elif is_htmx(request):
            response = render(
                request,
                "_form_expired.html",
                {},
                status_code=403,
                headers={
                    "cache-control": "no-store",
                    "hx-retarget": SESSION_MESSAGE,
                    "hx-reswap": "innerHTML",
                },
            )
        else:
            typed: list[tuple[str, str]] = []
            if scope.get("state", {}).get(SAME_ORIGIN_PROVEN):
                typed = await read_typed_text(request)
            response = render(
                request,
                "error.html",
                {
                    **await visitor_context(request),
                    "title": STALE_FORM_TITLE,
                    "message": STALE_FORM,
                    "typed": typed,
                },
                status_code=403,
                headers={"cache-control": "no-store"},
                block="main",
            )
        await response(scope, receive, send)

    return app


async def sign_in_required(request: Request, *, kept: bool = False) -> Response:
    """Where a signed-out visitor lands: the sign-in page, saying why. "You were
    signed out" only to someone whose session has just ended (their stale cookie
    is dropped, so it is said once). `kept`: what they posted was kept for them
    (`portal.auth.kept`), and the page says so. For htmx, only that message, in the
    page's message area (`session_ended_fragment`)."""
    actor = await current_actor(request)
    session_ended = session_id_hash(request) is not None and not isinstance(
        actor, Candidate | Staff
    )
    settings = portal(request).settings
    if is_htmx(request):
        response = session_ended_fragment(
            request,
            signin_url=path_for(request, "candidate.signin"),
            staff=False,
            kept=kept,
            session_ended=session_ended,
        )
    else:
        context = await visitor_context(request)
        response = render(
            request,
            "candidate/signin.html",
            {
                **context,
                "form": FormState(),
                "sent": False,
                "sign_in_needed": True,
                "session_ended": session_ended,
                "kept": kept,
                "idle_minutes": settings.session_idle_minutes,
            },
            status_code=401,
            headers={"cache-control": "no-store"},
        )
    if session_ended:
        clear_session_cookie(response, settings=settings)
    return response


# The organization a visitor came through (its links and pages set it), so that the
# sign-in, sign-out, error and 404 pages keep its name and colour: a stranger's page
# asking for an email address would look like phishing. Only a slug, not a secret.
ORG_COOKIE = "afterword_org"


ORG_COOKIE_MAX_AGE = 365 * 24 * 3600


def remember_organization(request: Request, response: Response, slug: str) -> None:
    """Have the browser remember the organization whose page this is (if it does not)."""
    if request.cookies.get(ORG_COOKIE) == slug or not is_slug(slug):
        return
    response.set_cookie(
        ORG_COOKIE,
        slug,
        max_age=ORG_COOKIE_MAX_AGE,
        path="/",
        secure=portal(request).settings.https,
        httponly=True,
        samesite="lax",
    )


async def visitor_context(request: Request) -> dict[str, Any]:
    """Template context for pages anyone may land on (home, sign-in, errors): who is
    signed in, and the branding of their organization, or else of the one whose link
    or page the browser last came through. Empty when the database cannot say."""
    try:
        actor = await current_actor(request)
        branding: Branding | None = None
        slug = request.cookies.get(ORG_COOKIE, "")
        if isinstance(actor, Candidate):
            async with db_reads(request) as db:
                branding = await read_branding(db, organization_id=actor.organization_id)
        elif is_slug(slug):
            async with db_reads(request) as db:
                branding = await read_branding(db, slug=slug)
    except (DatabaseUnavailable, sqlalchemy.exc.SQLAlchemyError, OSError) as error:
        logger.warning("no visitor context for %s: %r", redact_path(request.url.path), error)
        return {}
    return {
        "branding": branding,
        "signed_in_candidate": isinstance(actor, Candidate),
        "signed_in_staff": isinstance(actor, Staff),
    }
