"""Working out an organization's monthly figures (`insights.refresh`, hourly; the
dashboard's first visit does it too when nothing is there yet).

Each application decided is counted in the month (UTC) of its decision, for its
job: told (an invitation link was issued), opened (one was used), hours from the
decision to the first invitation, questions asked and the hours to the first
reply, replies within the reply promise (in calendar days: the promise's working
days and the weekends they span), talent-pool joins from its page, and the
requirements its published feedback assessed "not yet met". The rows are
rewritten whole for the organization, in the job's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access.models import AccessLink, LinkPurpose
from portal.candidates.models import Application, Requirement
from portal.feedback.models import Feedback, FeedbackItem, FeedbackState, ItemKind, Rating
from portal.insights.models import (
    CheckTally,
    CheckTallyRule,
    InsightFindings,
    InsightMonth,
    InsightRefresh,
)
from portal.orgs.models import Organization
from portal.pool.models import PoolMembership
from portal.threads.models import AuthorKind, Message, MessageState, Thread

# An organization without a reply promise set is held to this many working days.
DEFAULT_PROMISE_DAYS = 5
# Delays beyond this many hours count in the last bucket.
MAX_HOURS = 24 * 120


def month_of(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date().replace(day=1)


def hours_between(start: dt.datetime, end: dt.datetime) -> int:
    return max(0, min(MAX_HOURS, int((end - start).total_seconds() // 3600)))


def promise_hours(working_days: int) -> int:
    """A promise of N working days, as the calendar hours it can span (a week for
    five working days)."""
    weeks, days = divmod(working_days, 5)
    return (weeks * 7 + days + (2 if days else 0)) * 24


async def reply_promise_days(db: AsyncSession, *, organization_id: int) -> int:
    """The organization's reply promise, in working days."""
    days = await db.scalar(
        select(Organization.reply_promise_days).where(Organization.id == organization_id)
    )
    return days or DEFAULT_PROMISE_DAYS


@dataclass
class _Cell:
    decided: int = 0
    told: int = 0
    opened: int = 0
    asked: int = 0
    answered: int = 0
    answered_in_promise: int = 0
    pool_joins: int = 0
    send_hours: Counter[str] = field(default_factory=Counter)
    reply_hours: Counter[str] = field(default_factory=Counter)
    unmet: Counter[str] = field(default_factory=Counter)


async def refresh_organization(db: AsyncSession, *, organization_id: int, now: dt.datetime) -> int:
    """Rewrite the organization's monthly rows; how many there are."""
    promise = promise_hours(await reply_promise_days(db, organization_id=organization_id))
    applications = {
        row.id: (row.job_id, row.decided_at)
        for row in await db.execute(
            select(Application.id, Application.job_id, Application.decided_at).where(
                Application.organization_id == organization_id,
                Application.decided_at.is_not(None),
            )
        )
    }
    in_org = select(Application.id).where(Application.organization_id == organization_id)
    invitations = await db.execute(
        select(
            AccessLink.application_id,
            func.min(AccessLink.created_at).label("first_sent"),
            func.max(AccessLink.used_at).label("last_used"),
        )
        .where(AccessLink.purpose == LinkPurpose.INVITATION, AccessLink.application_id.in_(in_org))
        .group_by(AccessLink.application_id)
    )
    first_reply = (
        select(Message.thread_id, func.min(Message.sent_at).label("replied_at"))
        .where(
            Message.author_kind == AuthorKind.STAFF,
            Message.state == MessageState.SENT,
            Message.sent_at.is_not(None),
        )
        .group_by(Message.thread_id)
        .subquery()
    )
    threads = await db.execute(
        select(Thread.application_id, Thread.created_at, first_reply.c.replied_at)
        .outerjoin(first_reply, first_reply.c.thread_id == Thread.id)
        .where(Thread.organization_id == organization_id)
    )
    joins = await db.execute(
        select(PoolMembership.source_application_id, func.count().label("joins"))
        .where(
            PoolMembership.organization_id == organization_id,
            PoolMembership.source_application_id.is_not(None),
        )
        .group_by(PoolMembership.source_application_id)
    )
    published_version = (
        select(Feedback.application_id, func.max(Feedback.version).label("version"))
        .where(Feedback.state == FeedbackState.PUBLISHED, Feedback.application_id.in_(in_org))
        .group_by(Feedback.application_id)
        .subquery()
    )
    unmet = await db.execute(
        select(
            Feedback.application_id,
            func.coalesce(FeedbackItem.requirement_name, Requirement.name).label("requirement"),
        )
        .join(
            published_version,
            (published_version.c.application_id == Feedback.application_id)
            & (published_version.c.version == Feedback.version),
        )
        .join(FeedbackItem, FeedbackItem.feedback_id == Feedback.id)
        .outerjoin(Requirement, Requirement.id == FeedbackItem.requirement_id)
        .where(FeedbackItem.kind == ItemKind.ASSESSMENT, FeedbackItem.rating == Rating.NOT_YET_MET)
    )

    cells: dict[tuple[int, dt.date], _Cell] = defaultdict(_Cell)

    def cell_of(application_id: int | None) -> tuple[_Cell, dt.datetime] | None:
        found = applications.get(application_id) if application_id is not None else None
        if found is None:
            return None
        job_id, decided_at = found
        return cells[(job_id, month_of(decided_at))], decided_at

    for job_id, decided_at in applications.values():
        cells[(job_id, month_of(decided_at))].decided += 1
    for row in invitations:
        if (found := cell_of(row.application_id)) is not None:
            cell, decided_at = found
            cell.told += 1
            cell.opened += row.last_used is not None
            cell.send_hours[str(hours_between(decided_at, row.first_sent))] += 1
    for row in threads:
        if (found := cell_of(row.application_id)) is not None:
            cell, _ = found
            cell.asked += 1
            if row.replied_at is not None:
                hours = hours_between(row.created_at, row.replied_at)
                cell.answered += 1
                cell.answered_in_promise += hours <= promise
                cell.reply_hours[str(hours)] += 1
    for join in joins:
        if (found := cell_of(join.source_application_id)) is not None:
            found[0].pool_joins += join.joins
    for item in unmet:
        if item.requirement and (found := cell_of(item.application_id)) is not None:
            found[0].unmet[item.requirement] += 1

    await db.execute(delete(InsightMonth).where(InsightMonth.organization_id == organization_id))
    db.add_all(
        InsightMonth(
            organization_id=organization_id,
            job_id=job_id,
            month=month,
            decided=cell.decided,
            told=cell.told,
            opened=cell.opened,
            asked=cell.asked,
            answered=cell.answered,
            answered_in_promise=cell.answered_in_promise,
            pool_joins=cell.pool_joins,
            send_hours=dict(cell.send_hours),
            reply_hours=dict(cell.reply_hours),
            unmet=dict(cell.unmet),
        )
        for (job_id, month), cell in cells.items()
    )
    await _refresh_findings(db, organization_id=organization_id)
    stamp = await db.get(InsightRefresh, organization_id)
    if stamp is None:
        db.add(InsightRefresh(organization_id=organization_id, refreshed_at=now))
    else:
        stamp.refreshed_at = now
    await db.flush()
    return len(cells)


async def _refresh_findings(db: AsyncSession, *, organization_id: int) -> None:
    """The coaching table's rows: per writer and month of publishing."""
    tallies: dict[tuple[int | None, dt.date], InsightFindings] = {}
    for row in await db.execute(
        select(
            CheckTally.feedback_id,
            CheckTally.staff_id,
            CheckTally.published_at,
            CheckTally.risky,
            CheckTally.vague,
            CheckTally.tone,
        ).where(CheckTally.organization_id == organization_id)
    ):
        key = (row.staff_id, month_of(row.published_at))
        found = tallies.get(key)
        if found is None:
            found = tallies[key] = InsightFindings(
                organization_id=organization_id,
                staff_id=row.staff_id,
                month=key[1],
                published=0,
                risky=0,
                vague=0,
                tone=0,
                rules={},
            )
        found.published += 1
        found.risky += row.risky
        found.vague += row.vague
        found.tone += row.tone
    rules: dict[tuple[int | None, dt.date], Counter[str]] = defaultdict(Counter)
    for fired in await db.execute(
        select(
            CheckTally.staff_id,
            CheckTally.published_at,
            CheckTallyRule.rule,
            CheckTallyRule.findings,
        )
        .join(CheckTallyRule, CheckTallyRule.feedback_id == CheckTally.feedback_id)
        .where(CheckTally.organization_id == organization_id)
    ):
        rules[(fired.staff_id, month_of(fired.published_at))][fired.rule] += fired.findings
    for key, counted in rules.items():
        if key in tallies:
            tallies[key].rules = dict(counted)
    await db.execute(
        delete(InsightFindings).where(InsightFindings.organization_id == organization_id)
    )
    db.add_all(tallies.values())


async def refresh_all(db: AsyncSession, *, now: dt.datetime) -> int:
    organizations = (await db.scalars(select(Organization.id).order_by(Organization.id))).all()
    for organization_id in organizations:
        await refresh_organization(db, organization_id=organization_id, now=now)
    return len(organizations)
