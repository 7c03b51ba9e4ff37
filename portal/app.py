"""The application: routes, middleware and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from portal import job_kinds, migrate, models, urls  # noqa: F401  (every table and job kind known first)
from portal.access import routes as access
from portal.api import key_routes as api_keys
from portal.api import routes as api
from portal.ats import routes as ats
from portal.audit import routes as audit
from portal.auth import ActorMiddleware
from portal.auth.areas import (
    ADMIN,
    API,
    CANDIDATE,
    PUBLIC,
    SIGNED,
    STAFF,
    signed_in_candidate,
)
from portal.db import (
    DATABASE_ERRORS,
    create_engine,
    ping_database,
    reads_engine,
    session_factory,
    utcnow,
)
from portal.drafting import routes as drafting
from portal.feedback import routes as feedback
from portal.imports.routes import IMPORT_BODY_BYTES
from portal.imports.routes import routes as import_routes
from portal.insights import routes as insights
from portal.jobs.service import queue_depths
from portal.jobs.worker import Worker
from portal.logs import AccessLogMiddleware
from portal.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from portal.metrics import Metrics, MetricsMiddleware, authorized
from portal.orgs import model_routes as org_model
from portal.orgs import routes as orgs
from portal.orgs import sending_routes as org_sending
from portal.paths import STATIC_DIR, STATIC_PATH
from portal.pdf.renderer import PdfRenderer
from portal.pool import routes as pool
from portal.pool import staff_routes as pool_staff
from portal.postings import library_routes as requirement_library
from portal.postings import requirement_routes as requirements
from portal.postings import routes as postings
from portal.privacy import routes as privacy
from portal.routing import Area, PathRouter
from portal.security.bodylimit import BodyLimitMiddleware
from portal.security.csrf import CsrfMiddleware, origin_of
from portal.security.headers import SecurityHeadersMiddleware
from portal.security.ratelimit import RateLimiter, storage_for
from portal.settings import Settings
from portal.staff import oidc_routes as oidc
from portal.staff import people_routes as people
from portal.staff import profile_routes as profile
from portal.staff import routes as staff
from portal.staff.oidc import SingleSignOn
from portal.survey import routes as survey
from portal.threads import staff_routes as threads
from portal.threads.abuse import assess_message
from portal.threads.nav import NavCountsMiddleware
from portal.web import (
    Portal,
    asgi_error_page,
    bad_request,
    csrf_rejected,
    database_error,
    make_templates,
    method_not_allowed,
    not_found,
    portal,
    redirect,
    render,
    server_error,
    speaks_json,
    visitor_context,
)
from portal.webhooks import routes as webhooks
from portal.workspace.bulk_routes import routes as bulk_routes
from portal.workspace.editor import routes as editor_routes
from portal.workspace.rejection_routes import routes as rejection_routes
from portal.workspace.rephrase_routes import routes as rephrase_routes
from portal.workspace.routes import routes as workspace_routes
from portal.workspace.scorecard_routes import routes as scorecard_routes
from portal.workspace.sending_routes import routes as sending_routes

READY_TIMEOUT_SECONDS = 1.5
NO_STORE = {"cache-control": "no-store"}


async def home(request: Request) -> Response:
    """The start page; a signed-in candidate goes straight to their feedback."""
    if await signed_in_candidate(request) is not None:
        return redirect(request, "candidate.applications", headers={"cache-control": "no-store"})
    return render(request, "home.html", await visitor_context(request))


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok", headers={"cache-control": "no-store"})


async def readyz(request: Request) -> Response:
    """Ready when the database answers and its schema is this code's (or newer, during
    a rolling upgrade): a ping, then the `alembic_version` row."""
    state = portal(request)
    # Well within the 2 s a load balancer's check typically allows, whatever the
    # configured acquire and statement timeouts.
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await ping_database(state.engine)
            revision = await migrate.database_revision(state.engine)
    except DATABASE_ERRORS:  # unreachable, silent, or lost during the version query
        return PlainTextResponse("database unreachable", status_code=503, headers=NO_STORE)
    schema: migrate.Schema = request.app.state.schema
    if schema.state(revision) == "behind":
        return PlainTextResponse(
            f"database schema behind: at {revision or 'nothing'}, this code needs "
            f"{schema.head}; run `portal db upgrade`",
            status_code=503,
            headers=NO_STORE,
        )
    return PlainTextResponse("ready", headers=NO_STORE)


async def metrics(request: Request) -> Response:
    """Prometheus metrics, when enabled (`portal.metrics`); a 404 otherwise."""
    state = portal(request)
    recorded: Metrics | None = request.app.state.metrics
    if recorded is None:
        return await not_found(request, LookupError("metrics"))
    if not authorized(
        request.headers.get("authorization"), state.settings.metrics_token.get_secret_value()
    ):
        return PlainTextResponse(
            "a bearer token is needed",
            status_code=401,
            headers={**NO_STORE, "www-authenticate": 'Bearer realm="metrics"'},
        )
    async with state.read_sessions() as db:
        depths = await queue_depths(db, now=utcnow())
    return Response(recorded.exposition(depths), media_type=METRICS_CONTENT_TYPE, headers=NO_STORE)


async def favicon(request: Request) -> Response:
    return redirect(
        request,
        "static",
        path="favicon.svg",
        status_code=301,
        headers={"cache-control": "public, max-age=86400"},
    )


# The only routes whose POSTs skip the CSRF check, by route (or Mount) name, each
# with why it is safe: they must authenticate the request themselves (an API key,
# an RFC 8058 one-click unsubscribe token). Logged once at start-up.
CSRF_EXEMPT: dict[str, str] = {
    "api": "API clients authenticate every request themselves (API keys; an applicant "
    "tracking system's webhook by its signature over the raw body with the organization's "
    "secret) and the API never reads the session cookie, so there is no ambient credential "
    "to forge with",
    "pool.leave": "RFC 8058 one-click unsubscribe: mail clients POST it without cookies, and "
    "the token in its URL (an HMAC naming one talent-pool membership) is the credential; "
    "the only thing it can do is end that membership",
}


def _load_abuse_model() -> None:
    assess_message("warm up")
    # The model lives as long as the process: out of the collector's way, as below.
    gc.collect()
    gc.freeze()


# Routes that accept a larger body than PORTAL_MAX_BODY_BYTES, by route name, each
# with its limit: the CSV upload (the file's own limit is checked with a clear message).
BODY_LIMITS: dict[str, int] = {"staff.import.check": IMPORT_BODY_BYTES}


class PortalApp(Starlette):
    """Starlette, with its router redirecting by path (`PathRouter`), and with `outer`
    middleware around its error handling as well (Starlette puts the 500 handler
    outermost), so that a 500 page carries the same headers, and is logged the same
    way, as any other answer."""

    def __init__(self, *, routes: list[BaseRoute], outer: list[Middleware], **kwargs: Any) -> None:
        super().__init__(routes=routes, **kwargs)
        self.router = PathRouter(routes, lifespan=kwargs.get("lifespan"))
        self.outer_middleware = outer

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        for cls, args, kwargs in reversed(self.outer_middleware):
            app = cls(app, *args, **kwargs)
        return app


def route_table() -> list[BaseRoute]:
    """Every route of the portal, in the order they are tried.

    Every route is in one area, whose guard says who may enter (portal.auth.areas).
    Routes are tried in order, each a regular expression: the busiest first. Links in
    email are built from this table too, by route name (`portal.urls.use_routes`).
    """
    return [
        # The candidate's pages: the feedback page first.
        Area(
            [
                *feedback.page_routes,
                *feedback.candidate_routes,
                *pool.candidate_routes,
                *privacy.candidate_routes,
                *survey.candidate_routes,
            ],
            guard=CANDIDATE,
        ),
        # Public: no one in particular needs to be signed in.
        Area(
            [
                *access.public_routes,
                *pool.public_routes,
                *privacy.public_routes,
                Mount(STATIC_PATH, app=StaticFiles(directory=STATIC_DIR), name="static"),
                Route("/", home, name="home"),
                Route("/healthz", healthz, name="ops.healthz"),
                Route("/readyz", readyz, name="ops.readyz"),
                Route("/metrics", metrics, name="ops.metrics"),
                Route("/favicon.ico", favicon),
                *orgs.public_routes,
            ],
            guard=PUBLIC,
        ),
        # Staff pages live under /staff: the way in is open, everything else needs a
        # staff member, and the admins' pages an admin.
        Mount(
            "/staff",
            app=PathRouter(
                [
                    Area(
                        [*staff.public_routes, *people.public_routes, *oidc.public_routes],
                        guard=PUBLIC,
                    ),
                    Area(
                        [
                            *staff.routes,
                            *profile.routes,
                            *workspace_routes,
                            *scorecard_routes,
                            *drafting.routes,
                            *editor_routes,
                            *rephrase_routes,
                            *rejection_routes,
                            *bulk_routes,
                            *sending_routes,
                            *insights.routes,
                            *threads.routes,
                            *pool_staff.routes,
                            *import_routes,
                            *postings.routes,
                            *requirements.routes,
                            *requirement_library.routes,
                        ],
                        guard=STAFF,
                        middleware=[Middleware(NavCountsMiddleware)],
                    ),
                    Area(
                        [
                            *people.admin_routes,
                            *audit.admin_routes,
                            *orgs.admin_routes,
                            *org_sending.admin_routes,
                            *org_model.admin_routes,
                            *survey.admin_routes,
                            *threads.admin_routes,
                            *pool_staff.admin_routes,
                            *postings.admin_routes,
                            *requirement_library.admin_routes,
                            *webhooks.admin_routes,
                            *ats.admin_routes,
                            *privacy.admin_routes,
                            *api_keys.admin_routes,
                        ],
                        guard=ADMIN,
                        middleware=[Middleware(NavCountsMiddleware)],
                    ),
                ]
            ),
        ),
        # The API: JSON errors, no cookies, no CSRF, never the session cookie. Each
        # area under /api authenticates its own requests: /api/v1 by API key (its
        # routes declare the scope they need). Routes that authenticate another way
        # (signed webhooks) go in an area of their own here, under their own path.
        Mount(
            "/api",
            name="api",
            app=PathRouter(
                [
                    Area(api.public_routes, guard=PUBLIC),
                    # Incoming webhooks from applicant tracking systems: signed, not
                    # keyed (each handler checks the signature before anything else).
                    Area(ats.hooks_routes, guard=SIGNED, path="/v1/hooks"),
                    Area(api.routes, guard=API, path="/v1"),
                ]
            ),
        ),
    ]


def create_app(settings: Settings | None = None, *, run_worker: bool | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    settings.check()
    # However the app is served, uvicorn's access log would print link tokens.
    logging.getLogger("uvicorn.access").disabled = True
    engine = create_engine(settings)
    sessions = session_factory(engine)
    reads = reads_engine(engine)
    worker = Worker(settings=settings, sessions=sessions)
    start_worker = settings.run_worker if run_worker is None else run_worker
    state = Portal(
        settings=settings,
        engine=engine,
        sessions=sessions,
        reads=reads,
        read_sessions=session_factory(reads),
        templates=make_templates(auto_reload=not settings.production),
        limiter=RateLimiter(storage_for(settings.rate_limit_storage, engine)),
        wake_worker=worker.wake if start_worker else (lambda: None),
        pdf=PdfRenderer(settings),
        oidc=SingleSignOn(settings) if settings.single_sign_on else None,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(worker.run_forever()) if start_worker else None
        # Load the abuse classifier in the background, so that the first question a
        # process receives does not wait for it (about a second, more on a busy machine).
        warm_up = asyncio.create_task(asyncio.to_thread(_load_abuse_model))
        # Start the PDF render processes now, in a thread, so that the first download
        # does not wait for them; start-up does not wait for them either.
        state.pdf.start()
        # Everything loaded so far (modules, templates, mappers) lives as long as the
        # process: moved out of the collector's generations, full collections no
        # longer walk it, which removed most of the page's worst latencies (bench/).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            warm_up.cancel()
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await engine.dispose()
            await state.pdf.aclose()

    routes = route_table()
    # Email links are built from the same table (portal.urls), by route name.
    urls.use_routes(routes)
    # Prometheus metrics, only when enabled (portal.metrics): nothing is timed otherwise.
    recorded = Metrics() if settings.metrics_enabled else None
    # Outside the 500 handler: every answer is logged and carries these headers.
    outer = [
        *([Middleware(MetricsMiddleware, metrics=recorded)] if recorded else []),
        Middleware(AccessLogMiddleware),
        Middleware(
            SecurityHeadersMiddleware,
            https=settings.https,
            form_targets=[origin] if (origin := origin_of(settings.oidc_issuer)) else [],
        ),
    ]
    # Outermost first. The size limits sit outside CSRF, which reads form bodies.
    middleware = [
        Middleware(ActorMiddleware, https=settings.https, ignore=speaks_json),
        Middleware(
            BodyLimitMiddleware,
            max_bytes=settings.max_body_bytes,
            routes=routes,
            larger=BODY_LIMITS,
            too_large=asgi_error_page(
                413, "Too much to send", "That was larger than this form accepts."
            ),
            head_too_large=asgi_error_page(
                431,
                "Request too large",
                "Your browser sent more than this site accepts, most likely too many or too "
                "large cookies. Clear this site's cookies and try again.",
            ),
        ),
        Middleware(
            CsrfMiddleware,
            https=settings.https,
            allowed_origin=origin_of(settings.base_url),
            rejected=csrf_rejected(),
            malformed=asgi_error_page(
                400, "That request could not be read", "Go back, reload the page and try again."
            ),
            routes=routes,
            exempt=CSRF_EXEMPT,
        ),
    ]
    app = PortalApp(
        routes=routes,
        outer=outer,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            400: bad_request,
            404: not_found,
            405: method_not_allowed,
            500: server_error,
            **dict.fromkeys(DATABASE_ERRORS, database_error),
        },
    )
    app.state.portal = state
    app.state.worker = worker
    # What /readyz compares the database's schema with.
    app.state.schema = migrate.Schema.of_code()
    app.state.metrics = recorded
    return app
