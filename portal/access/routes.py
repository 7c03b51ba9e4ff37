"""Opening an emailed link, asking for a sign-in link, signing out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.access import jobs, service
from portal.access.forms import SignInForm
from portal.audit import service as audit
from portal.auth import session_id_hash, set_session_cookie
from portal.auth.service import replace_session
from portal.db import utcnow
from portal.forms import FormState
from portal.security.tokens import token_digest
from portal.web import (
    NO_STORE,
    client_ip,
    client_ip_hash,
    db_session,
    parse_form,
    portal,
    rate_limited,
    redirect,
    render,
    sign_out,
)


async def link_page(request: Request) -> Response:
    """GET and HEAD: a page with one button. Mail scanners fetch links; this uses nothing."""
    token: str = request.path_params["token"]
    async with db_session(request) as db:
        branding = await service.branding_for_token(db, token=token)
    return render(request, "candidate/link.html", {"branding": branding}, headers=NO_STORE)


async def confirm_link(request: Request) -> Response:
    """POST: use the link once, open a fresh session, and leave the token behind (303)."""
    token: str = request.path_params["token"]
    if not await portal(request).limiter.allow("link_confirm", client_ip(request)):
        return rate_limited(request)
    settings = portal(request).settings
    now = utcnow()
    async with db_session(request) as db:
        link = await service.redeem_link(db, token=token, now=now, ip_hash=client_ip_hash(request))
        if link is None:
            branding = await service.branding_for_token(db, token=token)
        else:
            session_cookie = await replace_session(
                db,
                previous=session_id_hash(request),
                candidate_id=link.candidate_id,
                settings=settings,
                now=now,
            )
            audit.record(
                db,
                action="session.signed_in",
                actor_kind="candidate",
                actor_id=link.candidate_id,
                organization_id=link.organization_id,
                ip_hash=client_ip_hash(request),
                details={"via": link.purpose},
            )
    if link is None:
        return render(
            request,
            "candidate/link_spent.html",
            {"branding": branding, "token": token, "renewed": False},
            status_code=410,
            headers=NO_STORE,
        )
    if link.application_id is not None:
        response = redirect(
            request, "candidate.feedback", application_id=link.application_id, headers=NO_STORE
        )
    else:
        response = redirect(request, "candidate.applications", headers=NO_STORE)
    set_session_cookie(response, session_cookie, settings=settings)
    return response


async def renew_link(request: Request) -> Response:
    """From the spent-link page: email a fresh sign-in link to the address on file.

    Over a limit, the same answer and nothing sent (the worker also sends a
    candidate at most one link at a time, whoever asks).
    """
    token: str = request.path_params["token"]
    limiter = portal(request).limiter
    allowed = await limiter.allow("signin_ip", client_ip(request)) and await limiter.allow(
        "renew_link", token_digest(token[: service.MAX_TOKEN_LENGTH]).hex()
    )
    async with db_session(request) as db:
        if allowed:
            await jobs.request_fresh_link(db, token=token, now=utcnow())
        branding = await service.branding_for_token(db, token=token)
    if allowed:
        portal(request).wake_worker()
    return render(
        request,
        "candidate/link_spent.html",
        {"branding": branding, "token": token, "renewed": True},
        status_code=200,
        headers=NO_STORE,
        block="renew",
    )


async def signin_form(request: Request) -> Response:
    return render(
        request,
        "candidate/signin.html",
        {
            "form": FormState(),
            "sent": False,
            "signed_out": "signed_out" in request.query_params,
        },
    )


async def signin_request(request: Request) -> Response:
    """Always the same answer, for known and unknown addresses alike (DESIGN §4.8)."""
    form = await parse_form(
        request,
        SignInForm,
        template="candidate/signin.html",
        block="signin_panel",
        context={"sent": False},
    )
    if isinstance(form, Response):
        return form
    email = form.email
    limiter = portal(request).limiter
    # Over a limit: the same answer, nothing queued (see portal.security.ratelimit).
    if await limiter.allow("signin_ip", client_ip(request)) and await limiter.allow(
        "signin_email", email.lower()
    ):
        async with db_session(request) as db:
            await jobs.request_sign_in(db, email=email.lower(), now=utcnow())
        portal(request).wake_worker()
    return render(
        request,
        "candidate/signin.html",
        {"email": email, "sent": True},
        block="signin_panel",
        headers={"cache-control": "no-store"},
    )


async def signout(request: Request) -> Response:
    return await sign_out(request, then="candidate.signin")


routes = [
    Route("/l/{token}", link_page, methods=["GET", "HEAD"], name="candidate.link"),
    Route("/l/{token}", confirm_link, methods=["POST"], name="candidate.link_confirm"),
    Route("/l/{token}/renew", renew_link, methods=["POST"], name="candidate.link_renew"),
    Route("/signin", signin_form, methods=["GET"], name="candidate.signin"),
    Route("/signin", signin_request, methods=["POST"], name="candidate.signin_request"),
    Route("/signout", signout, methods=["POST"], name="candidate.signout"),
]
