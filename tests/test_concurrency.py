"""Optimistic concurrency: a stale write raises Conflict, and the page keeps what was typed."""

from __future__ import annotations

import html

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from portal.audit.models import AuditEvent
from portal.concurrency import Conflict, conflict_with, flush
from portal.db import unit_of_work
from portal.orgs.forms import LABELS, OrganizationSettingsForm
from portal.orgs.models import Organization
from portal.orgs.service import update_settings
from portal.web import conflict_page, db_session, parse_form
from tests.factories import World, csrf_token, make_world

Sessions = async_sessionmaker[AsyncSession]


def _changes(version: int, **fields: object) -> OrganizationSettingsForm:
    values: dict[str, object] = {
        "display_name": "Acme Corp",
        "accent_colour": "#224466",
        "reply_promise_days": 5,
        "invitation_days": 14,
        "version": version,
    }
    return OrganizationSettingsForm.model_validate({**values, **fields})


async def _save(sessions: Sessions, world: World, version: int, **fields: object) -> Organization:
    """One admin's save, in its own transaction."""
    async with unit_of_work(sessions) as db:
        org = await update_settings(
            db,
            organization_id=world.organization_id,
            changes=_changes(version, **fields),
            staff_user_id=None,
        )
    assert org is not None
    return org


async def test_saving_bumps_the_version_and_is_audited(sessions: Sessions) -> None:
    world = await make_world(sessions)
    assert (await _save(sessions, world, 1, reply_promise_days=3)).version == 2
    async with unit_of_work(sessions) as db:
        event = (await db.scalars(select(AuditEvent))).one()
        assert event.action == "organization.settings_changed"
        assert event.details == {"fields": ["reply_promise_days"]}


async def test_a_stale_version_raises_conflict_and_changes_nothing(sessions: Sessions) -> None:
    world = await make_world(sessions)
    await _save(sessions, world, 1, display_name="Acme Ltd")
    with pytest.raises(Conflict) as raised:
        await _save(sessions, world, 1, display_name="Acme Inc")
    assert raised.value.version == 2
    assert raised.value.current is not None
    assert raised.value.current["display_name"] == "Acme Ltd"
    async with unit_of_work(sessions) as db:
        org = await db.get(Organization, world.organization_id)
        assert org is not None and (org.display_name, org.version) == ("Acme Ltd", 2)


async def test_a_write_that_lost_the_race_raises_conflict(sessions: Sessions) -> None:
    world = await make_world(sessions)
    async with sessions() as slow:
        # The slow writer reads version 1 ...
        late = await slow.get(Organization, world.organization_id)
        assert late is not None and late.version == 1
        # ... a quick one saves in between ...
        await _save(sessions, world, 1, display_name="Quick")
        # ... and the slow write matches no row: nothing is overwritten.
        late.display_name = "Slow"
        with pytest.raises(Conflict):
            await flush(slow)
        await slow.rollback()
    async with unit_of_work(sessions) as db:
        org = await db.get(Organization, world.organization_id)
        assert org is not None and (org.display_name, org.version) == ("Quick", 2)


async def _edit_settings(request: Request) -> Response:
    """An admin's settings form, as a page would handle it (the route exists only here)."""
    organization_id = int(request.path_params["organization_id"])
    changes = await parse_form(
        request,
        OrganizationSettingsForm,
        template="error.html",
        context={"title": "Check the settings", "message": "Some fields need a fix."},
    )
    if isinstance(changes, Response):
        return changes
    try:
        async with db_session(request) as db:
            await update_settings(
                db, organization_id=organization_id, changes=changes, staff_user_id=None
            )
    except Conflict as conflict:
        if conflict.current is None:
            async with db_session(request) as db:
                org = await db.get(Organization, organization_id)
                assert org is not None
                conflict = conflict_with(org)
        return conflict_page(
            request,
            conflict=conflict,
            submitted=changes,
            labels=LABELS,
            action=request.url.path,
            back="/",
        )
    return PlainTextResponse("saved")


@pytest.fixture
def settings_route(app: Starlette) -> str:
    app.router.routes.append(
        Route("/test/orgs/{organization_id:int}", _edit_settings, methods=["POST"])
    )
    return "/test/orgs/{}"


async def test_the_conflict_page_keeps_the_typed_text(
    app: Starlette,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings_route: str,
) -> None:
    world = await make_world(sessions)
    path = settings_route.format(world.organization_id)
    form = {
        "display_name": "Acme Corp",
        "accent_colour": "#224466",
        "reply_promise_days": "5",
        "invitation_days": "14",
        "version": "1",
    }
    first = await other_client.post(
        path,
        data={
            **form,
            "consent_text": "We keep your details for a year.",
            "csrftoken": await csrf_token(other_client),
        },
    )
    assert first.status_code == 200, first.text

    mine = "We keep your details <b>for two years</b>, and you can leave at any time."
    token = await csrf_token(client)
    second = await client.post(path, data={**form, "consent_text": mine, "csrftoken": token})
    assert second.status_code == 409
    assert "Someone else changed this while you were writing" in second.text
    assert "<b>for two years</b>" not in second.text
    assert html.escape(mine, quote=True) in second.text
    assert "We keep your details for a year." in second.text
    assert 'name="version" value="2"' in second.text

    # Saving theirs over it is a deliberate choice, made with the version shown.
    again = await client.post(
        path, data={**form, "consent_text": mine, "version": "2", "csrftoken": token}
    )
    assert again.status_code == 200
    async with unit_of_work(sessions) as db:
        org = await db.get(Organization, world.organization_id)
        assert org is not None and (org.consent_text, org.version) == (mine, 3)


async def test_the_settings_form_rejects_bad_input_with_422(
    client: httpx.AsyncClient, sessions: Sessions, settings_route: str
) -> None:
    world = await make_world(sessions)
    response = await client.post(
        settings_route.format(world.organization_id),
        data={"display_name": "", "version": "1", "csrftoken": await csrf_token(client)},
    )
    assert response.status_code == 422
