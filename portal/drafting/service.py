"""Scorecards as Afterword's own data, and drafting feedback from them.

Every function takes the actor and starts from `readable_applications(actor)` (or
the actor's organization): another organization's application is `NotFound`.
Services flush; the boundary commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.auth import Actor
from portal.candidates.models import Application, Job, Requirement
from portal.candidates.service import readable_applications
from portal.drafting.compose import (
    Composed,
    Entry,
    OpenJob,
    Suggestion,
    compose,
    key_of,
)
from portal.drafting.compose import Requirement as Wanted
from portal.drafting.models import (
    AttributeMapping,
    DraftedFeedback,
    EntryKind,
    GrowthSuggestion,
    Scorecard,
    ScorecardEntry,
    ScorecardRating,
    ScorecardSource,
)
from portal.feedback import drafts
from portal.feedback.models import Feedback, FeedbackState
from portal.orgs.models import Organization
from portal.security.actors import ApiKey, Staff


class NotFound(LookupError):
    """No such application (or scorecard) in the actor's scope: a 404."""


class NoScorecards(ValueError):
    """Nothing to draft from."""


class AlreadyPublished(ValueError):
    """The application's feedback is published: a draft from scorecards would be a step
    back from what the candidate reads, so it is not made."""


@dataclass(frozen=True)
class AttributeInput:
    name: str
    rating: ScorecardRating | None
    note: str = ""
    private: bool = False


@dataclass(frozen=True)
class QuestionInput:
    question: str
    answer: str
    private: bool = True


@dataclass(frozen=True)
class ScorecardInput:
    interviewer: str
    step: str = ""
    interviewed_on: dt.date | None = None
    overall_recommendation: ScorecardRating | None = None
    attributes: Sequence[AttributeInput] = ()
    questions: Sequence[QuestionInput] = ()
    external_id: str | None = None


@dataclass(frozen=True)
class ScorecardView:
    id: int
    application_id: int
    source: ScorecardSource
    external_id: str | None
    interviewer: str
    step: str
    interviewed_on: dt.date | None
    overall_recommendation: ScorecardRating | None
    created_at: dt.datetime
    attributes: list[ScorecardEntry] = field(default_factory=list)
    questions: list[ScorecardEntry] = field(default_factory=list)


def _who(actor: Actor, staff_id: int | None) -> tuple[str, int | None]:
    if isinstance(actor, ApiKey):
        return audit.API_KEY, actor.key_id
    return ("staff" if staff_id else audit.SYSTEM), staff_id


async def _application(db: AsyncSession, actor: Actor, application_id: int) -> Any:
    row = (
        await db.execute(
            readable_applications(actor)
            .with_only_columns(Application.id, Application.job_id, Application.organization_id)
            .where(Application.id == application_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(application_id)
    return row


async def _views(db: AsyncSession, cards: Sequence[Scorecard]) -> list[ScorecardView]:
    views = {
        card.id: ScorecardView(
            id=card.id,
            application_id=card.application_id,
            source=card.source,
            external_id=card.external_id,
            interviewer=card.interviewer,
            step=card.step,
            interviewed_on=card.interviewed_on,
            overall_recommendation=card.overall_recommendation,
            created_at=card.created_at,
        )
        for card in cards
    }
    if views:
        entries = await db.scalars(
            select(ScorecardEntry)
            .where(ScorecardEntry.scorecard_id.in_(list(views)))
            .order_by(ScorecardEntry.scorecard_id, ScorecardEntry.position, ScorecardEntry.id)
        )
        for entry in entries:
            view = views[entry.scorecard_id]
            (view.attributes if entry.kind == EntryKind.ATTRIBUTE else view.questions).append(entry)
    return list(views.values())


async def scorecards_for(
    db: AsyncSession, *, actor: Actor, application_id: int
) -> list[ScorecardView]:
    """An application's scorecards, private notes included: for its organization's
    staff and API clients only (a candidate's scope holds none of them)."""
    if not isinstance(actor, Staff | ApiKey):
        raise NotFound(application_id)
    await _application(db, actor, application_id)
    cards = (
        await db.scalars(
            select(Scorecard)
            .where(Scorecard.application_id == application_id)
            .order_by(Scorecard.interviewed_on, Scorecard.created_at, Scorecard.id)
        )
    ).all()
    return await _views(db, cards)


def _store(
    db: AsyncSession,
    *,
    application_id: int,
    source: ScorecardSource,
    card: ScorecardInput,
    staff_id: int | None,
    now: dt.datetime,
) -> Scorecard:
    row = Scorecard(
        application_id=application_id,
        source=source,
        external_id=card.external_id,
        interviewer=card.interviewer,
        step=card.step,
        interviewed_on=card.interviewed_on,
        overall_recommendation=card.overall_recommendation,
        created_by_staff_id=staff_id,
        created_at=now,
    )
    db.add(row)
    return row


def _entries(scorecard_id: int, card: ScorecardInput) -> list[ScorecardEntry]:
    rows = [
        ScorecardEntry(
            scorecard_id=scorecard_id,
            kind=EntryKind.ATTRIBUTE,
            position=position,
            name=a.name,
            rating=a.rating,
            text=a.note,
            private=a.private,
        )
        for position, a in enumerate(card.attributes)
    ]
    rows += [
        ScorecardEntry(
            scorecard_id=scorecard_id,
            kind=EntryKind.QUESTION,
            position=len(card.attributes) + position,
            name=q.question,
            rating=None,
            text=q.answer,
            private=q.private,
        )
        for position, q in enumerate(card.questions)
    ]
    return rows


async def add_scorecard(
    db: AsyncSession,
    *,
    actor: Actor,
    application_id: int,
    card: ScorecardInput,
    source: ScorecardSource,
    staff_id: int | None,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> tuple[int, bool]:
    """Store a scorecard; (its id, True) or, for a card of the same source and external
    id already stored, (that one's id, False) without changing it."""
    application = await _application(db, actor, application_id)
    if card.external_id is not None:
        known = await db.scalar(
            select(Scorecard.id).where(
                Scorecard.application_id == application_id,
                Scorecard.source == source,
                Scorecard.external_id == card.external_id,
            )
        )
        if known is not None:
            return known, False
    row = _store(
        db, application_id=application_id, source=source, card=card, staff_id=staff_id, now=now
    )
    await db.flush()
    db.add_all(_entries(row.id, card))
    actor_kind, actor_id = _who(actor, staff_id)
    audit.record(
        db,
        action="scorecard.added",
        actor_kind=actor_kind,
        actor_id=actor_id,
        organization_id=application.organization_id,
        subject_type="application",
        subject_id=application_id,
        ip_hash=ip_hash,
        details={"scorecard": row.id, "source": source.value},
    )
    await db.flush()
    return row.id, True


async def keep_ats_scorecards(
    db: AsyncSession,
    *,
    application_id: int,
    source: ScorecardSource,
    cards: Sequence[ScorecardInput],
    now: dt.datetime,
) -> int:
    """The scorecards an ATS sent with an application (its processing job has no actor:
    the application is the one it just wrote); those already kept are skipped."""
    known = set(
        (
            await db.scalars(
                select(Scorecard.external_id).where(
                    Scorecard.application_id == application_id, Scorecard.source == source
                )
            )
        ).all()
    )
    added = 0
    for card in cards:
        if card.external_id in known:
            continue
        row = _store(
            db, application_id=application_id, source=source, card=card, staff_id=None, now=now
        )
        await db.flush()
        db.add_all(_entries(row.id, card))
        added += 1
    await db.flush()
    return added


async def delete_scorecard(
    db: AsyncSession,
    *,
    actor: Staff,
    application_id: int,
    scorecard_id: int,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> None:
    application = await _application(db, actor, application_id)
    card = await db.scalar(
        select(Scorecard).where(
            Scorecard.id == scorecard_id, Scorecard.application_id == application_id
        )
    )
    if card is None:
        raise NotFound(scorecard_id)
    await db.execute(delete(Scorecard).where(Scorecard.id == scorecard_id))
    audit.record(
        db,
        action="scorecard.deleted",
        actor_kind="staff",
        actor_id=actor.staff_id,
        organization_id=application.organization_id,
        subject_type="application",
        subject_id=application_id,
        ip_hash=ip_hash,
        details={"interviewer": card.interviewer, "source": card.source.value},
    )
    await db.flush()


# --- drafting ------------------------------------------------------------------


@dataclass(frozen=True)
class Drafted:
    application_id: int
    version: int
    notes: tuple[str, ...]


@dataclass
class _Context:
    """What drafting many applications of one organization reads once."""

    job_titles: dict[int, str]
    requirements: dict[int, list[Wanted]]
    mappings: dict[int, dict[str, int | None]]
    suggestions: dict[str, Suggestion]
    open_jobs: dict[int, OpenJob]
    offers_pool: bool


async def _context(db: AsyncSession, organization_id: int, job_ids: Iterable[int]) -> _Context:
    jobs = list(set(job_ids))
    titles = {
        row.id: row.title
        for row in await db.execute(select(Job.id, Job.title).where(Job.id.in_(jobs)))
    }
    requirements: dict[int, list[Wanted]] = {job_id: [] for job_id in jobs}
    for row in await db.execute(
        select(Requirement.id, Requirement.job_id, Requirement.name)
        .where(Requirement.job_id.in_(jobs), Requirement.retired_at.is_(None))
        .order_by(Requirement.job_id, Requirement.position, Requirement.id)
    ):
        requirements[row.job_id].append(Wanted(row.id, row.name))
    mappings: dict[int, dict[str, int | None]] = {job_id: {} for job_id in jobs}
    for mapped in await db.execute(
        select(
            AttributeMapping.job_id, AttributeMapping.attribute, AttributeMapping.requirement_id
        ).where(AttributeMapping.job_id.in_(jobs))
    ):
        mappings[mapped.job_id][key_of(mapped.attribute)] = mapped.requirement_id
    suggestions = {
        row.requirement_key: Suggestion(row.text, row.url)
        for row in (
            await db.scalars(
                select(GrowthSuggestion).where(GrowthSuggestion.organization_id == organization_id)
            )
        ).all()
    }
    open_jobs: dict[int, OpenJob] = {}
    keys: dict[int, set[str]] = {}
    for job in await db.execute(
        select(Job.id, Job.title, Job.posting_url, Requirement.name)
        .join(Requirement, Requirement.job_id == Job.id)
        .where(
            Job.organization_id == organization_id,
            Job.archived_at.is_(None),
            Requirement.retired_at.is_(None),
        )
        .order_by(Job.title, Job.id)
    ):
        keys.setdefault(job.id, set()).add(key_of(job.name))
        open_jobs[job.id] = OpenJob(job.title, job.posting_url, frozenset())
    open_jobs = {
        job_id: OpenJob(found.title, found.url, frozenset(keys[job_id]))
        for job_id, found in open_jobs.items()
    }
    offers_pool = bool(
        await db.scalar(select(Organization.offers_pool).where(Organization.id == organization_id))
    )
    return _Context(titles, requirements, mappings, suggestions, open_jobs, offers_pool)


def _compose(context: _Context, job_id: int, entries: Sequence[Entry]) -> Composed:
    return compose(
        job_title=context.job_titles.get(job_id, ""),
        requirements=context.requirements.get(job_id, []),
        entries=entries,
        mapping=context.mappings.get(job_id, {}),
        suggestions=context.suggestions,
        open_jobs=[job for other, job in context.open_jobs.items() if other != job_id],
        offers_pool=context.offers_pool,
    )


async def _entries_of(db: AsyncSession, application_ids: Sequence[int]) -> dict[int, list[Entry]]:
    found: dict[int, list[Entry]] = {application_id: [] for application_id in application_ids}
    rows = await db.execute(
        select(
            Scorecard.application_id,
            Scorecard.id.label("scorecard_id"),
            Scorecard.interviewer,
            Scorecard.step,
            ScorecardEntry.name,
            ScorecardEntry.rating,
            ScorecardEntry.text,
            ScorecardEntry.private,
        )
        .join(ScorecardEntry, ScorecardEntry.scorecard_id == Scorecard.id)
        .where(
            Scorecard.application_id.in_(list(application_ids)),
            # Questions never feed a draft, candidate-safe or not: they are the
            # interviewer's working notes.
            ScorecardEntry.kind == EntryKind.ATTRIBUTE,
        )
        .order_by(
            Scorecard.application_id,
            Scorecard.interviewed_on,
            Scorecard.id,
            ScorecardEntry.position,
        )
    )
    for row in rows:
        found[row.application_id].append(
            Entry(
                scorecard_id=row.scorecard_id,
                interviewer=row.interviewer,
                step=row.step,
                name=row.name,
                rating=row.rating.value if row.rating else None,
                note=row.text,
                private=row.private,
            )
        )
    return found


async def _published(db: AsyncSession, application_ids: Sequence[int]) -> set[int]:
    return set(
        (
            await db.scalars(
                select(Feedback.application_id)
                .where(
                    Feedback.application_id.in_(list(application_ids)),
                    Feedback.state == FeedbackState.PUBLISHED,
                )
                .distinct()
            )
        ).all()
    )


async def _with_cards(db: AsyncSession, application_ids: Sequence[int]) -> set[int]:
    return set(
        (
            await db.scalars(
                select(Scorecard.application_id)
                .where(Scorecard.application_id.in_(list(application_ids)))
                .distinct()
            )
        ).all()
    )


@dataclass
class ManyDrafted:
    drafted: list[Drafted] = field(default_factory=list)
    # (application id, reason) for those not drafted.
    skipped: list[tuple[int, str]] = field(default_factory=list)


NO_SCORECARDS = "no scorecards"
PUBLISHED = "feedback already published"
NOT_FOUND = "not found"


async def draft_many(
    db: AsyncSession,
    *,
    actor: Staff,
    application_ids: Sequence[int],
    now: dt.datetime,
    ip_hash: str | None = None,
) -> ManyDrafted:
    """Draft each application from its scorecards as a new saved version (never
    published), reading what they share once. Skips an application whose feedback is
    published or that has no scorecards, and says which."""
    result = ManyDrafted()
    rows = (
        await db.execute(
            readable_applications(actor)
            .with_only_columns(Application.id, Application.job_id)
            .where(Application.id.in_(list(application_ids)))
        )
    ).all()
    jobs = {row.id: row.job_id for row in rows}
    for application_id in application_ids:
        if application_id not in jobs:
            result.skipped.append((application_id, NOT_FOUND))
    ids = [a for a in application_ids if a in jobs]
    if not ids:
        return result
    published = await _published(db, ids)
    with_cards = await _with_cards(db, ids)
    wanted = []
    for application_id in ids:
        if application_id in published:
            result.skipped.append((application_id, PUBLISHED))
        elif application_id not in with_cards:
            result.skipped.append((application_id, NO_SCORECARDS))
        else:
            wanted.append(application_id)
    if not wanted:
        return result
    context = await _context(db, actor.organization_id, (jobs[a] for a in wanted))
    entries = await _entries_of(db, wanted)
    for application_id in wanted:
        composed = _compose(context, jobs[application_id], entries[application_id])
        saved = await drafts.save_draft(
            db,
            actor=actor,
            application_id=application_id,
            draft=composed.draft,
            author_staff_id=actor.staff_id,
            based_on=None,
            now=now,
            ip_hash=ip_hash,
        )
        if saved.created:
            db.add(
                DraftedFeedback(
                    application_id=application_id,
                    version=saved.version,
                    sentences=composed.sentences,
                    notes=composed.notes,
                    created_by_staff_id=actor.staff_id,
                    created_at=now,
                )
            )
        result.drafted.append(Drafted(application_id, saved.version, tuple(composed.notes)))
    await db.flush()
    return result


async def draft_one(
    db: AsyncSession,
    *,
    actor: Staff,
    application_id: int,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> Drafted:
    """Draft one application ("Draft from scorecards" on its page)."""
    result = await draft_many(
        db, actor=actor, application_ids=[application_id], now=now, ip_hash=ip_hash
    )
    if result.drafted:
        return result.drafted[0]
    reason = result.skipped[0][1]
    if reason == NOT_FOUND:
        raise NotFound(application_id)
    if reason == PUBLISHED:
        raise AlreadyPublished(application_id)
    raise NoScorecards(application_id)


async def drafted_record(
    db: AsyncSession, *, actor: Staff, application_id: int, version: int
) -> DraftedFeedback | None:
    """The sources of a version drafted from scorecards (None for one written by hand)."""
    await _application(db, actor, application_id)
    return await db.scalar(
        select(DraftedFeedback).where(
            DraftedFeedback.application_id == application_id,
            DraftedFeedback.version == version,
        )
    )


async def usefulness(
    db: AsyncSession, *, actor: Staff, application_id: int
) -> list[DraftedFeedback]:
    """The drafts of an application that a published version measured, newest first."""
    await _application(db, actor, application_id)
    return list(
        (
            await db.scalars(
                select(DraftedFeedback)
                .where(
                    DraftedFeedback.application_id == application_id,
                    DraftedFeedback.published_version.is_not(None),
                )
                .order_by(DraftedFeedback.version.desc())
            )
        ).all()
    )


async def has_scorecards(db: AsyncSession, *, application_id: int) -> bool:
    found = await db.scalar(select(func.count()).where(Scorecard.application_id == application_id))
    return bool(found)


@dataclass
class CsvResult:
    added: int = 0
    known: int = 0  # already imported (the same application and scorecard id)
    problems: list[str] = field(default_factory=list)


async def import_scorecards(
    db: AsyncSession,
    *,
    actor: Staff,
    cards: Sequence[Any],
    now: dt.datetime,
    ip_hash: str | None = None,
) -> CsvResult:
    """Store a CSV file's scorecards (`portal.drafting.csvfile.CardRows`), all or none:
    an application that is not the organization's, by Afterword's id or the ATS's, is a
    problem and nothing is stored."""
    result = CsvResult()
    refs = {card.application for card in cards}
    numbers = [int(ref) for ref in refs if ref.isdigit() and len(ref) < 10]
    found: dict[str, int] = {}
    rows = await db.execute(
        readable_applications(actor)
        .with_only_columns(Application.id, Application.external_id)
        .where((Application.id.in_(numbers)) | (Application.external_id.in_(list(refs))))
    )
    for row in rows:
        found.setdefault(str(row.id), row.id)
        if row.external_id:
            found[row.external_id] = row.id
    for card in cards:
        if card.application not in found:
            result.problems.append(
                f"Row {card.row}: no application “{card.application[:60]}” of your organization."
            )
    if result.problems:
        return result
    for card in cards:
        _, created = await add_scorecard(
            db,
            actor=actor,
            application_id=found[card.application],
            card=card.card,
            source=ScorecardSource.CSV,
            staff_id=actor.staff_id,
            now=now,
            ip_hash=ip_hash,
        )
        if created:
            result.added += 1
        else:
            result.known += 1
    return result


async def job_attribute_mapping(db: AsyncSession, *, job_id: int) -> dict[str, int | None]:
    """The job's attribute mapping, by case-folded attribute name: a requirement's id, or
    None for "rates no requirement". (For the ATS's processing job, which has no actor:
    the job is the one its mapping names.)"""
    rows = await db.execute(
        select(AttributeMapping.attribute, AttributeMapping.requirement_id).where(
            AttributeMapping.job_id == job_id
        )
    )
    return {key_of(row.attribute): row.requirement_id for row in rows}
