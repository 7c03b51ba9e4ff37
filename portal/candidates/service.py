"""What an actor may read of applications and jobs (every list and look-up starts
from readable_applications or readable_jobs). Managing jobs and their requirements
is portal.postings."""

from __future__ import annotations

from typing import TypeGuard

from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.candidates.models import Application, Job
from portal.security.actors import Actor, ApiKey, Candidate, Staff

# The scopes of an API key that read applications and jobs (portal.api.models.ApiScope).
APPLICATION_SCOPES = frozenset({"applications:read", "applications:write"})


def _reads_applications(actor: Actor) -> TypeGuard[ApiKey]:
    return isinstance(actor, ApiKey) and bool(actor.scopes & APPLICATION_SCOPES)


def readable_applications(actor: Actor) -> Select[Application]:
    """A candidate's own applications; a staff member's organization's, and an API
    key's with an applications scope; nothing for anyone else. A record outside it
    is answered as if it did not exist (404)."""
    statement = select(Application)
    if isinstance(actor, Candidate):
        return statement.where(Application.candidate_id == actor.candidate_id)
    if isinstance(actor, Staff) or _reads_applications(actor):
        return statement.where(Application.organization_id == actor.organization_id)
    return statement.where(false())


def readable_jobs(actor: Actor) -> Select[Job]:
    """A staff member's organization's jobs, and an API key's with an applications
    scope; nothing for anyone else (a candidate reads a job only through their
    application)."""
    statement = select(Job)
    if isinstance(actor, Staff) or _reads_applications(actor):
        return statement.where(Job.organization_id == actor.organization_id)
    return statement.where(false())


async def job_titles(
    db: AsyncSession, *, actor: Actor, archived: bool = True
) -> list[tuple[int, str]]:
    """(id, title) of every job the actor may read, by title: for filters (archived
    jobs included) and for choices of a job to add something new to (`archived=False`:
    an archived job is no longer offered, for a new rejection say)."""
    statement = readable_jobs(actor).with_only_columns(Job.id, Job.title)
    if not archived:
        statement = statement.where(Job.archived_at.is_(None))
    rows = await db.execute(statement.order_by(Job.title, Job.id))
    return [(row.id, row.title) for row in rows]
