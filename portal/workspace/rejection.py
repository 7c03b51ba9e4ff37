"""A rejection added by hand: the candidate, the application, and its audit event.

A recruiter records a rejection the organization's ATS did not send (or that
never went through one): the candidate's name and email address, the job, how far
the application got and the day of the decision. The candidate is found by email
address within the organization (stored lower-cased, so the match ignores case),
never by name; a new address makes a new candidate. The application is created
rejected, decided on the day given; its feedback is then written in the editor
like any other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.candidates.decisions import day_problem, decided_at
from portal.candidates.models import Application, ApplicationStatus, Candidate, Job
from portal.candidates.service import readable_applications, readable_jobs
from portal.security.actors import ApiKey, Staff
from portal.workspace.forms import RejectionForm


class UnknownJob(LookupError):
    """The job is not one of the recruiter's organization's (or no longer exists)."""


class ArchivedJob(LookupError):
    """The job is archived: it takes no new rejections (its own stay)."""


class BadDecisionDate(ValueError):
    """The decision date is in the future, or too long ago; the message says which."""


class AlreadyRejected(Exception):
    """The candidate already has an application for the job: nothing was created."""

    def __init__(self, application_id: int) -> None:
        super().__init__(f"application {application_id} exists")
        self.application_id = application_id


@dataclass(frozen=True)
class AddedRejection:
    application_id: int
    candidate_id: int
    existing_candidate: bool  # the email address was already on file
    name_kept: bool  # ... with a name other than the one typed, which was not saved


def _same_name(stored: str, typed: str) -> bool:
    return " ".join(stored.split()).casefold() == " ".join(typed.split()).casefold()


async def find_or_add_candidate(
    db: AsyncSession, *, actor: Staff | ApiKey, email: str, name: str, now: dt.datetime
) -> tuple[Candidate, bool]:
    """The organization's candidate with this address, locked for this transaction,
    and whether it was there already. One `INSERT … ON CONFLICT DO NOTHING`: two
    recruiters adding the same new person at once make one candidate."""
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    created = await db.scalar(
        insert(Candidate)
        .values(
            organization_id=actor.organization_id,
            email=email,
            name=name,
            preferred_language="en",
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["organization_id", "email"])
        .returning(Candidate.id)
    )
    # Locked (on PostgreSQL), so that a second hand-made rejection for the same
    # person and job waits for this one and then finds it.
    candidate = await db.scalar(
        select(Candidate)
        .where(Candidate.organization_id == actor.organization_id, Candidate.email == email)
        .with_for_update()
    )
    assert candidate is not None
    return candidate, created is None


async def add_rejection(
    db: AsyncSession, *, actor: Staff, form: RejectionForm, now: dt.datetime, ip_hash: str
) -> AddedRejection:
    """Record a rejection in the actor's organization. Raises `UnknownJob`,
    `ArchivedJob`, `BadDecisionDate` or `AlreadyRejected` (with the existing
    application) and then writes nothing. Audited as ``application.created`` with source "hand"."""
    day = form.decided_on or now.date()
    problem = day_problem(day, today=now.date())
    if problem:
        raise BadDecisionDate(problem)
    job = (
        await db.execute(
            readable_jobs(actor)
            .with_only_columns(Job.id, Job.archived_at)
            .where(Job.id == form.job)
        )
    ).one_or_none()
    if job is None:
        raise UnknownJob(form.job)
    if job.archived_at is not None:
        raise ArchivedJob(form.job)
    job_id = job.id
    email = form.email.lower()
    candidate, existing = await find_or_add_candidate(
        db, actor=actor, email=email, name=form.name, now=now
    )
    duplicate = await db.scalar(
        readable_applications(actor)
        .with_only_columns(Application.id)
        .where(Application.candidate_id == candidate.id, Application.job_id == job_id)
        .order_by(Application.id.desc())
        .limit(1)
    )
    if duplicate is not None:
        raise AlreadyRejected(duplicate)
    application = Application(
        organization_id=actor.organization_id,
        candidate_id=candidate.id,
        job_id=job_id,
        stage=form.stage,
        status=ApplicationStatus.REJECTED,
        decided_at=decided_at(day, now=now),
        created_at=now,
    )
    db.add(application)
    await db.flush()
    name_kept = existing and not _same_name(candidate.name, form.name)
    audit.by_staff(
        db,
        actor,
        action="application.created",
        subject_type="application",
        subject_id=application.id,
        ip_hash=ip_hash,
        details={
            "source": "hand",
            "candidate_id": candidate.id,
            "job_id": job_id,
            "stage": form.stage.value,
            "decided_on": day.isoformat(),
            "new_candidate": not existing,
        },
    )
    return AddedRejection(application.id, candidate.id, existing, name_kept)
