"""Rules for jobs, their requirements and applications, and what an actor may read
of applications (every list and look-up starts from readable_applications)."""

from __future__ import annotations

from sqlalchemy import Select, delete, false, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.candidates.models import Application, Job, Requirement
from portal.feedback.models import Feedback, FeedbackItem, FeedbackState, ItemKind
from portal.security.actors import Actor, Candidate, Staff


class RequirementInUse(Exception):
    """The requirement is part of feedback that must not change; the message says which."""


async def delete_requirement(db: AsyncSession, *, requirement_id: int) -> bool:
    """Delete a job's requirement, unless feedback depends on it (False if there is none).

    Published feedback is what candidates read and never changes, so a requirement
    any published item mentions stays. A draft's assessment rates the requirement
    and would lose its subject, so the recruiter removes it first. Draft strengths
    and growth areas only mention it and stand on their own: they are unlinked.
    The foreign key (no ON DELETE action) backs this in the database.
    """
    requirement = await db.get(Requirement, requirement_id)
    if requirement is None:
        return False
    uses = (
        await db.execute(
            select(Feedback.id, Feedback.state, FeedbackItem.kind)
            .join(Feedback, Feedback.id == FeedbackItem.feedback_id)
            .where(FeedbackItem.requirement_id == requirement_id)
        )
    ).all()
    published = len({use.id for use in uses if use.state == FeedbackState.PUBLISHED})
    if published:
        raise RequirementInUse(
            f"“{requirement.name}” is part of feedback already published to candidates "
            f"({_count(published, 'application')}), so it cannot be deleted."
        )
    drafts = len({use.id for use in uses if use.kind == ItemKind.ASSESSMENT})
    if drafts:
        raise RequirementInUse(
            f"“{requirement.name}” is assessed in draft feedback "
            f"({_count(drafts, 'draft')}). Remove those assessments first."
        )
    await db.execute(
        update(FeedbackItem)
        .where(FeedbackItem.requirement_id == requirement_id)
        .values(requirement_id=None)
    )
    await db.execute(delete(Requirement).where(Requirement.id == requirement_id))
    return True


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def readable_applications(actor: Actor) -> Select[Application]:
    """A candidate's own applications; a staff member's organization's; nothing for
    anyone else. A record outside it is answered as if it did not exist (404)."""
    statement = select(Application)
    if isinstance(actor, Candidate):
        return statement.where(Application.candidate_id == actor.candidate_id)
    if isinstance(actor, Staff):
        return statement.where(Application.organization_id == actor.organization_id)
    return statement.where(false())


def readable_jobs(actor: Actor) -> Select[Job]:
    """A staff member's organization's jobs; nothing for anyone else (a candidate reads
    a job only through their application)."""
    statement = select(Job)
    if isinstance(actor, Staff):
        return statement.where(Job.organization_id == actor.organization_id)
    return statement.where(false())


async def job_titles(db: AsyncSession, *, actor: Actor) -> list[tuple[int, str]]:
    """(id, title) of every job the actor may read, by title: for filters and choices."""
    rows = await db.execute(
        readable_jobs(actor).with_only_columns(Job.id, Job.title).order_by(Job.title, Job.id)
    )
    return [(row.id, row.title) for row in rows]
