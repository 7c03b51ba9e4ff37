"""Jobs, as staff manage them: the list, a job's page, creating, editing,
archiving and deleting one. (Its requirements: `portal.postings.requirements`.)

Every look-up starts from `readable_jobs(actor)` (portal.candidates.service): a
job of another organization is `JobNotFound` (a 404). Every change is audited
(subject ``job``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal import concurrency
from portal.audit import service as audit
from portal.candidates.models import Application, Job, Requirement
from portal.candidates.service import readable_jobs
from portal.forms import web_link
from portal.postings.forms import JobEditForm, JobForm
from portal.security.actors import ApiKey, Staff, admin_only

# Who may manage jobs: staff on the job pages, an API client (portal.api).
Writer = Staff | ApiKey

PER_PAGE = 25


class JobNotFound(LookupError):
    """No such job (or requirement of it) in the actor's organization: a 404."""


class JobHasApplications(Exception):
    """A job with applications cannot be deleted (their feedback would go with it)."""

    def __init__(self, applications: int) -> None:
        super().__init__(f"{applications} applications")
        self.applications = applications


@dataclass(frozen=True)
class ListedJob:
    id: int
    title: str
    team: str
    location: str
    archived_at: dt.datetime | None
    requirements: int
    applications: int


@dataclass(frozen=True)
class JobList:
    jobs: list[ListedJob]
    archived: bool  # showing the archived jobs rather than the active ones
    active: int
    archived_count: int
    page: int
    pages: int

    @property
    def total(self) -> int:
        return self.archived_count if self.archived else self.active


@dataclass(frozen=True)
class RequirementRow:
    id: int
    name: str
    description: str


@dataclass(frozen=True)
class JobDetail:
    id: int
    title: str
    team: str
    location: str
    posting_url: str | None
    archived_at: dt.datetime | None
    created_at: dt.datetime
    version: int
    requirements: list[RequirementRow]
    applications: int

    @property
    def posting_link(self) -> str | None:
        return web_link(self.posting_url)

    def form_values(self) -> dict[str, str]:
        """The job's details as its edit form shows them."""
        return {
            "title": self.title,
            "team": self.team,
            "location": self.location,
            "posting_url": self.posting_url or "",
            "version": str(self.version),
        }


# --- jobs ------------------------------------------------------------------------------


async def find_job(db: AsyncSession, *, actor: Writer, job_id: int, lock: bool = False) -> Job:
    """A job of the actor's organization; locked for writing when `lock`, so that
    changes to one job's requirements take turns on PostgreSQL."""
    statement = readable_jobs(actor).where(Job.id == job_id)
    if lock:
        statement = statement.with_for_update()
    job = await db.scalar(statement)
    if job is None:
        raise JobNotFound(job_id)
    return job


async def _applications(db: AsyncSession, job_id: int) -> int:
    found = await db.scalar(select(func.count(Application.id)).where(Application.job_id == job_id))
    return int(found or 0)


async def list_jobs(
    db: AsyncSession, *, actor: Staff, archived: bool, page: int, per_page: int = PER_PAGE
) -> JobList:
    """One page of the organization's active jobs (or its archived ones), by title,
    with how many requirements and applications each has."""
    scope = readable_jobs(actor)
    counted = await db.execute(
        scope.with_only_columns(
            Job.archived_at.is_not(None).label("archived"), func.count(Job.id).label("jobs")
        ).group_by(Job.archived_at.is_not(None))
    )
    counts = {bool(row.archived): int(row.jobs) for row in counted}
    total = counts.get(archived, 0)
    pages = max(1, -(-total // per_page))
    page = min(page, pages)
    requirements = (
        select(func.count(Requirement.id))
        .where(Requirement.job_id == Job.id, Requirement.retired_at.is_(None))
        .correlate(Job)
        .scalar_subquery()
    )
    applications = (
        select(func.count(Application.id))
        .where(Application.job_id == Job.id)
        .correlate(Job)
        .scalar_subquery()
    )
    shown = Job.archived_at.is_not(None) if archived else Job.archived_at.is_(None)
    rows = await db.execute(
        scope.with_only_columns(
            Job.id,
            Job.title,
            Job.team,
            Job.location,
            Job.archived_at,
            requirements.label("requirements"),
            applications.label("applications"),
        )
        .where(shown)
        .order_by(Job.title, Job.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return JobList(
        jobs=[ListedJob(**row._mapping) for row in rows],
        archived=archived,
        active=counts.get(False, 0),
        archived_count=counts.get(True, 0),
        page=page,
        pages=pages,
    )


async def active_requirements(db: AsyncSession, *, job_id: int) -> list[RequirementRow]:
    """The job's requirements, in order (retired ones left out)."""
    rows = await db.execute(
        select(Requirement.id, Requirement.name, Requirement.description)
        .where(Requirement.job_id == job_id, Requirement.retired_at.is_(None))
        .order_by(Requirement.position, Requirement.id)
    )
    return [RequirementRow(**row._mapping) for row in rows]


async def job_detail(db: AsyncSession, *, actor: Staff, job_id: int) -> JobDetail:
    job = await find_job(db, actor=actor, job_id=job_id)
    return JobDetail(
        id=job.id,
        title=job.title,
        team=job.team,
        location=job.location,
        posting_url=job.posting_url,
        archived_at=job.archived_at,
        created_at=job.created_at,
        version=job.version,
        requirements=await active_requirements(db, job_id=job.id),
        applications=await _applications(db, job.id),
    )


def _details(data: JobForm) -> dict[str, Any]:
    return {
        "title": data.title,
        "team": data.team,
        "location": data.location,
        "posting_url": data.posting_url or None,
    }


async def create_job(
    db: AsyncSession,
    *,
    actor: Writer,
    data: JobForm,
    now: dt.datetime,
    ip_hash: str | None,
    external_id: str | None = None,
) -> int:
    """A new job of the actor's organization, without requirements yet; its id.
    `external_id`: the ATS's id of the job (the API's)."""
    job = Job(
        organization_id=actor.organization_id,
        created_at=now,
        external_id=external_id,
        **_details(data),
    )
    db.add(job)
    await db.flush()
    audit.by_actor(
        db,
        actor,
        action="job.created",
        subject_type="job",
        subject_id=job.id,
        ip_hash=ip_hash,
        details={"title": job.title},
    )
    return job.id


async def update_job(
    db: AsyncSession, *, actor: Writer, job_id: int, data: JobEditForm, ip_hash: str | None
) -> list[str]:
    """Change a job's details, or raise `Conflict` when someone else saved them since
    the person loaded the form (`data.version`). The names of the fields changed."""
    job = await find_job(db, actor=actor, job_id=job_id)
    concurrency.expect_version(job, data.version)
    wanted = _details(data)
    changed = sorted(name for name, value in wanted.items() if getattr(job, name) != value)
    if not changed:
        return []
    for name in changed:
        setattr(job, name, wanted[name])
    await concurrency.flush(db)
    audit.by_actor(
        db,
        actor,
        action="job.updated",
        subject_type="job",
        subject_id=job.id,
        ip_hash=ip_hash,
        details={"fields": changed, "title": job.title},
    )
    return changed


async def set_archived(
    db: AsyncSession,
    *,
    actor: Staff,
    job_id: int,
    archived: bool,
    now: dt.datetime,
    ip_hash: str | None,
) -> bool:
    """Archive a job (no longer offered for new rejections; its applications and
    feedback stay) or bring it back. False when it already was so.

    The job's version is left alone: archiving changes nothing a colleague may be
    editing in the details form."""
    job = await find_job(db, actor=actor, job_id=job_id)
    if (job.archived_at is not None) == archived:
        return False
    await db.execute(
        update(Job)
        .where(Job.id == job.id)
        .values(archived_at=now if archived else None)
        .execution_options(synchronize_session=False)
    )
    audit.by_staff(
        db,
        actor,
        action="job.archived" if archived else "job.unarchived",
        subject_type="job",
        subject_id=job.id,
        ip_hash=ip_hash,
        details={"title": job.title},
    )
    return True


async def delete_job(db: AsyncSession, *, actor: Staff, job_id: int, ip_hash: str | None) -> str:
    """Delete a job and its requirements (an admin only; anyone else finds nothing),
    unless it has applications: their feedback would go with it, so those jobs are
    archived instead (`JobHasApplications`). The deleted job's title."""
    admin_only(actor, refuse=JobNotFound(job_id))
    job = await find_job(db, actor=actor, job_id=job_id, lock=True)
    applications = await _applications(db, job.id)
    if applications:
        raise JobHasApplications(applications)
    title = job.title
    await db.execute(
        delete(Job).where(Job.id == job.id).execution_options(synchronize_session=False)
    )
    db.expunge(job)
    audit.by_staff(
        db,
        actor,
        action="job.deleted",
        subject_type="job",
        subject_id=job_id,
        ip_hash=ip_hash,
        details={"title": title},
    )
    return title


async def other_jobs(db: AsyncSession, *, actor: Staff, job_id: int) -> list[tuple[int, str]]:
    """(id, title) of the organization's other jobs that have requirements to copy."""
    has_requirements = (
        select(Requirement.id)
        .where(Requirement.job_id == Job.id, Requirement.retired_at.is_(None))
        .correlate(Job)
        .exists()
    )
    rows = await db.execute(
        readable_jobs(actor)
        .with_only_columns(Job.id, Job.title, Job.archived_at)
        .where(Job.id != job_id, has_requirements)
        .order_by(Job.archived_at.is_not(None), Job.title, Job.id)
    )
    return [
        (row.id, row.title + (" (archived)" if row.archived_at is not None else "")) for row in rows
    ]
