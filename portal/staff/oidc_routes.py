"""Staff single sign-on: off to the provider and back, to sign in or to accept an
invitation by linking the identity. Every route here is a 404 unless
`PORTAL_OIDC_ISSUER` is set."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.audit import service as audit
from portal.auth import session_id_hash
from portal.auth.signin import sign_in
from portal.db import utcnow
from portal.staff import invitations, service
from portal.staff.oidc import FLOW_MAX_AGE_SECONDS, Flow, Identity, SignOnFailed, SingleSignOn
from portal.web import (
    client_ip,
    client_ip_hash,
    db_session,
    portal,
    rate_limited,
    render,
    signed_in,
    staff_signed_in,
)

NO_STORE = {"cache-control": "no-store"}
METHOD = "single_sign_on"


def flow_cookie_name(https: bool) -> str:
    return "__Host-afterword_oidc" if https else "afterword_oidc"


def _single_sign_on(request: Request) -> SingleSignOn:
    sso = portal(request).oidc
    if sso is None:
        raise HTTPException(404)
    return sso


def _callback_url(request: Request) -> str:
    # From the configured public address, never from the Host header; the provider
    # compares it with the redirect URI registered there.
    path = request.app.url_path_for("staff.oidc_callback")
    return f"{portal(request).settings.base_url}{path}"


def _problem(request: Request, reason: str, *, status: int = 400) -> Response:
    unavailable = reason in ("provider_unreachable", "issuer")
    response = render(
        request,
        "staff/sso_failed.html",
        {"unavailable": unavailable, "provider_name": portal(request).settings.oidc_provider_name},
        status_code=503 if unavailable else status,
        headers=NO_STORE,
    )
    _forget_flow(request, response)
    return response


def _forget_flow(request: Request, response: Response) -> None:
    https = portal(request).settings.https
    response.delete_cookie(
        flow_cookie_name(https), path="/", secure=https, httponly=True, samesite="lax"
    )


async def _to_provider(request: Request, *, invitation: str | None = None) -> Response:
    sso = _single_sign_on(request)
    if not await portal(request).limiter.allow("staff_sso_ip", client_ip(request)):
        return rate_limited(request)
    try:
        url, flow = await sso.start(redirect_uri=_callback_url(request), invitation=invitation)
    except SignOnFailed as failed:
        return _problem(request, failed.reason)
    settings = portal(request).settings
    response = RedirectResponse(url, status_code=303, headers=NO_STORE)
    response.set_cookie(
        flow_cookie_name(settings.https),
        flow.seal(settings.secret_key.get_secret_value()),
        max_age=FLOW_MAX_AGE_SECONDS,
        path="/",
        secure=settings.https,
        httponly=True,
        # Lax: the browser brings it back on the provider's top-level redirect.
        samesite="lax",
    )
    return response


async def start(request: Request) -> Response:
    """The sign-in page's "Sign in with ..." button."""
    return await _to_provider(request)


async def start_linking(request: Request) -> Response:
    """The invitation page's "Use single sign-on" button."""
    _single_sign_on(request)
    token = request.path_params["token"]
    token_hash = invitations.invitation_hash(token)
    async with db_session(request) as db:
        invitation = await invitations.open_invitation(db, token_hash=token_hash, now=utcnow())
    if invitation is None:
        return _spent(request)
    return await _to_provider(request, invitation=token)


async def callback(request: Request) -> Response:
    """Back from the provider: check everything, then sign in or link."""
    sso = _single_sign_on(request)
    if not await portal(request).limiter.allow("staff_sso_ip", client_ip(request)):
        return rate_limited(request)
    settings = portal(request).settings
    flow = Flow.unseal(
        settings.secret_key.get_secret_value(),
        request.cookies.get(flow_cookie_name(settings.https)),
    )
    try:
        if flow is None:
            raise SignOnFailed("no_flow")  # none started here, or over ten minutes ago
        identity = await sso.finish(query=request.query_params, flow=flow)
    except SignOnFailed as failed:
        async with db_session(request) as db:
            audit.record(
                db,
                action="staff.sign_in_failed",
                actor_kind="anonymous",
                ip_hash=client_ip_hash(request),
                details={"method": METHOD, "reason": failed.reason},
            )
        return _problem(request, failed.reason)
    if flow.invitation is not None:
        response = await _link(request, identity, flow.invitation)
    else:
        response = await _sign_in(request, identity)
    _forget_flow(request, response)
    return response


async def _sign_in(request: Request, identity: Identity) -> Response:
    settings = portal(request).settings
    async with db_session(request) as db:
        attempt = await service.authenticate_identity(
            db, issuer=identity.issuer, subject=identity.subject
        )
        cookie = await service.conclude_sign_in(
            db,
            attempt=attempt,
            previous_session=session_id_hash(request),
            settings=settings,
            now=utcnow(),
            ip_hash=client_ip_hash(request),
            details={"method": METHOD},
        )
    if cookie is None:
        # No account of its own, ever: an admin invites, the invitation links.
        return render(
            request,
            "staff/sso_unknown.html",
            {"email": identity.email, "provider_name": settings.oidc_provider_name},
            status_code=403,
            headers=NO_STORE,
        )
    return await staff_signed_in(request, cookie, staff_id=attempt.staff_id)


async def _link(request: Request, identity: Identity, token: str) -> Response:
    settings = portal(request).settings
    now = utcnow()
    try:
        async with db_session(request) as db:
            accepted = await invitations.accept_with_identity(
                db,
                token_hash=invitations.invitation_hash(token),
                issuer=identity.issuer,
                subject=identity.subject,
                now=now,
            )
            if accepted is not None:
                cookie = await sign_in(
                    db, request, invitations.signed_in(accepted, METHOD), now=now
                )
    except invitations.IdentityTaken:
        return render(
            request,
            "staff/sso_taken.html",
            {"email": identity.email, "provider_name": settings.oidc_provider_name},
            status_code=409,
            headers=NO_STORE,
        )
    if accepted is None:
        return _spent(request)
    return signed_in(request, cookie, then="staff.home")


def _spent(request: Request) -> Response:
    return render(request, "staff/invitation_spent.html", {}, status_code=404, headers=NO_STORE)


# Open to anyone: the way in.
public_routes = [
    Route("/oidc/start", start, methods=["POST"], name="staff.oidc_start"),
    Route("/oidc/callback", callback, methods=["GET"], name="staff.oidc_callback"),
    Route("/l/{token}/sso", start_linking, methods=["POST"], name="staff.invitation_sso"),
]
