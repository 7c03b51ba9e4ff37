"""Opening an emailed link, asking for a sign-in link, signing out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.access import jobs, service
from portal.access.forms import SignInForm
from portal.auth import kept, session_id_hash, set_session_cookie
from portal.auth.areas import signed_in_candidate
from portal.auth.models import KeptFormKind
from portal.auth.signin import SignIn, sign_in
from portal.db import utcnow
from portal.forms import EMAIL_MAX, FormState
from portal.security.tokens import token_digest
from portal.web import (
    NO_STORE,
    client_ip,
    client_ip_hash,
    db_session,
    is_htmx,
    parse_form,
    path_for,
    portal,
    rate_limited,
    redirect,
    remember_organization,
    render,
    sign_out,
    visitor_context,
)


def _to_feedback(request: Request, application_id: int | None, landing: str = "") -> Response:
    """Where a candidate's link leads: the application's feedback (at the part of the
    page the link was made for: the conversation, the talent-pool panel), or their list."""
    if application_id is not None:
        target = path_for(request, "candidate.feedback", application_id=application_id)
        return RedirectResponse(
            target + (f"#{landing}" if landing else ""), status_code=303, headers=NO_STORE
        )
    return redirect(request, "candidate.applications", headers=NO_STORE)


async def _own_link(request: Request, link: service.LinkState | None) -> bool:
    """Whether the browser is already signed in as the candidate the link is for."""
    if link is None or session_id_hash(request) is None:
        return False
    actor = await signed_in_candidate(request)
    return actor is not None and actor.candidate_id == link.candidate_id


def _spent_page(
    request: Request, *, link: service.LinkState | None, token: str, renewed: bool
) -> Response:
    response = render(
        request,
        "candidate/link_spent.html",
        {"branding": link.branding if link else None, "token": token, "renewed": renewed},
        status_code=200 if renewed else 410,
        headers=NO_STORE,
        block="renew" if renewed else None,
    )
    if link is not None:
        remember_organization(request, response, link.branding.slug)
    return response


async def link_page(request: Request) -> Response:
    """GET and HEAD: a page with one button, or at once the page a spent link gets
    (or, for a browser signed in as the link's candidate, their feedback). Mail
    scanners fetch links: this uses nothing."""
    token: str = request.path_params["token"]
    async with db_session(request) as db:
        link = await service.inspect_link(db, token=token, now=utcnow())
        spent = link is not None and not link.usable
        # A spent link in a browser signed in as its candidate: their feedback.
        own = spent and await _own_link(request, link)
        if spent and not own:
            # Someone opens a link that no longer works: worth knowing (a leaked
            # link, say). Tokens never issued are not recorded: anyone can make those.
            service.record_spent_link(db, link=link, ip_hash=client_ip_hash(request))
    if own:
        assert link is not None
        return _to_feedback(request, link.application_id, link.landing)
    if link is None or not link.usable:
        return _spent_page(request, link=link, token=token, renewed=False)
    response = render(
        request,
        "candidate/link.html",
        {"branding": link.branding, "job_title": link.job_title, "landing": link.landing},
        headers=NO_STORE,
    )
    remember_organization(request, response, link.branding.slug)
    return response


async def confirm_link(request: Request) -> Response:
    """POST: use the link once, open a fresh session, and leave the token behind (303).
    A link that no longer works takes a browser signed in as its candidate to their
    feedback all the same."""
    token: str = request.path_params["token"]
    if not await portal(request).limiter.allow("link_confirm", client_ip(request)):
        return rate_limited(request)
    settings = portal(request).settings
    now = utcnow()
    async with db_session(request) as db:
        redeemed = await service.redeem_link(
            db, token=token, now=now, ip_hash=client_ip_hash(request)
        )
        if redeemed is None:
            link = await service.inspect_link(db, token=token, now=now)
            service.record_spent_link(db, link=link, ip_hash=client_ip_hash(request))
        else:
            entry = SignIn.candidate(
                redeemed.candidate_id,
                redeemed.organization_id,
                details={"via": redeemed.purpose},
            )
            session_cookie = await sign_in(db, request, entry, now=now)
            # A question kept when their session ended: back to it, in its box.
            kept_for = await kept.waiting(
                db,
                owner=kept.SessionOwner(candidate_id=redeemed.candidate_id),
                kind=KeptFormKind.QUESTION,
                now=now,
            )
    if redeemed is None:
        if await _own_link(request, link):
            assert link is not None
            return _to_feedback(request, link.application_id, link.landing)
        return _spent_page(request, link=link, token=token, renewed=False)
    response: Response
    if kept_for is not None:
        response = RedirectResponse(
            path_for(request, "candidate.feedback", application_id=kept_for) + "?kept=1#ask",
            status_code=303,
            headers=NO_STORE,
        )
    else:
        response = _to_feedback(request, redeemed.application_id, redeemed.landing)
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
        link = await service.inspect_link(db, token=token, now=utcnow())
    if allowed:
        portal(request).wake_worker()
    return _spent_page(request, link=link, token=token, renewed=True)


async def signin_form(request: Request) -> Response:
    # "Send again" and "use a different address" are links back here; the first
    # fills the form with the address it was sent to.
    email = request.query_params.get("email", "")[:EMAIL_MAX]
    return render(
        request,
        "candidate/signin.html",
        {
            **await visitor_context(request),
            "form": FormState(values={"email": email} if email else {}),
            "sent": False,
            "signed_out": "signed_out" in request.query_params,
        },
    )


async def signin_request(request: Request) -> Response:
    """Always the same answer, for known and unknown addresses alike (DESIGN §4.8)."""
    context = await visitor_context(request)
    form = await parse_form(
        request,
        SignInForm,
        template="candidate/signin.html",
        block="signin_panel",
        context={**context, "sent": False},
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
    # With htmx: the form's place, and out of band the heading and the live region
    # (there since the page loaded, so screen readers announce what it now says).
    return render(
        request,
        "candidate/signin.html",
        {**context, "email": email, "sent": True, "out_of_band": is_htmx(request)},
        block=("signin_panel", "signin_heading", "signin_status"),
        headers={"cache-control": "no-store"},
    )


async def signout(request: Request) -> Response:
    return await sign_out(request, then="candidate.signin")


# Open to anyone: the token, or the email address, is what counts.
public_routes = [
    Route("/l/{token}", link_page, methods=["GET", "HEAD"], name="candidate.link"),
    Route("/l/{token}", confirm_link, methods=["POST"], name="candidate.link_confirm"),
    Route("/l/{token}/renew", renew_link, methods=["POST"], name="candidate.link_renew"),
    Route("/signin", signin_form, methods=["GET"], name="candidate.signin"),
    Route("/signin", signin_request, methods=["POST"], name="candidate.signin_request"),
    Route("/signout", signout, methods=["POST"], name="candidate.signout"),
]
