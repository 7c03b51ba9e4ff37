"""Importing feedback from a CSV file: check every row, then write all of it or nothing.

`check_file` reads the file against the organization's jobs and runs the
feedback check on every row (CPU only, no database). `plan_import` compares
the valid rows with what the database holds: which candidates and
applications are new, which stages and decision dates change, which rows would
make a new feedback version and which are already there. `apply_import` writes the plan
in bulk (a few multi-row INSERTs per table, never one flush per row) inside
the caller's transaction, queues the invitation emails of published feedback
and records one audit event with the counts. The caller's unit of work
commits, so a failure anywhere leaves nothing behind.

Importing the same file twice changes nothing: each imported version keeps
the SHA-256 of its content (`Feedback.content_hash`), and a row whose content
matches the application's latest version makes no new one.

A row's `decided_on` (empty: the day of the import) is a new application's
decision date (`portal.candidates.decisions.decided_at`); given for an existing
application whose decision date is another day, it moves that date. Left empty,
an existing application's date stays as it is.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import anyio
from sqlalchemy import Row, Table, bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.candidates.decisions import decided_at
from portal.candidates.models import (
    Application,
    ApplicationStatus,
    Candidate,
    Job,
    Requirement,
    Stage,
)
from portal.feedback.drafts import keep_requirements_as_published
from portal.feedback.models import Feedback, FeedbackItem, FeedbackState
from portal.imports.checking import CheckedFile, Progress, check_file
from portal.imports.format import (
    MAX_COMMAND_LINE_BYTES,
    MAX_FILE_BYTES,
    Catalog,
    FileProblem,
    ImportRow,
    JobEntry,
    key_of,
)
from portal.orgs.models import Organization
from portal.settings import Settings
from portal.timing.service import tell_candidate
from portal.webhooks import service as webhooks
from portal.webhooks.events import published_event

__all__ = [
    "MAX_COMMAND_LINE_BYTES",
    "MAX_FILE_BYTES",
    "CheckedFile",
    "FileProblem",
    "ImportResult",
    "Outcome",
    "check_file",
    "import_csv",
]

# Ids per IN (...) list: well under both databases' limits on bound parameters.
LOOKUP_CHUNK = 5_000
# Rows per COPY (PostgreSQL) or per executemany (SQLite) of feedback items.
COPY_BATCH = 20_000
EXECUTEMANY_BATCH = 5_000
T = TypeVar("T")
# Checks run in worker threads, one at a time per process, not from anyio's default
# pool: a check takes about a second per thousand rows, and a few uploads at once
# must not hold the threads that password hashing and file writes wait for. A
# second check waits its turn (two would only share the same CPU; see
# portal.imports.checking for why not a process pool).
CHECKS_AT_ONCE = anyio.CapacityLimiter(1)

_candidates: Table = Candidate.__table__  # type: ignore[assignment]
_applications: Table = Application.__table__  # type: ignore[assignment]
_feedback: Table = Feedback.__table__  # type: ignore[assignment]
_items: Table = FeedbackItem.__table__  # type: ignore[assignment]


class UnknownOrganization(LookupError):
    pass


async def load_catalog(db: AsyncSession, *, organization_id: int) -> Catalog:
    """The organization's jobs and their requirements, as the format reads them."""
    name = await db.scalar(
        select(Organization.display_name).where(Organization.id == organization_id)
    )
    if name is None:
        raise UnknownOrganization(organization_id)
    jobs = (
        await db.execute(
            select(Job.id, Job.title).where(Job.organization_id == organization_id).order_by(Job.id)
        )
    ).all()
    requirements: dict[int, dict[str, tuple[int, str]]] = {job.id: {} for job in jobs}
    for requirement in await db.execute(
        select(Requirement.job_id, Requirement.id, Requirement.name)
        .join(Job, Job.id == Requirement.job_id)
        .where(Job.organization_id == organization_id, Requirement.retired_at.is_(None))
        .order_by(Requirement.position)
    ):
        requirements[requirement.job_id][key_of(requirement.name)] = (
            requirement.id,
            requirement.name,
        )
    return Catalog.of(name, [JobEntry(job.id, job.title, requirements[job.id]) for job in jobs])


# --- planning and writing ----------------------------------------------------


@dataclass
class Outcome:
    """What an import did (or, for a dry run, would do)."""

    rows: int = 0
    new_candidates: int = 0
    new_applications: int = 0
    stage_changes: int = 0
    date_changes: int = 0
    new_versions: int = 0
    unchanged: int = 0
    published: int = 0
    emails_queued: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class Target:
    row: ImportRow
    content_hash: str
    candidate_id: int | None = None
    application_id: int | None = None
    stage_was: Stage | None = None
    decided_was: dt.datetime | None = None
    next_version: int = 1
    write: bool = True


@dataclass
class Plan:
    organization_id: int
    publish: bool
    targets: list[Target]
    new_candidates: dict[str, str] = field(default_factory=dict)  # email -> name
    outcome: Outcome = field(default_factory=Outcome)


def content_hash(row: ImportRow) -> str:
    """The SHA-256 of what a row says about its feedback (not of the candidate)."""
    draft = row.draft
    content: dict[str, Any] = {
        "decision_summary": draft.decision_summary,
        "personal_note": draft.personal_note,
        "reapply_after_months": row.reapply_after_months,
        "suggested_roles": list(draft.suggested_roles),
        "pool_invitation_offered": row.pool_invitation_offered,
        "items": [
            [item.kind, item.body, item.suggestion, item.rating, requirement_id]
            for item, requirement_id in zip(draft.items, row.requirement_ids, strict=True)
        ],
    }
    # Links join the hash only when a row has some, so that a file imported before
    # links could be imported is still the same content.
    links = [item.suggestion_url for item in draft.items]
    if any(links) or draft.suggested_role_urls:
        content["links"] = [links, [list(pair) for pair in draft.suggested_role_urls]]
    encoded = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def _chunks(values: Sequence[T], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def plan_import(
    db: AsyncSession, *, organization_id: int, rows: Sequence[ImportRow], publish: bool
) -> Plan:
    """Compare the rows with the database: what is new, what changes, what is there."""
    plan = Plan(organization_id, publish, [Target(row, content_hash(row)) for row in rows])
    outcome = plan.outcome
    outcome.rows = len(rows)

    emails = sorted({row.email for row in rows})
    known: dict[str, int] = {}
    for email_chunk in _chunks(emails):
        for candidate in await db.execute(
            select(Candidate.id, Candidate.email).where(
                Candidate.organization_id == organization_id, Candidate.email.in_(email_chunk)
            )
        ):
            known[candidate.email] = candidate.id
    for target in plan.targets:
        target.candidate_id = known.get(target.row.email)
        if target.candidate_id is None:
            plan.new_candidates.setdefault(target.row.email, target.row.name)
    outcome.new_candidates = len(plan.new_candidates)

    # The newest application of each (candidate, job) the rows name.
    applications: dict[tuple[int, int], tuple[int, Stage, dt.datetime | None]] = {}
    for chunk in _chunks(sorted(known.values())):
        for application in await db.execute(
            select(
                Application.id,
                Application.candidate_id,
                Application.job_id,
                Application.stage,
                Application.decided_at,
            )
            .where(
                Application.organization_id == organization_id,
                Application.candidate_id.in_(chunk),
            )
            .order_by(Application.id)
        ):
            applications[(application.candidate_id, application.job_id)] = (
                application.id,
                application.stage,
                application.decided_at,
            )
    for target in plan.targets:
        if target.candidate_id is not None:
            found = applications.get((target.candidate_id, target.row.job_id))
            if found is not None:
                target.application_id, target.stage_was, target.decided_was = found
    outcome.new_applications = sum(1 for t in plan.targets if t.application_id is None)
    outcome.stage_changes = sum(
        1 for t in plan.targets if t.stage_was is not None and t.stage_was != t.row.stage
    )
    outcome.date_changes = sum(1 for t in plan.targets if _date_moves(t))
    await plan_versions(db, plan=plan)
    return plan


async def plan_versions(db: AsyncSession, *, plan: Plan) -> None:
    """Each target's next version, and whether it writes one: not when the
    application's newest version has the same content (as it is, or published)."""
    publish = plan.publish
    outcome = plan.outcome
    outcome.rows = len(plan.targets)
    latest: dict[int, tuple[int, FeedbackState, str | None]] = {}
    existing = sorted(t.application_id for t in plan.targets if t.application_id is not None)
    for chunk in _chunks(existing):
        for feedback in await db.execute(
            select(
                Feedback.application_id, Feedback.version, Feedback.state, Feedback.content_hash
            ).where(Feedback.application_id.in_(chunk))
        ):
            known_version = latest.get(feedback.application_id)
            if known_version is None or feedback.version > known_version[0]:
                latest[feedback.application_id] = (
                    feedback.version,
                    feedback.state,
                    feedback.content_hash,
                )
    for target in plan.targets:
        if target.application_id is None or target.application_id not in latest:
            continue
        version, state, digest = latest[target.application_id]
        target.next_version = version + 1
        # The same content is there already: as it is, or published (which a draft
        # import would only step back from).
        if digest == target.content_hash and (state == FeedbackState.PUBLISHED or not publish):
            target.write = False
    outcome.new_versions = sum(1 for t in plan.targets if t.write)
    outcome.unchanged = outcome.rows - outcome.new_versions
    outcome.published = outcome.new_versions if publish else 0
    outcome.emails_queued = outcome.published


def _date_moves(target: Target) -> bool:
    """Whether the row gives an existing application a decision date on another day."""
    day = target.row.decided_on
    if target.application_id is None or day is None:
        return False
    return target.decided_was is None or target.decided_was.date() != day


async def apply_import(
    db: AsyncSession,
    *,
    plan: Plan,
    settings: Settings,
    now: dt.datetime,
    staff_id: int | None,
    source: dict[str, Any],
    progress: Progress | None = None,
    ip_hash: str | None = None,
    audit_actor: tuple[str, int | None] | None = None,
) -> Outcome:
    """Write the plan in bulk, queue the invitation emails of what it publishes, and
    audit it once (as `audit_actor`, kind and id, when given; else the staff member or
    the system). Flushes only; the caller's unit of work commits (or rolls back)."""
    organization_id = plan.organization_id
    targets = plan.targets
    total_steps = 4 + (plan.outcome.published if plan.publish else 0)
    step = 0

    def advance(by: int = 1) -> None:
        nonlocal step
        step += by
        if progress is not None:
            progress("Writing", step, total_steps)

    if (await db.connection()).dialect.name == "postgresql":
        # Check the feedback items' deferred foreign key as each batch goes in, rather
        # than all at once at COMMIT, where a large file would outlast the statement
        # timeout (this transaction deletes nothing, which is what the deferral is for).
        await db.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    if plan.new_candidates:
        created = await _insert_returning(
            db,
            _candidates,
            [
                {
                    "organization_id": organization_id,
                    "email": email,
                    "name": name,
                    "preferred_language": "en",
                    "created_at": now,
                }
                for email, name in plan.new_candidates.items()
            ],
            ("id", "email"),
        )
        ids = {row.email: row.id for row in created}
        for target in targets:
            if target.candidate_id is None:
                target.candidate_id = ids[target.row.email]
    advance()

    fresh = [target for target in targets if target.application_id is None]
    if fresh:
        created = await _insert_returning(
            db,
            _applications,
            [
                {
                    "organization_id": organization_id,
                    "candidate_id": target.candidate_id,
                    "job_id": target.row.job_id,
                    "stage": target.row.stage,
                    "status": ApplicationStatus.REJECTED,
                    "decided_at": now
                    if target.row.decided_on is None
                    else decided_at(target.row.decided_on, now=now),
                    "created_at": now,
                }
                for target in fresh
            ],
            ("id",),
        )
        for target, row in zip(fresh, created, strict=True):
            target.application_id = row.id
    moved = [t for t in targets if t.stage_was is not None and t.stage_was != t.row.stage]
    if moved:
        await db.execute(
            update(_applications)
            .where(_applications.c.id == bindparam("target_id"))
            .values(stage=bindparam("new_stage")),
            [{"target_id": t.application_id, "new_stage": t.row.stage} for t in moved],
        )
    redated = [t for t in targets if _date_moves(t)]
    if redated:
        await db.execute(
            update(_applications)
            .where(_applications.c.id == bindparam("target_id"))
            .values(decided_at=bindparam("new_decided_at")),
            [
                {
                    "target_id": t.application_id,
                    "new_decided_at": decided_at(t.row.decided_on, now=now),
                }
                for t in redated
                if t.row.decided_on is not None
            ],
        )
    advance()

    writing = [target for target in targets if target.write]
    state = FeedbackState.PUBLISHED if plan.publish else FeedbackState.DRAFT
    if writing:
        created = await _insert_returning(
            db,
            _feedback,
            [
                {
                    "application_id": target.application_id,
                    "version": target.next_version,
                    "state": state.value,
                    "decision_summary": target.row.draft.decision_summary,
                    "personal_note": target.row.draft.personal_note,
                    "reapply_after_months": target.row.reapply_after_months,
                    "suggested_roles": list(target.row.draft.suggested_roles),
                    "suggested_role_urls": dict(target.row.draft.suggested_role_urls) or None,
                    "pool_invitation_offered": target.row.pool_invitation_offered,
                    "created_by_staff_id": staff_id,
                    "created_at": now,
                    "published_at": now if plan.publish else None,
                    "content_hash": target.content_hash,
                }
                for target in writing
            ],
            ("id",),
        )
        advance()
        items = list(_item_rows(writing, [row.id for row in created]))
        await _bulk_insert(db, _items, items)
        if plan.publish:
            await keep_requirements_as_published(db, feedback_ids=[row.id for row in created])
        advance()
    else:
        advance(2)

    emails = 0
    if plan.publish:
        for target in writing:
            assert target.application_id is not None
            # As the send window allows (portal.timing); nothing again for a
            # candidate told before.
            told = await tell_candidate(
                db,
                application_id=target.application_id,
                settings=settings,
                now=now,
                staff_id=staff_id,
                ip_hash=ip_hash,
            )
            emails += told is not None
            advance()
        await webhooks.emit_many(
            db,
            organization_id=organization_id,
            event_type="feedback.published",
            events=[
                published_event(
                    application_id=target.application_id, version=target.next_version, now=now
                )
                for target in writing
                if target.application_id is not None
            ],
            now=now,
        )
    outcome = plan.outcome
    outcome.emails_queued = emails
    actor_kind, actor_id = audit_actor or ("staff" if staff_id else "system", staff_id)
    audit.record(
        db,
        action="feedback.imported",
        actor_kind=actor_kind,
        actor_id=actor_id,
        organization_id=organization_id,
        ip_hash=ip_hash,
        details={**source, "published": plan.publish, **outcome.as_dict()},
    )
    await db.flush()
    return outcome


def _item_rows(targets: Iterable[Target], feedback_ids: Iterable[int]) -> Iterator[dict[str, Any]]:
    for target, feedback_id in zip(targets, feedback_ids, strict=True):
        positions: dict[str, int] = {}
        for item, requirement_id in zip(
            target.row.draft.items, target.row.requirement_ids, strict=True
        ):
            position = positions.get(item.kind, 0)
            positions[item.kind] = position + 1
            yield {
                "feedback_id": feedback_id,
                "kind": item.kind,
                "position": position,
                "requirement_id": requirement_id,
                "rating": item.rating,
                "body": item.body,
                "suggestion": item.suggestion,
                "suggestion_url": item.suggestion_url,
                "visible": True,
            }


async def _bulk_insert(db: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows without reading anything back: COPY on PostgreSQL (the
    fastest way in), batched executemany elsewhere; in batches, so that each
    statement stays well within the statement timeout."""
    if not rows:
        return
    columns = list(rows[0])
    connection = await db.connection()
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection  # asyncpg's connection, in this transaction
        for batch in _chunks(rows, COPY_BATCH):
            await driver.copy_records_to_table(
                table.name,
                records=[tuple(row[column] for column in columns) for row in batch],
                columns=columns,
            )
        return
    for batch in _chunks(rows, EXECUTEMANY_BATCH):
        await db.execute(insert(table), list(batch))


async def _insert_returning(
    db: AsyncSession, table: Table, rows: list[dict[str, Any]], columns: Sequence[str]
) -> Sequence[Row[Any]]:
    """A multi-row INSERT … RETURNING, the returned rows (`columns`, read by name) in
    the order of `rows`."""
    statement = insert(table).returning(
        *(table.c[name] for name in columns), sort_by_parameter_order=True
    )
    result = await db.execute(statement, rows)
    return result.all()


@dataclass(frozen=True)
class ImportResult:
    checked: CheckedFile
    outcome: Outcome | None  # None when the file has problems that stop it
    written: bool  # False for a dry run, or when the file was refused


async def import_csv(
    db: AsyncSession,
    *,
    data: bytes,
    organization_id: int,
    publish: bool,
    dry_run: bool,
    staff_id: int | None,
    settings: Settings,
    now: dt.datetime,
    source: dict[str, Any],
    progress: Progress | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    ip_hash: str | None = None,
) -> ImportResult:
    """Check the whole file, then (unless `dry_run`, and only when every row is
    valid and, when publishing, none is risky) write it. Raises `FileProblem` for
    a file that cannot be read at all and `UnknownOrganization`."""
    catalog = await load_catalog(db, organization_id=organization_id)
    if (await db.connection()).dialect.name == "postgresql":
        # The lookups below send the same statement (thousands of ids or emails per
        # IN list) chunk after chunk. After five runs PostgreSQL may switch to a
        # generic plan and keep it for the connection's life: planned while this
        # organization had no rows, it scans the whole table for every chunk of the
        # next import (a 100,000-row re-import then outlasted the statement timeout).
        # Plan each chunk for its own values, for this transaction only.
        await db.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    # Reading and checking is CPU work: off the event loop, in a thread of its own.
    checked = await anyio.to_thread.run_sync(
        functools.partial(
            check_file,
            data,
            catalog,
            publish=publish,
            progress=progress,
            max_bytes=max_bytes,
            today=now.date(),
        ),
        limiter=CHECKS_AT_ONCE,
    )
    if not checked.ok:
        return ImportResult(checked, None, written=False)
    plan = await plan_import(
        db, organization_id=organization_id, rows=checked.rows, publish=publish
    )
    if dry_run:
        return ImportResult(checked, plan.outcome, written=False)
    outcome = await apply_import(
        db,
        plan=plan,
        settings=settings,
        now=now,
        staff_id=staff_id,
        source=source,
        progress=progress,
        ip_hash=ip_hash,
    )
    return ImportResult(checked, outcome, written=True)


async def find_organization(db: AsyncSession, *, slug: str | None) -> int | str:
    """The id of the organization named by `slug`, or of the only one when `slug` is
    None; otherwise what to tell the person."""
    rows = (
        await db.execute(select(Organization.id, Organization.slug).order_by(Organization.slug))
    ).all()
    slugs = ", ".join(row.slug for row in rows) or "none yet"
    if slug is None:
        if len(rows) == 1:
            return int(rows[0].id)
        return f"several organizations: name one with --organization ({slugs})"
    for row in rows:
        if row.slug == slug:
            return int(row.id)
    return f'no organization "{slug}" (there are: {slugs})'


COUNT_WORDS = {
    "rows": "row(s) read",
    "new_candidates": "new candidate(s)",
    "new_applications": "new application(s)",
    "stage_changes": "stage change(s)",
    "date_changes": "decision date change(s)",
    "new_versions": "new feedback version(s)",
    "unchanged": "row(s) already imported, unchanged",
    "published": "published",
    "emails_queued": "invitation email(s) queued",
}


def text_report(result: ImportResult, *, dry_run: bool, publish: bool) -> str:
    """What `portal import` prints: the problems by row and column, or the counts."""
    checked = result.checked
    lines: list[str] = []
    for problem in checked.problems:
        column = f', column "{problem.column}"' if problem.column else ""
        label = "risky" if problem.kind == "risky" else "error"
        lines.append(f"row {problem.row}{column}: {label}: {problem.message}")
    if checked.problem_count > len(checked.problems):
        lines.append(f"... and {checked.problem_count - len(checked.problems):,} more")
    if not checked.ok:
        lines.append(
            f"{checked.problem_count:,} problem(s); nothing was imported. Fix the rows above and "
            "import the file again."
        )
        if publish and checked.risky_rows:
            lines.append(
                f"{checked.risky_rows:,} row(s) have risky wording: publishing is refused. "
                "Reword them, or import without --publish and review the drafts."
            )
        return "\n".join(lines) + "\n"
    if checked.risky_rows:
        lines.append(
            f"{checked.risky_rows:,} row(s) have risky wording (above): they are imported as "
            "drafts, and cannot be published until reworded."
        )
    outcome = result.outcome
    assert outcome is not None
    counts = outcome.as_dict()
    if not publish:
        counts.pop("published")
        counts.pop("emails_queued")
    lines.append(
        ("Dry run, nothing written. Would import: " if dry_run else "Imported: ")
        + ", ".join(f"{value:,} {COUNT_WORDS[name]}" for name, value in counts.items())
        + "."
    )
    return "\n".join(lines) + "\n"
