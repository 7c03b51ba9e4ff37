"""The staff entrance: sign in with email and password, a home page, sign out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.audit import service as audit
from portal.auth import Staff, current_actor, session_id_hash, set_session_cookie
from portal.auth.service import replace_session
from portal.db import utcnow
from portal.staff import service
from portal.web import (
    client_ip,
    client_ip_hash,
    db_session,
    portal,
    rate_limited,
    redirect_page,
    render,
    sign_out,
)

EMAIL_MAX = 320
PASSWORD_MAX = 1024
NO_STORE = {"cache-control": "no-store"}
FAILED = "That email address and password do not match an active staff account."


def _signin_page(
    request: Request, *, email: str = "", errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    return render(
        request,
        "staff/signin.html",
        {
            "email": email[:EMAIL_MAX],
            "errors": errors or {},
            "signed_out": "signed_out" in request.query_params,
        },
        status_code=status,
        headers=NO_STORE,
        block="signin_form",
    )


async def signin_form(request: Request) -> Response:
    if isinstance(await current_actor(request), Staff):
        return RedirectResponse(str(request.url_for("staff.home")), status_code=303)
    return _signin_page(request)


async def signin(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=5)
    raw_email, raw_password = form.get("email"), form.get("password")
    email = raw_email.strip().lower() if isinstance(raw_email, str) else ""
    password = raw_password if isinstance(raw_password, str) else ""
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "Enter the email address of your staff account."
    elif len(email) > EMAIL_MAX:
        errors["email"] = "That is longer than any email address we know."
    if not password:
        errors["password"] = "Enter your password."  # noqa: S105 (a message, not a secret)
    elif len(password) > PASSWORD_MAX:
        errors["password"] = f"Passwords are at most {PASSWORD_MAX} characters."
    if errors:
        return _signin_page(request, email=email, errors=errors, status=422)
    limiter = portal(request).limiter
    if not (
        await limiter.allow("staff_signin_ip", client_ip(request))
        and await limiter.allow("staff_signin_email", email)
    ):
        return rate_limited(request)
    settings = portal(request).settings
    now = utcnow()
    async with db_session(request) as db:
        attempt = await service.authenticate(db, email=email, password=password)
        if attempt.succeeded:
            assert attempt.staff_id is not None
            session_cookie = await replace_session(
                db,
                previous=session_id_hash(request),
                staff_user_id=attempt.staff_id,
                settings=settings,
                now=now,
            )
        audit.record(
            db,
            action="staff.signed_in" if attempt.succeeded else "staff.sign_in_failed",
            actor_kind="staff" if attempt.succeeded else "anonymous",
            actor_id=attempt.staff_id if attempt.succeeded else None,
            organization_id=attempt.organization_id,
            subject_type="staff_user" if attempt.staff_id else None,
            subject_id=attempt.staff_id,
            ip_hash=client_ip_hash(request),
            details={} if attempt.succeeded else {"reason": attempt.reason},
        )
    if not attempt.succeeded:
        # One answer for an unknown address, a wrong password and a deactivated account.
        return _signin_page(request, email=email, errors={"form": FAILED}, status=422)
    response = redirect_page(request, str(request.url_for("staff.home")))
    set_session_cookie(response, session_cookie, settings=settings)
    return response


async def home(request: Request) -> Response:
    actor = await current_actor(request)
    assert isinstance(actor, Staff)  # the area lets no one else in
    async with db_session(request) as db:
        me = await service.staff_home(db, actor=actor)
    if me is None:  # the account was deleted a moment ago
        return RedirectResponse(str(request.url_for("staff.signin")), status_code=303)
    context = {"me": me, "organization_name": me.organization_name, "staff": actor}
    return render(request, "staff/home.html", context, headers=NO_STORE)


async def signout(request: Request) -> Response:
    return await sign_out(request, then="staff.signin")


# Open to anyone: the way in.
open_routes = [
    Route("/signin", signin_form, methods=["GET"], name="staff.signin"),
    Route("/signin", signin, methods=["POST"], name="staff.signin_submit"),
]
# For a signed-in staff member only (see portal.app).
routes = [
    Route("/", home, methods=["GET"], name="staff.home"),
    Route("/signout", signout, methods=["POST"], name="staff.signout"),
]
