"""The audit log page: an organization's admins read who did what, when, in words."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import NoMatchFound, Route

from portal.audit import service
from portal.audit.forms import AuditFilter
from portal.audit.sentences import Link
from portal.auth.areas import admin_of
from portal.web import db_session, parse_query, path_for, render

NO_STORE = {"cache-control": "no-store"}


def _hrefs(request: Request, page: service.AuditPage) -> dict[Link, str | None]:
    """Where each link of the page's sentences leads: None for a page the portal does
    not have (a sentence may name a kind of record before its page exists)."""
    hrefs: dict[Link, str | None] = {}
    for event in page.events:
        for part in event.sentence:
            if part.link is not None and part.link not in hrefs:
                try:
                    hrefs[part.link] = path_for(request, part.link.route, **dict(part.link.params))
                except NoMatchFound:
                    hrefs[part.link] = None
    return hrefs


async def audit_log(request: Request) -> Response:
    actor = admin_of(request)
    filters, form, status = parse_query(request, AuditFilter)
    async with db_session(request) as db:
        page = await service.audit_page(db, actor=actor, filters=filters)
    kept = {name: value for name, value in form.values.items() if name != "page"}
    context = {
        "log": page,
        "form": form,
        "filters": filters,
        "kept": kept,
        "hrefs": _hrefs(request, page),
    }
    return render(request, "staff/audit.html", context, status_code=status, headers=NO_STORE)


# For admins.
admin_routes = [Route("/audit", audit_log, methods=["GET"], name="staff.audit")]
