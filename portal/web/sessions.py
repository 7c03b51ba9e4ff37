"""Answering a sign-in with its session cookie, and signing out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from portal.auth import (
    clear_session_cookie,
    current_actor,
    kept,
    set_session_cookie,
)
from portal.auth.models import KeptFormKind
from portal.auth.service import end_session
from portal.db import (
    utcnow,
)
from portal.web.paths import path_for, redirect, redirect_page
from portal.web.state import client_ip_hash, db_session, portal

if TYPE_CHECKING:
    pass


def signed_in(request: Request, cookie: str, *, then: str) -> Response:
    """Go to the route named `then` with the new session's cookie."""
    response = redirect_page(request, path_for(request, then))
    set_session_cookie(response, cookie, settings=portal(request).settings)
    return response


async def staff_signed_in(request: Request, cookie: str, *, staff_id: int | None) -> Response:
    """A staff member's way in after signing in: back to the feedback editor when a
    draft of theirs was kept when their last session ended (`portal.auth.kept`; the
    editor restores it), else the staff home page."""
    async with db_session(request) as db:
        kept_for = (
            await kept.waiting(
                db,
                owner=kept.SessionOwner(staff_user_id=staff_id),
                kind=KeptFormKind.FEEDBACK_DRAFT,
                now=utcnow(),
            )
            if staff_id is not None
            else None
        )
    if kept_for is None:
        return signed_in(request, cookie, then="staff.home")
    response = redirect_page(
        request, path_for(request, "staff.feedback_editor", application_id=kept_for)
    )
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
