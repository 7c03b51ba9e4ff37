"""The baseline: the candidate feedback template rendered from memory, nothing else.

A bare Starlette app with one endpoint that renders `candidate/feedback.html`
with the portal's own Jinja2 environment from a `FeedbackView` built once at
start-up from the benchmark data set (the same application the real app is
asked for). No database, no middleware. The other routes exist only so that
`url_for` in the templates produces the same links as in the portal.

Configured by environment variables set by bench/run.py:
BENCH_APPLICATIONS, BENCH_APPLICATION_INDEX and BENCH_CSRF_TOKEN.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bench.dataset import Dataset
from portal.feedback.routes import PRIVATE
from portal.paths import STATIC_DIR, STATIC_PATH
from portal.web import make_templates

APPLICATIONS = int(os.environ.get("BENCH_APPLICATIONS", "100000"))
APPLICATION_INDEX = int(os.environ.get("BENCH_APPLICATION_INDEX", str(APPLICATIONS // 2)))
CSRF_TOKEN = os.environ.get("BENCH_CSRF_TOKEN", "x" * 43)

PAGE = Dataset(APPLICATIONS).feedback_page(APPLICATION_INDEX)
POOL = Dataset(APPLICATIONS).pool_panel(APPLICATION_INDEX)
TEMPLATES = make_templates()


async def feedback(request: Request) -> Response:
    # What CsrfMiddleware would leave for the template (`csrf_token` in the context).
    request.scope.setdefault("state", {})["csrf_token"] = CSRF_TOKEN
    return TEMPLATES.TemplateResponse(
        request, "candidate/feedback.html", {"page": PAGE, "pool": POOL}, headers=PRIVATE
    )


async def unused(request: Request) -> Response:
    return PlainTextResponse("not part of the baseline", status_code=404)


app = Starlette(
    routes=[
        Route("/feedback/{application_id:int}", feedback, name="candidate.feedback"),
        # Named only for url_for, with the portal's paths.
        Route("/feedback", unused, name="candidate.applications"),
        Route("/feedback/{application_id:int}/summary.pdf", unused, name="candidate.feedback_pdf"),
        Route("/signout", unused, methods=["POST"], name="candidate.signout"),
        Route(
            "/feedback/{application_id:int}/questions",
            unused,
            methods=["POST"],
            name="candidate.ask",
        ),
        Route("/branding/{slug}.css", unused, name="org.branding_css"),
        Route("/feedback/{application_id:int}/pool", unused, name="candidate.pool_join"),
        Route("/your-data", unused, name="candidate.data"),
        Mount(STATIC_PATH, app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
)
