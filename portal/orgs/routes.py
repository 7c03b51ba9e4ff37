"""Per-organization branding as a tiny stylesheet (the CSP allows no inline style)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.orgs.colours import COLOUR, carries_white_text
from portal.orgs.models import Organization
from portal.web import db_session

DEFAULT_ACCENT = "#1f5f8b"


async def branding_css(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    async with db_session(request) as db:
        accent = await db.scalar(
            select(Organization.accent_colour).where(Organization.slug == slug)
        )
    # A colour saved before colours were checked could hide white text: the default.
    if accent is None or not COLOUR.match(accent) or not carries_white_text(accent):
        accent = DEFAULT_ACCENT
    return Response(
        f":root{{--accent:{accent}}}\n",
        media_type="text/css",
        headers={"cache-control": "public, max-age=300"},
    )


routes = [Route("/branding/{slug}.css", branding_css, name="org.branding_css")]
