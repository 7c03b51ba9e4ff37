"""The admins' API keys page (/staff/api-keys): the organization's keys, a new one
(shown once), and revoking one after a confirmation."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.api import keys
from portal.api.forms import SCOPE_VALUES, NewKeyForm, joined_scopes
from portal.auth.areas import admin_of
from portal.db import utcnow
from portal.forms import FormState, read_form
from portal.security.actors import Staff
from portal.web import client_ip_hash, db_session, redirect_page, render

NO_STORE = {"cache-control": "no-store"}
SCOPE_WORDS = {
    "applications:write": "Create and change jobs and applications, publish feedback, send links",
    "applications:read": "Read jobs, applications and where their feedback stands",
    "threads:read": "Read where candidates' questions stand (not what they say)",
    "pool:read": "Read the talent pool's members and their consent",
}
DONE = {"revoked": "The key is revoked: requests with it are refused from now on."}


async def _page(
    request: Request,
    actor: Staff,
    *,
    form: FormState | None = None,
    issued: keys.IssuedKey | None = None,
    status_code: int = 200,
) -> Response:
    async with db_session(request) as db:
        listed = await keys.list_keys(db, organization_id=actor.organization_id)
    context: dict[str, Any] = {
        "staff": actor,
        "keys": listed,
        "form": form or FormState(values={"scopes": "applications:write applications:read"}),
        "scopes": [(value, SCOPE_WORDS[value]) for value in SCOPE_VALUES],
        "issued": issued,
        "done": DONE.get(request.query_params.get("done", "")),
    }
    return render(
        request, "staff/api_keys.html", context, status_code=status_code, headers=NO_STORE
    )


async def api_keys(request: Request) -> Response:
    return await _page(request, admin_of(request))


async def create_key(request: Request) -> Response:
    actor = admin_of(request)
    data, form = await read_form(request, NewKeyForm, max_fields=8, values=joined_scopes)
    if data is None:
        return await _page(request, actor, form=form, status_code=422)
    async with db_session(request) as db:
        issued = await keys.issue_key(
            db,
            organization_id=actor.organization_id,
            name=data.name,
            scopes=data.scopes.split(),
            staff=actor,
            now=utcnow(),
            ip_hash=client_ip_hash(request),
        )
    # Shown on this answer only (not a redirect): the key is stored nowhere readable.
    return await _page(request, actor, issued=issued, status_code=201)


async def _key_of(request: Request, actor: Staff) -> keys.ListedKey:
    async with db_session(request) as db:
        try:
            return await keys.find_key(
                db, organization_id=actor.organization_id, key_id=request.path_params["key_id"]
            )
        except keys.KeyNotFound:
            raise HTTPException(404) from None


async def confirm_revoke(request: Request) -> Response:
    actor = admin_of(request)
    key = await _key_of(request, actor)
    return render(
        request, "staff/api_key_revoke.html", {"staff": actor, "key": key}, headers=NO_STORE
    )


async def revoke(request: Request) -> Response:
    actor = admin_of(request)
    async with db_session(request) as db:
        try:
            await keys.revoke_key(
                db,
                organization_id=actor.organization_id,
                key_id=request.path_params["key_id"],
                staff=actor,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
        except keys.KeyNotFound:
            raise HTTPException(404) from None
    url = request.url_for("staff.api_keys").include_query_params(done="revoked")
    return redirect_page(request, url.path + "?" + url.query)


admin_routes = [
    Route("/api-keys", api_keys, methods=["GET"], name="staff.api_keys"),
    Route("/api-keys", create_key, methods=["POST"], name="staff.api_key_create"),
    Route(
        "/api-keys/{key_id:id}/revoke",
        confirm_revoke,
        methods=["GET"],
        name="staff.api_key_confirm_revoke",
    ),
    Route("/api-keys/{key_id:id}/revoke", revoke, methods=["POST"], name="staff.api_key_revoke"),
]
