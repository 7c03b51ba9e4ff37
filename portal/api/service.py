"""What the API does: jobs with their requirements, rejected applications with their
feedback, publishing, links, and reading threads and the talent pool.

Every function takes the API client (`ApiKey`) and starts from the domains'
`readable_*` statements, which give a key its organization's records and nothing
else: a record of another organization is `NotFound`, as a missing one is. The
key's scopes are checked by the area's guard before a handler runs, and again by
the statements (a key without `threads:read` reads no threads). Errors the client
can fix are `ApiProblem`s (portal.api.problems) naming the fields.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access.service import send_invitation
from portal.api.forms import (
    ApplicationIn,
    ApplicationOut,
    FeedbackState,
    FindingOut,
    JobIn,
    JobOut,
    JobPatch,
    LinkSentOut,
    MemberOut,
    PublishedOut,
    PublishIn,
    RequirementOut,
    ScorecardAttributeOut,
    ScorecardIn,
    ScorecardList,
    ScorecardOut,
    ScorecardQuestionOut,
    ThreadOut,
)
from portal.api.problems import ApiProblem, invalid
from portal.audit import service as audit
from portal.candidates.decisions import decided_at
from portal.candidates.models import Application, ApplicationStatus, Candidate, Job, Requirement
from portal.candidates.service import readable_applications, readable_jobs
from portal.concurrency import Conflict
from portal.db import MAX_ID
from portal.drafting import service as drafting
from portal.drafting import usefulness
from portal.drafting.models import ScorecardRating, ScorecardSource
from portal.feedback import drafts
from portal.feedback.check import Draft
from portal.feedback.drafts import field_text
from portal.feedback.models import Feedback
from portal.feedback.models import FeedbackState as State
from portal.imports.forms import Assessment, GrowthArea, Strength
from portal.pool.models import PoolConsentText, PoolMembership
from portal.pool.service import readable_memberships
from portal.postings import requirements as posting_requirements
from portal.postings import service as postings
from portal.postings.forms import JobEditForm, JobForm
from portal.security.actors import ApiKey
from portal.settings import Settings
from portal.threads.models import Message, Thread
from portal.threads.service import readable_threads
from portal.timing.models import FeedbackSend, SendState
from portal.timing.service import first_email_waiting
from portal.workspace.rejection import find_or_add_candidate

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class NotFound(LookupError):
    """No such record for this key (or one of another organization): a 404."""


# --- pages ---------------------------------------------------------------------------


# A cursor: "c1" (its format's version) and eight hex digits. Clients treat it as
# opaque (the `next` link carries it); every string of this shape is a valid one.
CURSOR = re.compile(r"^c1[0-9a-f]{8}$")


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after the record with this id. Opaque to clients."""

    after: int

    def encode(self) -> str:
        return f"c1{self.after:08x}"


def read_cursor(value: str | None) -> Cursor | None:
    """The cursor a client sent back, or None for the first page; `ApiProblem` (400)
    for one this API did not make."""
    if value is None:
        return None
    if not CURSOR.match(value):
        raise ApiProblem(
            400,
            "The cursor is not one this API gave: use the `next` link of the previous page.",
            kind="bad-cursor",
            title="Bad cursor",
            errors=[{"field": "cursor", "message": "Not a cursor from this API."}],
        )
    # Past the largest id the columns hold: after everything (an empty page).
    return Cursor(min(int(value[2:], 16), MAX_ID))


def read_limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise ApiProblem(
            400,
            f"limit must be a whole number from 1 to {MAX_LIMIT}.",
            kind="bad-limit",
            title="Bad limit",
            errors=[{"field": "limit", "message": f"A whole number from 1 to {MAX_LIMIT}."}],
        )
    return int(value)


T = TypeVar("T")


def _page(items: Sequence[T], ids: Sequence[int], limit: int) -> tuple[list[T], Cursor | None]:
    """The first `limit` items, and the cursor after them when there are more (one more
    than `limit` is read to know)."""
    if len(items) > limit:
        return list(items[:limit]), Cursor(ids[limit - 1])
    return list(items), None


# --- jobs ----------------------------------------------------------------------------


async def _jobs_out(db: AsyncSession, jobs: Sequence[Job]) -> list[JobOut]:
    ids = [job.id for job in jobs]
    by_job: dict[int, list[RequirementOut]] = {job_id: [] for job_id in ids}
    if ids:
        for row in await db.execute(
            select(Requirement.job_id, Requirement.id, Requirement.name, Requirement.description)
            .where(Requirement.job_id.in_(ids), Requirement.retired_at.is_(None))
            .order_by(Requirement.job_id, Requirement.position)
        ):
            by_job[row.job_id].append(
                RequirementOut(id=row.id, name=row.name, description=row.description)
            )
    return [
        JobOut(
            id=job.id,
            external_id=job.external_id,
            title=job.title,
            team=job.team,
            location=job.location,
            posting_url=job.posting_url,
            archived=job.archived_at is not None,
            requirements=by_job[job.id],
        )
        for job in jobs
    ]


async def list_jobs(
    db: AsyncSession, *, actor: ApiKey, cursor: Cursor | None, limit: int
) -> tuple[list[JobOut], Cursor | None]:
    statement = readable_jobs(actor).order_by(Job.id).limit(limit + 1)
    if cursor is not None:
        statement = statement.where(Job.id > cursor.after)
    jobs = list((await db.scalars(statement)).all())
    page, after = _page(jobs, [job.id for job in jobs], limit)
    return await _jobs_out(db, page), after


async def get_job(db: AsyncSession, *, actor: ApiKey, job_id: int) -> JobOut:
    job = await db.scalar(readable_jobs(actor).where(Job.id == job_id))
    if job is None:
        raise NotFound(job_id)
    return (await _jobs_out(db, [job]))[0]


def _external_id_taken(field: str, value: str) -> ApiProblem:
    return ApiProblem(
        409,
        f"Another record of your organization has the external id {value!r}.",
        kind="external-id-taken",
        title="External id taken",
        errors=[{"field": field, "message": "Already used by another record."}],
    )


async def _set_requirements(
    db: AsyncSession, *, actor: ApiKey, job_id: int, wanted: Sequence[Any]
) -> None:
    """Add the requirements the job lacks (by name, any case) and reword the ones it has."""
    current = {
        row.name.strip().casefold(): row
        for row in await postings.active_requirements(db, job_id=job_id)
    }
    seen: set[str] = set()
    for index, requirement in enumerate(wanted):
        key = requirement.name.strip().casefold()
        if key in seen:
            raise ApiProblem(
                422,
                "Two requirements have the same name.",
                kind="invalid-fields",
                title="Invalid fields",
                errors=[{"field": f"requirements.{index}.name", "message": "Named twice."}],
            )
        seen.add(key)
        found = current.get(key)
        if found is None:
            await posting_requirements.add_requirement(
                db,
                actor=actor,
                job_id=job_id,
                name=requirement.name,
                description=requirement.description,
                ip_hash=None,
            )
        elif found.description != requirement.description or found.name != requirement.name:
            await posting_requirements.edit_requirement(
                db,
                actor=actor,
                job_id=job_id,
                requirement_id=found.id,
                name=requirement.name,
                description=requirement.description,
                ip_hash=None,
            )


async def create_job(db: AsyncSession, *, actor: ApiKey, data: JobIn, now: dt.datetime) -> JobOut:
    """A new job with its requirements; `ApiProblem` (409) when its external id is taken."""
    if data.external_id is not None:
        taken = await db.scalar(
            readable_jobs(actor)
            .with_only_columns(Job.id)
            .where(Job.external_id == data.external_id)
        )
        if taken is not None:
            raise _external_id_taken("external_id", data.external_id)
    form = JobForm(
        title=data.title, team=data.team, location=data.location, posting_url=data.posting_url
    )
    try:
        job_id = await postings.create_job(
            db, actor=actor, data=form, now=now, ip_hash=None, external_id=data.external_id
        )
    except IntegrityError as exc:  # the same external id created at the same moment
        raise _external_id_taken("external_id", data.external_id or "") from exc
    await _set_requirements(db, actor=actor, job_id=job_id, wanted=data.requirements)
    return await get_job(db, actor=actor, job_id=job_id)


async def update_job(db: AsyncSession, *, actor: ApiKey, job_id: int, data: JobPatch) -> JobOut:
    try:
        job = await postings.find_job(db, actor=actor, job_id=job_id, lock=True)
    except postings.JobNotFound as exc:
        raise NotFound(job_id) from exc
    given = data.model_dump(exclude_unset=True, exclude={"requirements"})
    if given:
        current = {
            "title": job.title,
            "team": job.team,
            "location": job.location,
            "posting_url": job.posting_url or "",
        }
        merged = {**current, **{k: ("" if v is None else v) for k, v in given.items()}}
        try:
            form = JobEditForm.model_validate({**merged, "version": job.version})
        except ValidationError as exc:
            raise invalid(exc) from exc
        try:
            await postings.update_job(db, actor=actor, job_id=job_id, data=form, ip_hash=None)
        except Conflict as exc:
            raise ApiProblem(409, "The job changed meanwhile: try again.", kind="conflict") from exc
    if data.requirements is not None:
        await _set_requirements(db, actor=actor, job_id=job_id, wanted=data.requirements)
    return await get_job(db, actor=actor, job_id=job_id)


# --- applications --------------------------------------------------------------------


async def _applications_out(db: AsyncSession, rows: Sequence[Any]) -> list[ApplicationOut]:
    ids = [row.id for row in rows]
    states: dict[int, dict[str, Any]] = {
        i: {
            "newest_version": None,
            "newest_state": None,
            "published_version": None,
            "published_at": None,
        }
        for i in ids
    }
    threads: dict[int, list[ThreadOut]] = {i: [] for i in ids}
    if ids:
        for feedback in await db.execute(
            select(Feedback.application_id, Feedback.version, Feedback.state, Feedback.published_at)
            .where(Feedback.application_id.in_(ids))
            .order_by(Feedback.application_id, Feedback.version)
        ):
            state = states[feedback.application_id]
            state["newest_version"] = feedback.version
            state["newest_state"] = feedback.state.value
            if feedback.state == State.PUBLISHED:
                state["published_version"] = feedback.version
                state["published_at"] = feedback.published_at
        counts = (
            select(Message.thread_id, func.count().label("messages"))
            .group_by(Message.thread_id)
            .subquery()
        )
        for thread in await db.execute(
            select(
                Thread.id,
                Thread.application_id,
                Thread.state,
                Thread.created_at,
                Thread.waiting_since,
                func.coalesce(counts.c.messages, 0).label("messages"),
            )
            .outerjoin(counts, counts.c.thread_id == Thread.id)
            .where(
                Thread.application_id.in_(ids), Thread.organization_id == rows[0].organization_id
            )
            .order_by(Thread.id)
        ):
            threads[thread.application_id].append(
                ThreadOut(
                    id=thread.id,
                    state=thread.state.value,
                    created_at=thread.created_at,
                    waiting_since=thread.waiting_since,
                    messages=thread.messages,
                )
            )
    return [
        ApplicationOut(
            id=row.id,
            external_id=row.external_id,
            job_id=row.job_id,
            candidate_email=row.candidate_email,
            candidate_name=row.candidate_name,
            stage=row.stage.value,
            decided_at=row.decided_at,
            feedback=FeedbackState(**states[row.id]),
            threads=threads[row.id],
        )
        for row in rows
    ]


def _application_rows(actor: ApiKey) -> Any:
    return (
        readable_applications(actor)
        .join(Candidate, Candidate.id == Application.candidate_id)
        .with_only_columns(
            Application.id,
            Application.organization_id,
            Application.external_id,
            Application.job_id,
            Application.stage,
            Application.decided_at,
            Candidate.email.label("candidate_email"),
            Candidate.name.label("candidate_name"),
        )
    )


async def get_application(
    db: AsyncSession, *, actor: ApiKey, application_id: int
) -> ApplicationOut:
    row = (
        await db.execute(_application_rows(actor).where(Application.id == application_id))
    ).one_or_none()
    if row is None:
        raise NotFound(application_id)
    return (await _applications_out(db, [row]))[0]


async def list_applications(
    db: AsyncSession,
    *,
    actor: ApiKey,
    cursor: Cursor | None,
    limit: int,
    external_id: str | None = None,
) -> tuple[list[ApplicationOut], Cursor | None]:
    statement = _application_rows(actor).order_by(Application.id).limit(limit + 1)
    if cursor is not None:
        statement = statement.where(Application.id > cursor.after)
    if external_id is not None:
        statement = statement.where(Application.external_id == external_id)
    rows = (await db.execute(statement)).all()
    page, after = _page(rows, [row.id for row in rows], limit)
    return await _applications_out(db, page), after


def _field_problem(field: str, message: str, *, status: int = 422) -> ApiProblem:
    return ApiProblem(
        status,
        message,
        kind="invalid-fields",
        title="Invalid fields",
        errors=[{"field": field, "message": message}],
    )


async def _job_for(db: AsyncSession, *, actor: ApiKey, data: ApplicationIn) -> int:
    if (data.job_id is None) == (data.job_external_id is None):
        raise _field_problem("job_id", "Give the job: job_id or job_external_id (one of them).")
    if data.job_id is not None:
        field, condition = "job_id", Job.id == data.job_id
    else:
        field, condition = "job_external_id", Job.external_id == data.job_external_id
    job = (
        await db.execute(
            readable_jobs(actor).with_only_columns(Job.id, Job.archived_at).where(condition)
        )
    ).one_or_none()
    if job is None:
        raise _field_problem(field, "Your organization has no such job.")
    if job.archived_at is not None:
        raise _field_problem(field, "This job is archived: it takes no new rejections.")
    return int(job.id)


async def put_application(
    db: AsyncSession, *, actor: ApiKey, data: ApplicationIn, now: dt.datetime
) -> tuple[ApplicationOut, bool]:
    """Create the application named by the ATS's id (or update it: its stage, its
    decision date when given, its feedback), and save its feedback as a draft version.
    The answer, and whether the application is new."""
    job_id = await _job_for(db, actor=actor, data=data)
    application = await db.scalar(
        readable_applications(actor)
        .where(Application.external_id == data.external_id)
        .with_for_update()
    )
    created = False
    if application is not None:
        candidate_email = await db.scalar(
            select(Candidate.email).where(Candidate.id == application.candidate_id)
        )
        if candidate_email != data.email or application.job_id != job_id:
            raise _field_problem(
                "external_id",
                "This external id names an application of another candidate or job.",
                status=409,
            )
    else:
        candidate, existing = await find_or_add_candidate(
            db, actor=actor, email=data.email, name=data.name, now=now
        )
        # A rejection of this candidate for this job that came without an id (the CSV
        # import, a recruiter's hand) becomes this one: no duplicate application. A
        # candidate added just now has none.
        application = None
        if existing:
            application = await db.scalar(
                readable_applications(actor)
                .where(
                    Application.candidate_id == candidate.id,
                    Application.job_id == job_id,
                    Application.external_id.is_(None),
                )
                .order_by(Application.id.desc())
                .limit(1)
                .with_for_update()
            )
        if application is None:
            created = True
            application = Application(
                organization_id=actor.organization_id,
                candidate_id=candidate.id,
                job_id=job_id,
                stage=data.stage,
                status=ApplicationStatus.REJECTED,
                decided_at=decided_at(data.decided_on or now.date(), now=now),
                created_at=now,
            )
            db.add(application)
        application.external_id = data.external_id
        try:
            await db.flush()
        except IntegrityError as exc:  # the same external id at the same moment
            raise _field_problem(
                "external_id", "Another request is creating this application.", status=409
            ) from exc
    changed = []
    if not created:
        if application.stage != data.stage:
            application.stage = data.stage
            changed.append("stage")
        if data.decided_on is not None:
            moved = decided_at(data.decided_on, now=now)
            if application.decided_at is None or application.decided_at.date() != data.decided_on:
                application.decided_at = moved
                changed.append("decided_on")
        await db.flush()
    audit.by_actor(
        db,
        actor,
        action="application.created" if created else "application.updated",
        subject_type="application",
        subject_id=application.id,
        details={"source": "api", "external_id": data.external_id, "job_id": job_id}
        | ({"fields": changed} if changed else {}),
    )
    saved: drafts.SavedVersion | None = None
    if data.feedback is not None:
        draft = data.feedback.draft()
        try:
            saved = await drafts.save_draft(
                db,
                actor=actor,
                application_id=application.id,
                draft=draft,
                author_staff_id=None,
                based_on=None,
                now=now,
            )
        except drafts.UnknownRequirement as exc:
            raise _field_problem(
                _requirement_field(data, exc.requirement),
                f"The job has no requirement {exc.requirement!r}.",
            ) from exc
        except Conflict as exc:
            raise ApiProblem(
                409, "The feedback changed meanwhile: try again.", kind="conflict"
            ) from exc
    if created:
        # New: no thread, no version but the one just saved. Answered from what was
        # written, without reading it back.
        return ApplicationOut(
            id=application.id,
            external_id=application.external_id,
            job_id=job_id,
            candidate_email=candidate.email,
            candidate_name=candidate.name,
            stage=application.stage.value,
            decided_at=application.decided_at,
            feedback=FeedbackState(
                newest_version=saved.version if saved else None,
                newest_state="draft" if saved else None,
                published_version=None,
                published_at=None,
            ),
            threads=[],
        ), True
    return await get_application(db, actor=actor, application_id=application.id), created


_LISTS = {"assessment": "assessments", "strength": "strengths", "growth_area": "growth_areas"}


def _body_field(draft: Draft, field: str) -> str:
    """A finding's field (`items[2].body`) as the request body named it
    (`feedback.strengths.0.body`)."""
    found = re.match(r"^items\[(\d+)\]\.(body|suggestion)$", field)
    if found:
        index = int(found.group(1))
        kind = draft.items[index].kind
        position = sum(1 for item in draft.items[:index] if item.kind == kind)
        part = "evidence" if kind == "assessment" and found.group(2) == "body" else found.group(2)
        return f"feedback.{_LISTS[kind]}.{position}.{part}"
    roles = re.match(r"^suggested_roles\[(\d+)\]$", field)
    if roles:
        return f"feedback.suggested_roles.{roles.group(1)}"
    return f"feedback.{field}"


def _requirement_field(data: ApplicationIn, requirement: object) -> str:
    """The body field that names an unknown requirement."""
    feedback = data.feedback
    if feedback is not None:
        lists: tuple[tuple[str, Sequence[Assessment | Strength | GrowthArea]], ...] = (
            ("assessments", feedback.assessments),
            ("strengths", feedback.strengths),
            ("growth_areas", feedback.growth_areas),
        )
        for name, items in lists:
            for index, item in enumerate(items):
                if item.requirement == requirement:
                    return f"feedback.{name}.{index}.requirement"
    return "feedback"


async def publish(
    db: AsyncSession,
    *,
    actor: ApiKey,
    application_id: int,
    data: PublishIn,
    settings: Settings,
    now: dt.datetime,
) -> PublishedOut:
    """Publish the newest version through the feedback check, and email the candidate
    their link. Risky findings refuse it (422, with the findings)."""
    try:
        version = await drafts.newest_version_of(db, actor=actor, application_id=application_id)
        published = await drafts.publish_version(
            db,
            actor=actor,
            application_id=application_id,
            version=version,
            staff_id=None,
            settings=settings,
            now=now,
            incomplete_confirmed=data.confirm_incomplete,
        )
        if published:
            await usefulness.measure_published(
                db, actor=actor, application_id=application_id, version=version
            )
    except drafts.ApplicationNotFound as exc:
        raise NotFound(application_id) from exc
    except drafts.NothingToPublish as exc:
        raise ApiProblem(
            409,
            "The application has no feedback yet: send it with POST /applications first.",
            kind="nothing-to-publish",
            title="Nothing to publish",
        ) from exc
    except drafts.RiskyFindings as exc:
        stored = await drafts.load_draft(db, actor=actor, application_id=application_id)
        assert stored is not None
        findings = [
            FindingOut(
                rule=f.rule,
                severity=f.severity,
                field=f.field,
                message=f.message,
                words=f.words(field_text(stored.draft, f.field)),
            ).model_dump()
            for f in exc.findings
            if f.severity == "risky"
        ]
        raise ApiProblem(
            422,
            "The feedback check found risky wording: reword it (or have a second recruiter "
            "override the check in the editor).",
            kind="risky-feedback",
            title="Risky feedback",
            errors=[
                {"field": _body_field(stored.draft, f["field"]), "message": f["message"]}
                for f in findings
            ],
            extra={"findings": findings},
        ) from exc
    except drafts.Incomplete as exc:
        raise ApiProblem(
            422,
            "The feedback lacks parts specific feedback has: "
            + ", ".join(str(part) for part in exc.missing)
            + ". Add them, or publish with confirm_incomplete.",
            kind="incomplete-feedback",
            title="Incomplete feedback",
            extra={"missing": [str(part) for part in exc.missing]},
        ) from exc
    except Conflict as exc:
        raise ApiProblem(
            409, "The feedback changed meanwhile: try again.", kind="conflict"
        ) from exc
    # The email goes now only inside the send window, and only on the first publishing;
    # otherwise it waits for the window or a recruiter's call, or went before.
    sent_at = await db.scalar(
        select(FeedbackSend.sent_at).where(
            FeedbackSend.application_id == application_id, FeedbackSend.state == SendState.SENT
        )
    )
    return PublishedOut(
        application_id=application_id,
        version=version,
        published=published,
        link_sent=published and sent_at == now,
    )


async def send_link(
    db: AsyncSession, *, actor: ApiKey, application_id: int, settings: Settings, now: dt.datetime
) -> LinkSentOut:
    """Email the candidate a fresh link to their published feedback (audited)."""
    exists = await db.scalar(
        readable_applications(actor)
        .with_only_columns(Application.id)
        .where(Application.id == application_id)
    )
    if exists is None:
        raise NotFound(application_id)
    published = await db.scalar(
        select(Feedback.id)
        .where(Feedback.application_id == application_id, Feedback.state == State.PUBLISHED)
        .limit(1)
    )
    if published is None:
        raise ApiProblem(
            409,
            "The application has no published feedback to link to yet.",
            kind="nothing-published",
            title="Nothing published",
        )
    if await first_email_waiting(db, application_id=application_id) is not None:
        raise ApiProblem(
            409,
            "The candidate's first email has not gone yet: it waits for the send window or "
            "for a recruiter's call, and goes by itself.",
            kind="email-waiting",
            title="First email waiting",
        )
    await send_invitation(db, application_id=application_id, settings=settings, now=now)
    return LinkSentOut(application_id=application_id, link_sent=True)


# --- threads and the talent pool -----------------------------------------------------


async def list_threads(
    db: AsyncSession, *, actor: ApiKey, cursor: Cursor | None, limit: int
) -> tuple[list[ThreadOut], Cursor | None]:
    """Where the organization's candidates' questions stand (not what they say)."""
    counts = (
        select(Message.thread_id, func.count().label("messages"))
        .group_by(Message.thread_id)
        .subquery()
    )
    statement = (
        readable_threads(actor)
        .outerjoin(counts, counts.c.thread_id == Thread.id)
        .with_only_columns(
            Thread.id,
            Thread.state,
            Thread.created_at,
            Thread.waiting_since,
            func.coalesce(counts.c.messages, 0).label("messages"),
        )
        .order_by(Thread.id)
        .limit(limit + 1)
    )
    if cursor is not None:
        statement = statement.where(Thread.id > cursor.after)
    rows = (await db.execute(statement)).all()
    page, after = _page(rows, [row.id for row in rows], limit)
    return [
        ThreadOut(
            id=row.id,
            state=row.state.value,
            created_at=row.created_at,
            waiting_since=row.waiting_since,
            messages=row.messages,
        )
        for row in page
    ], after


async def list_members(
    db: AsyncSession, *, actor: ApiKey, cursor: Cursor | None, limit: int, now: dt.datetime
) -> tuple[list[MemberOut], Cursor | None]:
    """The organization's active talent-pool members, with the consent each gave."""
    statement = (
        readable_memberships(actor, now=now)
        .join(Candidate, Candidate.id == PoolMembership.candidate_id)
        .join(PoolConsentText, PoolConsentText.id == PoolMembership.consent_text_id)
        .with_only_columns(
            PoolMembership.id,
            Candidate.email.label("candidate_email"),
            Candidate.name.label("candidate_name"),
            PoolMembership.state,
            PoolMembership.joined_at,
            PoolMembership.expires_at,
            PoolConsentText.version.label("consent_version"),
            PoolMembership.role_families,
            PoolMembership.locations,
            PoolMembership.remote,
            PoolMembership.contact_frequency,
            PoolMembership.only_chosen_roles,
        )
        .order_by(PoolMembership.id)
        .limit(limit + 1)
    )
    if cursor is not None:
        statement = statement.where(PoolMembership.id > cursor.after)
    rows = (await db.execute(statement)).all()
    page, after = _page(rows, [row.id for row in rows], limit)
    return [
        MemberOut(
            id=row.id,
            candidate_email=row.candidate_email,
            candidate_name=row.candidate_name,
            state=row.state.value,
            joined_at=row.joined_at,
            expires_at=row.expires_at,
            consent_version=row.consent_version,
            role_families=row.role_families,
            locations=row.locations,
            remote=row.remote.value,
            contact_frequency=row.contact_frequency.value,
            only_chosen_roles=row.only_chosen_roles,
        )
        for row in page
    ], after


# --- scorecards ------------------------------------------------------------------------


def _scorecard_out(card: drafting.ScorecardView) -> ScorecardOut:
    return ScorecardOut(
        id=card.id,
        application_id=card.application_id,
        source=card.source.value,
        external_id=card.external_id,
        interviewer=card.interviewer,
        step=card.step,
        interviewed_on=card.interviewed_on,
        overall_recommendation=card.overall_recommendation.value
        if card.overall_recommendation
        else None,
        created_at=card.created_at,
        attributes=[
            ScorecardAttributeOut(
                name=a.name,
                rating=a.rating.value if a.rating else None,
                note=a.text,
                private=a.private,
            )
            for a in card.attributes
        ],
        questions=[
            ScorecardQuestionOut(question=q.name, answer=q.text, private=q.private)
            for q in card.questions
        ],
    )


async def ensure_application(db: AsyncSession, *, actor: ApiKey, application_id: int) -> None:
    """NotFound unless the key may read the application (before its body is read, so
    another organization's application is a 404 whatever the body)."""
    found = await db.scalar(
        readable_applications(actor)
        .with_only_columns(Application.id)
        .where(Application.id == application_id)
    )
    if found is None:
        raise NotFound(application_id)


async def list_scorecards(db: AsyncSession, *, actor: ApiKey, application_id: int) -> ScorecardList:
    try:
        cards = await drafting.scorecards_for(db, actor=actor, application_id=application_id)
    except drafting.NotFound as exc:
        raise NotFound(application_id) from exc
    return ScorecardList(items=[_scorecard_out(card) for card in cards])


async def add_scorecard(
    db: AsyncSession, *, actor: ApiKey, application_id: int, data: ScorecardIn, now: dt.datetime
) -> tuple[ScorecardOut, bool]:
    """(the scorecard, whether it was stored now)."""
    card = drafting.ScorecardInput(
        external_id=data.external_id,
        interviewer=data.interviewer,
        step=data.step,
        interviewed_on=data.interviewed_on,
        overall_recommendation=ScorecardRating(data.overall_recommendation)
        if data.overall_recommendation
        else None,
        attributes=[
            drafting.AttributeInput(
                name=a.name,
                rating=ScorecardRating(a.rating) if a.rating else None,
                note=a.note,
                private=a.private,
            )
            for a in data.attributes
        ],
        questions=[
            drafting.QuestionInput(question=q.question, answer=q.answer, private=q.private)
            for q in data.questions
        ],
    )
    try:
        scorecard_id, created = await drafting.add_scorecard(
            db,
            actor=actor,
            application_id=application_id,
            card=card,
            source=ScorecardSource.API,
            staff_id=None,
            now=now,
        )
    except drafting.NotFound as exc:
        raise NotFound(application_id) from exc
    cards = await drafting.scorecards_for(db, actor=actor, application_id=application_id)
    return _scorecard_out(next(c for c in cards if c.id == scorecard_id)), created
