"""The dashboard (/staff/insights): what the monthly figures say for one job or all,
for one month or the last twelve, with the survey's answers in groups only
(portal.insights.anonymity) and the feedback check's findings per writer (an
admin reads everyone's; a recruiter their own)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.candidates.models import Job
from portal.candidates.service import readable_jobs
from portal.insights.anonymity import COMMENTS_MINIMUM, RATINGS_MINIMUM, Cell, may_show
from portal.insights.models import InsightFindings, InsightMonth, InsightRefresh
from portal.insights.refresh import refresh_organization, reply_promise_days
from portal.security.actors import Staff, is_admin
from portal.staff.models import StaffUser
from portal.survey.models import SurveyAnswer

MONTHS = 12
LAST_TWELVE = "12m"
UNMET_SHOWN = 5
COMMENTS_SHOWN = 100
UNNAMED = "Imported or deleted account"


def month_start(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date().replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


def offered_months(now: dt.datetime) -> list[dt.date]:
    """The last twelve months, this one first."""
    months = [month_start(now)]
    while len(months) < MONTHS:
        months.append(previous_month(months[-1]))
    return months


def next_month(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


def percentile(hours: Mapping[str, int], fraction: float) -> int | None:
    """The hour below which `fraction` of the counted delays fall (nearest rank)."""
    total = sum(hours.values())
    if not total:
        return None
    rank = max(1, -(-int(fraction * total * 1000) // 1000))
    seen = 0
    for hour in sorted(hours, key=int):
        seen += hours[hour]
        if seen >= rank:
            return int(hour)
    return None  # pragma: no cover - the loop always reaches the rank


def median_of(distribution: Mapping[int, int]) -> float | None:
    values = (
        sorted(distribution.elements())
        if isinstance(distribution, Counter)
        else sorted(v for v, n in distribution.items() for _ in range(n))
    )
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return float(values[middle])
    return (values[middle - 1] + values[middle]) / 2


@dataclass
class Figures:
    """The summed figures of a group of months (and jobs)."""

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

    def add(self, row: InsightMonth) -> None:
        self.decided += row.decided
        self.told += row.told
        self.opened += row.opened
        self.asked += row.asked
        self.answered += row.answered
        self.answered_in_promise += row.answered_in_promise
        self.pool_joins += row.pool_joins
        self.send_hours.update(row.send_hours)
        self.reply_hours.update(row.reply_hours)
        self.unmet.update(row.unmet)

    @property
    def send_median(self) -> int | None:
        return percentile(self.send_hours, 0.5)

    @property
    def send_p90(self) -> int | None:
        return percentile(self.send_hours, 0.9)

    @property
    def reply_median(self) -> int | None:
        return percentile(self.reply_hours, 0.5)

    def rate(self, part: int, whole: int) -> str:
        return f"{round(100 * part / whole)}%" if whole else "none"


@dataclass(frozen=True)
class Ratings:
    """The survey's answers for the chosen group, or why they are not shown."""

    answers: int
    shown: bool
    helpfulness: dict[int, int]  # rating -> answers (empty when not shown)
    fairness: dict[int, int]
    helpfulness_median: float | None
    fairness_median: float | None
    comments: list[str] | None  # None: not shown (too few, or a cell too small)
    months_counted: list[dt.date]  # the ended months in the period
    comment_count: int  # all the group's comments (the page lists the first ones)


@dataclass(frozen=True)
class JobRow:
    job_id: int
    title: str
    figures: Figures


@dataclass(frozen=True)
class FindingsRow:
    staff_id: int | None
    name: str
    published: int
    risky: int
    vague: int
    tone: int
    top_rules: list[tuple[str, int]]


@dataclass(frozen=True)
class Dashboard:
    jobs: list[tuple[int, str]]
    months: list[dt.date]
    job_id: int | None
    period: str  # LAST_TWELVE or "YYYY-MM"
    chosen_months: list[dt.date]
    figures: Figures
    per_job: list[JobRow]  # every job with something decided in the period
    unmet: list[tuple[str, list[tuple[str, int]]]]  # job title -> top requirements
    ratings: Ratings
    findings: list[FindingsRow]
    findings_everyone: bool  # an admin's view; else only the reader's own row
    refreshed_at: dt.datetime | None
    reply_promise_days: int  # the organization's promise, in working days

    @property
    def job_bars(self) -> list[tuple[str, int]]:
        return [(row.title, row.figures.decided) for row in self.per_job]

    @property
    def job_bars_text(self) -> str:
        return ", ".join(f"{title} {decided}" for title, decided in self.job_bars)


def parse_period(period: str, months: list[dt.date]) -> list[dt.date] | None:
    if period == LAST_TWELVE:
        return months
    chosen = [m for m in months if m.strftime("%Y-%m") == period]
    return chosen or None


async def answer_cells(
    db: AsyncSession, *, organization_id: int, months: Iterable[dt.date]
) -> dict[Cell, int]:
    rows = await db.execute(
        select(SurveyAnswer.job_id, SurveyAnswer.period, func.count().label("answers"))
        .where(
            SurveyAnswer.organization_id == organization_id,
            SurveyAnswer.period.in_(list(months)),
        )
        .group_by(SurveyAnswer.job_id, SurveyAnswer.period)
    )
    return {(row.job_id, row.period): row.answers for row in rows}


async def _ratings(
    db: AsyncSession,
    *,
    organization_id: int,
    job_id: int | None,
    months: list[dt.date],
    now: dt.datetime,
    all_comments: bool = False,
) -> Ratings:
    # Only months that have ended: their answers can no longer change.
    ended = [m for m in months if m < month_start(now)]
    offered_ended = [m for m in offered_months(now) if m < month_start(now)]
    cells = await answer_cells(db, organization_id=organization_id, months=offered_ended)
    answers = sum(
        n for (job, month), n in cells.items() if month in ended and job_id in (None, job)
    )
    shown = may_show(cells, job_id=job_id, months=ended, minimum=RATINGS_MINIMUM)
    if not shown:
        return Ratings(answers, False, {}, {}, None, None, None, ended, 0)
    scope = [SurveyAnswer.organization_id == organization_id, SurveyAnswer.period.in_(ended)]
    if job_id is not None:
        scope.append(SurveyAnswer.job_id == job_id)
    helpfulness: Counter[int] = Counter()
    fairness: Counter[int] = Counter()
    for row in await db.execute(
        select(SurveyAnswer.helpfulness, SurveyAnswer.fairness, func.count().label("n"))
        .where(*scope)
        .group_by(SurveyAnswer.helpfulness, SurveyAnswer.fairness)
    ):
        helpfulness[row.helpfulness] += row.n
        fairness[row.fairness] += row.n
    comments = None
    comment_count = 0
    if may_show(cells, job_id=job_id, months=ended, minimum=COMMENTS_MINIMUM):
        # In alphabetical order: the order of writing would say who wrote last.
        written = select(SurveyAnswer.comment).where(*scope, SurveyAnswer.comment.is_not(None))
        comment_count = await db.scalar(select(func.count()).select_from(written.subquery())) or 0
        if not all_comments:  # the page shows the first ones; the download has them all
            written = written.order_by(func.lower(SurveyAnswer.comment)).limit(COMMENTS_SHOWN)
        comments = sorted((text for text in await db.scalars(written) if text), key=str.casefold)
    return Ratings(
        answers,
        True,
        {rating: helpfulness[rating] for rating in range(1, 6)},
        {rating: fairness[rating] for rating in range(1, 6)},
        median_of(helpfulness),
        median_of(fairness),
        comments,
        ended,
        comment_count,
    )


async def _findings(db: AsyncSession, *, actor: Staff, months: list[dt.date]) -> list[FindingsRow]:
    """Per writer: versions published in the months, findings by severity, and the
    three rules that fired most (from the refreshed monthly rows)."""
    scope = [
        InsightFindings.organization_id == actor.organization_id,
        InsightFindings.month.in_(months),
    ]
    if not is_admin(actor):
        scope.append(InsightFindings.staff_id == actor.staff_id)
    totals: dict[int | None, Counter[str]] = {}
    rules: dict[int | None, Counter[str]] = {}
    for row in await db.execute(
        select(
            InsightFindings.staff_id,
            InsightFindings.published,
            InsightFindings.risky,
            InsightFindings.vague,
            InsightFindings.tone,
            InsightFindings.rules,
        ).where(*scope)
    ):
        counts = totals.setdefault(row.staff_id, Counter())
        counts.update(published=row.published, risky=row.risky, vague=row.vague, tone=row.tone)
        rules.setdefault(row.staff_id, Counter()).update(row.rules)
    names = {
        row.id: row.name
        for row in await db.execute(
            select(StaffUser.id, StaffUser.name).where(
                StaffUser.organization_id == actor.organization_id
            )
        )
    }
    found = [
        FindingsRow(
            staff_id,
            names.get(staff_id, UNNAMED) if staff_id is not None else UNNAMED,
            counts["published"],
            counts["risky"],
            counts["vague"],
            counts["tone"],
            rules[staff_id].most_common(3),
        )
        for staff_id, counts in totals.items()
    ]
    return sorted(found, key=lambda row: row.name.casefold())


async def dashboard(
    db: AsyncSession,
    *,
    actor: Staff,
    job_id: int | None,
    period: str,
    now: dt.datetime,
    all_comments: bool = False,
) -> Dashboard | None:
    """The dashboard for a job of the actor's organization (None: all) and a period;
    None when the job is not theirs or the period not offered (the page says so)."""
    jobs = [
        (row.id, row.title)
        for row in await db.execute(
            readable_jobs(actor).with_only_columns(Job.id, Job.title).order_by(Job.title, Job.id)
        )
    ]
    titles = dict(jobs)
    months = offered_months(now)
    chosen = parse_period(period, months)
    if chosen is None or (job_id is not None and job_id not in titles):
        return None
    organization_id = actor.organization_id
    refreshed_at = await db.scalar(
        select(InsightRefresh.refreshed_at).where(InsightRefresh.organization_id == organization_id)
    )
    promise = await reply_promise_days(db, organization_id=organization_id)
    if refreshed_at is None:  # the first visit, before the hourly job has run
        await refresh_organization(db, organization_id=organization_id, now=now)
        refreshed_at = now
    statement = select(InsightMonth).where(
        InsightMonth.organization_id == organization_id, InsightMonth.month.in_(chosen)
    )
    if job_id is not None:
        statement = statement.where(InsightMonth.job_id == job_id)
    figures = Figures()
    per_job: dict[int, Figures] = {}
    for row in await db.scalars(statement):
        figures.add(row)
        per_job.setdefault(row.job_id, Figures()).add(row)
    job_rows = [
        JobRow(job, titles.get(job, "Deleted job"), f)
        for job, f in sorted(per_job.items(), key=lambda item: titles.get(item[0], "").casefold())
    ]
    unmet = [
        (row.title, row.figures.unmet.most_common(UNMET_SHOWN))
        for row in job_rows
        if row.figures.unmet
    ]
    return Dashboard(
        jobs=jobs,
        months=months,
        job_id=job_id,
        period=period,
        chosen_months=chosen,
        figures=figures,
        per_job=job_rows,
        unmet=unmet,
        ratings=await _ratings(
            db,
            organization_id=organization_id,
            job_id=job_id,
            months=chosen,
            now=now,
            all_comments=all_comments,
        ),
        findings=await _findings(db, actor=actor, months=chosen),
        findings_everyone=is_admin(actor),
        refreshed_at=refreshed_at,
        reply_promise_days=promise,
    )
