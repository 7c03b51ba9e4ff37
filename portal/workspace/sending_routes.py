"""The application page's sending actions: "send now" outside the send window (with
a reason), and ticking off the call a finalist gets before their email."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import staff_of
from portal.db import utcnow
from portal.forms import read_form
from portal.timing import service as timing
from portal.timing.forms import SendNowForm
from portal.timing.models import SendState
from portal.web import client_ip_hash, db_session, portal, redirect_page, render
from portal.workspace.routes import (
    APPLICATION,
    NO_STORE,
    application_context,
    application_id_of,
    application_url,
)


async def send_now(request: Request) -> Response:
    actor = staff_of(request)
    application_id = application_id_of(request)
    data, form = await read_form(request, SendNowForm)
    if data is None:
        context = await application_context(request, actor, application_id)
        context["send_form"] = form
        return render(request, "staff/application.html", context, status_code=422, headers=NO_STORE)
    try:
        async with db_session(request) as db:
            await timing.send_now(
                db,
                actor=actor,
                application_id=application_id,
                reason=data.reason,
                settings=portal(request).settings,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except timing.NotWaiting:
        return await _nothing_waiting(request, application_id)
    portal(request).wake_worker()
    return redirect_page(request, application_url(request, application_id, "sent_now"))


async def call_done(request: Request) -> Response:
    actor = staff_of(request)
    application_id = application_id_of(request)
    try:
        async with db_session(request) as db:
            row = await timing.mark_called(
                db,
                actor=actor,
                application_id=application_id,
                settings=portal(request).settings,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
            sent = row.state == SendState.SENT
    except timing.NotWaiting:
        return await _nothing_waiting(request, application_id)
    portal(request).wake_worker()
    done = "called_sent" if sent else "called_scheduled"
    return redirect_page(request, application_url(request, application_id, done))


async def _nothing_waiting(request: Request, application_id: int) -> Response:
    """A 409 on the application page, or a 404 for another organization's (its
    context raises it)."""
    context = await application_context(request, staff_of(request), application_id)
    context["error"] = "Nothing was waiting to be sent: the email has gone already."
    return render(request, "staff/application.html", context, status_code=409, headers=NO_STORE)


routes = [
    Route(APPLICATION + "/send-now", send_now, methods=["POST"], name="staff.send_now"),
    Route(APPLICATION + "/call-done", call_done, methods=["POST"], name="staff.call_done"),
]
