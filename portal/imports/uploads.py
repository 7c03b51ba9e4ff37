"""Uploads on the staff import page: checked when uploaded, imported when confirmed.

Every look-up starts from `readable_uploads(actor)`: staff see their own
organization's uploads, nobody else any.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, delete, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.candidates.models import Job, Requirement
from portal.imports.format import template_columns
from portal.imports.forms import EXAMPLE_EMAIL
from portal.imports.models import ImportUpload
from portal.imports.service import Outcome, import_csv
from portal.security.actors import Actor, Staff
from portal.settings import Settings

# Unimported uploads (and what an import kept of its file) are forgotten after this.
UPLOAD_LIFETIME = dt.timedelta(days=1)
RECENT = 10


def readable_uploads(actor: Actor) -> Select[ImportUpload]:
    statement = select(ImportUpload)
    if isinstance(actor, Staff):
        return statement.where(ImportUpload.organization_id == actor.organization_id)
    return statement.where(false())


@dataclass(frozen=True)
class JobChoice:
    id: int
    title: str
    location: str


async def job_choices(db: AsyncSession, *, actor: Staff) -> list[JobChoice]:
    """The jobs to offer templates for: not the archived ones (no new rejections)."""
    rows = await db.execute(
        select(Job.id, Job.title, Job.location)
        .where(Job.organization_id == actor.organization_id, Job.archived_at.is_(None))
        .order_by(Job.title, Job.id)
    )
    return [JobChoice(**row._mapping) for row in rows]


@dataclass(frozen=True)
class UploadView:
    id: int
    filename: str
    size: int
    publish: bool
    row_count: int
    error_count: int
    problems: list[dict[str, Any]]
    summary: dict[str, int]
    created_at: dt.datetime
    imported_at: dt.datetime | None
    can_import: bool

    @property
    def risky_rows(self) -> int:
        return int(self.summary.get("risky_rows", 0))


async def recent_uploads(db: AsyncSession, *, actor: Staff) -> list[UploadView]:
    rows = await db.scalars(readable_uploads(actor).order_by(ImportUpload.id.desc()).limit(RECENT))
    return [_view(upload) for upload in rows]


def _view(upload: ImportUpload) -> UploadView:
    return UploadView(
        id=upload.id,
        filename=upload.filename,
        size=upload.size,
        publish=upload.publish,
        row_count=upload.row_count,
        error_count=upload.error_count,
        problems=list(upload.problems),
        summary=dict(upload.summary),
        created_at=upload.created_at,
        imported_at=upload.imported_at,
        can_import=upload.imported_at is None
        and upload.error_count == 0
        and upload.content is not None,
    )


async def find_upload(db: AsyncSession, *, actor: Staff, upload_id: int) -> UploadView | None:
    upload = await db.scalar(readable_uploads(actor).where(ImportUpload.id == upload_id))
    return None if upload is None else _view(upload)


def _summary(risky_rows: int, outcome: Outcome | None) -> dict[str, int]:
    return {"risky_rows": risky_rows, **(outcome.as_dict() if outcome else {})}


async def check_upload(
    db: AsyncSession,
    *,
    actor: Staff,
    data: bytes,
    filename: str,
    publish: bool,
    settings: Settings,
    now: dt.datetime,
) -> int:
    """Check a file as a dry run and keep it with what the check found; returns its id.

    Raises `FileProblem` when the file cannot be read at all (nothing is kept)."""
    result = await import_csv(
        db,
        data=data,
        organization_id=actor.organization_id,
        publish=publish,
        dry_run=True,
        staff_id=actor.staff_id,
        settings=settings,
        now=now,
        source={},
    )
    await db.execute(
        delete(ImportUpload).where(
            ImportUpload.organization_id == actor.organization_id,
            ImportUpload.created_at < now - UPLOAD_LIFETIME,
        )
    )
    checked = result.checked
    upload = ImportUpload(
        organization_id=actor.organization_id,
        staff_user_id=actor.staff_id,
        filename=filename,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        content=data if checked.ok else None,
        publish=publish,
        row_count=checked.row_count,
        error_count=checked.problem_count,
        problems=[problem.as_dict() for problem in checked.problems],
        summary=_summary(checked.risky_rows, result.outcome),
        created_at=now,
    )
    db.add(upload)
    await db.flush()
    return upload.id


async def import_upload(
    db: AsyncSession,
    *,
    actor: Staff,
    upload_id: int,
    settings: Settings,
    now: dt.datetime,
    ip_hash: str,
) -> Literal["imported", "changed", "done"] | None:
    """Import a checked upload. None when the actor may not see it; "done" when it was
    imported already (a second press of the button); "changed" when the check no
    longer passes (the database changed since), with the new problems kept."""
    # Locked, so that two presses of the button import once.
    upload = await db.scalar(
        readable_uploads(actor).where(ImportUpload.id == upload_id).with_for_update()
    )
    if upload is None:
        return None
    if upload.imported_at is not None or upload.content is None:
        return "done"
    result = await import_csv(
        db,
        data=upload.content,
        organization_id=actor.organization_id,
        publish=upload.publish,
        dry_run=False,
        staff_id=actor.staff_id,
        settings=settings,
        now=now,
        source={"source": "staff page", "file": upload.filename, "sha256": upload.sha256},
        ip_hash=ip_hash,
    )
    checked = result.checked
    upload.summary = _summary(checked.risky_rows, result.outcome)
    upload.problems = [problem.as_dict() for problem in checked.problems]
    upload.error_count = checked.problem_count
    upload.row_count = checked.row_count
    if not result.written:
        upload.content = None
        await db.flush()
        return "changed"
    upload.imported_at = now
    upload.content = None  # imported: the rows are in the feedback now
    await db.flush()
    return "imported"


async def job_template(
    db: AsyncSession, *, actor: Staff, job_id: int, today: dt.date
) -> tuple[str, list[str], list[str]] | None:
    """(file name, header, example row) of the import template for one of the actor's
    organization's jobs, or None.

    The example row shows how each column is filled in, and is marked as the
    example by its email address (`EXAMPLE_EMAIL`): an import refuses it, so a file
    that still holds it never makes "Alex Example" a candidate."""
    title = await db.scalar(
        select(Job.title).where(Job.id == job_id, Job.organization_id == actor.organization_id)
    )
    if title is None:
        return None
    names = list(
        (
            await db.scalars(
                select(Requirement.name)
                # A requirement removed from the job (retired) is no longer importable.
                .where(Requirement.job_id == job_id, Requirement.retired_at.is_(None))
                .order_by(Requirement.position)
            )
        ).all()
    )
    header = template_columns(names)
    example = {
        "email": EXAMPLE_EMAIL,
        "name": "Alex Example (an example: delete this row)",
        "job": title,
        "stage": "interview",
        "decided_on": today.isoformat(),
        "decision_summary": "Thank you for interviewing with us. We will not be moving forward "
        "with your application this time.",
        "strength_1": "A clear, well-structured walkthrough of your take-home exercise.",
        "growth_area_1": "Explaining trade-offs when requirements conflict.",
        "suggestion_1": "Practise writing a one-page design note that weighs two options.",
        "reapply_after_months": "6",
        "pool_invitation_offered": "yes",
        "personal_note": "Thank you for your time. It was a pleasure to meet you.",
    }
    for index, name in enumerate(names):
        example[f"rating: {name}"] = ("met", "partly met", "not yet met")[index % 3]
        example[f"evidence: {name}"] = f"What you showed for {name}, in one sentence."
    if names:
        example["strength_1_requirement"] = names[0]
        example["growth_area_1_requirement"] = names[-1]
    slug = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-") or "job"
    return f"import-template-{slug}.csv", header, [example.get(name, "") for name in header]
