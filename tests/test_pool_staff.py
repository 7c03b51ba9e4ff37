"""The talent pool for staff: search and filters, a member's record, CSV export,
invitations within each member's limits, and the admins' consent statement."""

from __future__ import annotations

import csv
import datetime as dt
import io

import httpx
from sqlalchemy import select, update

from portal.audit.models import AuditEvent
from portal.candidates.models import Job
from portal.db import unit_of_work, utcnow
from portal.feedback.models import FeedbackItem
from portal.mail.jobs import OutgoingEmail, envelope
from portal.orgs.models import Organization
from portal.pool import search
from portal.pool.forms import PoolFilter
from portal.pool.models import PoolContact, PoolMembership
from portal.pool.tokens import LinkPurpose, member_token
from portal.security.actors import Staff, StaffRole
from portal.settings import Settings
from tests.factories import World, make_staff, make_world, staff_sign_in
from tests.pool_support import Sessions, add_member, page_token, queued_mail


async def _people(sessions: Sessions) -> tuple[World, World, World, World]:
    """Three members of Acme (Ada, Cy, Eve) and one of Globex (Bo)."""
    ada = await make_world(sessions, email="ada@example.com", name="Ada Quill", job_title="Analyst")
    cy = await make_world(sessions, email="cy@example.com", name="Cy Varga", job_title="Engineer")
    eve = await make_world(sessions, email="eve@example.com", name="Eve Moss", job_title="Designer")
    bo = await make_world(
        sessions, slug="globex", email="bo@example.com", name="Bo Marsh", job_title="Analyst"
    )
    return ada, cy, eve, bo


async def _recruiter(client: httpx.AsyncClient, sessions: Sessions, world: World) -> int:
    staff_id = await make_staff(sessions, organization_id=world.organization_id)
    assert (await staff_sign_in(client)).status_code == 303
    return staff_id


async def test_recruiters_find_active_members_of_their_own_organization_only(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    ada, cy, eve, bo = await _people(sessions)
    await add_member(sessions, ada)
    left = await add_member(sessions, cy)
    past = await add_member(sessions, eve, joined_at=utcnow() - dt.timedelta(days=200), months=6)
    await add_member(sessions, bo)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(PoolMembership).where(PoolMembership.id == left).values(state="left")
        )
    await _recruiter(client, sessions, ada)
    page = await client.get("/staff/pool")
    assert page.status_code == 200
    assert "Ada Quill" in page.text
    assert "Cy Varga" not in page.text  # left
    assert "Eve Moss" not in page.text  # consent past its end, even before the job ran
    assert "Bo Marsh" not in page.text  # another organization
    assert "1 member" in page.text
    assert (await client.get(f"/staff/pool/{past}")).status_code == 404

    # Globex's recruiter searching finds only Bo, whatever the filters say.
    await make_staff(sessions, organization_id=bo.organization_id, email="sam@globex.example")
    assert (await staff_sign_in(other_client, "sam@globex.example")).status_code == 303
    theirs = await other_client.get("/staff/pool", params={"location": "Berlin"})
    assert "Bo Marsh" in theirs.text and "Ada Quill" not in theirs.text


async def test_filters_narrow_by_role_place_remote_strength_job_and_date(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    ada, cy, eve, _bo = await _people(sessions)
    await add_member(sessions, ada, role_families="data", locations="Berlin", remote="remote")
    await add_member(
        sessions,
        cy,
        role_families="engineering,data",
        locations="Lisbon\nPorto",
        remote="on_site",
        joined_at=utcnow() - dt.timedelta(days=40),
    )
    await add_member(sessions, eve, role_families="design", locations="Paris", remote="either")
    async with sessions() as db:
        job_of_cy = await db.scalar(select(Job.id).where(Job.title == "Engineer"))
    async with unit_of_work(sessions) as db:
        items = (
            await db.scalars(
                select(FeedbackItem)
                .where(FeedbackItem.kind == "strength", FeedbackItem.visible)
                .order_by(FeedbackItem.id)
            )
        ).all()
        # One strength per world, in the order they were made: Ada, Cy, Eve.
        items[1].body = "Ran the team's Kubernetes upgrade without downtime."  # Cy's
    await _recruiter(client, sessions, ada)

    async def names(**params: str) -> set[str]:
        page = await client.get("/staff/pool", params=params)
        assert page.status_code == 200, page.text
        return {n for n in ("Ada Quill", "Cy Varga", "Eve Moss") if n in page.text}

    assert await names() == {"Ada Quill", "Cy Varga", "Eve Moss"}
    assert await names(role_family="data") == {"Ada Quill", "Cy Varga"}
    assert await names(location="porto") == {"Cy Varga"}
    assert await names(remote="yes") == {"Ada Quill", "Eve Moss"}
    assert await names(remote="no") == {"Cy Varga", "Eve Moss"}
    assert await names(skill="kubernetes") == {"Cy Varga"}
    assert await names(skill="well-commented") == {"Ada Quill", "Eve Moss"}
    # The requirement a strength is tied to counts; growth areas do not.
    assert await names(skill="SQL") == {"Ada Quill", "Cy Varga", "Eve Moss"}
    assert await names(skill="statistics") == set()
    assert await names(job=str(job_of_cy)) == {"Cy Varga"}
    since = (utcnow() - dt.timedelta(days=10)).date().isoformat()
    assert await names(joined_from=since) == {"Ada Quill", "Eve Moss"}
    assert await names(joined_to=since) == {"Cy Varga"}
    assert await names(location="%") == set()  # a wildcard is just a character
    bad = await client.get(
        "/staff/pool", params={"role_family": "astronaut", "location": "x" * 101}
    )
    assert bad.status_code == 422
    assert "Choose from the kinds of role listed." in bad.text
    assert "Keep it to 100 characters or fewer" in bad.text


async def test_the_list_is_paginated(sessions: Sessions) -> None:
    worlds = [
        await make_world(sessions, email=f"p{n}@example.com", name=f"Person {n}") for n in range(5)
    ]
    for n, world in enumerate(worlds):
        await add_member(sessions, world, joined_at=utcnow() - dt.timedelta(days=n + 1))
    actor = Staff(1, worlds[0].organization_id, StaffRole.RECRUITER, "Sam", b"")
    async with sessions() as db:
        first = await search.search(db, actor=actor, filters=PoolFilter(), now=utcnow(), per_page=2)
        last = await search.search(
            db, actor=actor, filters=PoolFilter(page=9), now=utcnow(), per_page=2
        )
    assert (first.total, first.pages, [m.name for m in first.members]) == (
        5,
        3,
        ["Person 0", "Person 1"],
    )
    assert (last.page, [m.name for m in last.members]) == (3, ["Person 4"])


async def test_a_members_page_shows_preferences_consent_record_and_feedback(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    ada, *_ = await _people(sessions)
    membership = await add_member(
        sessions, ada, role_families="data", locations="Berlin", contact_frequency="monthly"
    )
    await _recruiter(client, sessions, ada)
    page = await client.get(f"/staff/pool/{membership}")
    assert page.status_code == 200
    assert "Data and analytics" in page.text and "Berlin" in page.text
    assert "At most once a month" in page.text
    assert "Agreed to version 1 of the statement" in page.text
    assert "Your window-function answer was precise." in page.text  # their feedback
    assert "INTERNAL" not in page.text  # never what the candidate cannot see
    listing = await client.get("/staff/pool")
    assert f'href="/staff/pool/{membership}"' in listing.text


async def test_export_is_the_current_result_formula_safe_and_audited(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    ada, cy, *_ = await _people(sessions)
    await add_member(sessions, ada, locations='=HYPERLINK("http://evil.example")\n+Berlin')
    await add_member(sessions, cy, role_families="engineering")
    await _recruiter(client, sessions, ada)
    token = await page_token(client, "/staff/pool")
    refused = await client.post("/staff/pool/export.csv", data={"role_family": "data"})
    assert refused.status_code == 403
    response = await client.post(
        "/staff/pool/export.csv", data={"csrftoken": token, "role_family": "data"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="talent-pool-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Name", "Email", "Kinds of role"]
    assert len(rows) == 2  # Cy is not in the result
    assert rows[1][0] == "Ada Quill"
    assert rows[1][3] == '\'=HYPERLINK("http://evil.example"); +Berlin'
    async with sessions() as db:
        event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "pool.exported"))
    assert event is not None
    assert event.details == {"rows": 1, "filters": {"role_family": "data"}}


async def test_invitations_respect_each_members_limits(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    ada, cy, eve, bo = await _people(sessions)
    now = utcnow()
    free = await add_member(sessions, ada, contact_frequency="quarterly")
    recent = await add_member(
        sessions, cy, contact_frequency="monthly", last_contacted_at=now - dt.timedelta(days=10)
    )
    picky = await add_member(
        sessions, eve, contact_frequency="anytime", only_chosen_roles=True, role_families="design"
    )
    foreign = await add_member(sessions, bo)
    await _recruiter(client, sessions, ada)
    async with sessions() as db:
        job_id = await db.scalar(
            select(Job.id).where(Job.title == "Analyst", Job.organization_id == ada.organization_id)
        )
    members = f"{free},{recent},{picky},{foreign}"
    chosen = await client.get(
        "/staff/pool/invite", params=[("member", str(m)) for m in (free, recent, picky, foreign)]
    )
    assert chosen.status_code == 200
    assert "Ada Quill" in chosen.text and "Bo Marsh" not in chosen.text
    token = await page_token(client, "/staff/pool")
    form = {
        "csrftoken": token,
        "members": members,
        "job_id": str(job_id),
        "role_family": "data",
        "apply_url": "https://careers.example/jobs/7",
        "message": "We thought of you <b>first</b>.",
    }
    preview = await client.post("/staff/pool/invite", data={**form, "action": "preview"})
    assert preview.status_code == 200
    assert "Will be sent to 1: Ada Quill." in preview.text
    next_date = f"{(now + dt.timedelta(days=20)).day} {(now + dt.timedelta(days=20)):%B %Y}"
    assert f"May be contacted again from {next_date}" in preview.text
    assert "Only wants roles in Design and research" in preview.text
    assert "We thought of you &lt;b&gt;first&lt;/b&gt;." in preview.text
    assert "Bo Marsh" not in preview.text
    assert await queued_mail(sessions, "pool_job_invitation") == []

    sent = await client.post("/staff/pool/invite", data={**form, "action": "send"})
    assert sent.status_code == 200
    assert "1 invitation on its way: Ada Quill." in sent.text
    [mail] = await queued_mail(sessions, "pool_job_invitation")
    assert mail["to"] == "ada@example.com"
    message = envelope(1, OutgoingEmail(**mail), settings)
    token_a = member_token(settings, free, LinkPurpose.LEAVE)
    assert message.headers["List-Unsubscribe"] == f"<http://testserver/pool/leave/{token_a}>"
    assert "https://careers.example/jobs/7" in message.text_body
    async with sessions() as db:
        contacts = (await db.scalars(select(PoolContact.membership_id))).all()
        event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "pool.invited"))
    assert contacts == [free]
    assert event is not None and event.details["sent"] == [free]

    # Sending again skips everyone: Ada was just invited to this very job.
    again = await client.post("/staff/pool/invite", data={**form, "action": "send"})
    assert "No invitation was sent." in again.text
    assert "Already invited to this job." in again.text
    assert len(await queued_mail(sessions, "pool_job_invitation")) == 1


async def test_an_invitation_form_with_mistakes_keeps_what_was_typed(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    ada, *_ = await _people(sessions)
    member = await add_member(sessions, ada)
    await _recruiter(client, sessions, ada)
    token = await page_token(client, "/staff/pool")
    response = await client.post(
        "/staff/pool/invite",
        data={
            "csrftoken": token,
            "members": str(member),
            "job_id": "",
            "role_family": "data",
            "apply_url": "javascript:alert(1)",
            "message": "m" * 2001,
            "action": "preview",
        },
    )
    assert response.status_code == 422
    assert "Choose the job." in response.text
    assert "Enter the job&#39;s web address" in response.text
    assert "Keep it to 2,000 characters or fewer (this has 2,001)." in response.text
    assert "m" * 2001 in response.text


async def test_admins_change_the_statement_as_a_new_version_members_keep_theirs(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    ada, *_ = await _people(sessions)
    member = await add_member(sessions, ada)
    await make_staff(sessions, organization_id=ada.organization_id, role="admin")
    await staff_sign_in(client)
    page = await client.get("/staff/pool/settings")
    assert page.status_code == 200
    token = await page_token(client, "/staff/pool/settings")
    saved = await client.post(
        "/staff/pool/settings",
        data={
            "csrftoken": token,
            "consent_text": "New words <script>x</script>",
            "durations": "3, 12",
            "offers_pool": "yes",
            "version": "1",
        },
    )
    assert saved.status_code == 303
    async with sessions() as db:
        org = await db.get(Organization, ada.organization_id)
        assert org is not None
        assert (org.consent_text_version, org.consent_durations_months) == (2, [3, 12])
        actions = (await db.scalars(select(AuditEvent.action))).all()
    assert "pool.consent_text_changed" in actions and "pool.settings_changed" in actions
    after = await client.get("/staff/pool/settings")
    assert "Version 2" in after.text and "New words &lt;script&gt;" in after.text
    member_page = await client.get(f"/staff/pool/{member}")
    assert "Agreed to version 1 of the statement" in member_page.text

    # A stale form (someone saved in between) keeps the text and explains.
    stale = await client.post(
        "/staff/pool/settings",
        data={
            "csrftoken": token,
            "consent_text": "Mine",
            "durations": "6",
            "offers_pool": "yes",
            "version": "1",
        },
    )
    assert stale.status_code == 409
    assert "Someone else saved these settings" in stale.text and ">Mine</textarea>" in stale.text
    empty = await client.post(
        "/staff/pool/settings",
        data={"csrftoken": token, "consent_text": "", "durations": "0", "version": "2"},
    )
    assert empty.status_code == 422
    assert "Write what candidates agree to when they join." in empty.text
    assert "List up to six numbers of months from 1 to 60" in empty.text


async def test_recruiters_do_not_see_the_settings(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    ada, *_ = await _people(sessions)
    await _recruiter(client, sessions, ada)
    assert (await client.get("/staff/pool/settings")).status_code == 404
    token = await page_token(client, "/staff/pool")
    refused = await client.post(
        "/staff/pool/settings",
        data={"csrftoken": token, "consent_text": "x", "durations": "6", "version": "1"},
    )
    assert refused.status_code == 404
    listing = await client.get("/staff/pool")
    assert "Consent statement and settings" not in listing.text
