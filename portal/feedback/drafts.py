"""Writing feedback: every save a new version, publishing one, and the check in between.

A `Draft` (portal.feedback.check) is the whole structured feedback of one
application as a writer holds it, whoever the writer is: the staff editor
builds one from its form, an importer from a row. `save_draft` stores it as the
next version of that application's feedback (never changing an earlier one);
`publish_version` makes a version what the candidate reads, refusing one with
risky findings unless a second recruiter overrides with a written reason, and
an incomplete one (portal.feedback.completeness) unless the publisher confirms it.

Each function takes the writer (`actor`) and reads only the applications it
may (`readable_applications`); an application outside them is
`ApplicationNotFound`, as a missing one is.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.auth import Actor
from portal.candidates.models import Application, Requirement
from portal.candidates.service import readable_applications
from portal.concurrency import Conflict
from portal.feedback.check import Draft, DraftItem, Finding, blocks_publishing, check_feedback
from portal.feedback.completeness import Missing, missing_parts
from portal.feedback.models import Feedback, FeedbackItem, FeedbackOverride, FeedbackState
from portal.insights.models import CheckTally, CheckTallyRule
from portal.security.actors import ApiKey
from portal.settings import Settings
from portal.timing.service import tell_candidate
from portal.webhooks import service as webhooks
from portal.webhooks.events import published_event

ITEM_ORDER = ("assessment", "strength", "growth_area")


class ApplicationNotFound(LookupError):
    """No such application in the writer's scope (answered as a 404)."""


class UnknownRequirement(ValueError):
    """An item names a requirement that is not one of the application's job's."""

    def __init__(self, requirement: int | str) -> None:
        super().__init__(f"the job has no requirement {requirement!r}")
        self.requirement = requirement


class NothingToPublish(LookupError):
    """The application has no feedback yet."""


class RiskyFindings(Exception):
    """The version has risky findings and nobody overrode them."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        super().__init__("risky findings block publishing")
        self.findings = list(findings)


class OwnVersion(Exception):
    """The author of a version cannot override the check on it: a second recruiter must."""


class Incomplete(Exception):
    """The version lacks parts specific feedback has, and publishing it was not confirmed."""

    def __init__(self, missing: Sequence[Missing]) -> None:
        super().__init__("incomplete feedback needs a confirmation: " + ", ".join(missing))
        self.missing = tuple(missing)


@dataclass(frozen=True)
class StoredDraft:
    """One stored version: its number, state, who wrote it and when, and its content."""

    version: int
    state: FeedbackState
    draft: Draft
    created_by_staff_id: int | None
    created_at: dt.datetime


@dataclass(frozen=True)
class SavedVersion:
    version: int
    created: bool  # False when the draft was the same as the newest version


async def _application(
    db: AsyncSession, *, actor: Actor, application_id: int, lock: bool = False
) -> tuple[int, int]:
    """(job id, organization id) of an application `actor` may read; locked for
    writing when `lock`, so that two saves on PostgreSQL take turns."""
    statement = (
        readable_applications(actor)
        .with_only_columns(Application.job_id, Application.organization_id)
        .where(Application.id == application_id)
    )
    if lock:
        statement = statement.with_for_update(of=Application)
    row = (await db.execute(statement)).one_or_none()
    if row is None:
        raise ApplicationNotFound(application_id)
    return row.job_id, row.organization_id


def _who(actor: Actor, staff_id: int | None) -> tuple[str, int | None]:
    """Who the audit trail names for a save or a publication: the staff member, the
    API client's key, or the portal itself (an import with no one signed in)."""
    if isinstance(actor, ApiKey):
        return audit.API_KEY, actor.key_id
    return ("staff" if staff_id else audit.SYSTEM), staff_id


async def newest_version(db: AsyncSession, *, application_id: int) -> int:
    """The newest version number of an application's feedback (0 when there is none)."""
    found = await db.scalar(
        select(func.max(Feedback.version)).where(Feedback.application_id == application_id)
    )
    return int(found or 0)


async def newest_version_of(db: AsyncSession, *, actor: Actor, application_id: int) -> int:
    """The newest version number of the feedback of an application `actor` may read (0
    when there is none); `ApplicationNotFound` otherwise."""
    await _application(db, actor=actor, application_id=application_id)
    return await newest_version(db, application_id=application_id)


async def load_draft(
    db: AsyncSession, *, actor: Actor, application_id: int, version: int | None = None
) -> StoredDraft | None:
    """A stored version (the newest when `version` is None) as a `Draft`, internal
    items included and requirements by id; None when there is no such version."""
    job_id, _ = await _application(db, actor=actor, application_id=application_id)
    if version is None:
        version = await newest_version(db, application_id=application_id)
    feedback = await db.scalar(
        select(Feedback).where(
            Feedback.application_id == application_id, Feedback.version == version
        )
    )
    if feedback is None:
        return None
    rows = await db.execute(
        _ITEM_COLUMNS.where(FeedbackItem.feedback_id == feedback.id).order_by(
            FeedbackItem.position, FeedbackItem.id
        )
    )
    stored = _stored(feedback, rows)
    texts = await requirement_texts(db, job_ids=[job_id])
    return replace(stored, draft=replace(stored.draft, requirements=texts.get(job_id, ())))


async def requirement_texts(
    db: AsyncSession, *, job_ids: Iterable[int]
) -> dict[int, tuple[str, ...]]:
    """Job id -> the texts of its current requirements ("name: description"), which the
    feedback check reads (`Draft.requirements`)."""
    rows = await db.execute(
        select(Requirement.job_id, Requirement.name, Requirement.description)
        .where(Requirement.job_id.in_(list(job_ids)), Requirement.retired_at.is_(None))
        .order_by(Requirement.job_id, Requirement.position)
    )
    texts: dict[int, list[str]] = {}
    for row in rows:
        text = f"{row.name}: {row.description}" if row.description else row.name
        texts.setdefault(row.job_id, []).append(text)
    return {job_id: tuple(found) for job_id, found in texts.items()}


_ITEM_COLUMNS = select(
    FeedbackItem.feedback_id,
    FeedbackItem.kind,
    FeedbackItem.body,
    FeedbackItem.suggestion,
    FeedbackItem.rating,
    FeedbackItem.requirement_id,
    FeedbackItem.visible,
    FeedbackItem.suggestion_url,
)


def _stored(feedback: Feedback, rows: Iterable[Any]) -> StoredDraft:
    """A stored version as a `Draft`, from its row and its items' rows (in order)."""
    items = sorted(
        (
            DraftItem(
                # Members of ItemKind and Rating, whose values are the Literals'.
                kind=row.kind,
                body=row.body,
                suggestion=row.suggestion,
                rating=row.rating,
                requirement=row.requirement_id,
                visible=row.visible,
                suggestion_url=row.suggestion_url or None,
            )
            for row in rows
        ),
        key=lambda item: ITEM_ORDER.index(item.kind),
    )
    draft = Draft(
        decision_summary=feedback.decision_summary,
        personal_note=feedback.personal_note,
        items=tuple(items),
        suggested_roles=tuple(feedback.suggested_roles or ()),
        suggested_role_urls=tuple(sorted((feedback.suggested_role_urls or {}).items())),
        reapply_after_months=feedback.reapply_after_months,
        pool_invitation_offered=feedback.pool_invitation_offered,
    )
    return StoredDraft(
        version=feedback.version,
        state=feedback.state,
        draft=draft,
        created_by_staff_id=feedback.created_by_staff_id,
        created_at=feedback.created_at,
    )


async def load_newest_drafts(
    db: AsyncSession, *, actor: Actor, application_ids: Sequence[int]
) -> dict[int, StoredDraft]:
    """`load_draft` of the newest version for many applications at once, in two
    statements whatever their number: application id -> its newest version, for those
    of `application_ids` that `actor` may read and that have feedback."""
    if not application_ids:
        return {}
    newest = (
        select(Feedback.application_id, func.max(Feedback.version).label("version"))
        .where(
            Feedback.application_id.in_(
                readable_applications(actor)
                .with_only_columns(Application.id)
                .where(Application.id.in_(application_ids))
            )
        )
        .group_by(Feedback.application_id)
        .subquery()
    )
    versions = (
        await db.scalars(
            select(Feedback).join(
                newest,
                (newest.c.application_id == Feedback.application_id)
                & (newest.c.version == Feedback.version),
            )
        )
    ).all()
    if not versions:
        return {}
    items: dict[int, list[Any]] = {feedback.id: [] for feedback in versions}
    rows = await db.execute(
        _ITEM_COLUMNS.where(FeedbackItem.feedback_id.in_(list(items))).order_by(
            FeedbackItem.feedback_id, FeedbackItem.position, FeedbackItem.id
        )
    )
    for row in rows:
        items[row.feedback_id].append(row)
    application_jobs = await db.execute(
        select(Application.id, Application.job_id).where(
            Application.id.in_([feedback.application_id for feedback in versions])
        )
    )
    jobs = {row.id: row.job_id for row in application_jobs}
    texts = await requirement_texts(db, job_ids=set(jobs.values()))
    drafts = {}
    for feedback in versions:
        stored = _stored(feedback, items[feedback.id])
        requirements = texts.get(jobs[feedback.application_id], ())
        drafts[feedback.application_id] = replace(
            stored, draft=replace(stored.draft, requirements=requirements)
        )
    return drafts


async def _resolved(db: AsyncSession, *, job_id: int, draft: Draft) -> Draft:
    """The draft with every item's requirement as an id of the job's requirements
    (given by id or by name, any case), in a form that compares equal to a stored one.
    A requirement removed from the job (retired) is no longer one of them."""
    rows = (
        await db.execute(
            select(Requirement.id, Requirement.name).where(
                Requirement.job_id == job_id, Requirement.retired_at.is_(None)
            )
        )
    ).all()
    by_id = {row.id for row in rows}
    by_name = {row.name.strip().lower(): row.id for row in rows}
    items = []
    for item in draft.items:
        requirement = item.requirement
        if isinstance(requirement, str):
            if not requirement.strip():
                requirement = None
            elif requirement.strip().lower() in by_name:
                requirement = by_name[requirement.strip().lower()]
            else:
                raise UnknownRequirement(requirement)
        elif requirement is not None and requirement not in by_id:
            raise UnknownRequirement(requirement)
        if item.kind == "assessment" and (requirement is None or item.rating is None):
            raise ValueError("an assessment needs a requirement and a rating")
        rating = item.rating if item.kind == "assessment" else None
        # Only a growth area's suggestion has a link to keep.
        url = (item.suggestion_url or None) if item.kind == "growth_area" else None
        items.append(replace(item, requirement=requirement, rating=rating, suggestion_url=url))
    items.sort(key=lambda item: ITEM_ORDER.index(item.kind))
    roles = tuple(draft.suggested_roles)
    role_urls = tuple(
        sorted((role, url) for role, url in draft.suggested_role_urls if role in roles)
    )
    return replace(draft, items=tuple(items), suggested_roles=roles, suggested_role_urls=role_urls)


async def save_draft(
    db: AsyncSession,
    *,
    actor: Actor,
    application_id: int,
    draft: Draft,
    author_staff_id: int | None,
    based_on: int | None,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> SavedVersion:
    """Store `draft` as the next version of an application's feedback, as a draft.

    Earlier versions are never changed. `based_on` is the version the writer
    started from (0 for none): when someone saved a newer one meanwhile this
    raises `Conflict` (with the newest version number) and stores nothing; pass
    None to write regardless. A draft identical to the newest version stores
    nothing and answers that version (`created=False`), so saving twice, or
    importing the same row twice, adds no version. Items name their requirement
    by id or by name (`UnknownRequirement` otherwise). Audited as
    ``feedback.saved``.
    """
    job_id, organization_id = await _application(
        db, actor=actor, application_id=application_id, lock=True
    )
    current = await newest_version(db, application_id=application_id)
    if based_on is not None and based_on != current:
        raise Conflict(version=current)
    draft = await _resolved(db, job_id=job_id, draft=draft)
    if current:
        stored = await load_draft(db, actor=actor, application_id=application_id)
        if stored is not None and stored.draft == draft:
            return SavedVersion(current, created=False)
    feedback = Feedback(
        application_id=application_id,
        version=current + 1,
        state=FeedbackState.DRAFT,
        decision_summary=draft.decision_summary,
        personal_note=draft.personal_note,
        reapply_after_months=draft.reapply_after_months,
        suggested_roles=list(draft.suggested_roles),
        suggested_role_urls=dict(draft.suggested_role_urls) or None,
        pool_invitation_offered=draft.pool_invitation_offered,
        created_by_staff_id=author_staff_id,
        created_at=now,
    )
    db.add(feedback)
    try:
        await db.flush()
    except IntegrityError as exc:
        # Another save took this version number first (SQLite, or a race the lock
        # did not cover): the writer is told, as for a stale `based_on`.
        raise Conflict() from exc
    db.add_all(
        FeedbackItem(
            feedback_id=feedback.id,
            kind=item.kind,
            position=position,
            requirement_id=item.requirement,
            rating=item.rating,
            body=item.body,
            suggestion=item.suggestion,
            suggestion_url=item.suggestion_url,
            visible=item.visible,
        )
        for position, item in enumerate(draft.items)
    )
    await db.flush()
    actor_kind, actor_id = _who(actor, author_staff_id)
    audit.record(
        db,
        action="feedback.saved",
        actor_kind=actor_kind,
        actor_id=actor_id,
        organization_id=organization_id,
        subject_type="application",
        subject_id=application_id,
        ip_hash=ip_hash,
        details={"version": feedback.version},
    )
    return SavedVersion(feedback.version, created=True)


async def publish_version(
    db: AsyncSession,
    *,
    actor: Actor,
    application_id: int,
    version: int,
    staff_id: int | None,
    settings: Settings,
    now: dt.datetime,
    override_reason: str | None = None,
    incomplete_confirmed: bool = False,
    ip_hash: str | None = None,
) -> bool:
    """Make `version` (which must be the newest) what the candidate reads, and queue
    the invitation email with a fresh link. False when it was published already.

    Raises `Conflict` when a newer version exists, `NothingToPublish` when there
    is none, and `RiskyFindings` when the check finds risky words, unless
    `override_reason` is given by someone other than the version's author
    (`OwnVersion` otherwise): the override is stored with the version and
    audited (``feedback.check_overridden``), then ``feedback.published``.
    Raises `Incomplete` when the version assesses no requirement or has neither
    strengths nor growth areas, unless `incomplete_confirmed` (what was missing
    is kept in the audit event).
    """
    _job_id, organization_id = await _application(
        db, actor=actor, application_id=application_id, lock=True
    )
    current = await newest_version(db, application_id=application_id)
    if not current:
        raise NothingToPublish(application_id)
    if version != current:
        raise Conflict(version=current)
    stored = await load_draft(db, actor=actor, application_id=application_id)
    assert stored is not None
    if stored.state == FeedbackState.PUBLISHED:
        return False
    feedback = await db.scalar(
        select(Feedback).where(
            Feedback.application_id == application_id, Feedback.version == version
        )
    )
    assert feedback is not None
    findings = check_feedback(stored.draft)
    risky_findings = blocks_publishing(findings)
    if risky_findings:
        if override_reason is None or not override_reason.strip():
            raise RiskyFindings(findings)
        if staff_id is None or stored.created_by_staff_id == staff_id:
            raise OwnVersion()
    missing = missing_parts(stored.draft)
    if missing and not incomplete_confirmed:
        raise Incomplete(missing)
    overridden = False
    if risky_findings:
        assert override_reason is not None and staff_id is not None
        risky = [_finding_record(stored.draft, f) for f in findings if f.severity == "risky"]
        db.add(
            FeedbackOverride(
                feedback_id=feedback.id,
                staff_user_id=staff_id,
                reason=override_reason.strip(),
                findings=risky,
                created_at=now,
            )
        )
        audit.record(
            db,
            action="feedback.check_overridden",
            actor_kind="staff",
            actor_id=staff_id,
            organization_id=organization_id,
            subject_type="application",
            subject_id=application_id,
            ip_hash=ip_hash,
            details={
                "version": version,
                "reason": override_reason.strip(),
                "rules": sorted({entry["rule"] for entry in risky}),
            },
        )
        overridden = True
    feedback.state = FeedbackState.PUBLISHED
    feedback.published_at = now
    # What the check found, by the version's writer: the insights' coaching table.
    severities = Counter(finding.severity for finding in findings)
    db.add(
        CheckTally(
            feedback_id=feedback.id,
            organization_id=organization_id,
            staff_id=stored.created_by_staff_id,
            published_at=now,
            risky=severities["risky"],
            vague=severities["vague"],
            tone=severities["tone"],
        )
    )
    await db.flush()
    db.add_all(
        CheckTallyRule(feedback_id=feedback.id, rule=rule[:60], findings=count)
        for rule, count in Counter(finding.rule for finding in findings).items()
    )
    await db.flush()
    await keep_requirements_as_published(db, feedback_ids=[feedback.id])
    actor_kind, actor_id = _who(actor, staff_id)
    audit.record(
        db,
        action="feedback.published",
        actor_kind=actor_kind,
        actor_id=actor_id,
        organization_id=organization_id,
        subject_type="application",
        subject_id=application_id,
        ip_hash=ip_hash,
        details={"version": version, "overridden": overridden}
        | ({"confirmed_incomplete": [str(part) for part in missing]} if missing else {}),
    )
    await webhooks.emit(
        db,
        organization_id=organization_id,
        event_type="feedback.published",
        data=published_event(application_id=application_id, version=version, now=now),
        now=now,
    )
    # The first publishing tells the candidate, as the send window allows; a later
    # one sends nothing again (portal.timing).
    await tell_candidate(
        db,
        application_id=application_id,
        settings=settings,
        now=now,
        staff_id=staff_id,
        ip_hash=ip_hash,
    )
    return True


# Ids per statement: well within SQLite's limit on bound parameters.
_SNAPSHOT_CHUNK = 500


async def keep_requirements_as_published(db: AsyncSession, *, feedback_ids: Iterable[int]) -> None:
    """Copy the name and description of the requirement each item of these versions
    names onto the item, as they are now: what the candidate reads from then on,
    whatever later happens to the job's requirement (renamed, reworded, reordered,
    removed). Called whenever a version is published; drafts keep none, and show
    the job's requirements as they are (portal.feedback.view)."""
    ids = list(feedback_ids)
    for start in range(0, len(ids), _SNAPSHOT_CHUNK):
        chunk = ids[start : start + _SNAPSHOT_CHUNK]
        requirement = select(Requirement).where(Requirement.id == FeedbackItem.requirement_id)
        await db.execute(
            update(FeedbackItem)
            .where(FeedbackItem.feedback_id.in_(chunk), FeedbackItem.requirement_id.is_not(None))
            .values(
                requirement_name=requirement.with_only_columns(Requirement.name).scalar_subquery(),
                requirement_description=requirement.with_only_columns(
                    Requirement.description
                ).scalar_subquery(),
            )
            .execution_options(synchronize_session=False)
        )


def field_text(draft: Draft, field: str) -> str:
    """The text of one of a draft's fields, named as `Finding.field` names them."""
    if field in ("decision_summary", "personal_note"):
        return str(getattr(draft, field))
    if field.startswith("suggested_roles["):
        return draft.suggested_roles[int(field[16:-1])]
    index, _, part = field[6:].partition("].")
    item = draft.items[int(index)]
    return item.suggestion if part == "suggestion" else item.body


def _finding_record(draft: Draft, finding: Finding) -> dict[str, str]:
    return {
        "rule": finding.rule,
        "field": finding.field,
        "words": finding.words(field_text(draft, finding.field)),
    }
