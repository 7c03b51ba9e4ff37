"""Building test data through the models, and driving the candidate's steps over HTTP."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.access.service import issue_invitation_link, issue_sign_in_link
from portal.candidates.models import Application, Candidate, Job, Requirement
from portal.db import unit_of_work, utcnow
from portal.feedback.drafts import keep_requirements_as_published
from portal.feedback.models import Feedback, FeedbackItem
from portal.orgs.models import Organization
from portal.security.sessions import start_session
from portal.staff.models import StaffUser
from portal.staff.passwords import hash_password
from portal.timing.models import SendSettings


def always_open(organization_id: int) -> SendSettings:
    """A send window that never closes."""
    return SendSettings(
        organization_id=organization_id,
        days=[1, 2, 3, 4, 5, 6, 7],
        start_minute=0,
        end_minute=24 * 60,
        holidays=[],
    )


@dataclass(frozen=True)
class World:
    organization_id: int
    candidate_id: int
    application_id: int
    email: str


async def make_world(
    sessions: async_sessionmaker[AsyncSession],
    *,
    slug: str = "acme",
    email: str = "dana@example.com",
    name: str = "Dana Scully",
    job_title: str = "Data Analyst",
    published: bool = True,
) -> World:
    """One organization, a job with two requirements, one candidate with feedback."""
    now = utcnow()
    async with unit_of_work(sessions) as db:
        org = await _organization(db, slug)
        job = Job(organization_id=org.id, title=job_title, team="Insights", location="Remote")
        db.add(job)
        await db.flush()
        sql = Requirement(job_id=job.id, position=0, name="SQL", description="Writes queries")
        stats = Requirement(job_id=job.id, position=1, name="Statistics", description="A/B tests")
        db.add_all([sql, stats])
        candidate = await db.scalar(
            select(Candidate).where(Candidate.organization_id == org.id, Candidate.email == email)
        )
        if candidate is None:
            candidate = Candidate(organization_id=org.id, email=email, name=name)
            db.add(candidate)
            await db.flush()
        application = Application(
            organization_id=org.id,
            candidate_id=candidate.id,
            job_id=job.id,
            stage="interview",
            decided_at=now - dt.timedelta(days=2),
        )
        db.add(application)
        await db.flush()
        feedback = Feedback(
            application_id=application.id,
            state="published" if published else "draft",
            decision_summary=f"Thank you for interviewing for {job_title}.",
            personal_note="It was a pleasure to meet you. — Sam",
            reapply_after_months=6,
            suggested_roles=["Junior Analyst"],
            published_at=now if published else None,
        )
        db.add(feedback)
        await db.flush()
        db.add_all(
            [
                FeedbackItem(
                    feedback_id=feedback.id,
                    kind="assessment",
                    position=0,
                    requirement_id=sql.id,
                    rating="met",
                    body="Your window-function answer was precise.",
                ),
                FeedbackItem(
                    feedback_id=feedback.id,
                    kind="assessment",
                    position=1,
                    requirement_id=stats.id,
                    rating="not_yet_met",
                    body="The power calculation was missing from the test design.",
                ),
                FeedbackItem(
                    feedback_id=feedback.id,
                    kind="strength",
                    requirement_id=sql.id,
                    body="Clear, well-commented queries.",
                ),
                FeedbackItem(
                    feedback_id=feedback.id,
                    kind="growth_area",
                    requirement_id=stats.id,
                    body="Designing experiments end to end.",
                    suggestion="Work through 'Trustworthy Online Controlled Experiments'.",
                ),
                FeedbackItem(
                    feedback_id=feedback.id,
                    kind="strength",
                    body="INTERNAL: hiring manager wanted more seniority.",
                    visible=False,
                ),
            ]
        )
        await db.flush()
        if published:
            # As publishing does: the requirements as the candidate reads them.
            await keep_requirements_as_published(db, feedback_ids=[feedback.id])
        return World(org.id, candidate.id, application.id, email)


async def _organization(db: AsyncSession, slug: str) -> Organization:
    org = await db.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        org = Organization(
            name=slug.title(),
            slug=slug,
            display_name=f"{slug.title()} Corp",
            accent_colour="#224466",
        )
        db.add(org)
        await db.flush()
        # Tests publish at any hour: these organizations' send window never closes
        # (tests/test_send_timing.py sets its own).
        db.add(always_open(org.id))
        await db.flush()
    return org


async def invitation(
    sessions: async_sessionmaker[AsyncSession], world: World, *, now: dt.datetime | None = None
) -> str:
    """A fresh invitation link path (/l/<token>) for the world's application."""
    async with unit_of_work(sessions) as db:
        token = await issue_invitation_link(
            db, application_id=world.application_id, now=now or utcnow()
        )
    return f"/l/{token}"


async def sign_in_link(sessions: async_sessionmaker[AsyncSession], world: World) -> str:
    async with unit_of_work(sessions) as db:
        token = await issue_sign_in_link(db, candidate_id=world.candidate_id, now=utcnow())
    return f"/l/{token}"


CSRF_FIELD = re.compile(r'name="csrftoken" value="([^"]+)"')


async def csrf_token(client: httpx.AsyncClient, path: str = "/signin") -> str:
    """The token a page's forms carry (fetching the page sets the cookie)."""
    response = await client.get(path)
    match = CSRF_FIELD.search(response.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


async def open_link(client: httpx.AsyncClient, path: str) -> httpx.Response:
    """What a person does: open the link and press the button. A link that no longer
    works answers at once, without a button: that answer is returned."""
    page = await client.get(path)
    if page.status_code != 200:
        return page
    match = CSRF_FIELD.search(page.text)
    assert match
    return await client.post(path, data={"csrftoken": match.group(1)})


async def press_button(client: httpx.AsyncClient, path: str) -> httpx.Response:
    """Press "Show my feedback" on a link page loaded earlier (whatever the link says now)."""
    return await client.post(path, data={"csrftoken": await csrf_token(client)})


async def sign_in(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    response = await open_link(client, await invitation(sessions, world))
    assert response.status_code == 303, response.text


async def make_staff(
    sessions: async_sessionmaker[AsyncSession],
    *,
    organization_id: int,
    email: str = "sam@acme.example",
    name: str = "Sam Recruiter",
    password: str = "correct horse battery staple",
    role: str = "recruiter",
    active: bool = True,
) -> int:
    async with unit_of_work(sessions) as db:
        staff = StaffUser(
            organization_id=organization_id,
            email=email,
            name=name,
            role=role,
            password_hash=hash_password(password),
            active=active,
        )
        db.add(staff)
        await db.flush()
        return staff.id


async def staff_sign_in(
    client: httpx.AsyncClient,
    email: str = "sam@acme.example",
    password: str = "correct horse battery staple",
) -> httpx.Response:
    token = await csrf_token(client, "/staff/signin")
    return await client.post(
        "/staff/signin", data={"csrftoken": token, "email": email, "password": password}
    )


async def open_session(
    sessions: async_sessionmaker[AsyncSession],
    *,
    candidate_id: int | None = None,
    staff_user_id: int | None = None,
) -> str:
    """A session cookie value for a candidate or a staff member, as signing in gives."""
    async with unit_of_work(sessions) as db:
        return await start_session(
            db,
            candidate_id=candidate_id,
            staff_user_id=staff_user_id,
            absolute_hours=12,
            now=utcnow(),
        )
