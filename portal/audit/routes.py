"""The audit log page: an organization's admins see who did what, when."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.audit import service
from portal.audit.forms import AuditFilter
from portal.auth.areas import admin_of
from portal.web import db_session, parse_query, render

NO_STORE = {"cache-control": "no-store"}


async def audit_log(request: Request) -> Response:
    actor = admin_of(request)
    filters, form, status = parse_query(request, AuditFilter)
    async with db_session(request) as db:
        page = await service.audit_page(db, actor=actor, filters=filters)
    kept = {name: value for name, value in form.values.items() if name != "page"}
    context = {"log": page, "form": form, "filters": filters, "kept": kept}
    return render(request, "staff/audit.html", context, status_code=status, headers=NO_STORE)


# For admins.
admin_routes = [Route("/audit", audit_log, methods=["GET"], name="staff.audit")]
