"""The demo's two organizations, seeded into the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

import dataclasses
from collections import Counter

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.candidates.models import Application, Candidate, Job
from portal.db import unit_of_work, utcnow
from portal.demo.agency import AGENCY
from portal.demo.content import DEMO_STAFF_PASSWORD, ORGANIZATION, validate
from portal.demo.pool import DEMO_POOL
from portal.demo.seed import (
    DEMO_ORGANIZATIONS,
    DemoLink,
    demo_staff_accounts,
    issue_demo_links,
    seed_demo_organizations,
)
from portal.feedback.models import Feedback
from portal.jobs.models import BackgroundJob
from portal.mail.jobs import MAIL_SEND, OutgoingEmail, envelope
from portal.orgs.models import Organization
from portal.pool.models import PoolMembership
from portal.security.actors import StaffRole
from portal.settings import Settings
from portal.staff.models import StaffUser
from portal.staff.passwords import verify_password
from portal.threads.models import Thread
from tests.factories import open_link, staff_sign_in


async def seed(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> tuple[list[int], list[DemoLink]]:
    now = utcnow()
    async with unit_of_work(sessions) as db:
        ids = await seed_demo_organizations(db, now=now)
        links = await issue_demo_links(db, organization_ids=ids, settings=settings, now=now)
    return ids, links


def test_both_organizations_content_is_consistent() -> None:
    for content in DEMO_ORGANIZATIONS:
        validate(content)
    assert {content.kind for content in DEMO_ORGANIZATIONS} == {
        "an employer",
        "a recruitment agency",
    }


def test_an_author_who_is_not_on_the_staff_is_refused() -> None:
    stranger = dataclasses.replace(ORGANIZATION.applications[0], author="who@example.com")
    broken = dataclasses.replace(ORGANIZATION, applications=(stranger,))
    with pytest.raises(ValueError, match="is not on the staff"):
        validate(broken)


async def test_staff_of_both_organizations_sign_in_with_the_demo_password(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    ids, _ = await seed(sessions, settings)
    async with sessions() as db:
        rows = (
            await db.execute(
                select(Organization.name, StaffUser.role, StaffUser.email, StaffUser.password_hash)
                .join(StaffUser, StaffUser.organization_id == Organization.id)
                .where(Organization.id.in_(ids))
            )
        ).all()
    roles = Counter((name, role) for name, role, _, _ in rows)
    for content in DEMO_ORGANIZATIONS:
        assert roles[(content.name, StaffRole.ADMIN)] >= 1
        assert roles[(content.name, StaffRole.RECRUITER)] >= 1
    assert {email for _, _, email, _ in rows} == {m.email for m in demo_staff_accounts()}
    hashes = {password_hash for _, _, _, password_hash in rows}
    assert all(h is not None and h.startswith("$argon2id$") for h in hashes)
    (one, *_) = hashes
    assert verify_password(one, DEMO_STAFF_PASSWORD)
    assert not verify_password(one, "wrong")


async def test_each_organization_has_published_draft_and_unwritten_feedback(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    ids, _ = await seed(sessions, settings)
    async with sessions() as db:
        rows = (
            await db.execute(
                select(Job.organization_id, Feedback.state, func.count(Application.id))
                .join(Application, Application.job_id == Job.id)
                .outerjoin(Feedback, Feedback.application_id == Application.id)
                .where(Job.organization_id.in_(ids))
                .group_by(Job.organization_id, Feedback.state)
            )
        ).all()
    counts: dict[tuple[int, str | None], int] = {(org, state): n for org, state, n in rows}
    for org_id in ids:
        assert counts[(org_id, "published")] >= 3
        assert counts[(org_id, "draft")] >= 1
        assert counts[(org_id, None)] >= 1


async def test_links_go_to_published_feedback_only_and_each_opens_it(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, links = await seed(sessions, settings)
    published = sum(
        1 for content in DEMO_ORGANIZATIONS for a in content.applications if a.state == "published"
    )
    assert len(links) == published
    organizations = {link.organization for link in links}
    assert organizations == {ORGANIZATION.name, AGENCY.name}
    drafted = {a.candidate_email for c in DEMO_ORGANIZATIONS for a in c.applications} - {
        link.email for link in links
    }
    assert drafted, "some candidates have only a draft"
    waiting = {w.candidate_email for c in DEMO_ORGANIZATIONS for w in c.awaiting}
    assert not waiting & {link.email for link in links}

    for link in (links[0], links[-1]):
        response = await open_link(client, link.link.removeprefix(settings.base_url))
        assert response.status_code == 303, link


async def test_every_printed_application_gets_its_invitation_email_with_another_link(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, links = await seed(sessions, settings)
    async with sessions() as db:
        jobs = (
            await db.execute(
                select(BackgroundJob.id, BackgroundJob.payload).where(
                    BackgroundJob.kind == MAIL_SEND.name
                )
            )
        ).all()
    emails = [
        envelope(job_id, OutgoingEmail.model_validate(payload), settings)
        for job_id, payload in jobs
        if payload["template"] == "invitation"
    ]
    assert Counter(e.to_address for e in emails) == Counter(link.email for link in links)
    tomasz = next(e for e in emails if e.to_address == "tomasz.nowak@example.com")
    assert "Warehouse Operations Supervisor" in tomasz.text_body
    assert tomasz.from_name == AGENCY.display_name
    emailed = next(
        word for word in tomasz.text_body.split() if word.startswith(f"{settings.base_url}/l/")
    )
    printed = next(link.link for link in links if link.email == "tomasz.nowak@example.com")
    assert emailed != printed
    # Both work, once each.
    for url in (printed, emailed):
        response = await open_link(client, url.removeprefix(settings.base_url))
        assert response.status_code == 303


async def test_running_the_demo_again_adds_nothing_but_fresh_links(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    first_ids, first_links = await seed(sessions, settings)

    async def counts() -> tuple[int, int, int]:
        async with sessions() as db:
            return (
                await db.scalar(select(func.count(Candidate.id))) or 0,
                await db.scalar(select(func.count(StaffUser.id))) or 0,
                await db.scalar(select(func.count(Feedback.id))) or 0,
            )

    before = await counts()
    second_ids, second_links = await seed(sessions, settings)
    assert second_ids == first_ids
    assert await counts() == before
    assert [link.email for link in second_links] == [link.email for link in first_links]
    assert not {link.link for link in second_links} & {link.link for link in first_links}


async def test_staff_missing_from_an_older_demo_database_are_added(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await seed(sessions, settings)
    async with unit_of_work(sessions) as db:
        await db.execute(delete(StaffUser))
    await seed(sessions, settings)
    async with sessions() as db:
        assert await db.scalar(select(func.count(StaffUser.id))) == len(demo_staff_accounts())


async def test_a_demo_staff_member_signs_in_at_the_staff_entrance(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await seed(sessions, settings)
    admin = next(m for m in demo_staff_accounts() if m.organization == AGENCY.name)
    response = await staff_sign_in(client, admin.email, admin.password)
    assert response.status_code == 303
    assert response.headers["location"].endswith("/staff/")
    page = await client.get("/staff/")
    assert page.status_code == 200
    assert admin.email in page.text


async def test_the_employers_queue_has_a_question_and_a_flagged_message(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    ids, _ = await seed(sessions, settings)
    async with sessions() as db:
        threads = (await db.scalars(select(Thread).order_by(Thread.id))).all()
    assert [t.organization_id for t in threads] == [ids[0], ids[0]]
    assert all(t.state == "waiting" for t in threads)
    assert [t.flagged for t in threads] == [False, True]
    assert threads[1].flag_reasons == "threat, accusation"
    assert threads[0].due_on is not None and threads[0].due_on < utcnow().date()


async def test_each_organization_has_talent_pool_members_for_its_staff_to_find(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await seed(sessions, settings)
    for content in DEMO_ORGANIZATIONS:
        members = DEMO_POOL[content.slug]
        assert members
        recruiter = next(m for m in demo_staff_accounts() if m.organization == content.name)
        client.cookies.clear()
        assert (await staff_sign_in(client, recruiter.email, recruiter.password)).status_code == 303
        page = await client.get("/staff/pool")
        assert f"{len(members)} member" in page.text
        names = {a.candidate_email: a.candidate_name for a in content.applications}
        for member in members:
            assert names[member.email] in page.text
    # Seeding again adds nobody twice.
    await seed(sessions, settings)
    async with sessions() as db:
        count = await db.scalar(select(func.count(PoolMembership.id)))
    assert count == sum(len(m) for m in DEMO_POOL.values())
