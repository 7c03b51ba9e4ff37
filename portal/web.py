"""Shared request helpers: templates, the unit of work, client identity, error pages."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy.exc
from jinja2 import pass_context
from jinja2_fragments.starlette import Jinja2Blocks
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Router
from starlette.types import Receive, Scope, Send

from portal.auth import (
    Candidate,
    Staff,
    clear_session_cookie,
    current_actor,
    session_id_hash,
    set_session_cookie,
)
from portal.auth.middleware import ACTOR_KEY
from portal.auth.service import end_session
from portal.concurrency import Conflict
from portal.db import (
    DatabaseUnavailable,
    is_database_unavailable,
    read_session,
    unit_of_work,
    utcnow,
)
from portal.formats import long_date
from portal.forms import FormState, InputModel, read_form, validate_input
from portal.orgs.branding import Branding, read_branding
from portal.paths import STATIC_PATH, TEMPLATES_DIR

# Registers the `{name:id}` path convertor, before any routes module (each imports
# this one) declares a route with it.
from portal.routing import IdConvertor  # noqa: F401
from portal.security.csrf import csrf_token
from portal.security.headers import referrer_policy
from portal.security.ratelimit import RateLimiter
from portal.security.token_paths import redact_path
from portal.security.tokens import keyed_hash
from portal.settings import Settings

if TYPE_CHECKING:
    from portal.pdf.renderer import PdfRenderer
    from portal.staff.oidc import SingleSignOn

HTMX_JS = "js/htmx-2.0.11.min.js"


@dataclass
class Portal:
    """What every handler needs, kept on `app.state.portal`."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    templates: Jinja2Blocks
    limiter: RateLimiter
    wake_worker: Any  # () -> None, nudges the in-process worker after a commit
    pdf: PdfRenderer
    oidc: SingleSignOn | None = None  # staff single sign-on, when PORTAL_OIDC_ISSUER is set


def portal(request: Request) -> Portal:
    state: Portal = request.app.state.portal
    return state


def _request_context(request: Request) -> dict[str, Any]:
    state = request.scope.get("state", {})
    actor = state.get(ACTOR_KEY)
    return {
        "csrf_token": csrf_token(request.scope),
        "referrer_policy": referrer_policy(request.scope),
        # The static files' address, built from the constant the app mounts them at
        # rather than looked up among the routes for each file.
        "static_root": app_root_path(request.scope) + STATIC_PATH + "/",
        # The staff navigation: who is signed in (once asked), and the queue's counts
        # (portal.threads.nav counts them for staff pages).
        "nav_staff": actor if isinstance(actor, Staff) else None,
        "nav_counts": state.get("nav_counts"),
    }


def path_for(request: Request, name: str, /, **params: Any) -> str:
    """The path of a named route under the app's root path: for links and redirects.

    Never an absolute URL built from the Host header, which the client chooses.
    """
    # The router, or the app for pages rendered by middleware before routing.
    provider: Router | Starlette = request.scope.get("router") or request.scope["app"]
    return app_root_path(request.scope) + str(provider.url_path_for(name, **params))


def app_root_path(scope: Scope) -> str:
    """The application's own root path (behind a proxy), not the prefix of the
    Mount a request was routed into."""
    root: str = scope.get("app_root_path", scope.get("root_path", ""))
    return root


def redirect(
    request: Request,
    name: str,
    /,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    status_code: int = 303,
    **params: Any,
) -> RedirectResponse:
    """A redirect to a named route, by path (relative to this host)."""
    target = path_for(request, name, **params) + (f"?{query}" if query else "")
    return RedirectResponse(target, status_code=status_code, headers=headers)


@pass_context
def url_for(context: dict[str, Any], name: str, /, **params: Any) -> str:
    """A link for a page: the path, under the app's root path.

    Starlette's own `url_for` builds an absolute URL from the Host header; paths
    are all a page needs.
    """
    return path_for(context["request"], name, **params)


def make_templates(*, auto_reload: bool = False) -> Jinja2Blocks:
    """The pages' templates. With `auto_reload` (development) a template edited on
    disk is read again; otherwise each is loaded once, and rendering a page does not
    look at the files of the templates it extends, includes and imports."""
    templates = Jinja2Blocks(directory=str(TEMPLATES_DIR), context_processors=[_request_context])
    templates.env.auto_reload = auto_reload
    templates.env.globals["url_for"] = url_for
    templates.env.globals["htmx_js"] = HTMX_JS
    templates.env.filters["long_date"] = long_date
    templates.env.trim_blocks = True
    templates.env.lstrip_blocks = True
    return templates


@asynccontextmanager
async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: services flush, this commits (or rolls back)."""
    async with unit_of_work(portal(request).sessions) as db:
        yield db


@asynccontextmanager
async def db_reads(request: Request) -> AsyncIterator[AsyncSession]:
    """For a request that only reads (`portal.db.read_session`): no BEGIN and COMMIT
    round trips on PostgreSQL."""
    async with read_session(portal(request).sessions) as db:
        yield db


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


VARY_COOKIE = {"vary": "Cookie"}


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | tuple[str, ...] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render a page, or only `block` of it (or those blocks, one after another) when
    htmx asked for the fragment."""
    # Every page carries the visitor's CSRF token (and may show who is signed in).
    headers = {**headers, "vary": "Cookie"} if headers else VARY_COOKIE
    kwargs: dict[str, Any] = {"status_code": status_code, "headers": headers}
    if block is not None and is_htmx(request):
        if isinstance(block, tuple):
            kwargs["block_names"] = list(block)
        else:
            kwargs["block_name"] = block
    return portal(request).templates.TemplateResponse(request, template, context or {}, **kwargs)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def client_ip_hash(request: Request) -> str:
    return keyed_hash(portal(request).settings.secret_key.get_secret_value(), client_ip(request))


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
        return JSONResponse(
            {"error": {"status": status_code, "title": title, "message": message}},
            status_code=status_code,
            headers=headers,
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


async def sign_in_required(request: Request) -> Response:
    """Where a signed-out visitor lands: the sign-in page, saying why. "You were
    signed out" only to someone whose session has just ended (their stale cookie
    is dropped, so it is said once)."""
    context = await visitor_context(request)
    actor = await current_actor(request)
    session_ended = session_id_hash(request) is not None and not isinstance(
        actor, Candidate | Staff
    )
    settings = portal(request).settings
    response = render(
        request,
        "candidate/signin.html",
        {
            **context,
            "form": FormState(),
            "sent": False,
            "sign_in_needed": True,
            "session_ended": session_ended,
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
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def remember_organization(request: Request, response: Response, slug: str) -> None:
    """Have the browser remember the organization whose page this is (if it does not)."""
    if request.cookies.get(ORG_COOKIE) == slug or not _SLUG.match(slug):
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
        elif _SLUG.match(slug):
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


Model = TypeVar("Model", bound=InputModel)


async def parse_form(
    request: Request,
    model: type[Model],
    *,
    template: str,
    block: str | None = None,
    context: dict[str, Any] | None = None,
) -> Model | Response:
    """The posted form as `model`, or the page re-rendered to be corrected.

    On a validation error the page's `template` is rendered again with status 422
    and `form` (a `FormState`: every value as typed, a message per bad field) in
    its context; htmx gets only `block`, swapped in place. A form with more fields
    than the model, or a field larger than the parser takes, gets the 400 page.
    """
    # Beyond the model's fields (or a part too large), Starlette raises a 400,
    # answered by `bad_request`.
    data, form = await read_form(request, model)
    if data is not None:
        return data
    return render(
        request,
        template,
        {**(context or {}), "form": form},
        status_code=422,
        block=block,
        headers={"cache-control": "no-store"},
    )


def parse_query(request: Request, model: type[Model]) -> tuple[Model, FormState, int]:
    """A page's query string (search, filters, page) as `model`: the model, the form as
    typed (a message per bad field) and the status to answer (422 when some of it
    could not be used, in which case the model's defaults stand in). An empty field
    filters nothing; a field given twice counts once."""
    given = {name: value for name, value in request.query_params.items() if value.strip()}
    data, form = validate_input(model, given)
    if data is None:
        return model(), form, 422
    return data, form, 200


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


def conflict_page(
    request: Request,
    *,
    conflict: Conflict,
    submitted: InputModel | Mapping[str, str],
    labels: dict[str, str],
    action: str,
    back: str,
) -> Response:
    """409: someone saved the same record while this person was writing.

    Shows, field by field, what they typed next to what is there now, and offers
    to save theirs over it (the form carries the current version) or to go back;
    nothing they typed is lost. `submitted` is the validated form, or for a form with
    rows its fields by posted name (``strengths-0-body``), as `conflict.current` is.
    """
    given = submitted.model_dump() if isinstance(submitted, InputModel) else submitted
    yours = {name: _shown(value) for name, value in given.items()}
    current = {name: _shown(value) for name, value in (conflict.current or {}).items()}
    changes = [
        {"name": name, "label": label, "yours": yours.get(name, ""), "theirs": current[name]}
        for name, label in labels.items()
        if name in current and yours.get(name, "") != current[name]
    ]
    # Saving again is a deliberate overwrite of the version shown here.
    kept = {**yours, "version": _shown(conflict.version)}
    return render(
        request,
        "conflict.html",
        {"changes": changes, "kept": kept, "action": action, "back": back},
        status_code=409,
        headers={"cache-control": "no-store"},
        block="main",
    )


def redirect_page(request: Request, url: str) -> Response:
    """Go to another page: a 303, or for htmx (whose requests follow redirects
    unseen and would swap the next page into a fragment) an HX-Redirect."""
    headers = {"cache-control": "no-store"}
    if is_htmx(request):
        return Response(status_code=204, headers={**headers, "hx-redirect": url})
    return RedirectResponse(url, status_code=303, headers=headers)


def signed_in(request: Request, cookie: str, *, then: str) -> Response:
    """Go to the route named `then` with the new session's cookie."""
    response = redirect_page(request, path_for(request, then))
    set_session_cookie(response, cookie, settings=portal(request).settings)
    return response


async def sign_out(request: Request, *, then: str) -> Response:
    """End whoever's session this is on the server, forget the cookie, and go to
    the route named `then`, which says so."""
    async with db_session(request) as db:
        await end_session(
            db, actor=await current_actor(request), now=utcnow(), ip_hash=client_ip_hash(request)
        )
    response = redirect(request, then, query="signed_out=1")
    clear_session_cookie(response, settings=portal(request).settings)
    return response
