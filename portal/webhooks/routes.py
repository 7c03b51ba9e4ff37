"""The admins' webhook pages (/staff/webhooks): endpoints, their secrets and deliveries."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import admin_of
from portal.db import utcnow
from portal.forms import FormState, parse_number, read_form
from portal.security.actors import Staff
from portal.web import client_ip_hash, db_session, path_for, portal, redirect_page, render
from portal.webhooks import service
from portal.webhooks.events import EVENT_TYPES
from portal.webhooks.forms import EVENT_FIELDS, LABELS, EndpointForm, form_values, problems

NO_STORE = {"cache-control": "no-store"}


def _context(actor: Staff, **more: Any) -> dict[str, Any]:
    return {
        "staff": actor,
        "event_fields": [(name, event, EVENT_TYPES[event]) for name, event in EVENT_FIELDS.items()],
        "error_fields": {name: (name, label) for name, label in LABELS.items()},
        **more,
    }


async def _endpoint_or_404(db: Any, actor: Staff, endpoint_id: int) -> Any:
    try:
        return await service.load_endpoint(db, actor=actor, endpoint_id=endpoint_id)
    except service.EndpointNotFound:
        raise HTTPException(404) from None


async def endpoints_page(request: Request) -> Response:
    actor = admin_of(request)
    async with db_session(request) as db:
        endpoints = await service.list_endpoints(db, actor=actor)
    context = _context(actor, endpoints=endpoints, form=FormState(values={}))
    return render(request, "staff/webhooks.html", context, headers=NO_STORE)


async def _read(request: Request) -> tuple[EndpointForm | None, FormState]:
    data, form = await read_form(request, EndpointForm)
    if data is None:
        return None, form
    found = problems(data, allow_private=portal(request).settings.webhook_allow_private_addresses)
    if found:
        form.errors.update(found)
        return None, form
    return data, form


async def add_endpoint(request: Request) -> Response:
    actor = admin_of(request)
    data, form = await _read(request)
    if data is None:
        async with db_session(request) as db:
            endpoints = await service.list_endpoints(db, actor=actor)
        context = _context(actor, endpoints=endpoints, form=form)
        return render(request, "staff/webhooks.html", context, status_code=422, headers=NO_STORE)
    async with db_session(request) as db:
        endpoint = await service.create_endpoint(
            db,
            actor=actor,
            url=data.url,
            description=data.description,
            event_types=data.event_types,
            now=utcnow(),
            ip_hash=client_ip_hash(request),
        )
    url = path_for(request, "staff.webhook", endpoint_id=endpoint.id) + "?added=1"
    return redirect_page(request, url)


async def _endpoint_page(
    request: Request,
    actor: Staff,
    endpoint_id: int,
    *,
    form: FormState | None = None,
    status_code: int = 200,
    message: str = "",
) -> Response:
    page = parse_number(request.query_params.get("page", "1")) or 1
    async with db_session(request) as db:
        endpoint = await _endpoint_or_404(db, actor, endpoint_id)
        deliveries = await service.list_deliveries(
            db, actor=actor, endpoint_id=endpoint_id, page=page
        )
    context = _context(
        actor,
        endpoint=endpoint,
        deliveries=deliveries,
        form=form or FormState(values=form_values(endpoint)),
        added="added" in request.query_params,
        saved="saved" in request.query_params,
        rotated="rotated" in request.query_params,
        resent="resent" in request.query_params,
        message=message,
    )
    return render(request, "staff/webhook.html", context, status_code=status_code, headers=NO_STORE)


async def endpoint_page(request: Request) -> Response:
    actor = admin_of(request)
    return await _endpoint_page(request, actor, request.path_params["endpoint_id"])


async def save_endpoint(request: Request) -> Response:
    actor = admin_of(request)
    endpoint_id: int = request.path_params["endpoint_id"]
    data, form = await _read(request)
    if data is None:
        return await _endpoint_page(request, actor, endpoint_id, form=form, status_code=422)
    async with db_session(request) as db:
        try:
            await service.update_endpoint(
                db,
                actor=actor,
                endpoint_id=endpoint_id,
                url=data.url,
                description=data.description,
                event_types=data.event_types,
                enabled=data.enabled,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
        except service.EndpointNotFound:
            raise HTTPException(404) from None
    url = path_for(request, "staff.webhook", endpoint_id=endpoint_id) + "?saved=1"
    return redirect_page(request, url)


async def rotate_secret(request: Request) -> Response:
    actor = admin_of(request)
    endpoint_id: int = request.path_params["endpoint_id"]
    async with db_session(request) as db:
        try:
            await service.rotate_secret(
                db,
                actor=actor,
                endpoint_id=endpoint_id,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
        except service.EndpointNotFound:
            raise HTTPException(404) from None
    url = path_for(request, "staff.webhook", endpoint_id=endpoint_id) + "?rotated=1"
    return redirect_page(request, url)


async def resend_delivery(request: Request) -> Response:
    actor = admin_of(request)
    endpoint_id: int = request.path_params["endpoint_id"]
    try:
        async with db_session(request) as db:
            await service.resend(
                db,
                actor=actor,
                endpoint_id=endpoint_id,
                delivery_id=request.path_params["delivery_id"],
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except service.EndpointNotFound:
        raise HTTPException(404) from None
    except service.CannotResend as exc:
        return await _endpoint_page(request, actor, endpoint_id, status_code=409, message=str(exc))
    portal(request).wake_worker()
    url = path_for(request, "staff.webhook", endpoint_id=endpoint_id) + "?resent=1"
    return redirect_page(request, url)


admin_routes = [
    Route("/webhooks", endpoints_page, methods=["GET"], name="staff.webhooks"),
    Route("/webhooks", add_endpoint, methods=["POST"], name="staff.webhooks_add"),
    Route("/webhooks/{endpoint_id:id}", endpoint_page, methods=["GET"], name="staff.webhook"),
    Route("/webhooks/{endpoint_id:id}", save_endpoint, methods=["POST"], name="staff.webhook_save"),
    Route(
        "/webhooks/{endpoint_id:id}/rotate",
        rotate_secret,
        methods=["POST"],
        name="staff.webhook_rotate",
    ),
    Route(
        "/webhooks/{endpoint_id:id}/deliveries/{delivery_id:id}/resend",
        resend_delivery,
        methods=["POST"],
        name="staff.webhook_resend",
    ),
]
