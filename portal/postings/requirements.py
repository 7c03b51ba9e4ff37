"""A job's requirements: add, edit, reorder, remove (and undo), copy from another job.

Every look-up starts from the job (`portal.postings.service`), itself from
`readable_jobs(actor)`: a requirement of another organization's job is
`JobNotFound` (a 404). Changes to one job's requirements take turns (the job's
row is locked for writing on PostgreSQL).

Feedback already published keeps the requirements as the candidate read them
(portal.feedback.drafts.keep_requirements_as_published), so a requirement can be
renamed, reworded and reordered freely, and removing one that feedback uses
retires it (it leaves the job's list, new drafts and imports) rather than
deleting it. Every change is audited on the job (subject ``job``); the record of
a removal holds what was removed, so that it can be undone.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.audit.models import AuditEvent
from portal.candidates.models import Requirement
from portal.feedback.models import FeedbackItem
from portal.postings.forms import Direction
from portal.postings.service import JobNotFound, RequirementRow, active_requirements, find_job
from portal.security.actors import ApiKey, Staff


class NameTaken(ValueError):
    """The job (or the library) already has a requirement of that name."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class AlreadyRestored(Exception):
    """The removal was undone already: the requirement is back."""


class Removal(enum.StrEnum):
    DELETED = "deleted"  # no feedback used it
    RETIRED = "retired"  # feedback uses it: kept, but no longer the job's


@dataclass(frozen=True)
class Removed:
    """What `remove_requirement` did, and the record that undoes it."""

    name: str
    how: Removal
    removal_id: int  # the audit event of the removal


def _same(name: str) -> str:
    return name.strip().casefold()


async def _requirement(
    db: AsyncSession, *, actor: Staff | ApiKey, job_id: int, requirement_id: int, lock: bool = False
) -> Requirement:
    """One of the job's (active) requirements."""
    job = await find_job(db, actor=actor, job_id=job_id, lock=lock)
    requirement = await db.scalar(
        select(Requirement).where(
            Requirement.id == requirement_id,
            Requirement.job_id == job.id,
            Requirement.retired_at.is_(None),
        )
    )
    if requirement is None:
        raise JobNotFound(job_id)
    return requirement


async def requirement_of(
    db: AsyncSession, *, actor: Staff, job_id: int, requirement_id: int
) -> RequirementRow:
    found = await _requirement(db, actor=actor, job_id=job_id, requirement_id=requirement_id)
    return RequirementRow(found.id, found.name, found.description)


async def _check_name(
    db: AsyncSession, *, job_id: int, name: str, other_than: int | None = None
) -> None:
    """`NameTaken` when another of the job's requirements has this name (any case)."""
    for requirement in await active_requirements(db, job_id=job_id):
        if requirement.id != other_than and _same(requirement.name) == _same(name):
            raise NameTaken(requirement.name)


async def _next_position(db: AsyncSession, job_id: int) -> int:
    # Retired requirements keep their places, so that undoing a removal puts one back.
    found = await db.scalar(
        select(func.max(Requirement.position)).where(Requirement.job_id == job_id)
    )
    return 0 if found is None else int(found) + 1


async def _insert(
    db: AsyncSession, *, job_id: int, name: str, description: str, position: int | None = None
) -> Requirement:
    """A new requirement of the job: at the end, or at `position` (the ones from there
    on move down one place)."""
    if position is None:
        position = await _next_position(db, job_id)
    else:
        taken = await db.scalar(
            select(Requirement.id).where(
                Requirement.job_id == job_id, Requirement.position == position
            )
        )
        if taken is not None:
            await _shift_down(db, job_id=job_id, start=position)
    requirement = Requirement(job_id=job_id, position=position, name=name, description=description)
    db.add(requirement)
    await db.flush()
    return requirement


async def _shift_down(db: AsyncSession, *, job_id: int, start: int) -> None:
    """Move the job's requirements at `start` and after one place down. Through
    negative positions, so that (job, position) stays unique after every row
    (PostgreSQL checks it row by row)."""
    moving = (Requirement.job_id == job_id, Requirement.position >= start)
    await db.execute(
        update(Requirement)
        .where(*moving)
        .values(position=-(Requirement.position + 2))
        .execution_options(synchronize_session=False)
    )
    await db.execute(
        update(Requirement)
        .where(Requirement.job_id == job_id, Requirement.position < 0)
        .values(position=-Requirement.position - 1)
        .execution_options(synchronize_session=False)
    )


def _record(
    db: AsyncSession,
    actor: Staff | ApiKey,
    action: str,
    *,
    job_id: int,
    ip_hash: str | None,
    **details: Any,
) -> AuditEvent:
    return audit.by_actor(
        db,
        actor,
        action=action,
        subject_type="job",
        subject_id=job_id,
        ip_hash=ip_hash,
        details=details,
    )


async def add_requirement(
    db: AsyncSession,
    *,
    actor: Staff | ApiKey,
    job_id: int,
    name: str,
    description: str,
    ip_hash: str | None,
    from_library: int | None = None,
) -> int:
    """A new requirement at the end of the job's list (`NameTaken` when the job has
    one of that name already); its id."""
    job = await find_job(db, actor=actor, job_id=job_id, lock=True)
    await _check_name(db, job_id=job.id, name=name)
    requirement = await _insert(db, job_id=job.id, name=name, description=description)
    details: dict[str, Any] = {"requirement_id": requirement.id, "name": name}
    if from_library is not None:
        details["from_library"] = from_library
    _record(db, actor, "requirement.added", job_id=job.id, ip_hash=ip_hash, **details)
    return requirement.id


async def edit_requirement(
    db: AsyncSession,
    *,
    actor: Staff | ApiKey,
    job_id: int,
    requirement_id: int,
    name: str,
    description: str,
    ip_hash: str | None,
) -> list[str]:
    """Rename or reword a requirement. Drafts show the new words; published feedback
    keeps the words the candidate read. The names of the fields changed."""
    requirement = await _requirement(
        db, actor=actor, job_id=job_id, requirement_id=requirement_id, lock=True
    )
    await _check_name(db, job_id=job_id, name=name, other_than=requirement.id)
    wanted = {"name": name, "description": description}
    changed = sorted(
        field for field, value in wanted.items() if getattr(requirement, field) != value
    )
    if not changed:
        return []
    before = requirement.name
    requirement.name, requirement.description = name, description
    await db.flush()
    _record(
        db,
        actor,
        "requirement.updated",
        job_id=job_id,
        ip_hash=ip_hash,
        requirement_id=requirement.id,
        name=name,
        was=before,
        fields=changed,
    )
    return changed


async def move_requirement(
    db: AsyncSession,
    *,
    actor: Staff,
    job_id: int,
    requirement_id: int,
    direction: Direction,
    ip_hash: str | None,
) -> bool:
    """Swap a requirement with the one above or below it; False at either end."""
    requirement = await _requirement(
        db, actor=actor, job_id=job_id, requirement_id=requirement_id, lock=True
    )
    order = (
        await db.execute(
            select(Requirement.id, Requirement.position)
            .where(Requirement.job_id == job_id, Requirement.retired_at.is_(None))
            .order_by(Requirement.position, Requirement.id)
        )
    ).all()
    index = next(i for i, row in enumerate(order) if row.id == requirement.id)
    other = index - 1 if direction == Direction.UP else index + 1
    if not 0 <= other < len(order):
        return False
    mine, theirs = order[index], order[other]
    # Through a free (negative) place: (job, position) is unique after every statement.
    for moved, position in ((mine.id, -1), (theirs.id, mine.position), (mine.id, theirs.position)):
        await db.execute(
            update(Requirement)
            .where(Requirement.id == moved)
            .values(position=position)
            .execution_options(synchronize_session=False)
        )
    _record(
        db,
        actor,
        "requirement.moved",
        job_id=job_id,
        ip_hash=ip_hash,
        requirement_id=requirement.id,
        name=requirement.name,
        direction=direction.value,
    )
    return True


async def remove_requirement(
    db: AsyncSession,
    *,
    actor: Staff,
    job_id: int,
    requirement_id: int,
    now: dt.datetime,
    ip_hash: str | None,
) -> Removed:
    """Take a requirement off the job. One that no feedback uses is deleted; one that
    feedback uses (published, or a draft) is retired: it leaves the job's list and
    new drafts, and feedback keeps it. Either way the record of the removal
    (``requirement.removed``) holds what `restore_requirement` needs to undo it."""
    requirement = await _requirement(
        db, actor=actor, job_id=job_id, requirement_id=requirement_id, lock=True
    )
    used = await db.scalar(
        select(FeedbackItem.id).where(FeedbackItem.requirement_id == requirement.id).limit(1)
    )
    how = Removal.RETIRED if used is not None else Removal.DELETED
    details = {
        "requirement_id": requirement.id,
        "name": requirement.name,
        "description": requirement.description,
        "position": requirement.position,
        "how": how.value,
    }
    if how == Removal.RETIRED:
        requirement.retired_at = now
        await db.flush()
    else:
        await db.delete(requirement)
        await db.flush()
    event = _record(db, actor, "requirement.removed", job_id=job_id, ip_hash=ip_hash, **details)
    await db.flush()
    return Removed(name=str(details["name"]), how=how, removal_id=event.id)


async def removal_of(
    db: AsyncSession, *, actor: Staff, job_id: int, removal_id: int
) -> dict[str, Any] | None:
    """What a removal of the job's took away (name, description, position, how), or
    None when there is no such removal of this job."""
    details = await db.scalar(
        select(AuditEvent.details).where(
            AuditEvent.id == removal_id,
            AuditEvent.organization_id == actor.organization_id,
            AuditEvent.action == "requirement.removed",
            AuditEvent.subject_type == "job",
            AuditEvent.subject_id == job_id,
        )
    )
    return dict(details) if details else None


async def is_restorable(db: AsyncSession, *, job_id: int, removed: dict[str, Any]) -> bool:
    """Whether undoing this removal would bring something back (it is not back yet)."""
    names = {_same(r.name) for r in await active_requirements(db, job_id=job_id)}
    return _same(str(removed.get("name", ""))) not in names


async def restore_requirement(
    db: AsyncSession, *, actor: Staff, job_id: int, removal_id: int, ip_hash: str | None
) -> str:
    """Undo a removal: a retired requirement rejoins the job where it was, a deleted
    one is made again there. `AlreadyRestored` when it is back already, `NameTaken`
    when another requirement of the job has its name now. Its name."""
    job = await find_job(db, actor=actor, job_id=job_id, lock=True)
    removed = await removal_of(db, actor=actor, job_id=job.id, removal_id=removal_id)
    if removed is None:
        raise JobNotFound(job_id)
    name, description = str(removed["name"]), str(removed.get("description", ""))
    retired = None
    if removed.get("how") == Removal.RETIRED:
        retired = await db.scalar(
            select(Requirement).where(
                Requirement.id == removed.get("requirement_id"), Requirement.job_id == job.id
            )
        )
        if retired is not None and retired.retired_at is None:
            raise AlreadyRestored()
    try:
        await _check_name(db, job_id=job.id, name=name)
    except NameTaken as taken:
        if retired is None and taken.name == name:
            raise AlreadyRestored() from None
        raise
    if retired is not None:
        retired.retired_at = None
        await db.flush()
        restored_id = retired.id
    else:
        position = removed.get("position")
        created = await _insert(
            db,
            job_id=job.id,
            name=name,
            description=description,
            position=position if isinstance(position, int) and position >= 0 else None,
        )
        restored_id = created.id
    _record(
        db,
        actor,
        "requirement.restored",
        job_id=job.id,
        ip_hash=ip_hash,
        requirement_id=restored_id,
        name=name,
        removal=removal_id,
    )
    return name


async def copy_requirements(
    db: AsyncSession, *, actor: Staff, job_id: int, from_job_id: int, ip_hash: str | None
) -> tuple[list[str], list[str]]:
    """Add every requirement of another job of the organization to the end of this
    one's, in order; those whose name the job has already are skipped. The names
    added and the names skipped."""
    job = await find_job(db, actor=actor, job_id=job_id, lock=True)
    source = await find_job(db, actor=actor, job_id=from_job_id)
    if source.id == job.id:
        raise JobNotFound(from_job_id)
    have = {_same(r.name) for r in await active_requirements(db, job_id=job.id)}
    added: list[str] = []
    skipped: list[str] = []
    for requirement in await active_requirements(db, job_id=source.id):
        if _same(requirement.name) in have:
            skipped.append(requirement.name)
            continue
        have.add(_same(requirement.name))
        await _insert(db, job_id=job.id, name=requirement.name, description=requirement.description)
        added.append(requirement.name)
    if added:
        _record(
            db,
            actor,
            "requirement.copied",
            job_id=job.id,
            ip_hash=ip_hash,
            from_job=source.id,
            names=added,
        )
    return added, skipped
