"""Incoming ATS webhooks (/api/v1/hooks/<ats>/<organization>), and the admins' page
where each ATS's secret is set and its jobs are mapped (/staff/ats)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal.ats import connections, service
from portal.ats.forms import CredentialsForm, MappingForm, SecretForm
from portal.ats.models import Ats
from portal.auth.areas import admin_of
from portal.db import utcnow
from portal.forms import FormState, parse_number, read_form
from portal.security.actors import Staff
from portal.urls import absolute_url
from portal.web import client_ip_hash, db_session, path_for, portal, redirect_page, render

NO_STORE = {"cache-control": "no-store"}
PROBLEM = "application/problem+json"
TITLES = {
    400: "Malformed body",
    401: "Signature not valid",
    404: "Not found",
}


def _problem(request: Request, status: int, detail: str) -> Response:
    """RFC 9457 problem details; never which part of a signature failed."""
    return JSONResponse(
        {
            "type": "about:blank",
            "title": TITLES[status],
            "status": status,
            "detail": detail,
            "instance": request.url.path,
        },
        status_code=status,
        media_type=PROBLEM,
        headers=NO_STORE,
    )


async def receive_hook(request: Request) -> Response:
    """Check the signature on the raw body, store the event, queue its work: fast."""
    try:
        ats = Ats(request.path_params["ats"])
    except ValueError:
        return _problem(request, 404, "No such webhook.")
    body = await request.body()
    headers = {key.lower(): value for key, value in request.headers.items()}
    try:
        async with db_session(request) as db:
            received = await service.receive(
                db,
                ats=ats,
                slug=request.path_params["organization"],
                body=body,
                headers=headers,
                now=utcnow(),
            )
    except service.UnknownHook:
        return _problem(request, 404, "No such webhook.")
    except service.BadSignature:
        return _problem(request, 401, "The request's signature could not be verified.")
    except service.Malformed as exc:
        return _problem(request, 400, str(exc))
    if received.event_id is not None:
        portal(request).wake_worker()
        return JSONResponse(
            {"status": received.status, "event": received.event_id},
            status_code=202,
            headers=NO_STORE,
        )
    return JSONResponse({"status": received.status}, headers=NO_STORE)


# --- the admins' page ------------------------------------------------------------


async def _context(request: Request, actor: Staff, **more: Any) -> dict[str, Any]:
    async with db_session(request) as db:
        page = await service.admin_page(
            db,
            actor=actor,
            events_page=parse_number(request.query_params.get("page", "1")) or 1,
        )
    settings = portal(request).settings
    return {
        "staff": actor,
        "systems": [
            (
                ats,
                page.connections.get(ats),
                absolute_url(settings, "api:api.hook", ats=ats.value, organization=page.slug),
            )
            for ats in Ats
        ],
        "mappings": page.mappings,
        "events": page.events,
        "events_page": page.events_page,
        "events_pages": page.events_pages,
        "jobs": page.jobs,
        "requirements": page.requirements,
        "secret_forms": {},
        "credential_forms": {},
        "mapping_errors": {},
        **more,
    }


async def ats_page(request: Request) -> Response:
    actor = admin_of(request)
    context = await _context(
        request,
        actor,
        saved=request.query_params.get("saved", ""),
        queued=request.query_params.get("queued", ""),
        saved_system=request.query_params.get("system", ""),
    )
    return render(request, "staff/ats.html", context, headers=NO_STORE)


async def save_secret(request: Request) -> Response:
    actor = admin_of(request)
    try:
        ats = Ats(request.path_params["ats"])
    except ValueError:
        raise HTTPException(404) from None
    data, form = await read_form(request, SecretForm)
    if data is None:
        # The secret is not shown back: only the message.
        context = await _context(request, actor, secret_forms={ats: FormState(errors=form.errors)})
        return render(request, "staff/ats.html", context, status_code=422, headers=NO_STORE)
    async with db_session(request) as db:
        await service.set_secret(
            db,
            actor=actor,
            ats=ats,
            secret=data.secret,
            now=utcnow(),
            ip_hash=client_ip_hash(request),
        )
    return redirect_page(request, path_for(request, "staff.ats") + f"?saved={ats.value}")


def _ats_of(request: Request) -> Ats:
    try:
        return Ats(request.path_params["ats"])
    except ValueError:
        raise HTTPException(404) from None


async def save_credentials(request: Request) -> Response:
    """Set the API credentials of one ATS; never shown back."""
    actor = admin_of(request)
    ats = _ats_of(request)
    data, form = await read_form(request, CredentialsForm)
    error = form.errors.get("credentials", "") if data is None else ""
    if data is not None and ats == Ats.GREENHOUSE and ":" not in data.credentials:
        error = (
            "Paste the Harvest v3 client ID and client secret joined by a colon: "
            "CLIENT_ID:CLIENT_SECRET."
        )
    if not error and data is not None:
        error = await _set_credentials(request, actor, ats, data.credentials)
    if error:
        # What was typed is a credential: not shown back, only the message.
        context = await _context(
            request, actor, credential_forms={ats: FormState(errors={"credentials": error})}
        )
        return render(request, "staff/ats.html", context, status_code=422, headers=NO_STORE)
    return redirect_page(
        request, path_for(request, "staff.ats") + f"?saved=credentials&system={ats.value}"
    )


async def remove_credentials(request: Request) -> Response:
    actor = admin_of(request)
    ats = _ats_of(request)
    if await _set_credentials(request, actor, ats, None):
        raise HTTPException(404)
    return redirect_page(
        request, path_for(request, "staff.ats") + f"?saved=removed&system={ats.value}"
    )


async def _set_credentials(
    request: Request, actor: Staff, ats: Ats, credentials: str | None
) -> str:
    """Set (None: remove) the credentials; what stops it, or ""."""
    try:
        async with db_session(request) as db:
            await connections.set_api_credentials(
                db,
                actor=actor,
                ats=ats,
                credentials=credentials,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except connections.NotConnected:
        return "Set the webhook secret first: the API credentials go with it."
    return ""


async def process_again(request: Request) -> Response:
    actor = admin_of(request)
    async with db_session(request) as db:
        queued = await connections.process_again(
            db,
            actor=actor,
            event_id=request.path_params["event_id"],
            now=utcnow(),
            ip_hash=client_ip_hash(request),
        )
    if not queued:
        raise HTTPException(404)
    portal(request).wake_worker()
    return redirect_page(request, path_for(request, "staff.ats") + "?saved=again#events")


async def save_mapping(request: Request) -> Response:
    actor = admin_of(request)
    mapping_id: int = request.path_params["mapping_id"]
    data, form = await read_form(request, MappingForm)
    if data is None:
        context = await _context(request, actor, mapping_errors={mapping_id: form})
        return render(request, "staff/ats.html", context, status_code=422, headers=NO_STORE)
    try:
        async with db_session(request) as db:
            queued = await service.save_mapping(
                db,
                actor=actor,
                mapping_id=mapping_id,
                job_id=data.job or None,
                attributes={row.name: row.requirement for row in data.attributes},
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except LookupError:
        raise HTTPException(404) from None
    except service.NotMappable as exc:
        context = await _context(
            request, actor, mapping_errors={mapping_id: FormState(errors={"job": str(exc)})}
        )
        return render(request, "staff/ats.html", context, status_code=422, headers=NO_STORE)
    if queued:
        portal(request).wake_worker()
    url = path_for(request, "staff.ats") + f"?saved=mapping&queued={queued}#mapping-{mapping_id}"
    return redirect_page(request, url)


# Signed by the ATS: each request authenticates itself (portal.auth.areas.SIGNED).
hooks_routes = [
    Route("/{ats}/{organization}", receive_hook, methods=["POST"], name="api.hook"),
]
admin_routes = [
    Route("/ats", ats_page, methods=["GET"], name="staff.ats"),
    Route("/ats/{ats}/secret", save_secret, methods=["POST"], name="staff.ats_secret"),
    Route(
        "/ats/{ats}/credentials",
        save_credentials,
        methods=["POST"],
        name="staff.ats_credentials",
    ),
    Route(
        "/ats/{ats}/credentials/remove",
        remove_credentials,
        methods=["POST"],
        name="staff.ats_credentials_remove",
    ),
    Route(
        "/ats/events/{event_id:id}/again",
        process_again,
        methods=["POST"],
        name="staff.ats_event_again",
    ),
    Route(
        "/ats/mappings/{mapping_id:id}",
        save_mapping,
        methods=["POST"],
        name="staff.ats_mapping",
    ),
]
