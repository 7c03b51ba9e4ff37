"""The talent pool for staff (/staff/pool…): search, a member's page, CSV export,
invitations to apply, and the admins' consent settings."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import concurrency
from portal.audit import service as audit
from portal.auth.areas import admin_of, staff_of
from portal.concurrency import Conflict
from portal.csvexport import csv_response
from portal.db import utcnow
from portal.forms import FormState, parse_number, read_form, validate_input
from portal.orgs.consent import record_consent_text
from portal.orgs.models import Organization
from portal.pool import invite, search
from portal.pool.forms import ROLE_FAMILIES, ConsentSettingsForm, InviteForm, PoolFilter
from portal.security.actors import Staff
from portal.web import client_ip_hash, db_session, path_for, portal, redirect_page, render

NO_STORE = {"cache-control": "no-store"}
EXPORT_HEADER = (
    "Name",
    "Email",
    "Kinds of role",
    "Places",
    "Remote",
    "Roles to hear about",
    "How often",
    "Joined (UTC)",
    "Consent ends (UTC)",
    "Statement version",
    "Last invited (UTC)",
    "May next be invited (UTC)",
)


def _given(items: Any) -> dict[str, str]:
    """Filter fields as given (query string or form): empty ones filter nothing."""
    return {
        name: value
        for name, value in items
        if isinstance(value, str) and value.strip() and name in PoolFilter.model_fields
    }


async def pool_page(request: Request) -> Response:
    actor = staff_of(request)
    filters, form = validate_input(PoolFilter, _given(request.query_params.multi_items()))
    status = 200
    if filters is None:
        status, filters = 422, PoolFilter()
    async with db_session(request) as db:
        found = await search.search(db, actor=actor, filters=filters, now=utcnow())
    kept = {name: value for name, value in form.values.items() if name != "page"}
    context = {
        "staff": actor,
        "found": found,
        "form": form,
        "kept": kept,
        "families": ROLE_FAMILIES,
    }
    return render(request, "staff/pool.html", context, status_code=status, headers=NO_STORE)


def _stamp(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


async def export(request: Request) -> Response:
    """The current result as CSV (formula-safe), audited with the filters used."""
    actor = staff_of(request)
    filters, _form = await read_form(request, PoolFilter, max_fields=20, values=_given)
    if filters is None:
        raise HTTPException(400)
    now = utcnow()
    async with db_session(request) as db:
        rows = await search.export_rows(db, actor=actor, filters=filters, now=now)
        audit.by_staff(
            db,
            actor,
            action="pool.exported",
            ip_hash=client_ip_hash(request),
            details={
                "rows": len(rows),
                "filters": filters.model_dump(mode="json", exclude={"page"}, exclude_defaults=True),
            },
        )
    return csv_response(
        f"talent-pool-{now:%Y-%m-%d}.csv",
        EXPORT_HEADER,
        (
            (
                m.name,
                m.email,
                "; ".join(m.role_family_labels),
                "; ".join(m.locations),
                m.remote_words,
                m.which_roles_words,
                m.frequency_words,
                _stamp(m.joined_at),
                _stamp(m.expires_at),
                m.consent_version,
                _stamp(m.last_contacted_at),
                _stamp(m.next_contact_at),
            )
            for m in rows
        ),
    )


async def member_page(request: Request) -> Response:
    actor = staff_of(request)
    membership_id: int = request.path_params["membership_id"]
    async with db_session(request) as db:
        detail = await search.member_detail(
            db, actor=actor, membership_id=membership_id, now=utcnow()
        )
    if detail is None:
        raise HTTPException(404)
    return render(
        request, "staff/pool_member.html", {"staff": actor, "detail": detail}, headers=NO_STORE
    )


# --- invitations ----------------------------------------------------------------------


def _member_ids(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        for part in value.split(","):
            found = parse_number(part.strip())
            if found is not None:
                ids.append(found)
    return sorted(set(ids))


async def _invite_page(
    request: Request,
    actor: Staff,
    *,
    member_ids: list[int],
    form: FormState,
    plan: invite.InvitePlan | None = None,
    status: int = 200,
) -> Response:
    async with db_session(request) as db:
        members = await search.members_by_id(
            db, actor=actor, membership_ids=member_ids, now=utcnow()
        )
        jobs = await search.organization_jobs(db, actor=actor)
    form.values["members"] = ",".join(str(m.membership_id) for m in members)
    context = {
        "staff": actor,
        "members": members,
        "jobs": jobs,
        "families": ROLE_FAMILIES,
        "form": form,
        "plan": plan,
    }
    return render(request, "staff/pool_invite.html", context, status_code=status, headers=NO_STORE)


async def invite_page(request: Request) -> Response:
    """Step one: the members chosen on the search page, and the invitation to write."""
    actor = staff_of(request)
    ids = _member_ids(request.query_params.getlist("member"))
    return await _invite_page(request, actor, member_ids=ids, form=FormState())


async def invite_send(request: Request) -> Response:
    """Preview (who is invited, who is skipped and until when, the email itself), then send."""
    actor = staff_of(request)
    data, form = await read_form(request, InviteForm)
    ids = _member_ids([form.value("members")])
    if data is None:
        return await _invite_page(request, actor, member_ids=ids, form=form, status=422)
    settings = portal(request).settings
    sending = data.action == "send"
    async with db_session(request) as db:
        if sending:
            plan = await invite.send(
                db,
                actor=actor,
                form=data,
                settings=settings,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
        else:
            plan = await invite.plan(db, actor=actor, form=data, settings=settings, now=utcnow())
    if plan is None:
        form.errors["job_id"] = "Choose the job."
        return await _invite_page(request, actor, member_ids=ids, form=form, status=422)
    if sending:
        portal(request).wake_worker()
        context = {"staff": actor, "plan": plan}
        return render(request, "staff/pool_invited.html", context, headers=NO_STORE)
    return await _invite_page(request, actor, member_ids=ids, form=form, plan=plan)


# --- settings (admins) --------------------------------------------------------------------


async def _settings_page(
    request: Request,
    actor: Staff,
    *,
    form: FormState | None = None,
    status: int = 200,
    notice: str = "",
) -> Response:
    async with db_session(request) as db:
        org = await db.get(Organization, actor.organization_id)
        assert org is not None
        versions = await search.consent_versions(db, actor=actor)
    if form is None:
        form = FormState(
            values={
                "consent_text": org.consent_text,
                "durations": ", ".join(str(n) for n in org.consent_durations_months or []),
                "offers_pool": "yes" if org.offers_pool else "",
                "version": str(org.version),
            }
        )
    if notice:
        form.values["version"] = str(org.version)  # saving again overwrites, knowingly
    context = {
        "staff": actor,
        "org": org,
        "form": form,
        "versions": versions,
        "notice": notice,
        "saved": request.query_params.get("saved") == "1",
    }
    return render(
        request, "staff/pool_settings.html", context, status_code=status, headers=NO_STORE
    )


async def settings_page(request: Request) -> Response:
    return await _settings_page(request, admin_of(request))


async def save_settings(request: Request) -> Response:
    actor = admin_of(request)
    data, form = await read_form(request, ConsentSettingsForm)
    if data is None:
        return await _settings_page(request, actor, form=form, status=422)
    try:
        async with db_session(request) as db:
            org = await db.get(Organization, actor.organization_id, populate_existing=True)
            assert org is not None
            concurrency.expect_version(org, data.version)
            changed = []
            if org.consent_durations_months != data.duration_months:
                org.consent_durations_months = data.duration_months
                changed.append("consent_durations_months")
            if org.offers_pool != (data.offers_pool == "yes"):
                org.offers_pool = data.offers_pool == "yes"
                changed.append("offers_pool")
            if data.consent_text != org.consent_text.strip():
                await record_consent_text(
                    db,
                    org=org,
                    text=data.consent_text,
                    staff_user_id=actor.staff_id,
                    now=utcnow(),
                    ip_hash=client_ip_hash(request),
                )
            else:
                await concurrency.flush(db)
            if changed:
                audit.by_staff(
                    db,
                    actor,
                    action="pool.settings_changed",
                    subject_type="organization",
                    subject_id=actor.organization_id,
                    ip_hash=client_ip_hash(request),
                    details={"fields": changed},
                )
    except Conflict:
        return await _settings_page(
            request,
            actor,
            form=form,
            status=409,
            notice="Someone else saved these settings while you were editing. Your text is "
            "kept below; check the current version and save again.",
        )
    return redirect_page(request, path_for(request, "staff.pool_settings") + "?saved=1")


routes = [
    Route("/pool", pool_page, methods=["GET"], name="staff.pool"),
    Route("/pool/export.csv", export, methods=["POST"], name="staff.pool_export"),
    Route("/pool/invite", invite_page, methods=["GET"], name="staff.pool_invite"),
    Route("/pool/invite", invite_send, methods=["POST"], name="staff.pool_invite_send"),
    Route("/pool/{membership_id:id}", member_page, methods=["GET"], name="staff.pool_member"),
]
# For admins.
admin_routes = [
    Route("/pool/settings", settings_page, methods=["GET"], name="staff.pool_settings"),
    Route("/pool/settings", save_settings, methods=["POST"], name="staff.pool_settings_save"),
]
