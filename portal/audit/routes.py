"""The audit log page: an organization's admins see who did what, when."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.audit import service
from portal.audit.forms import AuditFilter
from portal.auth import Staff, current_actor
from portal.forms import validate_input
from portal.web import db_session, render

NO_STORE = {"cache-control": "no-store"}


async def audit_log(request: Request) -> Response:
    actor = await current_actor(request)
    if not (isinstance(actor, Staff) and actor.role == "admin"):
        raise HTTPException(404)  # a recruiter does not learn the page exists
    # An empty field filters nothing; a field given twice counts once.
    given = {name: value for name, value in request.query_params.items() if value.strip()}
    filters, form = validate_input(AuditFilter, given)
    status = 200
    if filters is None:
        status = 422
        filters = AuditFilter()
    async with db_session(request) as db:
        page = await service.audit_page(db, actor=actor, filters=filters)
    kept = {name: value for name, value in form.values.items() if name != "page"}
    context = {"log": page, "form": form, "filters": filters, "kept": kept}
    return render(request, "staff/audit.html", context, status_code=status, headers=NO_STORE)


routes = [Route("/audit", audit_log, methods=["GET"], name="staff.audit")]
