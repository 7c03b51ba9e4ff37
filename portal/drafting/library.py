"""A job's mapping from scorecard attribute names to its requirements (suggested by
name similarity), and the organization's suggestion library for growth areas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.candidates.models import Application, Job, Requirement
from portal.drafting.compose import key_of
from portal.drafting.models import (
    AttributeMapping,
    EntryKind,
    GrowthSuggestion,
    Scorecard,
    ScorecardEntry,
)
from portal.security.actors import Staff

# How alike an attribute's name and a requirement's must be for the page to suggest it.
SUGGEST_RATIO = 0.6
SAME_NAME = ""  # the row's choice: the requirement of the same name (the default)
NONE = "0"  # the row's choice: rates no requirement


class JobNotFound(LookupError):
    pass


@dataclass(frozen=True)
class MappingRow:
    attribute: str
    chosen: str  # SAME_NAME, NONE or a requirement's id
    suggested: int | None  # the requirement whose name is most alike, if any is alike enough
    same_name: int | None  # the requirement of the same name, if there is one


@dataclass(frozen=True)
class JobMapping:
    job_id: int
    title: str
    requirements: list[tuple[int, str]]
    rows: list[MappingRow]


def suggest(attribute: str, requirements: Sequence[tuple[int, str]]) -> int | None:
    """The requirement whose name is most like the attribute's (case and spaces aside),
    when it is at least `SUGGEST_RATIO` alike."""
    key = key_of(attribute)
    best, best_ratio = None, SUGGEST_RATIO
    for requirement_id, name in requirements:
        other = key_of(name)
        ratio = 1.0 if other == key else SequenceMatcher(a=key, b=other).ratio()
        if key and (key in other or other in key):
            ratio = max(ratio, 0.8)
        if ratio >= best_ratio and (best is None or ratio > best_ratio):
            best, best_ratio = requirement_id, ratio
    return best


async def _job(db: AsyncSession, actor: Staff, job_id: int) -> Job:
    job = await db.scalar(
        select(Job).where(Job.id == job_id, Job.organization_id == actor.organization_id)
    )
    if job is None:
        raise JobNotFound(job_id)
    return job


async def job_mapping(db: AsyncSession, *, actor: Staff, job_id: int) -> JobMapping:
    """Every attribute name the job's scorecards use (or that was mapped before), its
    requirement as chosen, and the page's suggestion."""
    job = await _job(db, actor, job_id)
    requirements = [
        (row.id, row.name)
        for row in await db.execute(
            select(Requirement.id, Requirement.name)
            .where(Requirement.job_id == job_id, Requirement.retired_at.is_(None))
            .order_by(Requirement.position, Requirement.id)
        )
    ]
    chosen = {
        row.attribute: row.requirement_id
        for row in (
            await db.scalars(select(AttributeMapping).where(AttributeMapping.job_id == job_id))
        ).all()
    }
    seen = (
        await db.scalars(
            select(ScorecardEntry.name)
            .join(Scorecard, Scorecard.id == ScorecardEntry.scorecard_id)
            .join(Application, Application.id == Scorecard.application_id)
            .where(Application.job_id == job_id, ScorecardEntry.kind == EntryKind.ATTRIBUTE)
            .distinct()
        )
    ).all()
    names: dict[str, str] = {}
    for name in [*chosen, *seen]:
        names.setdefault(key_of(name), name)
    by_key = {key_of(name): requirement_id for requirement_id, name in requirements}
    rows = []
    for key, name in sorted(names.items()):
        mapped = next((v for k, v in chosen.items() if key_of(k) == key), SAME_NAME)
        rows.append(
            MappingRow(
                attribute=name,
                chosen=NONE if mapped is None else str(mapped) if mapped != SAME_NAME else "",
                suggested=suggest(name, requirements),
                same_name=by_key.get(key),
            )
        )
    return JobMapping(job.id, job.title, requirements, rows)


async def save_job_mapping(
    db: AsyncSession,
    *,
    actor: Staff,
    job_id: int,
    rows: Sequence[tuple[str, str]],
    ip_hash: str | None = None,
) -> None:
    """Set the job's mapping: per attribute, SAME_NAME (no row), NONE, or one of the
    job's requirements' ids (anything else counts as SAME_NAME)."""
    job = await _job(db, actor, job_id)
    valid = set(
        (
            await db.scalars(
                select(Requirement.id).where(
                    Requirement.job_id == job_id, Requirement.retired_at.is_(None)
                )
            )
        ).all()
    )
    await db.execute(delete(AttributeMapping).where(AttributeMapping.job_id == job_id))
    done: set[str] = set()
    for attribute, choice in rows:
        attribute = " ".join(attribute.split())
        if not attribute or key_of(attribute) in done:
            continue
        if choice == NONE:
            requirement_id = None
        elif choice.isdigit() and int(choice) in valid:
            requirement_id = int(choice)
        else:
            continue
        done.add(key_of(attribute))
        db.add(AttributeMapping(job_id=job_id, attribute=attribute, requirement_id=requirement_id))
    audit.record(
        db,
        action="drafting.mapping_saved",
        actor_kind="staff",
        actor_id=actor.staff_id,
        organization_id=actor.organization_id,
        subject_type="job",
        subject_id=job.id,
        ip_hash=ip_hash,
        details={"title": job.title},
    )
    await db.flush()


@dataclass(frozen=True)
class LibraryEntry:
    name: str
    text: str
    url: str | None
    jobs: int  # how many of the organization's jobs have a requirement of this name


async def suggestion_library(db: AsyncSession, *, actor: Staff) -> list[LibraryEntry]:
    """One entry per requirement name of the organization's jobs (and any kept entry)."""
    kept = {
        row.requirement_key: row
        for row in (
            await db.scalars(
                select(GrowthSuggestion).where(
                    GrowthSuggestion.organization_id == actor.organization_id
                )
            )
        ).all()
    }
    names: dict[str, tuple[str, int]] = {}
    for row in await db.execute(
        select(Requirement.name, Requirement.job_id)
        .join(Job, Job.id == Requirement.job_id)
        .where(Job.organization_id == actor.organization_id, Requirement.retired_at.is_(None))
    ):
        key = key_of(row.name)
        name, count = names.get(key, (row.name, 0))
        names[key] = (name, count + 1)
    for key, suggestion in kept.items():
        names.setdefault(key, (suggestion.requirement_name, 0))
    return [
        LibraryEntry(
            name=name,
            text=kept[key].text if key in kept else "",
            url=kept[key].url if key in kept else None,
            jobs=count,
        )
        for key, (name, count) in sorted(names.items())
    ]


async def save_suggestion(
    db: AsyncSession,
    *,
    actor: Staff,
    requirement: str,
    text: str,
    url: str | None,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> None:
    key = key_of(requirement)[:100]
    found = await db.scalar(
        select(GrowthSuggestion).where(
            GrowthSuggestion.organization_id == actor.organization_id,
            GrowthSuggestion.requirement_key == key,
        )
    )
    if found is None:
        found = GrowthSuggestion(
            organization_id=actor.organization_id,
            requirement_key=key,
            requirement_name=" ".join(requirement.split())[:100],
        )
        db.add(found)
    found.text = text.strip()
    found.url = url or None
    found.updated_at = now
    audit.record(
        db,
        action="drafting.suggestion_saved",
        actor_kind="staff",
        actor_id=actor.staff_id,
        organization_id=actor.organization_id,
        ip_hash=ip_hash,
        details={"requirement": found.requirement_name},
    )
    await db.flush()
