"""Per-organization branding as a tiny stylesheet (the CSP allows no inline style),
and the admins' organization settings page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import admin_of
from portal.concurrency import Conflict, conflict_with
from portal.forms import FormState
from portal.orgs import service
from portal.orgs.colours import COLOUR, MIN_CONTRAST, carries_white_text
from portal.orgs.forms import LABELS, OrganizationSettingsForm
from portal.orgs.models import Organization
from portal.security.actors import Staff
from portal.timing import service as timing
from portal.timing.window import DAY_NAMES
from portal.web import (
    client_ip_hash,
    conflict_page,
    db_session,
    parse_form,
    path_for,
    redirect_page,
    render,
)

DEFAULT_ACCENT = "#1f5f8b"
NO_STORE = {"cache-control": "no-store"}


async def branding_css(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    async with db_session(request) as db:
        accent = await db.scalar(
            select(Organization.accent_colour).where(Organization.slug == slug)
        )
    # A colour saved before colours were checked could hide white text: the default.
    if accent is None or not COLOUR.match(accent) or not carries_white_text(accent):
        accent = DEFAULT_ACCENT
    return Response(
        f":root{{--accent:{accent}}}\n",
        media_type="text/css",
        headers={"cache-control": "public, max-age=300"},
    )


def model_form_values(org: Organization) -> dict[str, str]:
    return {
        "language_model": org.language_model or "",
        "model_rephrases": "on" if org.model_rephrases else "",
        "model_second_opinion": "on" if org.model_second_opinion else "",
        "version": str(org.version),
    }


def settings_context(actor: Staff, org: Organization, **more: Any) -> dict[str, Any]:
    return {
        "staff": actor,
        "organization_name": org.display_name,
        "minimum_contrast": MIN_CONTRAST,
        # The error summary's links: each field's id (its name) and label.
        "error_fields": {name: (name, label) for name, label in LABELS.items()},
        # The language model's form (portal.orgs.model_routes), as saved.
        "model_form": FormState(values=model_form_values(org)),
        "model_saved": False,
        "model_conflict": False,
        **more,
    }


async def send_window_context(
    db: AsyncSession, actor: Staff, form: FormState | None = None
) -> dict[str, Any]:
    """The send window's part of the settings page (portal.timing)."""
    current = await timing.timing_of(db, organization_id=actor.organization_id)
    return {
        "send_form": form or FormState(values=timing.form_values(current)),
        "send_zone": current.window.zone.key,
        "day_names": DAY_NAMES,
        "send_saved": False,
    }


async def settings_page(request: Request) -> Response:
    actor = admin_of(request)
    async with db_session(request) as db:
        org = await service.current_settings(db, organization_id=actor.organization_id)
        form = FormState(values=service.form_values(org))
        context = settings_context(actor, org, form=form, saved="saved" in request.query_params)
        context |= await send_window_context(db, actor)
        context["send_saved"] = "send_saved" in request.query_params
        context["model_saved"] = "model_saved" in request.query_params
    return render(request, "staff/settings.html", context, headers=NO_STORE)


async def save_settings(request: Request) -> Response:
    """Save the admin's settings (audited), or show what to fix (422) or what someone
    else saved meanwhile (409), keeping everything typed."""
    actor = admin_of(request)
    async with db_session(request) as db:
        org = await service.current_settings(db, organization_id=actor.organization_id)
        context = settings_context(actor, org, saved=False)
        context |= await send_window_context(db, actor)
    changes = await parse_form(
        request,
        OrganizationSettingsForm,
        template="staff/settings.html",
        block="settings_form",
        context=context,
    )
    if isinstance(changes, Response):
        return changes
    try:
        async with db_session(request) as db:
            await service.update_settings(
                db,
                organization_id=actor.organization_id,
                changes=changes,
                staff_user_id=actor.staff_id,
                ip_hash=client_ip_hash(request),
            )
    except Conflict as conflict:
        if conflict.current is None:  # lost a race at the write: read what won
            async with db_session(request) as db:
                org = await service.current_settings(db, organization_id=actor.organization_id)
                conflict = conflict_with(org)
        return conflict_page(
            request,
            conflict=conflict,
            submitted=changes,
            labels=LABELS,
            action=path_for(request, "staff.settings_save"),
            back=path_for(request, "staff.settings"),
        )
    # A whole page (the header shows the name just saved), opening on the message.
    url = path_for(request, "staff.settings") + "?saved=1#settings-message"
    return redirect_page(request, url)


# Open to anyone.
public_routes = [Route("/branding/{slug}.css", branding_css, name="org.branding_css")]
# For admins.
admin_routes = [
    Route("/settings", settings_page, methods=["GET"], name="staff.settings"),
    Route("/settings", save_settings, methods=["POST"], name="staff.settings_save"),
]
