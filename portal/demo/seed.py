"""Loading the demo organization into a database, and fresh links to it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access.service import issue_invitation_link, link_url
from portal.candidates.models import Application, Candidate, Job, Requirement
from portal.demo.content import ORGANIZATION, DemoJob, DemoOrganization, validate
from portal.feedback.models import Feedback, FeedbackItem
from portal.orgs.models import Organization
from portal.settings import Settings

CONSENT_TEXT = (
    "By joining our talent pool you agree that we keep your name, email address, the "
    "feedback on your applications and your preferences, and contact you about roles that "
    "match them, for the period you choose. You can leave at any time with one click."
)


async def seed_demo(
    db: AsyncSession, *, now: dt.datetime, content: DemoOrganization = ORGANIZATION
) -> int:
    """Create the demo organization unless it exists; return its id."""
    existing = await db.scalar(select(Organization.id).where(Organization.slug == content.slug))
    if existing is not None:
        return existing
    validate(content)
    org = Organization(
        name=content.name,
        slug=content.slug,
        display_name=content.display_name,
        accent_colour=content.accent_colour,
        reply_promise_days=content.reply_promise_days,
        consent_text=CONSENT_TEXT,
        created_at=now,
    )
    db.add(org)
    await db.flush()

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

    candidates: dict[str, Candidate] = {}
    for demo in content.applications:
        email = demo.candidate_email.strip().lower()
        candidate = candidates.get(email)
        if candidate is None:
            candidate = Candidate(
                organization_id=org.id, email=email, name=demo.candidate_name, created_at=now
            )
            db.add(candidate)
            await db.flush()
            candidates[email] = candidate
        decided_at = now - dt.timedelta(days=demo.decided_days_ago)
        application = Application(
            organization_id=org.id,
            candidate_id=candidate.id,
            job_id=jobs[demo.job].id,
            stage=demo.stage,
            status="rejected",
            decided_at=decided_at,
            created_at=decided_at - dt.timedelta(days=21),
        )
        db.add(application)
        await db.flush()
        feedback = Feedback(
            application_id=application.id,
            version=1,
            state="published",
            decision_summary=demo.decision_summary,
            personal_note=demo.personal_note,
            reapply_after_months=demo.reapply_after_months,
            suggested_roles=list(demo.suggested_roles),
            pool_invitation_offered=demo.pool_invitation_offered,
            created_at=decided_at,
            published_at=decided_at,
        )
        db.add(feedback)
        await db.flush()

        def requirement_id(name: str | None, job_key: str = demo.job) -> int | None:
            return requirements[(job_key, name)].id if name else None

        order = {r.name: i for i, r in enumerate(content_job(content, demo.job).requirements)}
        for assessment in sorted(demo.assessments, key=lambda a: order[a.requirement]):
            db.add(
                FeedbackItem(
                    feedback_id=feedback.id,
                    kind="assessment",
                    position=order[assessment.requirement],
                    requirement_id=requirement_id(assessment.requirement),
                    rating=assessment.rating,
                    body=assessment.evidence,
                    visible=assessment.visible,
                )
            )
        for position, strength in enumerate(demo.strengths):
            db.add(
                FeedbackItem(
                    feedback_id=feedback.id,
                    kind="strength",
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
                    kind="growth_area",
                    position=position,
                    requirement_id=requirement_id(growth.requirement),
                    body=growth.text,
                    suggestion=growth.suggestion,
                    visible=growth.visible,
                )
            )
    await db.flush()
    return org.id


def content_job(content: DemoOrganization, key: str) -> DemoJob:
    return next(job for job in content.jobs if job.key == key)


@dataclass(frozen=True)
class DemoLink:
    name: str
    email: str
    job: str
    link: str


async def issue_demo_links(
    db: AsyncSession, *, organization_id: int, settings: Settings, now: dt.datetime
) -> list[DemoLink]:
    """A fresh invitation link for every application of the demo organization."""
    rows = await db.execute(
        select(Application.id, Candidate.name, Candidate.email, Job.title)
        .join(Candidate, Candidate.id == Application.candidate_id)
        .join(Job, Job.id == Application.job_id)
        .where(Job.organization_id == organization_id)
        .order_by(Application.id)
    )
    links = []
    for application_id, name, email, job_title in rows.all():
        token = await issue_invitation_link(db, application_id=application_id, now=now)
        links.append(DemoLink(name, email, job_title, link_url(settings, token)))
    return links
