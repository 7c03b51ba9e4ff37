"""What an attack pass broke in the talent pool: a leaked unsubscribe link that renewed
consent, mangled one-click headers, invitation races and a double-clicked join."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from sqlalchemy import select, text

from portal.candidates.models import Job
from portal.db import unit_of_work, utcnow
from portal.mail.jobs import OutgoingEmail, envelope
from portal.orgs.models import Organization
from portal.pool import expiry
from portal.pool.models import PoolConsentEvent
from portal.pool.service import record_consent_text
from portal.settings import Settings
from tests.factories import World, csrf_token, make_world, sign_in
from tests.pool_support import (
    JOIN,
    Sessions,
    join,
    leave_path,
    memberships,
    offer_pool,
    page_token,
    queued_mail,
    renew_path,
)


async def test_a_double_clicked_join_makes_one_membership_and_no_error(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await offer_pool(sessions, world)
    await sign_in(client, sessions, world)
    token = await page_token(client, f"/feedback/{world.application_id}")
    data = {**JOIN, "csrftoken": token}
    answers = await asyncio.gather(
        *(client.post(f"/feedback/{world.application_id}/pool", data=data) for _ in range(2))
    )
    assert [a.status_code for a in answers] == [303, 303], [a.text[:300] for a in answers]
    assert [m.state for m in await memberships(sessions, world)] == ["active"]


# --- SQLite: savepoints inside the request's transaction --------------------------------


async def test_a_released_savepoint_rolls_back_with_its_transaction(sessions: Sessions) -> None:
    world = await make_world(sessions)
    with pytest.raises(RuntimeError):
        async with unit_of_work(sessions) as db:
            async with db.begin_nested():
                db.add(
                    Job(organization_id=world.organization_id, title="Ghost", team="", location="")
                )
                await db.flush()
            raise RuntimeError("the request fails after its savepoint")
    async with sessions() as db:
        assert await db.scalar(select(Job.id).where(Job.title == "Ghost")) is None


async def test_sqlite_connections_keep_their_settings(sessions: Sessions) -> None:
    async with sessions() as db:
        if db.get_bind().dialect.name != "sqlite":
            pytest.skip("SQLite's connection settings")
        pragmas = [
            (await db.execute(text(f"PRAGMA {name}"))).scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        ]
    assert pragmas == ["wal", 1, 5000, 1]


# --- leave and renewal links have a purpose each ------------------------------------


async def _joined(client: httpx.AsyncClient, sessions: Sessions) -> tuple[World, int]:
    world = await make_world(sessions)
    await offer_pool(sessions, world)
    await sign_in(client, sessions, world)
    assert (await join(client, world)).status_code == 303
    [membership] = await memberships(sessions, world)
    return world, membership.id


async def _unsubscribe_url(sessions: Sessions, settings: Settings, template: str) -> str:
    """The List-Unsubscribe URL of the latest queued email of `template`, as sent."""
    mail = (await queued_mail(sessions, template))[-1]
    sent = envelope(1, OutgoingEmail(**mail), settings)
    header = sent.headers["List-Unsubscribe"]
    assert header.startswith("<http://testserver/pool/leave/") and header.endswith(">")
    return header[1:-1].removeprefix("http://testserver")


async def _renewed_events(sessions: Sessions) -> list[dict[str, object]]:
    async with sessions() as db:
        return list(
            (
                await db.scalars(
                    select(PoolConsentEvent.details).where(PoolConsentEvent.kind == "renewed")
                )
            ).all()
        )


async def test_the_unsubscribe_link_cannot_renew_consent(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    world, membership_id = await _joined(client, sessions)
    [before] = await memberships(sessions, world)
    leave = await _unsubscribe_url(sessions, settings, "pool_welcome")
    # Whoever holds the header's URL (a provider, a forwarded copy) tries the renewal page.
    leaked_token = leave.rsplit("/", 1)[1]
    page = await other_client.get(f"/pool/renew/{leaked_token}")
    assert page.status_code == 404
    csrf = await csrf_token(other_client)
    renewed = await other_client.post(
        f"/pool/renew/{leaked_token}", data={"consent_version": "1", "csrftoken": csrf}
    )
    assert renewed.status_code == 404
    [after] = await memberships(sessions, world)
    assert after.expires_at == before.expires_at
    assert await _renewed_events(sessions) == []
    # The leave link still does what it is for.
    assert (await other_client.get(leave)).status_code == 200
    assert membership_id == after.id


async def test_the_renewal_link_cannot_leave(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    world, membership_id = await _joined(client, sessions)
    renew = renew_path(settings, membership_id)
    leave_with_renew_token = renew.replace("/pool/renew/", "/pool/leave/")
    assert (await other_client.get(leave_with_renew_token)).status_code == 404
    pressed = await other_client.post(
        leave_with_renew_token, data={"List-Unsubscribe": "One-Click"}
    )
    assert pressed.status_code == 404
    assert [m.state for m in await memberships(sessions, world)] == ["active"]
    # The renewal page's own "leave now" button carries the leave token, not its own.
    page = await other_client.get(renew)
    assert f'action="{leave_path(settings, membership_id)}"' in page.text
    assert f'action="{leave_with_renew_token}"' not in page.text


async def test_the_renewal_email_seals_both_tokens_and_each_link_has_its_own(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world, membership_id = await _joined(client, sessions)
    [membership] = await memberships(sessions, world)
    async with unit_of_work(sessions) as db:
        due = membership.expires_at - dt.timedelta(days=29)
        assert await expiry.remind_and_expire(db, settings=settings, now=due) == (1, 0)
    [mail] = await queued_mail(sessions, "pool_renewal")
    leave = leave_path(settings, membership_id)
    renew = renew_path(settings, membership_id)
    for path in (leave, renew):
        assert path.rsplit("/", 1)[1] not in str(mail)
    sent = envelope(1, OutgoingEmail(**mail), settings)
    assert f"http://testserver{renew}" in sent.text_body
    assert f"http://testserver{leave}" in sent.text_body
    assert f"http://testserver{renew}" in sent.html_body
    assert sent.headers["List-Unsubscribe"] == f"<http://testserver{leave}>"
    assert renew.rsplit("/", 1)[1] not in str(sent.headers)


async def test_renewal_records_the_statement_version_the_member_was_shown(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    world, membership_id = await _joined(client, sessions)
    async with unit_of_work(sessions) as db:
        org = await db.get(Organization, world.organization_id)
        assert org is not None
        second = await record_consent_text(
            db, org=org, text="Version two: we also keep your CV.", staff_user_id=None, now=utcnow()
        )
        second_id = second.id
    path = renew_path(settings, membership_id)
    page = await other_client.get(path)
    assert "Version two: we also keep your CV." in page.text
    assert 'name="consent_version" value="2"' in page.text
    csrf = await page_token(other_client, path)
    # A press without the version shown renews nothing.
    assert (await other_client.post(path, data={"csrftoken": csrf})).status_code == 400
    done = await other_client.post(path, data={"consent_version": "2", "csrftoken": csrf})
    assert done.status_code == 303
    [after] = await memberships(sessions, world)
    assert after.consent_text_id == second_id
    [event] = await _renewed_events(sessions)
    assert event["consent_version"] == 2
