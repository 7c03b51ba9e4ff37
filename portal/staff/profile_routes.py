"""Every staff member's own profile page: name, job title and time zone."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import staff_of
from portal.forms import FormState
from portal.security.actors import Staff
from portal.staff import profile
from portal.staff.forms import ProfileForm
from portal.web import (
    client_ip_hash,
    db_session,
    parse_form,
    path_for,
    redirect,
    redirect_page,
    render,
)

NO_STORE = {"cache-control": "no-store"}
TEMPLATE = "staff/profile.html"


async def _context(request: Request, actor: Staff) -> tuple[profile.Profile, dict[str, Any]]:
    async with db_session(request) as db:
        mine = await profile.my_profile(db, actor=actor)
    return mine, {"staff": actor, "profile": mine, "saved": False}


async def profile_page(request: Request) -> Response:
    actor = staff_of(request)
    try:
        mine, context = await _context(request, actor)
    except profile.ProfileNotFound:  # the account was deleted a moment ago
        return redirect(request, "staff.signin")
    context.update(form=FormState(values=mine.form_values()), saved="saved" in request.query_params)
    return render(request, TEMPLATE, context, headers=NO_STORE)


async def save_profile(request: Request) -> Response:
    """Save the staff member's profile (audited), or show what to fix (422), keeping
    everything typed."""
    actor = staff_of(request)
    try:
        _mine, context = await _context(request, actor)
    except profile.ProfileNotFound:
        return redirect(request, "staff.signin")
    data = await parse_form(
        request, ProfileForm, template=TEMPLATE, block="profile_form", context=context
    )
    if isinstance(data, Response):
        return data
    async with db_session(request) as db:
        await profile.update_profile(db, actor=actor, form=data, ip_hash=client_ip_hash(request))
    return redirect_page(request, path_for(request, "staff.profile") + "?saved=1")


# For every signed-in staff member: their own profile.
routes = [
    Route("/profile", profile_page, methods=["GET"], name="staff.profile"),
    Route("/profile", save_profile, methods=["POST"], name="staff.profile_save"),
]
