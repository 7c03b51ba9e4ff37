"""Acting on many applications at once, from the applications list: publishing their
drafts and assigning them to a colleague (docs/staff/bulk-actions.md).

Every id a form names is read through `readable_applications(actor)`: an id of
another organization, like one that names nothing, is counted as "not found" and
left alone, so a page never tells the two apart. A batch holds at most
`BULK_MAX` applications.

Publishing goes through `portal.feedback.drafts.publish_version`, one application
at a time, exactly as publishing one from its preview: the same check, the same
invitation email with a fresh link, the same audit events (`feedback.published`
and `link.issued` for each application). What can be read for the whole batch at
once is: which applications have a draft, and each draft's findings (two
statements for any number of drafts), so applications that would be skipped cost
no publishing work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.candidates.models import Application, Candidate, Job
from portal.candidates.service import readable_applications
from portal.concurrency import Conflict
from portal.drafting import usefulness
from portal.feedback import drafts
from portal.feedback.check import Draft, Finding, blocks_publishing, check_feedback
from portal.feedback.completeness import missing_parts
from portal.feedback.models import Feedback, FeedbackState
from portal.security.actors import Staff
from portal.settings import Settings
from portal.staff.models import StaffUser
from portal.staff.service import readable_staff
from portal.workspace.forms import BULK_MAX, ApplicationFilter, Scope
from portal.workspace.service import matching_ids


class TooMany(Exception):
    """More applications than one batch takes: nothing was done."""

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} applications; a batch takes at most {BULK_MAX}")
        self.count = count


class UnknownColleague(LookupError):
    """Not an active staff account of the actor's organization (whichever it is)."""


@dataclass(frozen=True)
class Chosen:
    """The applications a bulk action is for: those the actor may read, in the order
    given, and how many of the ids given name none of them."""

    ids: list[int]
    not_found: int = 0


async def choose(
    db: AsyncSession,
    *,
    actor: Staff,
    scope: Scope,
    ticked: list[int],
    shown: list[int],
    filters: ApplicationFilter,
) -> Chosen:
    """The applications of a bulk form: the ticked rows, the page's rows, or every
    match of `filters`. Raises `TooMany` beyond `BULK_MAX`."""
    if scope == Scope.MATCHES:
        ids = list((await db.scalars(matching_ids(actor, filters).limit(BULK_MAX + 1))).all())
        if len(ids) > BULK_MAX:
            count = await db.scalar(
                select(func.count()).select_from(matching_ids(actor, filters).subquery())
            )
            raise TooMany(count or 0)
        return Chosen(ids)
    return await readable(db, actor=actor, ids=shown if scope == Scope.PAGE else ticked)


async def readable(db: AsyncSession, *, actor: Staff, ids: list[int]) -> Chosen:
    """`ids` less those that name no application of the actor's organization (in one
    statement). Raises `TooMany` beyond `BULK_MAX`."""
    given = list(dict.fromkeys(ids))
    if len(given) > BULK_MAX:
        raise TooMany(len(given))
    if not given:
        return Chosen([])
    found = set(
        (
            await db.scalars(
                readable_applications(actor)
                .with_only_columns(Application.id)
                .where(Application.id.in_(given))
            )
        ).all()
    )
    return Chosen([i for i in given if i in found], not_found=len(given) - len(found))


# --- publishing ------------------------------------------------------------------------


class SkipReason(StrEnum):
    NO_FEEDBACK = "no_feedback"  # nothing written yet
    PUBLISHED = "published"  # the newest version is published already
    RISKY = "risky"  # the check finds risky wording
    # It assesses no requirement, or has no strengths and no growth areas: publishing it
    # needs a confirmation of its own (portal.feedback.completeness), one at a time.
    INCOMPLETE = "incomplete"
    CHANGED = "changed"  # a newer version was saved after the confirmation


SKIP_WORDS = {
    SkipReason.NO_FEEDBACK: "no feedback has been written yet.",
    SkipReason.PUBLISHED: "already published, with no newer draft.",
    SkipReason.RISKY: "the feedback check finds risky wording. Change it in the editor, or "
    "ask a colleague to review it: a second recruiter can publish it with a written reason.",
    SkipReason.INCOMPLETE: "the feedback is incomplete (it assesses no requirement, or has "
    "no strengths and no growth areas). Complete it in the editor, or publish it from its "
    "preview, where you can confirm that it is meant to be so.",
    SkipReason.CHANGED: "a newer version was saved after you confirmed. Review it, then "
    "publish it.",
}


@dataclass(frozen=True)
class RiskyWords:
    """A risky finding as the result page shows it."""

    message: str
    words: str  # the words it is about (empty: the whole field)


@dataclass(frozen=True)
class BulkItem:
    """One chosen application, as the confirmation and result pages name it."""

    application_id: int
    candidate_name: str
    job_title: str
    version: int  # its newest version (0: none)


@dataclass(frozen=True)
class Skipped:
    item: BulkItem
    reason: SkipReason
    findings: tuple[RiskyWords, ...] = ()

    @property
    def words(self) -> str:
        return SKIP_WORDS[self.reason]


@dataclass
class PublishPlan:
    """The chosen applications sorted into the drafts to publish and those to skip."""

    ready: list[BulkItem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    not_found: int = 0
    drafts: dict[int, Draft] = field(default_factory=dict)  # of the ready and the risky
    order: dict[int, int] = field(default_factory=dict)  # application id -> as chosen

    @property
    def versions(self) -> str:
        """The confirmation form's value: "application:version" of every application
        chosen and found, so that publishing publishes only what was confirmed and says
        again why each of the others is skipped."""
        items = sorted(
            [*self.ready, *(skipped.item for skipped in self.skipped)],
            key=lambda item: self.order[item.application_id],
        )
        return ",".join(f"{item.application_id}:{item.version}" for item in items)


@dataclass
class PublishOutcome:
    published: list[BulkItem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    not_found: int = 0


def _risky(draft: Draft, findings: list[Finding]) -> tuple[RiskyWords, ...]:
    return tuple(
        RiskyWords(finding.message, finding.words(drafts.field_text(draft, finding.field)))
        for finding in findings
        if finding.severity == "risky"
    )


async def plan_publishing(db: AsyncSession, *, actor: Staff, chosen: Chosen) -> PublishPlan:
    """What publishing `chosen` would do: each application's newest version, and the
    feedback check on each draft. Four statements, whatever the number."""
    plan = PublishPlan(not_found=chosen.not_found)
    plan.order = {application_id: index for index, application_id in enumerate(chosen.ids)}
    if not chosen.ids:
        return plan
    newest = (
        select(func.max(Feedback.version))
        .where(Feedback.application_id == Application.id)
        .correlate(Application)
        .scalar_subquery()
    )
    rows = (
        await db.execute(
            readable_applications(actor)
            .with_only_columns(
                Application.id,
                Candidate.name.label("candidate_name"),
                Job.title.label("job_title"),
                func.coalesce(newest, 0).label("version"),
            )
            .join(Candidate, Candidate.id == Application.candidate_id)
            .join(Job, Job.id == Application.job_id)
            .where(Application.id.in_(chosen.ids))
        )
    ).all()
    items = {
        row.id: BulkItem(row.id, row.candidate_name, row.job_title, row.version) for row in rows
    }
    stored = await drafts.load_newest_drafts(
        db, actor=actor, application_ids=[i for i, item in items.items() if item.version]
    )
    for application_id in chosen.ids:
        item = items.get(application_id)
        if item is None:  # gone since it was chosen
            plan.not_found += 1
            continue
        newest_version = stored.get(application_id)
        if newest_version is None:
            plan.skipped.append(Skipped(item, SkipReason.NO_FEEDBACK))
        elif newest_version.state == FeedbackState.PUBLISHED:
            plan.skipped.append(Skipped(item, SkipReason.PUBLISHED))
        else:
            draft = newest_version.draft
            plan.drafts[application_id] = draft
            findings = check_feedback(draft)
            if blocks_publishing(findings):
                plan.skipped.append(Skipped(item, SkipReason.RISKY, _risky(draft, findings)))
            elif missing_parts(draft):
                plan.skipped.append(Skipped(item, SkipReason.INCOMPLETE))
            else:
                plan.ready.append(item)
    return plan


async def publish(
    db: AsyncSession,
    *,
    actor: Staff,
    confirmed: dict[int, int],
    settings: Settings,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> PublishOutcome:
    """Publish the drafts the recruiter confirmed (application id -> version), each
    through `drafts.publish_version`; skip, with the reason, any that changed since,
    has risky findings, is incomplete, has no draft or nothing new. Flushes; the caller commits."""
    chosen = await readable(db, actor=actor, ids=list(confirmed))
    plan = await plan_publishing(db, actor=actor, chosen=chosen)
    outcome = PublishOutcome(not_found=plan.not_found)
    for skipped in plan.skipped:
        if skipped.item.version > confirmed[skipped.item.application_id]:
            skipped = Skipped(skipped.item, SkipReason.CHANGED)
        outcome.skipped.append(skipped)
    # In the order of their ids: two batches publishing some of the same applications
    # lock them in the same order, and so never wait for each other in a circle.
    for item in sorted(plan.ready, key=lambda item: item.application_id):
        if item.version != confirmed[item.application_id]:
            outcome.skipped.append(Skipped(item, SkipReason.CHANGED))
            continue
        try:
            published = await drafts.publish_version(
                db,
                actor=actor,
                application_id=item.application_id,
                version=item.version,
                staff_id=actor.staff_id,
                settings=settings,
                now=now,
                ip_hash=ip_hash,
            )
        except drafts.RiskyFindings as risky:
            # The plan ran the same check on the same version, so this should not
            # happen; but publish_version's own check is the one that decides.
            draft = plan.drafts[item.application_id]
            outcome.skipped.append(Skipped(item, SkipReason.RISKY, _risky(draft, risky.findings)))
            continue
        except drafts.Incomplete:  # as for risky findings: the plan read the same version
            outcome.skipped.append(Skipped(item, SkipReason.INCOMPLETE))
            continue
        except Conflict:
            outcome.skipped.append(Skipped(item, SkipReason.CHANGED))
            continue
        except (drafts.ApplicationNotFound, drafts.NothingToPublish):
            outcome.not_found += 1
            continue
        if published:
            outcome.published.append(item)
            await usefulness.measure_published(
                db, actor=actor, application_id=item.application_id, version=item.version
            )
        else:
            outcome.skipped.append(Skipped(item, SkipReason.PUBLISHED))
    # In the order confirmed, as the confirmation page listed them.
    outcome.published.sort(key=lambda item: plan.order[item.application_id])
    outcome.skipped.sort(key=lambda skipped: plan.order[skipped.item.application_id])
    return outcome


# --- assigning -------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignOutcome:
    assignee_name: str | None  # None: unassigned
    changed: int  # assigned (or unassigned) now
    unchanged: int  # had that assignee already
    not_found: int


async def colleague_name(db: AsyncSession, *, actor: Staff, staff_id: int) -> str:
    """The name of an active staff account of the actor's organization; raises
    `UnknownColleague` for any other id (another organization's, an inactive one's or
    none's alike)."""
    name = await db.scalar(
        readable_staff(actor)
        .with_only_columns(StaffUser.name)
        .where(StaffUser.id == staff_id, StaffUser.active.is_(True))
    )
    if name is None:
        raise UnknownColleague(staff_id)
    return name


async def assign(
    db: AsyncSession,
    *,
    actor: Staff,
    chosen: Chosen,
    assignee: int | None,
    ip_hash: str | None = None,
) -> AssignOutcome:
    """Give the chosen applications to a colleague (None: to nobody), in one UPDATE,
    and audit each application that changed (``application.assigned``, with the
    previous assignee). Raises `UnknownColleague` and changes nothing when
    `assignee` is not an active colleague."""
    name = None if assignee is None else await colleague_name(db, actor=actor, staff_id=assignee)
    rows = (
        await db.execute(
            readable_applications(actor)
            .with_only_columns(Application.id, Application.assignee_staff_id)
            .where(Application.id.in_(chosen.ids))
            .order_by(Application.id)  # locked in one order, as publishing does
            .with_for_update(of=Application)
        )
    ).all()
    previous = {row.id: row.assignee_staff_id for row in rows}
    changing = [i for i in chosen.ids if i in previous and previous[i] != assignee]
    if changing:
        await db.execute(
            update(Application)
            .where(
                Application.id.in_(changing),
                Application.organization_id == actor.organization_id,
            )
            .values(assignee_staff_id=assignee)
        )
    for application_id in changing:
        audit.by_staff(
            db,
            actor,
            action="application.assigned",
            subject_type="application",
            subject_id=application_id,
            ip_hash=ip_hash,
            details={"assignee": assignee, "previous": previous[application_id]},
        )
    return AssignOutcome(
        assignee_name=name,
        changed=len(changing),
        unchanged=len(previous) - len(changing),
        not_found=chosen.not_found + len(chosen.ids) - len(previous),
    )
