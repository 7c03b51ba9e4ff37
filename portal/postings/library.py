"""The organization's requirement library: requirements saved to reuse in its jobs.

Adding a library requirement to a job copies it, so editing or deleting it in the
library later changes no job and no feedback. Every look-up starts from
`readable_library(actor)`: another organization's is `LibraryNotFound` (a 404).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.postings.models import LibraryRequirement
from portal.postings.requirements import NameTaken, add_requirement, requirement_of
from portal.postings.service import active_requirements
from portal.security.actors import Actor, Staff, admin_only

PER_PAGE = 25


class LibraryNotFound(LookupError):
    """No such library requirement in the actor's organization: a 404."""


@dataclass(frozen=True)
class LibraryEntry:
    id: int
    name: str
    description: str


@dataclass(frozen=True)
class LibraryPage:
    entries: list[LibraryEntry]
    total: int  # matching the search
    everything: int  # in the library, whatever the search
    page: int
    pages: int


def readable_library(actor: Actor) -> Select[LibraryRequirement]:
    """A staff member's organization's library; nothing for anyone else."""
    statement = select(LibraryRequirement)
    if isinstance(actor, Staff):
        return statement.where(LibraryRequirement.organization_id == actor.organization_id)
    return statement.where(false())


def _entry(found: LibraryRequirement) -> LibraryEntry:
    return LibraryEntry(found.id, found.name, found.description)


async def _found(db: AsyncSession, *, actor: Staff, entry_id: int) -> LibraryRequirement:
    found = await db.scalar(readable_library(actor).where(LibraryRequirement.id == entry_id))
    if found is None:
        raise LibraryNotFound(entry_id)
    return found


async def library_entry(db: AsyncSession, *, actor: Staff, entry_id: int) -> LibraryEntry:
    return _entry(await _found(db, actor=actor, entry_id=entry_id))


async def library_page(
    db: AsyncSession, *, actor: Staff, q: str, page: int, per_page: int = PER_PAGE
) -> LibraryPage:
    """One page of the library by name, searched in names and descriptions."""
    scope = readable_library(actor)
    everything = await db.scalar(scope.with_only_columns(func.count(LibraryRequirement.id)))
    searched = scope
    for word in q.split()[:8]:
        searched = searched.where(
            or_(
                LibraryRequirement.name.icontains(word, autoescape=True),
                LibraryRequirement.description.icontains(word, autoescape=True),
            )
        )
    total = await db.scalar(searched.with_only_columns(func.count(LibraryRequirement.id))) or 0
    pages = max(1, -(-total // per_page))
    page = min(page, pages)
    found = await db.scalars(
        searched.order_by(LibraryRequirement.name, LibraryRequirement.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return LibraryPage(
        entries=[_entry(entry) for entry in found],
        total=total,
        everything=int(everything or 0),
        page=page,
        pages=pages,
    )


async def choices_for_job(db: AsyncSession, *, actor: Staff, job_id: int) -> list[LibraryEntry]:
    """The library's requirements that the job does not have yet (by name), by name."""
    have = {r.name.casefold() for r in await active_requirements(db, job_id=job_id)}
    found = await db.scalars(readable_library(actor).order_by(LibraryRequirement.name))
    return [_entry(entry) for entry in found if entry.name.casefold() not in have]


async def _check_name(
    db: AsyncSession, *, actor: Staff, name: str, other_than: int | None = None
) -> None:
    taken = await db.scalar(
        readable_library(actor)
        .with_only_columns(LibraryRequirement.id, LibraryRequirement.name)
        .where(func.lower(LibraryRequirement.name) == name.lower())
        .where(LibraryRequirement.id != (other_than or 0))
    )
    if taken is not None:
        raise NameTaken(name)


async def _flush_or_taken(db: AsyncSession, name: str) -> None:
    """Flush; a colleague who saved the same name a moment earlier is `NameTaken` (the
    transaction is then over: the caller's unit of work rolls it back)."""
    try:
        await db.flush()
    except IntegrityError:
        raise NameTaken(name) from None


async def save_to_library(
    db: AsyncSession,
    *,
    actor: Staff,
    name: str,
    description: str,
    now: dt.datetime,
    ip_hash: str | None,
    from_job: int | None = None,
) -> int:
    """A new library requirement (`NameTaken` when the library has that name); its id."""
    await _check_name(db, actor=actor, name=name)
    entry = LibraryRequirement(
        organization_id=actor.organization_id, name=name, description=description, created_at=now
    )
    db.add(entry)
    await _flush_or_taken(db, name)
    details: dict[str, object] = {"name": name}
    if from_job is not None:
        details["from_job"] = from_job
    audit.by_staff(
        db,
        actor,
        action="library_requirement.saved",
        subject_type="library_requirement",
        subject_id=entry.id,
        ip_hash=ip_hash,
        details=details,
    )
    return entry.id


async def save_job_requirement(
    db: AsyncSession,
    *,
    actor: Staff,
    job_id: int,
    requirement_id: int,
    now: dt.datetime,
    ip_hash: str | None,
) -> str:
    """Save one of a job's requirements to the library, as it is; its name."""
    requirement = await requirement_of(
        db, actor=actor, job_id=job_id, requirement_id=requirement_id
    )
    await save_to_library(
        db,
        actor=actor,
        name=requirement.name,
        description=requirement.description,
        now=now,
        ip_hash=ip_hash,
        from_job=job_id,
    )
    return requirement.name


async def edit_library_entry(
    db: AsyncSession,
    *,
    actor: Staff,
    entry_id: int,
    name: str,
    description: str,
    ip_hash: str | None,
) -> None:
    """Rename or reword a library requirement (jobs that have it keep their copy)."""
    entry = await _found(db, actor=actor, entry_id=entry_id)
    await _check_name(db, actor=actor, name=name, other_than=entry.id)
    if (entry.name, entry.description) == (name, description):
        return
    before = entry.name
    entry.name, entry.description = name, description
    await _flush_or_taken(db, name)
    audit.by_staff(
        db,
        actor,
        action="library_requirement.updated",
        subject_type="library_requirement",
        subject_id=entry.id,
        ip_hash=ip_hash,
        details={"name": name, "was": before},
    )


async def delete_library_entry(
    db: AsyncSession, *, actor: Staff, entry_id: int, ip_hash: str | None
) -> str:
    """Delete a library requirement (an admin only; jobs keep their copies). Its name."""
    admin_only(actor, refuse=LibraryNotFound(entry_id))
    entry = await _found(db, actor=actor, entry_id=entry_id)
    name = entry.name
    await db.delete(entry)
    await db.flush()
    audit.by_staff(
        db,
        actor,
        action="library_requirement.deleted",
        subject_type="library_requirement",
        subject_id=entry_id,
        ip_hash=ip_hash,
        details={"name": name},
    )
    return name


async def add_to_job(
    db: AsyncSession, *, actor: Staff, job_id: int, entry_id: int, ip_hash: str | None
) -> str:
    """Add a copy of a library requirement to the end of a job's list (`NameTaken`
    when the job has one of that name); its name."""
    entry = await _found(db, actor=actor, entry_id=entry_id)
    await add_requirement(
        db,
        actor=actor,
        job_id=job_id,
        name=entry.name,
        description=entry.description,
        ip_hash=ip_hash,
        from_library=entry.id,
    )
    return entry.name
