"""The staff entrance: sign in with email and password, a home page, sign out.
(Single sign-on is in `oidc_routes`.)"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth import session_id_hash
from portal.auth.areas import signed_in_staff, staff_of
from portal.db import utcnow
from portal.forms import FormState
from portal.staff import service
from portal.staff.forms import SignInForm
from portal.staff.lockout import LOCK_LENGTH
from portal.threads.nav import nav_counts
from portal.web import (
    client_ip,
    client_ip_hash,
    db_session,
    error_page,
    parse_form,
    portal,
    rate_limited,
    redirect,
    render,
    sign_out,
    staff_signed_in,
)

NO_STORE = {"cache-control": "no-store"}
FAILED = "That email address and password do not match an active staff account."
LOCKED = (
    "There have been too many failed sign-ins with this email address from your connection. "
    f"Please try again in {LOCK_LENGTH.seconds // 60} minutes, or ask an admin of your "
    "organization to clear the lock."
)


def _signin_context(request: Request) -> dict[str, Any]:
    settings = portal(request).settings
    return {
        "form": FormState(),
        "failed": "",
        "signed_out": "signed_out" in request.query_params,
        # Sent here by a post made after the session ended, whose text was kept.
        "kept": "kept" in request.query_params,
        "single_sign_on": portal(request).oidc is not None,
        "provider_name": settings.oidc_provider_name,
    }


async def signin_form(request: Request) -> Response:
    if await signed_in_staff(request) is not None:
        return redirect(request, "staff.home")
    return render(request, "staff/signin.html", _signin_context(request), headers=NO_STORE)


async def signin(request: Request) -> Response:
    context = _signin_context(request)
    data = await parse_form(
        request, SignInForm, template="staff/signin.html", block="signin_form", context=context
    )
    if isinstance(data, Response):
        return data
    email = data.email
    settings = portal(request).settings
    within_limit = await portal(request).limiter.allow("staff_signin_ip", client_ip(request))
    async with db_session(request) as db:
        outcome = await service.sign_in_with_password(
            db,
            email=email,
            password=data.password,
            ip_hash=client_ip_hash(request),
            client_within_limit=within_limit,
            previous_session=session_id_hash(request),
            settings=settings,
            now=utcnow(),
        )
    if outcome.refused == "locked":
        return error_page(
            request,
            429,
            "Please wait",
            LOCKED,
            retry_after_seconds=int(LOCK_LENGTH.total_seconds()),
        )
    if outcome.refused:
        return rate_limited(request)
    cookie = outcome.cookie
    if cookie is None:
        # One answer for an unknown address, a wrong password and a deactivated account.
        context.update(form=FormState(values={"email": email}), failed=FAILED)
        return render(
            request,
            "staff/signin.html",
            context,
            status_code=422,
            headers=NO_STORE,
            block="signin_form",
        )
    return await staff_signed_in(request, cookie, staff_id=outcome.staff_id)


async def home(request: Request) -> Response:
    actor = staff_of(request)
    async with db_session(request) as db:
        me = await service.staff_home(db, actor=actor)
    counts = await nav_counts(request, actor)
    if me is None:  # the account was deleted a moment ago
        return redirect(request, "staff.signin")
    context = {
        "me": me,
        "organization_name": me.organization_name,
        "staff": actor,
        "counts": counts,
    }
    return render(request, "staff/home.html", context, headers=NO_STORE)


async def signout(request: Request) -> Response:
    return await sign_out(request, then="staff.signin")


# Open to anyone: the way in.
public_routes = [
    Route("/signin", signin_form, methods=["GET"], name="staff.signin"),
    Route("/signin", signin, methods=["POST"], name="staff.signin_submit"),
]
# For a signed-in staff member.
routes = [
    Route("/", home, methods=["GET"], name="staff.home"),
    Route("/signout", signout, methods=["POST"], name="staff.signout"),
]
