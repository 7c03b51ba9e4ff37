"""Importing feedback from a CSV: validation by row and column, all or nothing, idempotent."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.candidates.models import Application, Candidate, Job, Requirement
from portal.db import unit_of_work, utcnow
from portal.feedback.models import Feedback, FeedbackItem
from portal.imports import checking, service
from portal.imports.format import MAX_COMMAND_LINE_BYTES, MAX_FILE_BYTES, FileProblem, decode
from portal.jobs.models import BackgroundJob
from portal.settings import Settings
from tests.factories import World, make_world

Sessions = async_sessionmaker[AsyncSession]

HEADER = [
    "email",
    "name",
    "job",
    "stage",
    "decision_summary",
    "rating: SQL",
    "evidence: SQL",
    "rating: Statistics",
    "evidence: Statistics",
    "strength_1",
    "strength_1_requirement",
    "growth_area_1",
    "suggestion_1",
    "reapply_after_months",
    "suggested_roles",
    "pool_invitation_offered",
    "personal_note",
]


def row(email: str = "lee@example.com", **changes: str) -> dict[str, str]:
    values = {
        "email": email,
        "name": "Lee Park",
        "job": "Data Analyst",
        "stage": "interview",
        "decision_summary": "Thank you for interviewing. The role needs experiment design "
        "end to end, which your answers did not yet show.",
        "rating: SQL": "met",
        "evidence: SQL": "Your window-function answer was precise.",
        "rating: Statistics": "partly met",
        "evidence: Statistics": "The test design had no power calculation.",
        "strength_1": "Clear, well-commented queries.",
        "strength_1_requirement": "SQL",
        "growth_area_1": "Designing experiments end to end.",
        "suggestion_1": "Work through 'Trustworthy Online Controlled Experiments'.",
        "reapply_after_months": "6",
        "suggested_roles": "Junior Analyst\nReporting Analyst",
        "pool_invitation_offered": "yes",
        "personal_note": "Thank you for your time. It was a pleasure to meet you.",
    }
    values.update(changes)
    return values


def csv_bytes(rows: Sequence[dict[str, str]], header: Sequence[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


async def run(
    sessions: Sessions,
    settings: Settings,
    world: World,
    data: bytes,
    *,
    publish: bool = False,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> service.ImportResult:
    async with unit_of_work(sessions) as db:
        return await service.import_csv(
            db,
            data=data,
            organization_id=world.organization_id,
            publish=publish,
            dry_run=dry_run,
            staff_id=None,
            settings=settings,
            now=now or utcnow(),
            source={"source": "test"},
        )


async def count(sessions: Sessions, model: type, *where: object) -> int:
    async with sessions() as db:
        statement = select(func.count()).select_from(model)
        for condition in where:
            statement = statement.where(condition)  # type: ignore[arg-type]
        return int(await db.scalar(statement) or 0)


async def state(sessions: Sessions) -> tuple[int, ...]:
    return (
        await count(sessions, Candidate),
        await count(sessions, Application),
        await count(sessions, Feedback),
        await count(sessions, FeedbackItem),
        await count(sessions, BackgroundJob),
    )


@pytest.fixture
async def world(sessions: Sessions) -> World:
    return await make_world(sessions, published=False)


def problems_of(result: service.ImportResult) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.message) for p in result.checked.problems]


async def test_a_file_becomes_draft_feedback_and_importing_it_again_changes_nothing(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    data = csv_bytes([row(), row("kim@example.com", name="Kim Ode"), row(world.email)])
    before = await state(sessions)
    result = await run(sessions, settings, world, data)
    assert result.written and result.checked.ok
    assert result.outcome is not None
    assert result.outcome.as_dict() == {
        "rows": 3,
        "new_candidates": 2,
        "new_applications": 2,
        "stage_changes": 0,
        "date_changes": 0,
        "new_versions": 3,
        "unchanged": 0,
        "published": 0,
        "emails_queued": 0,
    }
    async with sessions() as db:
        lee = await db.scalar(select(Candidate).where(Candidate.email == "lee@example.com"))
        assert lee is not None and lee.name == "Lee Park"
        feedback = (
            await db.scalars(
                select(Feedback)
                .join(Application, Application.id == Feedback.application_id)
                .where(Application.candidate_id == lee.id)
            )
        ).one()
        assert feedback.state == "draft" and feedback.version == 1
        assert feedback.reapply_after_months == 6
        assert feedback.suggested_roles == ["Junior Analyst", "Reporting Analyst"]
        assert feedback.pool_invitation_offered is True
        items = (
            await db.execute(
                select(FeedbackItem.kind, FeedbackItem.rating, FeedbackItem.body)
                .where(FeedbackItem.feedback_id == feedback.id)
                .order_by(FeedbackItem.kind, FeedbackItem.position)
            )
        ).all()
        assert [tuple(item) for item in items] == [
            ("assessment", "met", "Your window-function answer was precise."),
            ("assessment", "partly_met", "The test design had no power calculation."),
            ("growth_area", None, "Designing experiments end to end."),
            ("strength", None, "Clear, well-commented queries."),
        ]
        # The existing application got a second version; its first is untouched.
        versions = (
            await db.scalars(
                select(Feedback.version)
                .where(Feedback.application_id == world.application_id)
                .order_by(Feedback.version)
            )
        ).all()
        assert list(versions) == [1, 2]
    after_first = await state(sessions)
    assert after_first[:4] == (before[0] + 2, before[1] + 2, before[2] + 3, before[3] + 12)
    assert after_first[4] == before[4]  # drafts send no email

    again = await run(sessions, settings, world, data)
    assert again.outcome is not None
    assert again.outcome.new_versions == 0 and again.outcome.unchanged == 3
    assert await state(sessions) == after_first

    # A changed row (and a changed stage) makes a new version of that one only.
    changed = csv_bytes(
        [row(stage="final", personal_note="Thanks again for your time."), row("kim@example.com")]
    )
    third = await run(sessions, settings, world, changed)
    assert third.outcome is not None
    assert (third.outcome.new_versions, third.outcome.stage_changes) == (1, 1)
    assert third.outcome.unchanged == 1
    events = await count(sessions, AuditEvent, AuditEvent.action == "feedback.imported")
    assert events == 3


async def test_every_problem_names_its_row_and_column(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    other = await make_world(sessions, slug="globex", email="x@example.com", job_title="Welder")
    assert other.organization_id != world.organization_id
    data = csv_bytes(
        [
            row(),  # row 2: fine
            row("not-an-email"),  # row 3
            row("a@example.com", job="Welder"),  # row 4: another organization's job
            row("b@example.com", **{"rating: SQL": "great"}),  # row 5
            row("lee@example.com"),  # row 6: duplicate of row 2
            row("c@example.com", stage="hired", reapply_after_months="99"),  # row 7
            row("d@example.com", **{"rating: SQL": "", "evidence: SQL": "Evidence alone."}),
            row("e@example.com", strength_1="", strength_1_requirement="Kubernetes"),
            row("f@example.com", growth_area_1="", decision_summary=""),
        ]
    )
    before = await state(sessions)
    result = await run(sessions, settings, world, data)
    assert not result.written
    assert await state(sessions) == before
    found = problems_of(result)
    assert (3, "email", '"not-an-email" is not an email address.') in found
    assert (
        4,
        "job",
        'Acme Corp has no job "Welder". Add the job first (or correct the title), then import '
        "the file again.",
    ) in found
    [welder] = [p for p in result.checked.problems if p.row == 4]
    assert welder.missing_job == "Welder" and welder.as_dict()["missing_job"] == "Welder"
    assert (5, "rating: SQL", '"great" is not a rating: use met, partly met or not yet met.') in (
        found
    )
    assert any(r == 6 and c == "email" and "as row 2" in m for r, c, m in found)
    assert any(r == 7 and c == "stage" for r, c, _ in found)
    assert any(r == 7 and c == "reapply_after_months" for r, c, _ in found)
    assert any(r == 8 and c == "rating: SQL" and "needs a rating" in m for r, c, m in found)
    assert any(r == 9 and c == "strength_1_requirement" for r, c, _ in found)
    assert any(r == 10 and c == "suggestion_1" for r, c, _ in found)
    assert any(r == 10 and c == "decision_summary" for r, c, _ in found)
    assert [p for p in found if p[0] == 2] == []


async def test_the_model_the_api_takes_checks_every_cell_and_names_its_column(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    data = csv_bytes(
        [
            row("a@example.com", pool_invitation_offered="maybe"),
            row("b@example.com", personal_note="A note\x00 with a NUL."),
            row("c@example.com", **{"evidence: Statistics": "x" * 5_001}),
            row("d@example.com", suggested_roles="\n".join(f"Role {n}" for n in range(11))),
        ]
    )
    found = problems_of(await run(sessions, settings, world, data))
    assert (2, "pool_invitation_offered", 'Write "yes" or "no" (or leave it empty).') in found
    assert any(r == 3 and c == "personal_note" and "U+0000" in m for r, c, m in found)
    assert (
        4,
        "evidence: Statistics",
        "Keep it to 5,000 characters or fewer (this has 5,001).",
    ) in found
    assert any(r == 5 and c == "suggested_roles" and "At most 10 roles" in m for r, c, m in found)
    assert len(found) == 4


async def test_an_unknown_requirement_is_named(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    header = [*HEADER, "rating: Kubernetes"]
    data = csv_bytes([row(), row("k@example.com", **{"rating: Kubernetes": "met"})], header)
    result = await run(sessions, settings, world, data)
    assert (
        3,
        "rating: Kubernetes",
        'The job "Data Analyst" has no requirement "kubernetes".',
    ) in problems_of(result)


async def test_header_problems_are_row_one(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    header = [name for name in HEADER if name != "stage"] + ["favourite colour", "email"]
    result = await run(sessions, settings, world, csv_bytes([row()], header))
    found = problems_of(result)
    assert any(r == 1 and c == "favourite colour" and "Unknown column" in m for r, c, m in found)
    assert any(r == 1 and c == "email" and "twice" in m for r, c, m in found)
    assert (1, "stage", "This column is required and missing.") in found


async def test_one_bad_row_imports_nothing_and_a_failure_midway_leaves_nothing(
    sessions: Sessions, settings: Settings, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await state(sessions)
    rows = [row(f"p{n}@example.com") for n in range(30)]
    rows[29]["email"] = "broken"
    result = await run(sessions, settings, world, csv_bytes(rows))
    assert result.checked.problem_count == 1 and not result.written
    assert await state(sessions) == before

    # Every row valid, but the last step fails: the transaction takes everything back.
    rows[29]["email"] = "p29@example.com"

    async def failing(*args: object, **kwargs: object) -> None:
        raise RuntimeError("mail queue unavailable")

    monkeypatch.setattr(service, "tell_candidate", failing)
    with pytest.raises(RuntimeError):
        await run(sessions, settings, world, csv_bytes(rows), publish=True)
    assert await state(sessions) == before
    assert await count(sessions, AuditEvent, AuditEvent.action == "feedback.imported") == 0


async def test_a_dry_run_says_what_would_change_and_writes_nothing(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    before = await state(sessions)
    result = await run(
        sessions, settings, world, csv_bytes([row(), row(world.email)]), dry_run=True
    )
    assert result.outcome is not None and not result.written
    assert (result.outcome.new_candidates, result.outcome.new_versions) == (1, 2)
    assert await state(sessions) == before
    assert await count(sessions, AuditEvent) == 0


async def test_publishing_queues_invitations_and_is_refused_for_risky_rows(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    risky = row(
        "r@example.com",
        decision_summary="Thank you. At your age the pace might be hard.",
    )
    before = await state(sessions)
    refused = await run(sessions, settings, world, csv_bytes([row(), risky]), publish=True)
    assert not refused.written
    assert await state(sessions) == before
    [(number, column, message)] = [
        (p.row, p.column, p.message) for p in refused.checked.problems if p.kind == "risky"
    ]
    assert (number, column) == (3, "decision_summary")
    assert message.startswith('"your age": ')
    assert refused.checked.risky_rows == 1

    # As drafts the risky row is imported, and reported.
    drafts = await run(sessions, settings, world, csv_bytes([row(), risky]))
    assert drafts.written and drafts.checked.risky_rows == 1
    assert any(p.kind == "risky" for p in drafts.checked.problems)

    published = await run(sessions, settings, world, csv_bytes([row()]), publish=True)
    assert published.outcome is not None
    assert (published.outcome.published, published.outcome.emails_queued) == (1, 1)
    async with sessions() as db:
        latest = await db.scalar(
            select(Feedback)
            .join(Application, Application.id == Feedback.application_id)
            .join(Candidate, Candidate.id == Application.candidate_id)
            .where(Candidate.email == "lee@example.com")
            .order_by(Feedback.version.desc())
            .limit(1)
        )
        assert latest is not None
        assert (latest.state, latest.version, latest.published_at is not None) == (
            "published",
            2,
            True,
        )
        kinds = (await db.scalars(select(BackgroundJob.kind))).all()
        assert list(kinds) == ["mail.send"]
    # Published already: importing it again, as drafts or published, changes nothing.
    for publish in (False, True):
        again = await run(sessions, settings, world, csv_bytes([row()]), publish=publish)
        assert again.outcome is not None and again.outcome.unchanged == 1
    assert await count(sessions, BackgroundJob) == 1


async def test_a_file_that_is_not_utf8_or_too_large_is_refused_clearly(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    latin1 = csv_bytes([row(name="Zoë Ålund")]).decode().encode("latin-1")
    with pytest.raises(FileProblem, match=r"not UTF-8 text \(line 2"):
        await run(sessions, settings, world, latin1)
    huge = csv_bytes([row()]) + b"x" * MAX_FILE_BYTES
    with pytest.raises(FileProblem, match="the limit is 10 MB"):
        await run(sessions, settings, world, huge)
    with pytest.raises(FileProblem, match="empty"):
        await run(sessions, settings, world, b"\xef\xbb\xbf \r\n")
    # A byte-order mark (Excel's "CSV UTF-8") is fine.
    result = await run(sessions, settings, world, b"\xef\xbb\xbf" + csv_bytes([row()]))
    assert result.written


async def test_rows_reach_only_the_importing_organization(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    other = await make_world(sessions, slug="globex", email="lee@example.com", published=False)
    result = await run(sessions, settings, world, csv_bytes([row()]))
    assert result.outcome is not None and result.outcome.new_candidates == 1
    async with sessions() as db:
        theirs = (
            await db.scalars(
                select(Feedback.version).where(Feedback.application_id == other.application_id)
            )
        ).all()
        assert list(theirs) == [1]
        organizations = (
            await db.scalars(
                select(Candidate.organization_id)
                .where(Candidate.email == "lee@example.com")
                .order_by(Candidate.organization_id)
            )
        ).all()
        assert sorted(organizations) == sorted([world.organization_id, other.organization_id])


async def test_a_job_can_be_named_by_number_and_ambiguous_titles_are_refused(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    async with sessions() as db:
        job_id = await db.scalar(
            select(Application.job_id).where(Application.id == world.application_id)
        )
    twin = await make_world(sessions, email="twin@example.com")  # a second "Data Analyst"
    assert twin.organization_id == world.organization_id
    by_number = await run(sessions, settings, world, csv_bytes([row(job=str(job_id))]))
    assert by_number.written
    ambiguous = await run(sessions, settings, world, csv_bytes([row("new@example.com")]))
    [(number, column, message)] = problems_of(ambiguous)
    assert (number, column) == (2, "job")
    assert "Several jobs are called" in message


async def test_many_errors_are_counted_and_the_first_thousand_kept(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    rows = [row(f"bad-{n}") for n in range(1_200)]
    result = await run(sessions, settings, world, csv_bytes(rows))
    assert result.checked.problem_count == 1_200
    assert len(result.checked.problems) == checking.MAX_PROBLEMS


def test_the_command_line_reads_files_larger_than_the_page_accepts() -> None:
    large = csv_bytes([row()]) + b"\r\n" * MAX_FILE_BYTES
    with pytest.raises(FileProblem, match="or import it with `portal import` on the server"):
        decode(large)
    assert decode(large, max_bytes=MAX_COMMAND_LINE_BYTES).startswith("email,name")


async def test_lookups_are_planned_for_their_own_values_on_postgresql(
    sessions: Sessions, settings: Settings, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lookup statement repeated chunk after chunk must not settle on a generic plan
    made while the organization had no rows (it then scanned the whole table for every
    chunk of the next import): the import plans each chunk for its own values, and only
    inside its own transaction."""
    async with sessions() as db:
        if (await db.connection()).dialect.name != "postgresql":
            pytest.skip("plan caching is PostgreSQL's")
    seen: list[str] = []
    plan_import = service.plan_import

    async def watching(db: AsyncSession, **kwargs: object) -> service.Plan:
        seen.append(str(await db.scalar(text("SHOW plan_cache_mode"))))
        return await plan_import(db, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "plan_import", watching)
    emails = [f"person{n}@example.com" for n in range(8)]
    data = csv_bytes([row(email) for email in emails])
    first = await run(sessions, settings, world, data)
    again = await run(sessions, settings, world, data)
    assert seen == ["force_custom_plan", "force_custom_plan"]
    assert first.outcome is not None and first.outcome.new_versions == len(emails)
    assert again.outcome is not None and again.outcome.new_versions == 0
    async with sessions() as db:
        assert await db.scalar(text("SHOW plan_cache_mode")) == "auto"


async def test_links_for_suggestions_and_roles_are_imported(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    header = [*HEADER, "suggestion_1_url"]
    plain = csv_bytes([row()], header)
    assert (await run(sessions, settings, world, plain)).written
    # The same file with an empty link column is the same content: nothing new.
    again = await run(sessions, settings, world, plain)
    assert again.outcome is not None and again.outcome.new_versions == 0

    linked = csv_bytes(
        [
            row(
                suggested_roles="Junior Analyst https://jobs.example.com/1\nReporting Analyst",
                suggestion_1_url="https://example.com/experiments",
            )
        ],
        header,
    )
    result = await run(sessions, settings, world, linked)
    assert result.outcome is not None and result.outcome.new_versions == 1
    async with sessions() as db:
        feedback = await db.scalar(select(Feedback).order_by(Feedback.id.desc()))
        assert feedback is not None
        assert feedback.suggested_roles == ["Junior Analyst", "Reporting Analyst"]
        assert feedback.suggested_role_urls == {"Junior Analyst": "https://jobs.example.com/1"}
        urls = await db.scalars(
            select(FeedbackItem.suggestion_url).where(
                FeedbackItem.feedback_id == feedback.id, FeedbackItem.kind == "growth_area"
            )
        )
        assert list(urls) == ["https://example.com/experiments"]
    unchanged = await run(sessions, settings, world, linked)
    assert unchanged.outcome is not None and unchanged.outcome.new_versions == 0

    bad = csv_bytes(
        [
            row(suggestion_1_url="javascript:alert(1)"),
            row("kim@example.com", suggested_roles="https://jobs.example.com/2"),
        ],
        header,
    )
    refused = await run(sessions, settings, world, bad)
    assert not refused.written
    assert problems_of(refused) == [
        (
            2,
            "suggestion_1_url",
            "Enter a web address that starts with https://, or leave it empty.",
        ),
        (3, "suggested_roles", "Line 1: write the role's title before its address."),
    ]
    orphan = csv_bytes([row()], [*HEADER, "suggestion_2_url"])
    assert problems_of(await run(sessions, settings, world, orphan)) == [
        (1, "suggestion_2_url", "There is no growth_area_2 column.")
    ]


# The day the imports below run: decision dates are checked against it.
IMPORT_TIME = dt.datetime(2026, 3, 31, 15, 30, tzinfo=dt.UTC)
DATED = [*HEADER, "decided_on"]


async def decided(sessions: Sessions, email: str, job: str = "Data Analyst") -> dt.datetime | None:
    async with sessions() as db:
        return await db.scalar(
            select(Application.decided_at)
            .join(Candidate, Candidate.id == Application.candidate_id)
            .join(Job, Job.id == Application.job_id)
            .where(Candidate.email == email, Job.title == job)
        )


async def test_decided_on_is_the_decision_date_and_empty_means_the_day_of_the_import(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    before = await decided(sessions, world.email)
    data = csv_bytes(
        [
            row(decided_on="2026-03-02"),
            row("kim@example.com", decided_on=""),
            row("ray@example.com", decided_on="2026-03-31"),  # the day of the import
            row(world.email, decided_on=""),  # an application already there: kept as it is
        ],
        DATED,
    )
    result = await run(sessions, settings, world, data, now=IMPORT_TIME)
    assert result.written and result.outcome is not None
    assert result.outcome.date_changes == 0
    assert await decided(sessions, "lee@example.com") == dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    assert await decided(sessions, "kim@example.com") == IMPORT_TIME
    assert await decided(sessions, "ray@example.com") == IMPORT_TIME
    assert await decided(sessions, world.email) == before
    # The same file again changes nothing, dates included.
    again = await run(sessions, settings, world, data, now=IMPORT_TIME + dt.timedelta(days=1))
    assert again.outcome is not None
    assert (again.outcome.new_versions, again.outcome.date_changes) == (0, 0)
    assert await decided(sessions, "kim@example.com") == IMPORT_TIME

    # A date given for an application already there moves it, once.
    moved = csv_bytes(
        [row(decided_on="2026-03-02"), row(world.email, decided_on="2026-03-20")], DATED
    )
    dry = await run(sessions, settings, world, moved, dry_run=True, now=IMPORT_TIME)
    assert dry.outcome is not None and dry.outcome.date_changes == 1
    assert await decided(sessions, world.email) == before
    third = await run(sessions, settings, world, moved, now=IMPORT_TIME)
    assert third.outcome is not None
    assert (third.outcome.date_changes, third.outcome.new_versions) == (1, 0)
    assert await decided(sessions, world.email) == dt.datetime(2026, 3, 20, tzinfo=dt.UTC)
    assert await decided(sessions, "lee@example.com") == dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    fourth = await run(sessions, settings, world, moved, now=IMPORT_TIME)
    assert fourth.outcome is not None and fourth.outcome.date_changes == 0
    async with sessions() as db:
        event = await db.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "feedback.imported")
            .order_by(AuditEvent.id.desc())
            .offset(1)
        )
    assert event is not None and event.details["date_changes"] == 1


async def test_a_decision_date_that_is_malformed_in_the_future_or_too_old_is_a_row_error(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    data = csv_bytes(
        [
            row("a@example.com", decided_on="31/03/2026"),
            row("b@example.com", decided_on="2026-02-30"),
            row("c@example.com", decided_on="20260301"),
            row("d@example.com", decided_on="2026-04-01"),
            row("e@example.com", decided_on="2021-03-30"),
            row("f@example.com", decided_on="2021-03-31"),  # five years to the day: fine
        ],
        DATED,
    )
    before = await state(sessions)
    result = await run(sessions, settings, world, data, now=IMPORT_TIME)
    assert not result.written
    assert await state(sessions) == before
    not_a_date = (
        "is not a date: write it as YYYY-MM-DD, like 2026-03-31, or leave it empty for the "
        "day of the import."
    )
    assert problems_of(result) == [
        (2, "decided_on", f'"31/03/2026" {not_a_date}'),
        (3, "decided_on", f'"2026-02-30" {not_a_date}'),
        (4, "decided_on", f'"20260301" {not_a_date}'),
        (
            5,
            "decided_on",
            "2026-04-01 is in the future: the decision date is the day the candidate was "
            "turned down, today (2026-03-31) at the latest.",
        ),
        (
            6,
            "decided_on",
            "2021-03-30 is more than 5 years ago: the earliest decision date accepted is "
            "2021-03-31.",
        ),
    ]


async def test_the_guides_example_file_imports(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    guide = (Path(__file__).resolve().parent.parent / "docs" / "staff" / "import.md").read_text()
    found = re.search(r"```csv\n(.*?)```", guide, re.S)
    assert found, "no example file in the guide"
    result = await run(sessions, settings, world, found.group(1).encode(), now=IMPORT_TIME)
    assert result.written, problems_of(result)
    assert result.checked.risky_rows == 0
    assert await decided(sessions, "lee@example.com") == dt.datetime(2026, 3, 27, tzinfo=dt.UTC)
    assert await decided(sessions, "kim@example.com") == IMPORT_TIME


async def test_a_language_the_job_requires_is_not_refused_at_import(
    sessions: Sessions, settings: Settings, world: World
) -> None:
    german = row(
        "g@example.com", decision_summary="Thank you. Your fluent German impressed our DACH team."
    )
    refused = await run(sessions, settings, world, csv_bytes([german]), publish=True)
    assert not refused.written and refused.checked.risky_rows == 1
    async with unit_of_work(sessions) as db:
        job_id = await db.scalar(
            select(Application.job_id).where(Application.id == world.application_id)
        )
        assert job_id is not None
        db.add(Requirement(job_id=job_id, position=10, name="German"))
    published = await run(sessions, settings, world, csv_bytes([german]), publish=True)
    assert published.written and published.checked.risky_rows == 0
