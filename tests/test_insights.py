"""The insights dashboard (issue 26): its figures, the survey's answers only in groups
no combination of views can split, the coaching table's privacy, CSV downloads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.candidates.models import Job
from portal.db import unit_of_work, utcnow
from portal.feedback.models import Feedback
from portal.insights import refresh
from portal.insights.anonymity import may_show
from portal.insights.models import CheckTally, InsightMonth
from portal.insights.service import offered_months, percentile
from portal.settings import Settings
from portal.survey.models import SurveyAnswer
from portal.timing import service as timing
from tests.factories import make_staff, make_world
from tests.jobs_support import desk
from tests.test_publish_completeness import _press_publish

Sessions = async_sessionmaker[AsyncSession]


def _rows(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))


def test_percentiles_and_the_promise() -> None:
    assert percentile({}, 0.5) is None
    assert percentile({"1": 1, "5": 1, "9": 1}, 0.5) == 5
    assert percentile({"2": 9, "40": 1}, 0.9) == 2
    assert percentile({"2": 8, "40": 2}, 0.9) == 40
    assert refresh.promise_hours(5) == 7 * 24
    assert refresh.promise_hours(1) == 3 * 24


def test_a_group_with_a_small_cell_is_never_shown() -> None:
    m1, m2 = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
    counts = {(1, m1): 6, (1, m2): 5, (2, m1): 7, (2, m2): 2}
    assert may_show(counts, job_id=1, months=[m1, m2], minimum=5)
    assert not may_show(counts, job_id=2, months=[m1, m2], minimum=5)
    assert may_show(counts, job_id=None, months=[m1], minimum=5)
    assert not may_show(counts, job_id=None, months=[m2], minimum=5)
    assert not may_show(counts, job_id=1, months=[m1, m2], minimum=10)


async def _jobs(sessions: Sessions, organization_id: int, *titles: str) -> list[int]:
    async with unit_of_work(sessions) as db:
        jobs = [Job(organization_id=organization_id, title=title) for title in titles]
        db.add_all(jobs)
        await db.flush()
        return [job.id for job in jobs]


async def _answers(
    sessions: Sessions,
    organization_id: int,
    job_id: int,
    month: dt.date,
    n: int,
    *,
    comment: str = "",
) -> None:
    async with unit_of_work(sessions) as db:
        for i in range(n):
            db.add(
                SurveyAnswer(
                    organization_id=organization_id,
                    job_id=job_id,
                    period=month,
                    helpfulness=1 + (i + job_id) % 5,
                    fairness=1 + (i * 2 + month.month) % 5,
                    comment=f"{comment} {i}" if comment else None,
                    answer_key=f"{job_id}-{month}-{i}",
                )
            )


async def test_no_combination_of_the_views_offered_tells_one_answer(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    staff = await desk(client, sessions)
    org = staff.organization_id
    a, b, c = await _jobs(sessions, org, "Analyst", "Baker", "Clerk")
    months = offered_months(utcnow())
    this_month, m1, m2, m3, m4 = months[0], months[1], months[2], months[3], months[4]
    seeded = {(a, m1): 6, (a, m2): 5, (b, m1): 7, (b, m2): 2, (c, m3): 1, (a, m4): 10}
    for (seeded_job, month), n in seeded.items():
        await _answers(sessions, org, seeded_job, month, n, comment="Fine" if n >= 10 else "")
    await _answers(sessions, org, a, this_month, 6)  # a month still open: never shown
    jobs: list[int | None] = [None, a, b, c]
    periods = ["12m", *[m.strftime("%Y-%m") for m in months]]
    shown: dict[tuple[int | None, str], dict[int, int]] = {}
    comments: set[tuple[int | None, str]] = set()
    for job, period in itertools.product(jobs, periods):
        query = f"period={period}" + (f"&job={job}" if job else "")
        page = await client.get(f"/staff/insights?{query}")
        assert page.status_code == 200
        table = _rows(await client.get(f"/staff/insights/ratings.csv?{query}"))[1:]
        if table:
            shown[(job, period)] = {int(r[0]): int(r[1]) for r in table}
            # The rule, checked against what was seeded: no cell under five inside.
            chosen = (
                months if period == "12m" else [m for m in months if m.strftime("%Y-%m") == period]
            )
            cells = {k: n for k, n in seeded.items() if k[1] in chosen and job in (None, k[0])}
            assert all(n >= 5 for n in cells.values()), (job, period)
        else:
            assert "Not shown" in page.text or "has not ended" in page.text
        if _rows(await client.get(f"/staff/insights/comments.csv?{query}"))[1:]:
            comments.add((job, period))
    # Some groups are shown, others refused: the test can fail both ways.
    assert (a, "12m") in shown and (None, m1.strftime("%Y-%m")) in shown
    assert (b, "12m") not in shown and (None, "12m") not in shown
    assert (c, m3.strftime("%Y-%m")) not in shown
    assert (a, this_month.strftime("%Y-%m")) not in shown
    assert comments == {(a, m4.strftime("%Y-%m")), (None, m4.strftime("%Y-%m"))}

    # The attacks: a view minus a view inside it, and an "every job" view minus the
    # job views of the same period; what is left is nothing or at least five answers.
    def total(job: int | None, period: str) -> int:
        return sum(shown[(job, period)].values())

    for (g_job, g_period), (h_job, h_period) in itertools.permutations(shown, 2):
        inside = (g_job is None or g_job == h_job) and (g_period == "12m" or g_period == h_period)
        if inside:
            assert total(g_job, g_period) - total(h_job, h_period) not in range(1, 5)
    for period in periods:
        if (None, period) in shown:
            rest = total(None, period) - sum(
                total(job, period) for job in (a, b, c) if (job, period) in shown
            )
            assert rest not in range(1, 5)


async def test_the_figures_follow_the_applications(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)  # decided two days ago, published, Statistics not yet met
    await desk(client, sessions, world=world)
    async with unit_of_work(sessions) as db:
        await timing.tell_candidate(
            db, application_id=world.application_id, settings=settings, now=utcnow()
        )
        await refresh.refresh_organization(db, organization_id=world.organization_id, now=utcnow())
    page = await client.get("/staff/insights")
    assert page.status_code == 200
    summary = dict(_rows(await client.get("/staff/insights/summary.csv"))[1:])
    assert summary["applications decided"] == "1" and summary["candidates told"] == "1"
    assert 47 <= int(summary["hours from decision to feedback sent, median"]) <= 49
    # The reply time is read against the organization's promise, which the page names.
    assert summary["reply promise, working days"] == "5"
    assert "within the reply promise of 5 working days" in page.text
    unmet = _rows(await client.get("/staff/insights/unmet.csv"))[1:]
    assert unmet == [["Data Analyst", "Statistics", "1"]]
    assert "<svg" in page.text and "<desc" in page.text
    # Running the refresh twice gives the same rows.
    async with unit_of_work(sessions) as db:
        await refresh.refresh_all(db, now=utcnow())
        rows = (await db.scalars(select(InsightMonth))).all()
    assert [(r.decided, r.told, r.unmet) for r in rows] == [(1, 1, {"Statistics": 1})]


async def test_findings_are_shown_to_admins_and_to_the_writer_only(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    writer = await desk(client, sessions, world=world)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Feedback)
            .where(Feedback.application_id == world.application_id)
            .values(created_by_staff_id=writer.staff_id)
        )
    assert (await _press_publish(client, world)).status_code == 303
    async with sessions() as db:
        tally = await db.scalar(select(CheckTally))
    assert tally is not None and tally.staff_id == writer.staff_id
    own = _rows(await client.get("/staff/insights/findings.csv"))[1:]
    assert [row[:2] for row in own] == [["Recruiter of acme", "1"]]
    colleague_id = await make_staff(
        sessions, organization_id=world.organization_id, email="kim@acme.example", name="Kim"
    )
    colleague = await desk(other_client, sessions, world=world, email="lee@acme.example")
    theirs = _rows(await other_client.get("/staff/insights/findings.csv"))[1:]
    assert theirs == []  # a recruiter sees only their own findings
    admin = await desk(other_client, sessions, role="admin", world=world)
    everyone = _rows(await other_client.get("/staff/insights/findings.csv"))[1:]
    assert [row[0] for row in everyone] == [row[0] for row in own]
    assert colleague_id and colleague.staff_id and admin.staff_id and writer.staff_id


async def test_another_organizations_job_and_unknown_tables_are_not_found(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    theirs = await make_world(sessions, slug="globex", email="eve@example.com")
    await desk(client, sessions)
    async with sessions() as db:
        job_id = await db.scalar(
            select(Job.id).where(Job.organization_id == theirs.organization_id)
        )
    assert (await client.get(f"/staff/insights?job={job_id}")).status_code == 404
    assert (await client.get(f"/staff/insights/summary.csv?job={job_id}")).status_code == 404
    assert (await client.get("/staff/insights/secrets.csv")).status_code == 404
    assert (await client.get("/staff/insights?period=1999-01")).status_code == 404
    bad = await client.get("/staff/insights?period=<script>")
    assert bad.status_code == 422 and "<script>" not in bad.text
    client.cookies.clear()
    assert (await client.get("/staff/insights")).status_code == 303


async def test_a_refused_group_does_not_say_whether_anyone_answered(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    staff = await desk(client, sessions)
    quiet, answered = await _jobs(sessions, staff.organization_id, "Quiet", "Answered")
    month = offered_months(utcnow())[1]
    await _answers(sessions, staff.organization_id, answered, month, 1)

    async def ratings_section(job: int) -> str:
        page = await client.get(f"/staff/insights?job={job}&period={month:%Y-%m}")
        assert page.status_code == 200
        section = page.text.split('id="ratings-heading"', 1)[1].split("</section>", 1)[0]
        return section.replace("Quiet", "").replace("Answered", "")

    assert "Not shown" in await ratings_section(quiet)
    assert await ratings_section(quiet) == await ratings_section(answered)
