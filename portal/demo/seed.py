"""Loading the demo organizations into a database, and fresh links to them."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access.service import issue_invitation_link, link_url, send_invitation
from portal.candidates.models import (
    Application,
    ApplicationStatus,
    Candidate,
    Job,
    Requirement,
    Stage,
)
from portal.demo.agency import AGENCY
from portal.demo.content import (
    DEMO_STAFF_PASSWORD,
    ORGANIZATION,
    SCORECARDS,
    DemoJob,
    DemoOrganization,
    validate,
)
from portal.demo.pool import seed_pool
from portal.drafting.models import (
    EntryKind,
    Scorecard,
    ScorecardEntry,
    ScorecardRating,
    ScorecardSource,
)
from portal.feedback.drafts import keep_requirements_as_published
from portal.feedback.models import Feedback, FeedbackItem, FeedbackState, ItemKind, Rating
from portal.orgs.creation import DEFAULT_CONSENT_TEXT
from portal.orgs.models import Organization
from portal.security.actors import StaffRole
from portal.settings import Settings
from portal.staff.models import StaffUser
from portal.staff.passwords import hash_password
from portal.threads.abuse import assess_message
from portal.threads.models import AuthorKind, Message, Thread, ThreadState
from portal.threads.working_days import reply_due
from portal.timing.models import SendSettings

# An employer and a recruitment agency (DESIGN §7).
DEMO_ORGANIZATIONS: tuple[DemoOrganization, ...] = (ORGANIZATION, AGENCY)


async def seed_demo(
    db: AsyncSession, *, now: dt.datetime, content: DemoOrganization = ORGANIZATION
) -> int:
    """Create the demo organization unless it exists; return its id."""
    existing = await db.scalar(select(Organization.id).where(Organization.slug == content.slug))
    if existing is not None:
        await _seed_staff(db, organization_id=existing, content=content, now=now)
        return existing
    validate(content)
    org = Organization(
        name=content.name,
        slug=content.slug,
        display_name=content.display_name,
        accent_colour=content.accent_colour,
        reply_promise_days=content.reply_promise_days,
        privacy_url=content.privacy_url or None,
        contact_email=content.contact_email or None,
        consent_text=DEFAULT_CONSENT_TEXT,
        created_at=now,
    )
    db.add(org)
    await db.flush()
    # The demo sends at any hour, so that what you publish in it arrives at once;
    # its admins can set a real send window in the settings (portal.timing).
    db.add(
        SendSettings(
            organization_id=org.id,
            days=[1, 2, 3, 4, 5, 6, 7],
            start_minute=0,
            end_minute=24 * 60,
            holidays=[],
        )
    )

    jobs: dict[str, Job] = {}
    requirements: dict[tuple[str, str], Requirement] = {}
    for demo_job in content.jobs:
        job = Job(
            organization_id=org.id,
            title=demo_job.title,
            team=demo_job.team,
            location=demo_job.location,
            created_at=now,
        )
        db.add(job)
        await db.flush()
        jobs[demo_job.key] = job
        for position, demo_req in enumerate(demo_job.requirements):
            req = Requirement(
                job_id=job.id,
                position=position,
                name=demo_req.name,
                description=demo_req.description,
            )
            db.add(req)
            requirements[(demo_job.key, demo_req.name)] = req
    await db.flush()
    staff = await _seed_staff(db, organization_id=org.id, content=content, now=now)

    candidates: dict[str, Candidate] = {}
    published_applications: list[Application] = []

    async def application_of(name: str, email: str, job: str, stage: str, days: int) -> int:
        email = email.strip().lower()
        candidate = candidates.get(email)
        if candidate is None:
            candidate = Candidate(organization_id=org.id, email=email, name=name, created_at=now)
            db.add(candidate)
            await db.flush()
            candidates[email] = candidate
        decided_at = now - dt.timedelta(days=days)
        application = Application(
            organization_id=org.id,
            candidate_id=candidate.id,
            job_id=jobs[job].id,
            stage=Stage(stage),
            status=ApplicationStatus.REJECTED,
            decided_at=decided_at,
            created_at=decided_at - dt.timedelta(days=21),
        )
        db.add(application)
        await db.flush()
        applications[application.id] = application
        return application.id

    applications: dict[int, Application] = {}
    published_versions: list[int] = []
    for demo in content.applications:
        application_id = await application_of(
            demo.candidate_name, demo.candidate_email, demo.job, demo.stage, demo.decided_days_ago
        )
        decided_at = now - dt.timedelta(days=demo.decided_days_ago)
        state = FeedbackState(demo.state)
        published = state == FeedbackState.PUBLISHED
        feedback = Feedback(
            application_id=application_id,
            version=1,
            state=state,
            decision_summary=demo.decision_summary,
            personal_note=demo.personal_note,
            reapply_after_months=demo.reapply_after_months,
            suggested_roles=list(demo.suggested_roles),
            suggested_role_urls=dict(demo.suggested_role_urls) or None,
            pool_invitation_offered=demo.pool_invitation_offered,
            created_by_staff_id=staff[demo.author] if demo.author else None,
            created_at=decided_at,
            published_at=decided_at if published else None,
        )
        db.add(feedback)
        await db.flush()
        if published:
            published_applications.append(applications[application_id])
            published_versions.append(feedback.id)

        def requirement_id(name: str | None, job_key: str = demo.job) -> int | None:
            return requirements[(job_key, name)].id if name else None

        order = {r.name: i for i, r in enumerate(content_job(content, demo.job).requirements)}
        for assessment in sorted(demo.assessments, key=lambda a: order[a.requirement]):
            db.add(
                FeedbackItem(
                    feedback_id=feedback.id,
                    kind=ItemKind.ASSESSMENT,
                    position=order[assessment.requirement],
                    requirement_id=requirement_id(assessment.requirement),
                    rating=Rating(assessment.rating),
                    body=assessment.evidence,
                    visible=assessment.visible,
                )
            )
        for position, strength in enumerate(demo.strengths):
            db.add(
                FeedbackItem(
                    feedback_id=feedback.id,
                    kind=ItemKind.STRENGTH,
                    position=position,
                    requirement_id=requirement_id(strength.requirement),
                    body=strength.text,
                    visible=strength.visible,
                )
            )
        for position, growth in enumerate(demo.growth_areas):
            db.add(
                FeedbackItem(
                    feedback_id=feedback.id,
                    kind=ItemKind.GROWTH_AREA,
                    position=position,
                    requirement_id=requirement_id(growth.requirement),
                    body=growth.text,
                    suggestion=growth.suggestion,
                    suggestion_url=growth.url,
                    visible=growth.visible,
                )
            )
    await db.flush()
    await keep_requirements_as_published(db, feedback_ids=published_versions)
    for waiting in content.awaiting:
        await application_of(
            waiting.candidate_name,
            waiting.candidate_email,
            waiting.job,
            waiting.stage,
            waiting.decided_days_ago,
        )
    if content is ORGANIZATION:
        await _seed_scorecards(db, organization_id=org.id, now=now)
        # Something in the employer's queue: the last two published applications.
        await _seed_questions(db, published_applications[-2:], org=org, now=now)
    await db.flush()
    await seed_pool(db, organization_id=org.id, slug=content.slug, now=now)
    return org.id


async def _seed_scorecards(db: AsyncSession, *, organization_id: int, now: dt.datetime) -> None:
    """Scorecards on an application waiting for its feedback, to draft it from."""
    for card in SCORECARDS:
        application_id = await db.scalar(
            select(Application.id)
            .join(Candidate, Candidate.id == Application.candidate_id)
            .where(
                Candidate.organization_id == organization_id,
                Candidate.email == card.candidate_email,
            )
        )
        if application_id is None:
            continue
        row = Scorecard(
            application_id=application_id,
            source=ScorecardSource.FORM,
            interviewer=card.interviewer,
            step=card.step,
            interviewed_on=(now - dt.timedelta(days=card.days_ago)).date(),
            overall_recommendation=ScorecardRating(card.recommendation),
            created_at=now,
        )
        db.add(row)
        await db.flush()
        db.add_all(
            ScorecardEntry(
                scorecard_id=row.id,
                kind=EntryKind.ATTRIBUTE,
                position=position,
                name=name,
                rating=ScorecardRating(rating),
                text=note,
                private=private,
            )
            for position, (name, rating, note, private) in enumerate(card.attributes)
        )
        db.add_all(
            ScorecardEntry(
                scorecard_id=row.id,
                kind=EntryKind.QUESTION,
                position=len(card.attributes) + position,
                name=question,
                text=answer,
                private=private,
            )
            for position, (question, answer, private) in enumerate(card.questions)
        )
    await db.flush()


# (days ago, question): an overdue polite question, and one the abuse check flags.
DEMO_QUESTIONS = (
    (
        8,
        "Thank you for the detailed feedback. Could you say a little more about what a "
        "strong answer to the statistics question would have included?",
    ),
    (1, "This whole process was a scam. You will regret wasting my time."),
)


async def _seed_questions(
    db: AsyncSession, applications: list[Application], *, org: Organization, now: dt.datetime
) -> None:
    for application, (days, body) in zip(applications, DEMO_QUESTIONS, strict=False):
        asked = now - dt.timedelta(days=days)
        assessment = await asyncio.to_thread(assess_message, body)
        thread = Thread(
            organization_id=org.id,
            application_id=application.id,
            candidate_id=application.candidate_id,
            job_id=application.job_id,
            state=ThreadState.WAITING,
            created_at=asked,
            waiting_since=asked,
            due_on=reply_due(asked, org.reply_promise_days),
            last_message_at=asked,
            updated_at=asked,
            flagged=assessment.flagged,
            flag_reasons=", ".join(assessment.reasons),
        )
        db.add(thread)
        await db.flush()
        db.add(
            Message(
                thread_id=thread.id,
                author_kind=AuthorKind.CANDIDATE,
                body=body,
                created_at=asked,
                sent_at=asked,
                flagged=assessment.flagged,
                flag_reasons=", ".join(assessment.reasons),
            )
        )


async def _seed_staff(
    db: AsyncSession, *, organization_id: int, content: DemoOrganization, now: dt.datetime
) -> dict[str, int]:
    """The organization's demo staff accounts (any missing ones created); ids by email."""
    rows = await db.execute(
        select(StaffUser.email, StaffUser.id).where(StaffUser.organization_id == organization_id)
    )
    existing = {row.email: row.id for row in rows.all()}
    missing = [member for member in content.staff if member.email not in existing]
    if missing:
        # One hash for all: argon2 is slow by design, and these accounts share a password.
        password_hash = await asyncio.to_thread(hash_password, DEMO_STAFF_PASSWORD)
        for member in missing:
            user = StaffUser(
                organization_id=organization_id,
                email=member.email,
                name=member.name,
                title=member.title or None,
                role=member.role,
                password_hash=password_hash,
                created_at=now,
            )
            db.add(user)
            await db.flush()
            existing[member.email] = user.id
    return existing


async def seed_demo_organizations(db: AsyncSession, *, now: dt.datetime) -> list[int]:
    """Create every demo organization that does not exist yet; return their ids."""
    return [await seed_demo(db, now=now, content=content) for content in DEMO_ORGANIZATIONS]


def content_job(content: DemoOrganization, key: str) -> DemoJob:
    return next(job for job in content.jobs if job.key == key)


@dataclass(frozen=True)
class DemoLink:
    name: str
    email: str
    job: str
    organization: str
    link: str


@dataclass(frozen=True)
class DemoStaffAccount:
    email: str
    password: str
    name: str
    role: StaffRole
    organization: str


async def issue_demo_links(
    db: AsyncSession, *, organization_ids: list[int], settings: Settings, now: dt.datetime
) -> list[DemoLink]:
    """For every application with published feedback: queue the invitation email (with its
    own link), and return a second fresh link to print. Each link works once."""
    rows = await db.execute(
        select(
            Application.id,
            Candidate.name,
            Candidate.email,
            Job.title.label("job"),
            Organization.name.label("organization"),
        )
        .join(Candidate, Candidate.id == Application.candidate_id)
        .join(Job, Job.id == Application.job_id)
        .join(Organization, Organization.id == Job.organization_id)
        .where(
            Job.organization_id.in_(organization_ids),
            select(Feedback.id)
            .where(
                Feedback.application_id == Application.id, Feedback.state == FeedbackState.PUBLISHED
            )
            .exists(),
        )
        .order_by(Application.id)
    )
    links = []
    for row in rows.all():
        await send_invitation(db, application_id=row.id, settings=settings, now=now)
        token = await issue_invitation_link(db, application_id=row.id, now=now)
        links.append(
            DemoLink(
                name=row.name,
                email=row.email,
                job=row.job,
                organization=row.organization,
                link=link_url(settings, token),
            )
        )
    return links


def demo_staff_accounts() -> list[DemoStaffAccount]:
    return [
        DemoStaffAccount(member.email, DEMO_STAFF_PASSWORD, member.name, member.role, content.name)
        for content in DEMO_ORGANIZATIONS
        for member in content.staff
    ]
