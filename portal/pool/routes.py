"""The candidate's side of the talent pool: the feedback page's panel (join, change,
leave) and the pages behind the links in pool emails (leave, renew), which need
no session."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import candidate_of
from portal.db import utcnow
from portal.feedback.view import load_feedback_view
from portal.forms import FormState, InputModel, read_form
from portal.orgs.consent import current_consent_text
from portal.pool import links, service
from portal.pool import panel as pool_panel
from portal.pool.forms import DurationForm, JoinForm, OneClickForm, PreferencesForm, RenewForm
from portal.pool.tokens import LinkPurpose, member_token
from portal.security.actors import Candidate
from portal.web import (
    NO_STORE,
    client_ip_hash,
    db_session,
    is_htmx,
    path_for,
    portal,
    redirect_page,
    render,
)

PRIVATE = {"cache-control": "private, no-store"}
STATEMENT_CHANGED = (
    "The statement changed while you were reading it. Please read the new version below "
    "before you decide."
)
DURATION = "Choose one of the periods listed."
PERIOD_OVER = (
    "That period has already ended: choose a longer one, or leave the talent pool to end "
    "your consent now."
)


# The panel's form, with a checkbox per kind of role.
PANEL_FIELDS = 40


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Checkboxes sent several times under one name, joined with commas (the role
    families)."""
    values: dict[str, str] = {}
    for name, value in pairs:
        values[name] = f"{values[name]},{value}" if name in values else value
    return values


async def _posted(request: Request, model: type[InputModel]) -> tuple[Any, FormState]:
    """The form as `model`, its checkbox groups joined."""
    return await read_form(request, model, max_fields=PANEL_FIELDS, values=_joined)


async def _panel_response(
    request: Request,
    actor: Candidate,
    application_id: int,
    *,
    form: FormState | None = None,
    notice: str = "",
    status: int = 422,
) -> Response:
    """The panel again with what the candidate typed and what to correct: only the
    panel for htmx, the whole feedback page otherwise."""
    async with db_session(request) as db:
        panel = await pool_panel.panel_for(db, actor=actor, application_id=application_id)
        if panel is None:
            raise HTTPException(404)
        panel = dataclasses.replace(panel, form=form or FormState(), notice=notice)
        if is_htmx(request):
            page = None
        else:
            page = await load_feedback_view(db, actor=actor, application_id=application_id)
            if page is None:
                raise HTTPException(404)
    if page is None:
        return render(
            request, "candidate/_pool.html", {"pool": panel}, status_code=status, headers=PRIVATE
        )
    return render(
        request,
        "candidate/feedback.html",
        {"page": page, "pool": panel},
        status_code=status,
        headers=PRIVATE,
    )


async def _done(request: Request, actor: Candidate, application_id: int, done: str) -> Response:
    """After a change: the fresh panel for htmx, or back to the page (PRG)."""
    if is_htmx(request):
        async with db_session(request) as db:
            panel = await pool_panel.panel_for(db, actor=actor, application_id=application_id)
        if panel is None:
            raise HTTPException(404)
        panel = dataclasses.replace(panel, done=done)
        return render(request, "candidate/_pool.html", {"pool": panel}, headers=PRIVATE)
    url = path_for(request, "candidate.feedback", application_id=application_id)
    return redirect_page(request, f"{url}?pool={done}#pool-message")


def _candidate(request: Request) -> tuple[Candidate, int]:
    """The signed-in candidate, and the application in the path."""
    application_id: int = request.path_params["application_id"]
    return candidate_of(request), application_id


async def join(request: Request) -> Response:
    actor, application_id = _candidate(request)
    data, form = await _posted(request, JoinForm)
    if data is None:
        return await _panel_response(request, actor, application_id, form=form)
    try:
        async with db_session(request) as db:
            await service.join(
                db,
                actor=actor,
                application_id=application_id,
                form=data,
                settings=portal(request).settings,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except service.NotOffered:
        raise HTTPException(404) from None
    except service.StatementChanged:
        # Their choices are kept; the consent box is not: they have not read this text.
        kept = FormState(values={k: v for k, v in form.values.items() if k != "consent"})
        return await _panel_response(
            request, actor, application_id, form=kept, notice=STATEMENT_CHANGED, status=409
        )
    except service.DurationNotOffered:
        form.errors["duration_months"] = DURATION
        return await _panel_response(request, actor, application_id, form=form)
    portal(request).wake_worker()
    return await _done(request, actor, application_id, "joined")


async def change(request: Request) -> Response:
    actor, application_id = _candidate(request)
    data, form = await _posted(request, PreferencesForm)
    if data is None:
        return await _panel_response(request, actor, application_id, form=form)
    try:
        async with db_session(request) as db:
            await service.change(
                db,
                actor=actor,
                application_id=application_id,
                form=data,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except service.NotOffered:
        raise HTTPException(404) from None
    return await _done(request, actor, application_id, "changed")


async def change_duration(request: Request) -> Response:
    """A member's new choice of how long to stay; the page tells them the new end date."""
    actor, application_id = _candidate(request)
    data, form = await _posted(request, DurationForm)
    if data is None:
        return await _panel_response(request, actor, application_id, form=form)
    try:
        async with db_session(request) as db:
            await service.change_duration(
                db,
                actor=actor,
                application_id=application_id,
                form=data,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except service.NotOffered:
        raise HTTPException(404) from None
    except (service.DurationNotOffered, service.PeriodOver) as error:
        over = isinstance(error, service.PeriodOver)
        form.errors["duration_months"] = PERIOD_OVER if over else DURATION
        return await _panel_response(request, actor, application_id, form=form)
    return await _done(request, actor, application_id, "duration")


async def leave(request: Request) -> Response:
    actor, application_id = _candidate(request)
    try:
        async with db_session(request) as db:
            await service.leave_as_candidate(
                db,
                actor=actor,
                application_id=application_id,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except service.NotOffered:
        raise HTTPException(404) from None
    return await _done(request, actor, application_id, "left")


# --- the links in pool emails: the token is the credential -------------------------


async def _linked(request: Request, purpose: LinkPurpose) -> links.LinkedMembership:
    """The membership the token in the path names, if it was made for `purpose`: a
    leave token opens no renewal page, a renewal token leaves nothing (404)."""
    async with db_session(request) as db:
        found = await links.find_by_token(
            db,
            settings=portal(request).settings,
            token=request.path_params["token"],
            purpose=purpose,
        )
    if found is None:
        raise HTTPException(404)
    return found


def _link_page(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> Response:
    return render(request, template, context, status_code=status, headers=NO_STORE)


async def leave_page(request: Request) -> Response:
    """What a mail scanner (or a person) gets by opening the link: a page with a
    button. Opening it withdraws nothing."""
    linked = await _linked(request, LinkPurpose.LEAVE)
    return _link_page(request, "candidate/pool_leave.html", {"linked": linked, "left": False})


async def one_click_leave(request: Request) -> Response:
    """RFC 8058 one-click unsubscribe: a POST of ``List-Unsubscribe=One-Click`` to
    the URL in the email's header, with no cookie and no CSRF token (the token in
    the URL names one membership and is authentication enough). Withdraws at
    once; repeating it is harmless."""
    data, _form = await read_form(request, OneClickForm, max_fields=4, values=OneClickForm.posted)
    if data is None:
        raise HTTPException(400)
    async with db_session(request) as db:
        ended = await links.leave_by_token(
            db,
            settings=portal(request).settings,
            token=request.path_params["token"],
            now=utcnow(),
            ip_hash=client_ip_hash(request),
        )
    if ended is None:
        raise HTTPException(404)
    linked = await _linked(request, LinkPurpose.LEAVE)
    return _link_page(request, "candidate/pool_leave.html", {"linked": linked, "left": True})


async def _renew_page(request: Request, *, notice: str = "", status: int = 200) -> Response:
    linked = await _linked(request, LinkPurpose.RENEW)
    settings = portal(request).settings
    async with db_session(request) as db:
        text = await current_consent_text(
            db, organization_id=await links.organization_of(db, linked)
        )
    context = {
        "linked": linked,
        "text": text,
        "renewed": request.query_params.get("done") == "renewed",
        "until": pool_panel.add_months(utcnow(), linked.membership.duration_months),
        "notice": notice,
        # The page's own "leave now" button posts to the leave link, as the email's does.
        "leave_token": member_token(settings, linked.membership.id, LinkPurpose.LEAVE),
    }
    return _link_page(request, "candidate/pool_renew.html", context, status)


async def renew_page(request: Request) -> Response:
    """What the renewal email links to: the current statement and a button; opening
    it renews nothing. Only the renewal link leads here, never the leave link."""
    return await _renew_page(request)


async def renew(request: Request) -> Response:
    """The member's press of "Renew" on the page above (CSRF-checked like any form),
    agreeing to the statement version the page showed them."""
    data, _form = await _posted(request, RenewForm)
    if data is None:
        raise HTTPException(400)
    try:
        async with db_session(request) as db:
            renewed = await links.renew_by_token(
                db,
                settings=portal(request).settings,
                token=request.path_params["token"],
                consent_version=data.consent_version,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except service.StatementChanged:
        return await _renew_page(request, notice=STATEMENT_CHANGED, status=409)
    if renewed is None:
        # Not genuine (404), or ended: the page says so.
        await _linked(request, LinkPurpose.RENEW)
        return redirect_page(request, request.url.path)
    return redirect_page(request, f"{request.url.path}?done=renewed")


# For a signed-in candidate: the feedback page's panel.
candidate_routes = [
    Route("/feedback/{application_id:id}/pool", join, methods=["POST"], name="candidate.pool_join"),
    Route(
        "/feedback/{application_id:id}/pool/preferences",
        change,
        methods=["POST"],
        name="candidate.pool_change",
    ),
    Route(
        "/feedback/{application_id:id}/pool/duration",
        change_duration,
        methods=["POST"],
        name="candidate.pool_duration",
    ),
    Route(
        "/feedback/{application_id:id}/pool/leave",
        leave,
        methods=["POST"],
        name="candidate.pool_leave",
    ),
]
# Open to anyone: the token in the path is the credential.
public_routes = [
    Route("/pool/leave/{token}", leave_page, methods=["GET"], name="pool.leave_page"),
    Route("/pool/leave/{token}", one_click_leave, methods=["POST"], name="pool.leave"),
    Route("/pool/renew/{token}", renew_page, methods=["GET"], name="pool.renew_page"),
    Route("/pool/renew/{token}", renew, methods=["POST"], name="pool.renew"),
]
