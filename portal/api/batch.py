"""`POST /api/v1/applications/batch`: up to 100 rejections in one request, written in
bulk by the CSV import's own writer.

An ATS that pushes many rejections (a requisition closed, a day's decisions) sends
them together: each item is what `POST /applications` takes, validated by the same
model (`ApplicationIn`), and means the same (the application named by the ATS's id,
created or updated; its feedback saved as a draft version unless the newest
version says the same). What differs is the cost: a batch reads what its items name
with one statement per table (jobs, requirements, applications by id, candidates
by address) and writes with multi-row INSERTs and a COPY of the feedback items
(`portal.imports.service.apply_import`), so a hundred items cost about as many
statements as one.

An item the database cannot take (no such job, a requirement the job lacks, an
external id that names another candidate's application) is answered in its place
with its problem (409 or 422) and nothing of it is written; the others are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.api.forms import (
    ApplicationBatchIn,
    ApplicationBatchOut,
    ApplicationIn,
    BatchItemOut,
    Problem,
)
from portal.api.problems import ApiProblem, problem_body
from portal.api.service import _application_rows, _applications_out
from portal.audit import service as audit
from portal.candidates.decisions import decided_at
from portal.candidates.models import Application, ApplicationStatus, Candidate, Job, Requirement
from portal.candidates.service import readable_applications, readable_jobs
from portal.feedback.check import Draft
from portal.imports import service as imports
from portal.imports.format import ImportRow, key_of
from portal.security.actors import ApiKey
from portal.settings import Settings

APPLICATIONS: Table = Application.__table__  # type: ignore[assignment]


class ItemProblem(Exception):
    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        self.message = message


@dataclass
class _Item:
    index: int
    data: ApplicationIn
    job_id: int = 0
    requirements: dict[str, tuple[int, str]] = dataclasses.field(default_factory=dict)
    application_id: int | None = None
    candidate_id: int | None = None
    created: bool = False
    stage_was: Any = None
    decided_was: dt.datetime | None = None
    changed: list[str] = dataclasses.field(default_factory=list)
    problem: ItemProblem | None = None


async def _jobs(db: AsyncSession, *, actor: ApiKey, items: Sequence[_Item]) -> None:
    """Each item's job (by id or by the ATS's id), and its requirements by name."""
    ids = {item.data.job_id for item in items if item.data.job_id is not None}
    external = {item.data.job_external_id for item in items if item.data.job_external_id}
    found = (
        await db.execute(
            readable_jobs(actor)
            .with_only_columns(Job.id, Job.external_id, Job.archived_at)
            .where(Job.id.in_(ids) | Job.external_id.in_(external))
        )
    ).all()
    by_id = {job.id: job for job in found}
    by_external = {job.external_id: job for job in found if job.external_id is not None}
    requirements: dict[int, dict[str, tuple[int, str]]] = {job.id: {} for job in found}
    if found:
        for row in await db.execute(
            select(Requirement.job_id, Requirement.id, Requirement.name)
            .where(Requirement.job_id.in_(list(by_id)), Requirement.retired_at.is_(None))
            .order_by(Requirement.position)
        ):
            requirements[row.job_id][key_of(row.name)] = (row.id, row.name)
    for item in items:
        data = item.data
        if (data.job_id is None) == (data.job_external_id is None):
            item.problem = ItemProblem(
                422, "job_id", "Give the job: job_id or job_external_id (one of them)."
            )
            continue
        field = "job_id" if data.job_id is not None else "job_external_id"
        job = by_id.get(data.job_id) if data.job_id is not None else None
        if data.job_external_id is not None:
            job = by_external.get(data.job_external_id)
        if job is None:
            item.problem = ItemProblem(422, field, "Your organization has no such job.")
        elif job.archived_at is not None:
            item.problem = ItemProblem(
                422, field, "This job is archived: it takes no new rejections."
            )
        else:
            item.job_id = job.id
            item.requirements = requirements[job.id]


def _import_row(item: _Item) -> ImportRow:
    """The item's feedback as the CSV import's writer takes a row; `ItemProblem` for a
    requirement the job lacks."""
    feedback = item.data.feedback
    assert feedback is not None
    draft = feedback.draft()
    requirement_ids: list[int | None] = []
    named = [
        *(("assessments", i, a.requirement) for i, a in enumerate(feedback.assessments)),
        *(("strengths", i, s.requirement) for i, s in enumerate(feedback.strengths)),
        *(("growth_areas", i, g.requirement) for i, g in enumerate(feedback.growth_areas)),
    ]
    items = list(draft.items)
    for position, (kind, index, name) in enumerate(named):
        if name is None:
            requirement_ids.append(None)
            continue
        found = item.requirements.get(key_of(name))
        if found is None:
            raise ItemProblem(
                422,
                f"feedback.{kind}.{index}.requirement",
                f"The job has no requirement {name!r}.",
            )
        requirement_ids.append(found[0])
        if found[1] != name:  # as the job spells it
            items[position] = dataclasses.replace(items[position], requirement=found[1])
    data = item.data
    return ImportRow(
        row=item.index,
        email=data.email,
        name=data.name,
        job_id=item.job_id,
        stage=data.stage.value,
        draft=dataclasses.replace(draft, items=tuple(items)),
        decided_on=data.decided_on,
        reapply_after_months=feedback.reapply_after_months,
        pool_invitation_offered=feedback.pool_invitation_offered,
        requirement_ids=requirement_ids,
    )


async def _applications(
    db: AsyncSession, *, actor: ApiKey, items: Sequence[_Item], now: dt.datetime
) -> None:
    """Find each item's application (by the ATS's id; else the candidate's rejection for
    the job that came without one), or create it, with its candidate."""
    external_ids = [item.data.external_id for item in items]
    existing = {
        row.external_id: row
        for row in await db.execute(
            readable_applications(actor)
            .join(Candidate, Candidate.id == Application.candidate_id)
            .with_only_columns(
                Application.id,
                Application.external_id,
                Application.job_id,
                Application.candidate_id,
                Application.stage,
                Application.decided_at,
                Candidate.email,
            )
            .where(Application.external_id.in_(external_ids))
            .with_for_update(of=Application)
        )
    }
    fresh: list[_Item] = []
    for item in items:
        found = existing.get(item.data.external_id)
        if found is None:
            fresh.append(item)
        elif found.email != item.data.email or found.job_id != item.job_id:
            item.problem = ItemProblem(
                409,
                "external_id",
                "This external id names an application of another candidate or job.",
            )
        else:
            item.application_id = found.id
            item.candidate_id = found.candidate_id
            item.stage_was, item.decided_was = found.stage, found.decided_at
    if not fresh:
        return
    emails = sorted({item.data.email for item in fresh})
    known = {
        row.email: row.id
        for row in await db.execute(
            select(Candidate.id, Candidate.email).where(
                Candidate.organization_id == actor.organization_id, Candidate.email.in_(emails)
            )
        )
    }
    new_candidates: dict[str, str] = {}
    for item in fresh:
        if item.data.email not in known:
            new_candidates.setdefault(item.data.email, item.data.name)
    if new_candidates:
        # Two batches (or a batch and a recruiter) adding the same person at once make
        # one candidate: the other's row is taken, as `find_or_add_candidate` does.
        dialect = db.get_bind().dialect.name
        insert_into = postgresql.insert if dialect == "postgresql" else sqlite.insert
        added = await db.execute(
            insert_into(Candidate)
            .values(
                [
                    {
                        "organization_id": actor.organization_id,
                        "email": email,
                        "name": name,
                        "preferred_language": "en",
                        "created_at": now,
                    }
                    for email, name in new_candidates.items()
                ]
            )
            .on_conflict_do_nothing(index_elements=["organization_id", "email"])
            .returning(Candidate.id, Candidate.email)
        )
        known.update({row.email: row.id for row in added})
        taken = [email for email in new_candidates if email not in known]
        if taken:
            for other in await db.execute(
                select(Candidate.id, Candidate.email).where(
                    Candidate.organization_id == actor.organization_id,
                    Candidate.email.in_(taken),
                )
            ):
                known[other.email] = other.id
    for item in fresh:
        item.candidate_id = known[item.data.email]
    # A rejection of the candidate for the job that came without an id (the CSV import,
    # a recruiter's hand) becomes this one, as for one request: the newest of them.
    adoptable: dict[tuple[int, int], list[Any]] = {}
    for row in await db.execute(
        readable_applications(actor)
        .with_only_columns(
            Application.id,
            Application.candidate_id,
            Application.job_id,
            Application.stage,
            Application.decided_at,
        )
        .where(
            Application.candidate_id.in_({item.candidate_id for item in fresh}),
            Application.external_id.is_(None),
        )
        .order_by(Application.id.desc())
        .with_for_update()
    ):
        adoptable.setdefault((row.candidate_id, row.job_id), []).append(row)
    adopted: list[_Item] = []
    new: list[_Item] = []
    for item in fresh:
        assert item.candidate_id is not None
        waiting = adoptable.get((item.candidate_id, item.job_id))
        if waiting:
            row = waiting.pop(0)
            item.application_id = row.id
            item.stage_was, item.decided_was = row.stage, row.decided_at
            adopted.append(item)
        else:
            new.append(item)
    if adopted:
        await db.execute(
            update(APPLICATIONS)
            .where(APPLICATIONS.c.id == bindparam("target_id"))
            .values(external_id=bindparam("new_external_id")),
            [
                {"target_id": item.application_id, "new_external_id": item.data.external_id}
                for item in adopted
            ],
        )
    if new:
        created = await _insert_returning(
            db,
            APPLICATIONS,
            [
                {
                    "organization_id": actor.organization_id,
                    "candidate_id": item.candidate_id,
                    "job_id": item.job_id,
                    "external_id": item.data.external_id,
                    "stage": item.data.stage,
                    "status": ApplicationStatus.REJECTED,
                    "decided_at": decided_at(item.data.decided_on or now.date(), now=now),
                    "created_at": now,
                }
                for item in new
            ],
            ("id",),
        )
        for item, row in zip(new, created, strict=True):
            item.application_id = row.id
            item.created = True
            # Created as the item says: no stage or date for the writer to move.
            item.stage_was = item.data.stage


async def _insert_returning(
    db: AsyncSession, table: Table, rows: list[dict[str, Any]], columns: Sequence[str]
) -> Sequence[Any]:
    statement = insert(table).returning(
        *(table.c[name] for name in columns), sort_by_parameter_order=True
    )
    try:
        return (await db.execute(statement, rows)).all()
    except IntegrityError as exc:  # the same ids or addresses at the same moment
        raise ApiProblem(
            409,
            "Another request is creating some of these applications: retry "
            "the batch with a new Idempotency-Key.",
            kind="conflict",
            title="Conflict",
        ) from exc


async def put_applications(
    db: AsyncSession,
    *,
    actor: ApiKey,
    data: ApplicationBatchIn,
    settings: Settings,
    now: dt.datetime,
    instance: str,
) -> ApplicationBatchOut:
    """Create or update every item's application and save its feedback as a draft,
    in bulk; each item answered in its place."""
    items = [_Item(index, item) for index, item in enumerate(data.items)]
    seen: set[str] = set()
    for item in items:
        if item.data.external_id in seen:
            item.problem = ItemProblem(
                422, "external_id", "Named by an earlier item of this batch: one item each."
            )
        seen.add(item.data.external_id)
    await _jobs(db, actor=actor, items=[item for item in items if item.problem is None])
    rows: dict[int, ImportRow] = {}
    for item in items:
        if item.problem is None and item.data.feedback is not None:
            try:
                rows[item.index] = _import_row(item)
            except ItemProblem as problem:
                item.problem = problem
    good = [item for item in items if item.problem is None]
    if good:
        await _applications(db, actor=actor, items=good, now=now)
    good = [item for item in items if item.problem is None]
    targets = []
    for item in good:
        day = item.data.decided_on
        if not item.created:
            if item.stage_was != item.data.stage:
                item.changed.append("stage")
            if day is not None and (item.decided_was is None or item.decided_was.date() != day):
                item.changed.append("decided_on")
        audit.by_actor(
            db,
            actor,
            action="application.created" if item.created else "application.updated",
            subject_type="application",
            subject_id=item.application_id,
            details={
                "source": "api",
                "batch": True,
                "external_id": item.data.external_id,
                "job_id": item.job_id,
            }
            | ({"fields": item.changed} if item.changed else {}),
        )
        row = rows.get(item.index) or _bare_row(item)
        if item.created:
            # Created with its date: nothing for the writer to move.
            row = dataclasses.replace(row, decided_on=None)
        targets.append(
            imports.Target(
                row,
                imports.content_hash(row),
                candidate_id=item.candidate_id,
                application_id=item.application_id,
                stage_was=item.stage_was,
                decided_was=item.decided_was,
            )
        )
    plan = imports.Plan(actor.organization_id, False, targets)
    await imports.plan_versions(db, plan=plan)
    for target, item in zip(targets, good, strict=True):
        target.write = target.write and item.index in rows
    plan.outcome.new_versions = sum(1 for target in targets if target.write)
    plan.outcome.unchanged = len(targets) - plan.outcome.new_versions
    plan.outcome.new_applications = sum(1 for item in good if item.created)
    if targets:
        await imports.apply_import(
            db,
            plan=plan,
            settings=settings,
            now=now,
            staff_id=None,
            source={"source": "api"},
            audit_actor=(audit.API_KEY, actor.key_id),
        )
    answers = {
        answer.id: answer
        for answer in await _applications_out(
            db,
            (
                await db.execute(
                    _application_rows(actor)
                    .where(Application.id.in_([item.application_id for item in good]))
                    .order_by(Application.id)
                )
            ).all(),
        )
    }
    out = []
    for item in items:
        if item.problem is not None:
            out.append(
                BatchItemOut(
                    index=item.index,
                    external_id=item.data.external_id,
                    status=item.problem.status,
                    problem=Problem.model_validate(
                        problem_body(
                            item.problem.status,
                            detail=item.problem.message,
                            kind="conflict" if item.problem.status == 409 else "invalid-fields",
                            title="Conflict" if item.problem.status == 409 else "Invalid fields",
                            instance=instance,
                            errors=[
                                {
                                    "field": f"items.{item.index}.{item.problem.field}",
                                    "message": item.problem.message,
                                }
                            ],
                        )
                    ),
                )
            )
        else:
            assert item.application_id is not None
            out.append(
                BatchItemOut(
                    index=item.index,
                    external_id=item.data.external_id,
                    status=201 if item.created else 200,
                    application=answers[item.application_id],
                )
            )
    return ApplicationBatchOut(
        items=out,
        created=sum(1 for item in good if item.created),
        updated=sum(1 for item in good if not item.created),
        failed=len(items) - len(good),
    )


def _bare_row(item: _Item) -> ImportRow:
    """An item without feedback, for the writer's stage and date changes only."""
    data = item.data
    return ImportRow(
        row=item.index,
        email=data.email,
        name=data.name,
        job_id=item.job_id,
        stage=data.stage.value,
        draft=Draft(),
        decided_on=data.decided_on,
    )
