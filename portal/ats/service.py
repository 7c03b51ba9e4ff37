"""Incoming ATS webhooks: receive (check, store, queue), then process in a job.

`receive` runs in the request: it finds the organization's connection, checks the
signature on the raw body before reading anything else, refuses replays (the
`replay_key` of every event is kept, unique per organization and ATS; Lever's
signed `triggeredAt` must also be recent), stores the raw event and queues its job.

`process_event` runs in the worker: it reads the event, asks the ATS's API (through
`portal.ats.fetch`) for what the event lacks and for the scorecards, records the
ATS job and its scorecard attributes for mapping, and, once the job is mapped,
writes the candidate, the application and a draft through the CSV import's own
planning and writing (`portal.imports.service`), keeping which ATS person the
application came from. Unmapped jobs' events wait; saving the mapping queues them
again. Nothing is dropped. An anonymization (Greenhouse's `candidate_anonymized`)
erases that person's candidates here (`portal.ats.anonymize`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from portal.ats import adapters, signatures
from portal.ats.anonymize import process_anonymization, remember_candidate
from portal.ats.clients import AtsApiError, api_for_event
from portal.ats.fetch import AtsApi, Scorecard
from portal.ats.models import (
    Ats,
    AtsConnection,
    AtsEvent,
    AtsEventState,
    AtsJobMapping,
)
from portal.audit import service as audit
from portal.candidates.models import Job, Requirement
from portal.drafting import service as drafting
from portal.drafting.compose import assess
from portal.drafting.models import ScorecardRating, ScorecardSource
from portal.feedback.check import Draft, DraftItem
from portal.forms import EMAIL_MAX, EMAIL_SHAPE
from portal.imports.format import ImportRow, key_of
from portal.imports.service import apply_import, plan_import
from portal.jobs.registry import JobContext, JobKind, registry
from portal.jobs.service import enqueue
from portal.orgs.models import Organization
from portal.security.actors import Staff
from portal.settings import Settings

# Lever's signed moment must be this recent: a captured event cannot be replayed later.
LEVER_WINDOW = dt.timedelta(hours=24)
# ATS ratings as Afterword's, by a score: 0 definitely not ... 4 strong yes.
SCORES = {"definitely_not": 0, "no": 1, "mixed": 2, "yes": 3, "strong_yes": 4}
RatingValue = Literal["met", "partly_met", "not_yet_met"]


class UnknownHook(LookupError):
    """No such organization, or it has not connected this ATS: 404."""


class BadSignature(PermissionError):
    """401, and nothing stored."""


class Malformed(ValueError):
    """400: not JSON (an object)."""


@dataclass(frozen=True)
class Received:
    event_id: int | None  # None: a replay, or an event that asks for nothing
    status: str  # "received", "duplicate", "ignored"


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise Malformed("The body is not JSON.") from exc
    if not isinstance(payload, dict):
        raise Malformed("The body is not a JSON object.")
    return payload


async def receive(
    db: AsyncSession,
    *,
    ats: Ats,
    slug: str,
    body: bytes,
    headers: Mapping[str, str],
    now: dt.datetime,
) -> Received:
    """Check, store and queue one webhook. Raises `UnknownHook`, `BadSignature` or
    `Malformed`; stores nothing unless the signature holds."""
    row = (
        await db.execute(
            select(AtsConnection.secret, Organization.id.label("organization_id"))
            .join(Organization, Organization.id == AtsConnection.organization_id)
            .where(Organization.slug == slug, AtsConnection.ats == ats)
        )
    ).one_or_none()
    if row is None:
        raise UnknownHook(slug)
    if ats == Ats.LEVER:
        # Lever signs inside the body: it has to be read to be checked.
        payload = _json_object(body)
        if not signatures.lever_signature_ok(row.secret, payload):
            raise BadSignature()
        moment = payload.get("triggeredAt")
        if (
            not isinstance(moment, int)
            or abs(now - dt.datetime.fromtimestamp(moment / 1000, dt.UTC)) > LEVER_WINDOW
        ):
            raise BadSignature()
        replay_key = "token:" + str(payload.get("token"))[:150]
    else:
        if not signatures.header_signature_ok(ats, row.secret, body, headers):
            raise BadSignature()
        payload = _json_object(body)
        replay_key = "sha256:" + hashlib.sha256(body).hexdigest()
    if adapters.event_name(ats, payload) == "ping":
        return Received(None, "ignored")
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    event_id = (
        await db.execute(
            insert(AtsEvent)
            .values(
                organization_id=row.organization_id,
                ats=ats.value,
                replay_key=replay_key,
                body=body.decode(),
                state=AtsEventState.RECEIVED.value,
                message="",
                received_at=now,
            )
            .on_conflict_do_nothing(
                index_elements=[AtsEvent.organization_id, AtsEvent.ats, AtsEvent.replay_key]
            )
            .returning(AtsEvent.id)
        )
    ).scalar_one_or_none()
    if event_id is None:
        return Received(None, "duplicate")
    await _queue(db, event_id, now=now, round_=0)
    return Received(event_id, "received")


class ProcessEvent(BaseModel):
    event_id: int
    # Each time an event is queued again (its job mapped), a new round.
    round: int = 0


async def _queue(db: AsyncSession, event_id: int, *, now: dt.datetime, round_: int) -> None:
    await enqueue(
        db,
        PROCESS,
        ProcessEvent(event_id=event_id, round=round_),
        run_at=now,
        idempotency_key=f"ats-event:{event_id}:{round_}",
    )


# --- processing ---------------------------------------------------------------


def _rating(scores: Sequence[int]) -> RatingValue:
    """The drafting rule (portal.drafting.compose.assess) over the scores' ratings."""
    names = {score: name for name, score in SCORES.items()}
    return assess([names[score] for score in scores]) or "partly_met"


def draft_items(
    scorecards: Sequence[Scorecard],
    requirements: Mapping[str, tuple[int, str]],
    chosen: Mapping[str, Any],
) -> tuple[list[DraftItem], list[int | None]]:
    """One assessment per requirement that some scorecard attribute maps to: the
    ratings combined, the attributes' notes as the evidence. Questions (and the
    private notes among them) are never read here."""
    by_requirement: dict[int, tuple[str, list[int], list[str]]] = {}
    order: list[int] = []
    for card in scorecards:
        for attribute in card.attributes:
            target = _requirement_for(attribute.name, requirements, chosen)
            if target is None or attribute.rating not in SCORES:
                continue
            requirement_id, name = target
            if requirement_id not in by_requirement:
                by_requirement[requirement_id] = (name, [], [])
                order.append(requirement_id)
            by_requirement[requirement_id][1].append(SCORES[attribute.rating])
            if attribute.note.strip():
                by_requirement[requirement_id][2].append(attribute.note.strip())
    items = []
    for requirement_id in order:
        name, scores, notes = by_requirement[requirement_id]
        items.append(
            DraftItem(
                kind="assessment",
                body="\n\n".join(notes)[:5_000],
                rating=_rating(scores),
                requirement=name,
            )
        )
    return items, list(order)


def _requirement_for(
    attribute: str, requirements: Mapping[str, tuple[int, str]], chosen: Mapping[str, Any]
) -> tuple[int, str] | None:
    """The requirement an attribute stands for: the one chosen on the mapping page,
    or else the one with the same name. An attribute set to "none" counts for none."""
    picked = chosen.get(attribute)
    if picked == 0:
        return None
    if isinstance(picked, int):
        return next((r for r in requirements.values() if r[0] == picked), None)
    return requirements.get(key_of(attribute))


async def _requirements(db: AsyncSession, job_id: int) -> dict[str, tuple[int, str]]:
    rows = await db.execute(
        select(Requirement.id, Requirement.name)
        .where(Requirement.job_id == job_id, Requirement.retired_at.is_(None))
        .order_by(Requirement.position)
    )
    return {key_of(row.name): (row.id, row.name) for row in rows}


def summary_for(job_title: str) -> str:
    return (
        f"Thank you for applying for the {job_title} role and for the time you gave us. "
        "We have decided not to continue with your application."
    )


async def process_event(
    db: AsyncSession, *, event_id: int, api: AtsApi, settings: Settings, now: dt.datetime
) -> AtsEventState:
    event = await db.get(AtsEvent, event_id, with_for_update=True)
    if event is None or event.state not in (AtsEventState.RECEIVED, AtsEventState.WAITING):
        return event.state if event is not None else AtsEventState.IGNORED
    ats = Ats(event.ats)
    try:
        rejection = adapters.read_event(ats, json.loads(event.body))
    except adapters.Unusable as exc:
        return _finish(event, AtsEventState.FAILED, str(exc), now)
    if rejection is None:
        return _finish(event, AtsEventState.IGNORED, "Not a rejection: nothing to write.", now)
    if isinstance(rejection, adapters.Anonymization):
        state, message = await process_anonymization(
            db, event=event, anonymization=rejection, settings=settings, now=now
        )
        return _finish(event, state, message, now)
    rejection = rejection.completed(
        await api.person(ats, rejection.application_id, rejection.candidate_id)
    )
    if not rejection.job_id:
        return _finish(event, AtsEventState.FAILED, "The ATS did not say which job.", now)
    scorecards = await api.scorecards(ats, rejection.application_id)
    mapping = await _job_mapping(db, event.organization_id, ats, rejection, scorecards, now)
    event.external_job_id = rejection.job_id
    if mapping.job_id is None:
        event.state = AtsEventState.WAITING
        event.message = (
            f"Waiting: the {ats.value.capitalize()} job “{rejection.job_name or rejection.job_id}” "
            "is not mapped to an Afterword job yet."
        )[:500]
        return event.state
    if len(rejection.email) > EMAIL_MAX or not EMAIL_SHAPE.match(rejection.email):
        return _finish(event, AtsEventState.FAILED, "The candidate has no email address.", now)
    job_title = await db.scalar(select(Job.title).where(Job.id == mapping.job_id))
    requirements = await _requirements(db, mapping.job_id)
    chosen = dict(mapping.attributes or {})
    # The job's own attribute mapping (set on the job's page, for every source) decides
    # for the attributes this ATS page left to the same name.
    job_mapping = await drafting.job_attribute_mapping(db, job_id=mapping.job_id)
    for card in scorecards:
        for attribute in card.attributes:
            key = key_of(attribute.name)
            if chosen.get(attribute.name) is None and key in job_mapping:
                chosen[attribute.name] = job_mapping[key] or 0
    items, requirement_ids = draft_items(scorecards, requirements, chosen)
    row = ImportRow(
        row=0,
        email=rejection.email,
        name=rejection.name or rejection.email,
        job_id=mapping.job_id,
        stage=adapters.stage_of(rejection.stage),
        draft=Draft(decision_summary=summary_for(job_title or ""), items=items),
        decided_on=rejection.decided_on
        if rejection.decided_on and rejection.decided_on <= now.date()
        else None,
        requirement_ids=list(requirement_ids),
    )
    plan = await plan_import(db, organization_id=event.organization_id, rows=[row], publish=False)
    await apply_import(
        db,
        plan=plan,
        settings=settings,
        now=now,
        staff_id=None,
        source={"ats": ats.value, "ats_event": event.id},
    )
    application_id = plan.targets[0].application_id
    assert application_id is not None
    await remember_candidate(
        db, application_id=application_id, ats=ats, external_id=rejection.candidate_id, now=now
    )
    await _keep_scorecards(db, application_id, ats, scorecards, now)
    event.application_id = application_id
    return _finish(event, AtsEventState.PROCESSED, "", now)


def _finish(event: AtsEvent, state: AtsEventState, message: str, now: dt.datetime) -> AtsEventState:
    event.state = state
    event.message = message[:500]
    event.processed_at = now
    return state


async def _job_mapping(
    db: AsyncSession,
    organization_id: int,
    ats: Ats,
    rejection: adapters.Rejection,
    scorecards: Sequence[Scorecard],
    now: dt.datetime,
) -> AtsJobMapping:
    """The ATS job's mapping (made, unmapped, the first time it is seen), with every
    scorecard attribute seen so far listed for the mapping page."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    await db.execute(
        insert(AtsJobMapping)
        .values(
            organization_id=organization_id,
            ats=ats.value,
            external_id=rejection.job_id,
            external_name=rejection.job_name,
            attributes={},
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=[
                AtsJobMapping.organization_id,
                AtsJobMapping.ats,
                AtsJobMapping.external_id,
            ]
        )
    )
    mapping = (
        await db.scalars(
            select(AtsJobMapping)
            .where(
                AtsJobMapping.organization_id == organization_id,
                AtsJobMapping.ats == ats,
                AtsJobMapping.external_id == rejection.job_id,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    seen = dict(mapping.attributes or {})
    for card in scorecards:
        for attribute in card.attributes:
            seen.setdefault(attribute.name, None)
    if seen != (mapping.attributes or {}):
        mapping.attributes = seen
    if rejection.job_name and mapping.external_name != rejection.job_name:
        mapping.external_name = rejection.job_name
    return mapping


def _rating_of(value: str) -> ScorecardRating | None:
    try:
        return ScorecardRating(value)
    except ValueError:
        return None


def _as_input(card: Scorecard) -> drafting.ScorecardInput:
    """An ATS's scorecard as Afterword keeps it: attribute notes candidate-safe (the
    interviewer wrote them about the attribute, for feedback), every question private."""
    submitted = None
    if card.submitted_at:
        try:
            submitted = dt.datetime.fromisoformat(card.submitted_at.replace("Z", "+00:00"))
        except ValueError:
            submitted = None
    return drafting.ScorecardInput(
        external_id=card.id[:100],
        interviewer=card.interviewer[:200],
        step=str(getattr(card, "step", "") or "")[:200],
        interviewed_on=submitted.date() if submitted else None,
        overall_recommendation=_rating_of(card.overall_recommendation),
        attributes=[
            drafting.AttributeInput(
                name=a.name[:300], rating=_rating_of(a.rating), note=a.note, private=False
            )
            for a in card.attributes
        ],
        questions=[
            drafting.QuestionInput(
                question=str(q.get("question", ""))[:300],
                answer=str(q.get("answer", "")),
                private=True,
            )
            for q in card.questions
        ],
    )


async def _keep_scorecards(
    db: AsyncSession,
    application_id: int,
    ats: Ats,
    scorecards: Sequence[Scorecard],
    now: dt.datetime,
) -> None:
    await drafting.keep_ats_scorecards(
        db,
        application_id=application_id,
        source=ScorecardSource(ats.value),
        cards=[_as_input(card) for card in scorecards],
        now=now,
    )


async def _run_process(db: AsyncSession, payload: ProcessEvent, context: JobContext) -> None:
    api = await api_for_event(db, settings=context.settings, event_id=payload.event_id)
    try:
        await process_event(
            db, event_id=payload.event_id, api=api, settings=context.settings, now=context.now
        )
    except AtsApiError as exc:
        # The ATS's API could not answer (asked before anything is written): the event
        # says why, and "Process again" on the ATS page retries it.
        event = await db.get(AtsEvent, payload.event_id)
        if event is not None:
            _finish(event, AtsEventState.FAILED, str(exc), context.now)


PROCESS = registry.add(JobKind("ats.process", ProcessEvent, run=_run_process))


# --- the admins' page ------------------------------------------------------------


async def connections(db: AsyncSession, *, actor: Staff) -> dict[Ats, AtsConnection]:
    rows = await db.scalars(
        select(AtsConnection).where(AtsConnection.organization_id == actor.organization_id)
    )
    return {Ats(row.ats): row for row in rows}


async def set_secret(
    db: AsyncSession,
    *,
    actor: Staff,
    ats: Ats,
    secret: str,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> None:
    found = await db.scalar(
        select(AtsConnection).where(
            AtsConnection.organization_id == actor.organization_id, AtsConnection.ats == ats
        )
    )
    if found is None:
        db.add(
            AtsConnection(
                organization_id=actor.organization_id,
                ats=ats,
                secret=secret,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        found.secret = secret
        found.updated_at = now
    audit.record(
        db,
        action="ats.secret_set",
        actor_kind="staff",
        actor_id=actor.staff_id,
        organization_id=actor.organization_id,
        ip_hash=ip_hash,
        details={"ats": ats.value},
    )
    await db.flush()


@dataclass(frozen=True)
class MappingRow:
    mapping: AtsJobMapping
    waiting: int


async def job_mappings(db: AsyncSession, *, actor: Staff) -> list[MappingRow]:
    waiting = (
        select(func.count())
        .where(
            AtsEvent.organization_id == AtsJobMapping.organization_id,
            AtsEvent.ats == AtsJobMapping.ats,
            AtsEvent.external_job_id == AtsJobMapping.external_id,
            AtsEvent.state == AtsEventState.WAITING,
        )
        .correlate(AtsJobMapping)
        .scalar_subquery()
    )
    rows = await db.execute(
        select(AtsJobMapping, waiting.label("waiting"))
        .where(AtsJobMapping.organization_id == actor.organization_id)
        .order_by(AtsJobMapping.job_id.is_not(None), AtsJobMapping.ats, AtsJobMapping.external_name)
    )
    return [MappingRow(row[0], row.waiting) for row in rows]


async def load_mapping(db: AsyncSession, *, actor: Staff, mapping_id: int) -> AtsJobMapping | None:
    return await db.scalar(
        select(AtsJobMapping).where(
            AtsJobMapping.id == mapping_id,
            AtsJobMapping.organization_id == actor.organization_id,
        )
    )


class NotMappable(ValueError):
    pass


async def save_mapping(
    db: AsyncSession,
    *,
    actor: Staff,
    mapping_id: int,
    job_id: int | None,
    attributes: Mapping[str, int],
    now: dt.datetime,
    ip_hash: str | None = None,
) -> int:
    """Map an ATS job (and its scorecard attributes: 0 for none) to an Afterword job
    of the admin's organization; queue its waiting events. Returns how many."""
    mapping = await load_mapping(db, actor=actor, mapping_id=mapping_id)
    if mapping is None:
        raise LookupError(mapping_id)
    if job_id is not None:
        owned = await db.scalar(
            select(Job.id).where(Job.id == job_id, Job.organization_id == actor.organization_id)
        )
        if owned is None:
            raise NotMappable("Choose one of your organization's jobs.")
    requirement_ids = set((await _requirements(db, job_id)).values()) if job_id else set()
    valid = {r[0] for r in requirement_ids}
    chosen: dict[str, Any] = {}
    for name in mapping.attributes or {}:
        picked = attributes.get(name)
        chosen[name] = picked if picked == 0 or picked in valid else None
    mapping.job_id = job_id
    mapping.attributes = chosen
    mapping.updated_at = now
    audit.record(
        db,
        action="ats.job_mapped",
        actor_kind="staff",
        actor_id=actor.staff_id,
        organization_id=actor.organization_id,
        ip_hash=ip_hash,
        details={"ats": str(mapping.ats), "external": mapping.external_name, "job_id": job_id},
    )
    if job_id is None:
        return 0
    waiting = (
        await db.scalars(
            select(AtsEvent.id).where(
                AtsEvent.organization_id == actor.organization_id,
                AtsEvent.ats == mapping.ats,
                AtsEvent.external_job_id == mapping.external_id,
                AtsEvent.state == AtsEventState.WAITING,
            )
        )
    ).all()
    for event_id in waiting:
        await db.execute(
            update(AtsEvent)
            .where(AtsEvent.id == event_id)
            .values(state=AtsEventState.RECEIVED, message="")
        )
        await _queue(db, event_id, now=now, round_=int(now.timestamp() * 1000))
    await db.flush()
    return len(waiting)


@dataclass(frozen=True)
class AdminPage:
    slug: str
    connections: dict[Ats, AtsConnection]
    mappings: list[MappingRow]
    events: list[AtsEvent]
    events_page: int
    events_pages: int
    jobs: list[tuple[int, str]]
    # The mapped jobs' requirements, for the scorecard attributes' choices.
    requirements: dict[int, list[tuple[int, str]]]


EVENTS_PER_PAGE = 25


async def admin_page(db: AsyncSession, *, actor: Staff, events_page: int = 1) -> AdminPage:
    slug = await db.scalar(
        select(Organization.slug).where(Organization.id == actor.organization_id)
    )
    mappings = await job_mappings(db, actor=actor)
    jobs = (
        await db.execute(
            select(Job.id, Job.title)
            .where(Job.organization_id == actor.organization_id)
            .order_by(Job.title, Job.id)
        )
    ).all()
    requirements: dict[int, list[tuple[int, str]]] = {}
    mapped = {row.mapping.job_id for row in mappings if row.mapping.job_id}
    if mapped:
        for row in await db.execute(
            select(Requirement.id, Requirement.job_id, Requirement.name)
            .where(Requirement.job_id.in_(mapped), Requirement.retired_at.is_(None))
            .order_by(Requirement.position)
        ):
            requirements.setdefault(row.job_id, []).append((row.id, row.name))
    total = (
        await db.scalar(
            select(func.count()).where(AtsEvent.organization_id == actor.organization_id)
        )
        or 0
    )
    pages = max(1, -(-total // EVENTS_PER_PAGE))
    events_page = min(max(1, events_page), pages)
    return AdminPage(
        slug=slug or "",
        connections=await connections(db, actor=actor),
        mappings=mappings,
        events=await recent_events(db, actor=actor, page=events_page),
        events_page=events_page,
        events_pages=pages,
        jobs=[(row.id, row.title) for row in jobs],
        requirements=requirements,
    )


async def recent_events(db: AsyncSession, *, actor: Staff, page: int = 1) -> list[AtsEvent]:
    """The organization's received events, newest first, a page at a time."""
    return list(
        (
            await db.scalars(
                select(AtsEvent)
                .where(AtsEvent.organization_id == actor.organization_id)
                .order_by(AtsEvent.id.desc())
                .limit(EVENTS_PER_PAGE)
                .offset((page - 1) * EVENTS_PER_PAGE)
            )
        ).all()
    )
