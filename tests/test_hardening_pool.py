"""What an attack pass broke in the talent pool: a leaked unsubscribe link that renewed
consent, mangled one-click headers, invitation races and a double-clicked join."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import email
import email.policy

import httpx
import pytest
from aiosmtplib.email import flatten_message
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from portal.candidates.models import Job
from portal.db import unit_of_work, utcnow
from portal.mail.backends import Envelope, build_message
from portal.mail.jobs import OutgoingEmail, envelope
from portal.orgs.consent import record_consent_text
from portal.orgs.models import Organization
from portal.pool import expiry
from portal.pool.invite import ALREADY_INVITED, INVITED_MEANWHILE
from portal.pool.models import PoolConsentEvent, PoolContact
from portal.settings import Settings
from tests.factories import World, csrf_token, make_staff, make_world, sign_in, staff_sign_in
from tests.pool_support import (
    JOIN,
    Sessions,
    add_member,
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


# --- List-Unsubscribe as providers read it ----------------------------------------------

LONG_BASE = "https://feedback.some-long-employer-name.example.com"


def test_one_click_headers_stay_plain_with_a_production_length_url(settings: Settings) -> None:
    url = f"{LONG_BASE}{leave_path(settings, 2_000_000_123)}"
    assert len(f"List-Unsubscribe: <{url}>") > 78
    subject = "Zoë, une nouvelle offre chez Müller & Söhne GmbH, Analyste de données senior (H/F)"
    sent = Envelope(
        7,
        "zoe@example.com",
        "jobs@mueller.example",
        "Müller & Söhne",
        subject,
        "Hello\n",
        "<p>Hello</p>",
        {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    message = build_message(sent)
    # As the file backend writes it, and as aiosmtplib puts it on the wire.
    for raw in (message.as_bytes(), flatten_message(message)):
        head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("ascii")
        lines = head.split("\n")
        assert f"List-Unsubscribe: <{url}>" in lines
        assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in lines
        assert all(len(line) <= 998 for line in lines)
        # The non-ASCII subject and sender name are still encoded words.
        assert next(line for line in lines if line.startswith("Subject: ")).count("=?utf-8?") == 1
        assert next(line for line in lines if line.startswith("From: ")).count("=?utf-8?") == 1
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert parsed["List-Unsubscribe"] == f"<{url}>"
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert parsed["Subject"] == subject
        assert parsed["From"].addresses[0].display_name == "Müller & Söhne"
    # A header value still cannot smuggle in another header.
    with pytest.raises(ValueError):
        build_message(
            dataclasses.replace(sent, headers={"List-Unsubscribe": f"<{url}>\r\nBcc: x@y"})
        )


# --- invitations: one per member and job ---------------------------------------------


async def test_two_recruiters_sending_the_same_invitation_at_once_reach_each_member_once(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    ada = await make_world(sessions, email="ada@example.com", name="Ada Quill", job_title="Analyst")
    cy = await make_world(sessions, email="cy@example.com", name="Cy Varga")
    # "Matching roles only": no waiting period, so only the database can stop a
    # second invitation to the same job.
    matching = await add_member(
        sessions, ada, contact_frequency="anytime", only_chosen_roles=True, role_families="data"
    )
    quarterly = await add_member(sessions, cy, contact_frequency="quarterly")
    await make_staff(sessions, organization_id=ada.organization_id)
    await make_staff(sessions, organization_id=ada.organization_id, email="kim@acme.example")
    assert (await staff_sign_in(client)).status_code == 303
    assert (await staff_sign_in(other_client, "kim@acme.example")).status_code == 303
    async with sessions() as db:
        job_id = await db.scalar(select(Job.id).where(Job.title == "Analyst"))
    form = {
        "members": f"{matching},{quarterly}",
        "job_id": str(job_id),
        "role_family": "data",
        "apply_url": "https://careers.example/jobs/7",
        "message": "We thought of you.",
        "action": "send",
    }
    tokens = [await page_token(browser, "/staff/pool") for browser in (client, other_client)]
    answers = await asyncio.gather(
        *(
            browser.post("/staff/pool/invite", data={**form, "csrftoken": token})
            for browser, token in zip((client, other_client), tokens, strict=True)
        )
    )
    assert [a.status_code for a in answers] == [200, 200]
    mails = await queued_mail(sessions, "pool_job_invitation")
    assert sorted(m["to"] for m in mails) == ["ada@example.com", "cy@example.com"]
    async with sessions() as db:
        contacts = (await db.scalars(select(PoolContact.membership_id))).all()
    assert sorted(contacts) == sorted([matching, quarterly])
    # Whoever came second is told, member by member, instead of an error: "a moment
    # ago" when both planned before either sent, "already" when the first had sent.
    assert any("No invitation was sent." in a.text for a in answers)
    assert any(told in a.text for a in answers for told in (INVITED_MEANWHILE, ALREADY_INVITED))


async def test_the_database_refuses_a_second_invitation_to_the_same_job(
    sessions: Sessions,
) -> None:
    ada = await make_world(sessions, email="ada@example.com", name="Ada Quill")
    member = await add_member(sessions, ada)
    async with sessions() as db:
        job_id = await db.scalar(select(Job.id))
    contact = {"membership_id": member, "organization_id": ada.organization_id, "job_id": job_id}
    async with unit_of_work(sessions) as db:
        db.add(PoolContact(**contact))
    with pytest.raises(IntegrityError):
        async with unit_of_work(sessions) as db:
            db.add(PoolContact(**contact))
