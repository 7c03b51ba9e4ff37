"""Importing feedback from a CSV file: check every row, then write all of it or nothing.

`check_file` reads the file against the organization's jobs and runs the
feedback check on every row (CPU only, no database). `plan_import` compares
the valid rows with what the database holds: which candidates and
applications are new, which stages change, which rows would make a new
feedback version and which are already there. `apply_import` writes the plan
in bulk (a few multi-row INSERTs per table, never one flush per row) inside
the caller's transaction, queues the invitation emails of published feedback
and records one audit event with the counts. The caller's unit of work
commits, so a failure anywhere leaves nothing behind.

Importing the same file twice changes nothing: each imported version keeps
the SHA-256 of its content (`Feedback.content_hash`), and a row whose content
matches the application's latest version makes no new one.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import anyio
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access.service import send_invitation
from portal.audit import service as audit
from portal.candidates.models import Application, Candidate, Job, Requirement
from portal.feedback.check import blocks_publishing, check_feedback
from portal.feedback.models import Feedback, FeedbackItem, FeedbackState
from portal.imports.format import (
    MAX_FILE_BYTES,
    Catalog,
    FileProblem,
    ImportRow,
    JobEntry,
    Problem,
    decode,
    key_of,
    read_rows,
)
from portal.orgs.models import Organization
from portal.settings import Settings

__all__ = ["MAX_FILE_BYTES", "FileProblem", "ImportResult", "Outcome", "import_csv"]

# Ids per IN (...) list: well under both databases' limits on bound parameters.
LOOKUP_CHUNK = 5_000
MAX_PROBLEMS = 1_000

Progress = Callable[[str, int, int], None]  # (phase, done, total)
T = TypeVar("T")

_candidates: Table = Candidate.__table__  # type: ignore[assignment]
_applications: Table = Application.__table__  # type: ignore[assignment]
_feedback: Table = Feedback.__table__  # type: ignore[assignment]
_items: Table = FeedbackItem.__table__  # type: ignore[assignment]


class UnknownOrganization(LookupError):
    pass


@dataclass(frozen=True)
class CheckedFile:
    """A file read and checked: its valid rows and what is wrong with the others."""

    rows: list[ImportRow]
    problems: list[Problem]  # the first MAX_PROBLEMS
    problem_count: int  # every error (risky findings count when publishing)
    risky_rows: int
    row_count: int

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


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
    requirements: dict[int, dict[str, tuple[int, str]]] = {job_id: {} for job_id, _ in jobs}
    for job_id, requirement_id, requirement_name in await db.execute(
        select(Requirement.job_id, Requirement.id, Requirement.name)
        .join(Job, Job.id == Requirement.job_id)
        .where(Job.organization_id == organization_id)
        .order_by(Requirement.position)
    ):
        requirements[job_id][key_of(requirement_name)] = (requirement_id, requirement_name)
    return Catalog.of(
        name, [JobEntry(job_id, title, requirements[job_id]) for job_id, title in jobs]
    )


def check_file(
    data: bytes, catalog: Catalog, *, publish: bool, progress: Progress | None = None
) -> CheckedFile:
    """Read the file (raises `FileProblem` when it cannot be read at all) and run
    the feedback check on every valid row. CPU only: call it off the event loop."""
    text = decode(data)
    # Rows, roughly, for the progress bar: the number of lines is an upper bound.
    estimate = max(1, text.count("\n"))
    report = (lambda done: progress("Reading", done, estimate)) if progress else None
    rows, problems, problem_count = read_rows(
        text, catalog, max_problems=MAX_PROBLEMS, on_row=report
    )
    risky_rows = 0
    for done, row in enumerate(rows, start=1):
        findings = check_feedback(row.draft)
        if blocks_publishing(findings):
            risky_rows += 1
            for finding in findings:
                if finding.severity != "risky":
                    continue
                text_of = _field_text(row, finding.field)
                words = finding.words(text_of) if finding.end > finding.start else ""
                message = (f'"{words}": ' if words else "") + finding.message
                if publish:
                    problem_count += 1
                if len(problems) < MAX_PROBLEMS:
                    problems.append(
                        Problem(row.row, row.column_of(finding.field), message, kind="risky")
                    )
        if progress is not None and (done % 500 == 0 or done == len(rows)):
            progress("Checking", done, len(rows))
    problems.sort(key=lambda problem: problem.row)
    return CheckedFile(rows, problems, problem_count, risky_rows, len(rows))


def _field_text(row: ImportRow, where: str) -> str:
    draft = row.draft
    if where == "decision_summary":
        return draft.decision_summary
    if where == "personal_note":
        return draft.personal_note
    if where.startswith("items["):
        index = int(where[6 : where.index("]")])
        item = draft.items[index]
        return item.suggestion if where.endswith(".suggestion") else item.body
    if where.startswith("suggested_roles["):
        return draft.suggested_roles[int(where[16 : where.index("]")])]
    return ""


# --- planning and writing ----------------------------------------------------


@dataclass
class Outcome:
    """What an import did (or, for a dry run, would do)."""

    rows: int = 0
    new_candidates: int = 0
    new_applications: int = 0
    stage_changes: int = 0
    new_versions: int = 0
    unchanged: int = 0
    published: int = 0
    emails_queued: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class _Target:
    row: ImportRow
    content_hash: str
    candidate_id: int | None = None
    application_id: int | None = None
    stage_was: str | None = None
    next_version: int = 1
    write: bool = True


@dataclass
class Plan:
    organization_id: int
    publish: bool
    targets: list[_Target]
    new_candidates: dict[str, str] = field(default_factory=dict)  # email -> name
    outcome: Outcome = field(default_factory=Outcome)


def content_hash(row: ImportRow) -> str:
    """The SHA-256 of what a row says about its feedback (not of the candidate)."""
    draft = row.draft
    content = {
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
    encoded = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def _chunks(values: Sequence[T], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def plan_import(
    db: AsyncSession, *, organization_id: int, rows: Sequence[ImportRow], publish: bool
) -> Plan:
    """Compare the rows with the database: what is new, what changes, what is there."""
    plan = Plan(organization_id, publish, [_Target(row, content_hash(row)) for row in rows])
    outcome = plan.outcome
    outcome.rows = len(rows)

    emails = sorted({row.email for row in rows})
    known: dict[str, int] = {}
    for email_chunk in _chunks(emails):
        for candidate_id, email in await db.execute(
            select(Candidate.id, Candidate.email).where(
                Candidate.organization_id == organization_id, Candidate.email.in_(email_chunk)
            )
        ):
            known[email] = candidate_id
    for target in plan.targets:
        target.candidate_id = known.get(target.row.email)
        if target.candidate_id is None:
            plan.new_candidates.setdefault(target.row.email, target.row.name)
    outcome.new_candidates = len(plan.new_candidates)

    # The newest application of each (candidate, job) the rows name.
    applications: dict[tuple[int, int], tuple[int, str]] = {}
    for chunk in _chunks(sorted(known.values())):
        for application_id, candidate_id, job_id, stage in await db.execute(
            select(Application.id, Application.candidate_id, Application.job_id, Application.stage)
            .where(
                Application.organization_id == organization_id,
                Application.candidate_id.in_(chunk),
            )
            .order_by(Application.id)
        ):
            applications[(candidate_id, job_id)] = (application_id, stage)
    for target in plan.targets:
        if target.candidate_id is not None:
            found = applications.get((target.candidate_id, target.row.job_id))
            if found is not None:
                target.application_id, target.stage_was = found
    outcome.new_applications = sum(1 for t in plan.targets if t.application_id is None)
    outcome.stage_changes = sum(
        1 for t in plan.targets if t.stage_was is not None and t.stage_was != t.row.stage
    )

    latest: dict[int, tuple[int, str, str | None]] = {}
    existing = sorted(t.application_id for t in plan.targets if t.application_id is not None)
    for chunk in _chunks(existing):
        for application_id, version, state, digest in await db.execute(
            select(
                Feedback.application_id, Feedback.version, Feedback.state, Feedback.content_hash
            ).where(Feedback.application_id.in_(chunk))
        ):
            if application_id not in latest or version > latest[application_id][0]:
                latest[application_id] = (version, state, digest)
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
    return plan


async def apply_import(
    db: AsyncSession,
    *,
    plan: Plan,
    settings: Settings,
    now: dt.datetime,
    staff_id: int | None,
    source: dict[str, Any],
    progress: Progress | None = None,
) -> Outcome:
    """Write the plan in bulk, queue the invitation emails of what it publishes, and
    audit it once. Flushes only; the caller's unit of work commits (or rolls back)."""
    organization_id = plan.organization_id
    targets = plan.targets
    total_steps = 4 + (plan.outcome.published if plan.publish else 0)
    step = 0

    def advance(by: int = 1) -> None:
        nonlocal step
        step += by
        if progress is not None:
            progress("Writing", step, total_steps)

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
        ids = {email: candidate_id for candidate_id, email in created}
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
                    "status": "rejected",
                    "decided_at": now,
                    "created_at": now,
                }
                for target in fresh
            ],
            ("id",),
        )
        for target, (application_id,) in zip(fresh, created, strict=True):
            target.application_id = application_id
    moved = [t for t in targets if t.stage_was is not None and t.stage_was != t.row.stage]
    if moved:
        await db.execute(
            update(_applications)
            .where(_applications.c.id == bindparam("target_id"))
            .values(stage=bindparam("new_stage")),
            [{"target_id": t.application_id, "new_stage": t.row.stage} for t in moved],
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
        items = list(_item_rows(writing, [feedback_id for (feedback_id,) in created]))
        if items:
            await db.execute(insert(_items), items)
        advance()
    else:
        advance(2)

    emails = 0
    if plan.publish:
        for target in writing:
            assert target.application_id is not None
            await send_invitation(
                db,
                application_id=target.application_id,
                settings=settings,
                now=now,
                created_by_staff_id=staff_id,
            )
            emails += 1
            advance()
    outcome = plan.outcome
    outcome.emails_queued = emails
    audit.record(
        db,
        action="feedback.imported",
        actor_kind="staff" if staff_id else "system",
        actor_id=staff_id,
        organization_id=organization_id,
        details={**source, "published": plan.publish, **outcome.as_dict()},
    )
    await db.flush()
    return outcome


def _item_rows(targets: Iterable[_Target], feedback_ids: Iterable[int]) -> Iterator[dict[str, Any]]:
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
                "visible": True,
            }


async def _insert_returning(
    db: AsyncSession, table: Table, rows: list[dict[str, Any]], columns: Sequence[str]
) -> list[tuple[Any, ...]]:
    """A multi-row INSERT … RETURNING, the returned rows in the order of `rows`."""
    statement = insert(table).returning(
        *(table.c[name] for name in columns), sort_by_parameter_order=True
    )
    result = await db.execute(statement, rows)
    return [tuple(row) for row in result.all()]


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
) -> ImportResult:
    """Check the whole file, then (unless `dry_run`, and only when every row is
    valid and, when publishing, none is risky) write it. Raises `FileProblem` for
    a file that cannot be read at all and `UnknownOrganization`."""
    catalog = await load_catalog(db, organization_id=organization_id)
    # Reading and checking is CPU work: off the event loop, in a thread.
    checked = await anyio.to_thread.run_sync(
        functools.partial(check_file, data, catalog, publish=publish, progress=progress)
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
    )
    return ImportResult(checked, outcome, written=True)


async def find_organization(db: AsyncSession, *, slug: str | None) -> int | str:
    """The id of the organization named by `slug`, or of the only one when `slug` is
    None; otherwise what to tell the person."""
    rows = (
        await db.execute(select(Organization.id, Organization.slug).order_by(Organization.slug))
    ).all()
    slugs = ", ".join(found for _, found in rows) or "none yet"
    if slug is None:
        if len(rows) == 1:
            return int(rows[0][0])
        return f"several organizations: name one with --organization ({slugs})"
    for organization_id, found in rows:
        if found == slug:
            return int(organization_id)
    return f'no organization "{slug}" (there are: {slugs})'


COUNT_WORDS = {
    "rows": "row(s) read",
    "new_candidates": "new candidate(s)",
    "new_applications": "new application(s)",
    "stage_changes": "stage change(s)",
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
