"""Your data: the candidate's export and erasure, the one-time links behind them, and
the admins' data requests log, retention settings and dry run."""

from __future__ import annotations

import math
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import admin_of, candidate_of
from portal.concurrency import Conflict
from portal.db import utcnow
from portal.forms import FormState, parse_number, read_form
from portal.orgs.branding import organization_branding
from portal.privacy import retention, service
from portal.privacy.document import export_zip
from portal.privacy.forms import EraseForm, RetentionForm, StaffEraseForm, StaffRequestForm
from portal.privacy.models import RequestKind
from portal.web import (
    NO_STORE,
    client_ip_hash,
    db_session,
    path_for,
    portal,
    redirect_page,
    render,
)

PRIVATE = {"cache-control": "private, no-store"}
# How many candidates the dry run lists on its page (the count is of all of them).
DRY_RUN_SHOWN = 500


# --- the candidate's pages ---------------------------------------------------------


async def _data_context(request: Request) -> dict[str, Any]:
    actor = candidate_of(request)
    async with db_session(request) as db:
        branding = await organization_branding(db, organization_id=actor.organization_id)
    return {"branding": branding, "candidate_name": actor.name}


async def data_page(request: Request) -> Response:
    context = await _data_context(request)
    notice = request.query_params.get("done", "")
    return render(
        request,
        "candidate/data.html",
        {**context, "notice": notice if notice in ("export", "erase") else ""},
        headers=PRIVATE,
    )


async def request_export(request: Request) -> Response:
    actor = candidate_of(request)
    async with db_session(request) as db:
        await service.request_export(db, actor=actor, now=utcnow())
    portal(request).wake_worker()
    return redirect_page(request, path_for(request, "candidate.data") + "?done=export#notice")


async def erase_page(request: Request) -> Response:
    context = await _data_context(request)
    return render(
        request, "candidate/data_erase.html", {**context, "form": FormState()}, headers=PRIVATE
    )


async def request_erasure(request: Request) -> Response:
    actor = candidate_of(request)
    data, form = await read_form(request, EraseForm)
    if data is None:
        context = await _data_context(request)
        return render(
            request,
            "candidate/data_erase.html",
            {**context, "form": form},
            status_code=422,
            headers=PRIVATE,
        )
    async with db_session(request) as db:
        await service.request_erasure(
            db, actor=actor, settings=portal(request).settings, now=utcnow()
        )
    portal(request).wake_worker()
    return redirect_page(request, path_for(request, "candidate.data") + "?done=erase#notice")


# --- the one-time links (no session needed: the mailbox proves who it is) ----------


async def _token_page(request: Request, kind: RequestKind, template: str) -> Response:
    token: str = request.path_params["token"]
    async with db_session(request) as db:
        page = await service.inspect_token(db, token=token, kind=kind, now=utcnow())
    if page is None or page.spent:
        return render(
            request,
            "candidate/data_link_spent.html",
            {"branding": page.branding if page else None, "kind": kind.value},
            status_code=410 if page else 404,
            headers=NO_STORE,
        )
    return render(request, template, {"branding": page.branding}, headers=NO_STORE)


async def download_page(request: Request) -> Response:
    """GET changes nothing (mail scanners open links): a button takes the download."""
    return await _token_page(request, RequestKind.EXPORT, "candidate/data_download.html")


async def download(request: Request) -> Response:
    token: str = request.path_params["token"]
    async with db_session(request) as db:
        taken = await service.take_export(
            db,
            token=token,
            settings=portal(request).settings,
            now=utcnow(),
            ip_hash=client_ip_hash(request),
        )
    if taken is None:
        return render(
            request,
            "candidate/data_link_spent.html",
            {"branding": None, "kind": RequestKind.EXPORT.value},
            status_code=410,
            headers=NO_STORE,
        )
    document, branding = taken
    return Response(
        export_zip(document),
        media_type="application/zip",
        headers={
            **NO_STORE,
            "content-disposition": f'attachment; filename="your-data-{branding.slug}.zip"',
        },
    )


async def erase_link_page(request: Request) -> Response:
    return await _token_page(request, RequestKind.ERASURE, "candidate/data_erase_link.html")


async def erase(request: Request) -> Response:
    token: str = request.path_params["token"]
    async with db_session(request) as db:
        erased = await service.confirm_erasure(
            db, token=token, settings=portal(request).settings, now=utcnow()
        )
    if erased is None:
        return render(
            request,
            "candidate/data_link_spent.html",
            {"branding": None, "kind": RequestKind.ERASURE.value},
            status_code=410,
            headers=NO_STORE,
        )
    branding, erasure = erased
    portal(request).pdf.forget_applications(erasure.application_ids)
    portal(request).wake_worker()
    return render(request, "candidate/data_erased.html", {"branding": branding}, headers=NO_STORE)


# --- the admins' pages -------------------------------------------------------------


async def requests_page(request: Request) -> Response:
    actor = admin_of(request)
    page = parse_number(request.query_params.get("page", "1"), high=100_000) or 1
    now = utcnow()
    async with db_session(request) as db:
        rows, total = await service.request_log(db, actor=actor, page=page, now=now)
        settings = await service.retention_settings(db, actor=actor)
        last = await retention.last_run(db, organization_id=actor.organization_id)
        holds = await retention.legal_holds(db, organization_id=actor.organization_id)
    pages = max(1, math.ceil(total / service.PAGE_SIZE))
    if page > pages:
        raise HTTPException(404)
    form = FormState(
        values={
            "retention_months": str(settings.retention_months),
            "legal_hold_months": str(settings.legal_hold_months),
            "version": str(settings.version),
        }
    )
    return render(
        request,
        "staff/privacy.html",
        {
            "staff": actor,
            "requests": rows,
            "total": total,
            "page": page,
            "pages": pages,
            "now": now,
            "form": form,
            "last_run": last,
            "holds": holds,
            "saved": "saved" in request.query_params,
            "conflict": False,
        },
        headers=NO_STORE,
    )


async def save_retention(request: Request) -> Response:
    actor = admin_of(request)
    data, form = await read_form(request, RetentionForm)
    conflict = False
    if data is not None:
        try:
            async with db_session(request) as db:
                await service.update_retention(
                    db,
                    actor=actor,
                    retention_months=data.retention_months,
                    legal_hold_months=data.legal_hold_months,
                    version=data.version,
                    ip_hash=client_ip_hash(request),
                )
        except Conflict:
            conflict = True
        else:
            url = path_for(request, "staff.privacy") + "?saved=1#retention"
            return redirect_page(request, url)
    now = utcnow()
    async with db_session(request) as db:
        rows, total = await service.request_log(db, actor=actor, page=1, now=now)
        current = await service.retention_settings(db, actor=actor)
        last = await retention.last_run(db, organization_id=actor.organization_id)
        holds = await retention.legal_holds(db, organization_id=actor.organization_id)
    if conflict:
        # What they typed stays; the version moves to the saved one, whose values the
        # page shows beside the form.
        form.values["version"] = str(current.version)
    return render(
        request,
        "staff/privacy.html",
        {
            "staff": actor,
            "requests": rows,
            "total": total,
            "page": 1,
            "pages": max(1, math.ceil(total / service.PAGE_SIZE)),
            "now": now,
            "form": form,
            "last_run": last,
            "holds": holds,
            "saved": False,
            "conflict": conflict,
            "current": current,
        },
        status_code=409 if conflict else 422,
        headers=NO_STORE,
    )


async def dry_run(request: Request) -> Response:
    actor = admin_of(request)
    now = utcnow()
    async with db_session(request) as db:
        settings = await service.retention_settings(db, actor=actor)
        found, total = await retention.due(
            db,
            organization_id=actor.organization_id,
            months=settings.retention_months,
            now=now,
            limit=DRY_RUN_SHOWN,
        )
    return render(
        request,
        "staff/privacy_dry_run.html",
        {
            "staff": actor,
            "due": found,
            "total": total,
            "months": settings.retention_months,
            "cutoff": retention.cutoff(now, settings.retention_months),
        },
        headers=NO_STORE,
    )


def _candidate_id(request: Request) -> int:
    candidate_id: int = request.path_params["candidate_id"]
    return candidate_id


async def _candidate_page(
    request: Request,
    *,
    export_form: FormState | None = None,
    erase_form: FormState | None = None,
    status: int = 200,
    exported: bool = False,
) -> Response:
    actor = admin_of(request)
    async with db_session(request) as db:
        candidate = await service.candidate_summary(
            db, actor=actor, candidate_id=_candidate_id(request)
        )
    if candidate is None:
        raise HTTPException(404)
    return render(
        request,
        "staff/privacy_candidate.html",
        {
            "staff": actor,
            "candidate": candidate,
            "export_form": export_form or FormState(),
            "erase_form": erase_form or FormState(),
            "exported": exported,
        },
        status_code=status,
        headers=NO_STORE,
    )


async def candidate_page(request: Request) -> Response:
    return await _candidate_page(request, exported="exported" in request.query_params)


async def export_for_candidate(request: Request) -> Response:
    actor = admin_of(request)
    data, form = await read_form(request, StaffRequestForm)
    if data is None:
        return await _candidate_page(request, export_form=form, status=422)
    try:
        async with db_session(request) as db:
            await service.export_for_candidate(
                db,
                actor=actor,
                candidate_id=_candidate_id(request),
                reason=data.reason,
                now=utcnow(),
            )
    except service.NotFound:
        raise HTTPException(404) from None
    portal(request).wake_worker()
    url = path_for(request, "staff.privacy_candidate", candidate_id=_candidate_id(request))
    return redirect_page(request, url + "?exported=1#export")


async def erase_candidate(request: Request) -> Response:
    actor = admin_of(request)
    data, form = await read_form(request, StaffEraseForm)
    if data is None:
        return await _candidate_page(request, erase_form=form, status=422)
    try:
        async with db_session(request) as db:
            erasure = await service.erase_on_request(
                db,
                actor=actor,
                candidate_id=_candidate_id(request),
                reason=data.reason,
                settings=portal(request).settings,
                now=utcnow(),
            )
    except service.NotFound:
        raise HTTPException(404) from None
    portal(request).pdf.forget_applications(erasure.application_ids)
    portal(request).wake_worker()
    return redirect_page(request, path_for(request, "staff.privacy") + "?erased=1")


candidate_routes = [
    Route("/your-data", data_page, methods=["GET"], name="candidate.data"),
    Route("/your-data/export", request_export, methods=["POST"], name="candidate.data_export"),
    Route("/your-data/erase", erase_page, methods=["GET"], name="candidate.data_erase"),
    Route(
        "/your-data/erase", request_erasure, methods=["POST"], name="candidate.data_erase_request"
    ),
]
public_routes = [
    Route(
        "/your-data/download/{token}",
        download_page,
        methods=["GET", "HEAD"],
        name="privacy.download",
    ),
    Route("/your-data/download/{token}", download, methods=["POST"], name="privacy.download_take"),
    Route(
        "/your-data/erase/{token}", erase_link_page, methods=["GET", "HEAD"], name="privacy.erase"
    ),
    Route("/your-data/erase/{token}", erase, methods=["POST"], name="privacy.erase_confirm"),
]
admin_routes = [
    Route("/privacy", requests_page, methods=["GET"], name="staff.privacy"),
    Route("/privacy/retention", save_retention, methods=["POST"], name="staff.privacy_retention"),
    Route("/privacy/retention/dry-run", dry_run, methods=["GET"], name="staff.privacy_dry_run"),
    Route(
        "/privacy/candidates/{candidate_id:id}",
        candidate_page,
        methods=["GET"],
        name="staff.privacy_candidate",
    ),
    Route(
        "/privacy/candidates/{candidate_id:id}/export",
        export_for_candidate,
        methods=["POST"],
        name="staff.privacy_export",
    ),
    Route(
        "/privacy/candidates/{candidate_id:id}/erase",
        erase_candidate,
        methods=["POST"],
        name="staff.privacy_erase",
    ),
]
