"""Erasing a candidate: every personal datum of theirs in one organization goes, and
only a legal hold stays (that an application existed, its job, when it was decided
and when it was erased) until the organization's legal-hold period ends.

What goes: the candidate row, and by the database's cascades everything hanging from
it (applications, feedback, threads and messages, notes, pool memberships with their
consent records and contacts, links, sessions, kept forms, blocks); the email to
them, sent or waiting, and its copy in the mail directory; their name, address and
words wherever else they appear (audit details, staff notifications); their
exports waiting to be downloaded. Another organization's data of the same person is
a different candidate row and is not touched.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, case, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.api.models import ApiKey, IdempotentRequest
from portal.ats.models import AtsEvent, AtsEventState
from portal.audit.models import AuditEvent
from portal.audit.service import record
from portal.candidates.models import Application, Candidate
from portal.formats import long_date
from portal.imports.models import ImportUpload
from portal.jobs.models import BackgroundJob
from portal.mail.backends import FileMailBackend
from portal.mail.jobs import MAIL_SEND
from portal.mail.service import enqueue_email
from portal.orgs.models import Organization
from portal.pool.panel import add_months
from portal.privacy.export import mail_to_candidate, whose
from portal.privacy.models import DataRequest, ErasureCause, LegalHold
from portal.settings import Settings
from portal.survey.models import SurveyAnswer
from portal.survey.service import answer_key
from portal.threads.models import AuthorKind, Message
from portal.webhooks.service import emit

log = logging.getLogger(__name__)

ERASED = "[erased]"
# An ATS event's body once its candidate is erased (the event itself stays: see below).
ERASED_EVENT_BODY = '{"erased": true}'
# Shorter words than these are too common to cut out of other people's text.
MIN_NAME = 3
MIN_TEXT = 8


@dataclass(frozen=True)
class Erasure:
    """What an erasure did, for whatever must follow it (see `after_erasure`)."""

    organization_id: int
    candidate_id: int
    application_ids: tuple[int, ...]
    legal_hold_ids: tuple[int, ...]
    cause: ErasureCause
    at: dt.datetime


def _scrubbed(value: Any, needles: Iterable[str]) -> Any:
    """`value` (a JSON structure) with every needle replaced by ERASED."""
    if isinstance(value, str):
        for needle in needles:
            value = value.replace(needle, ERASED)
        return value
    if isinstance(value, list):
        return [_scrubbed(item, needles) for item in value]
    if isinstance(value, dict):
        return {key: _scrubbed(item, needles) for key, item in value.items()}
    return value


def _json_forms(needle: str) -> list[str]:
    # JSON columns hold the text as JSON wrote it: non-ASCII letters as \\u escapes.
    encoded = json.dumps(needle)[1:-1]
    return [needle] if encoded == needle else [needle, encoded]


async def _needles(
    db: AsyncSession, *, name: str, email: str, thread_ids: tuple[int, ...]
) -> list[str]:
    needles = [email]
    if len(name.strip()) >= MIN_NAME:
        needles.append(name.strip())
    if thread_ids:
        bodies = await db.scalars(
            select(Message.body).where(
                Message.thread_id.in_(thread_ids), Message.author_kind == AuthorKind.CANDIDATE
            )
        )
        needles += [body.strip() for body in bodies if len(body.strip()) >= MIN_TEXT]
    # Longest first, so that a name inside a question goes with the question.
    return sorted(set(needles), key=len, reverse=True)


async def _scrub_json_column(
    db: AsyncSession, column: Any, key: Any, where: Any, needles: list[str]
) -> None:
    """Cut the needles out of a JSON column wherever one of them appears."""
    patterns = [form for needle in needles for form in _json_forms(needle)]
    rows = (
        await db.execute(
            select(key, column).where(
                where, or_(*[cast(column, String).contains(p, autoescape=True) for p in patterns])
            )
        )
    ).all()
    table = column.class_
    for row_key, value in rows:
        await db.execute(
            update(table).where(key == row_key).values({column.key: _scrubbed(value, needles)})
        )


async def erase_candidate(
    db: AsyncSession,
    *,
    organization_id: int,
    candidate_id: int,
    cause: ErasureCause,
    settings: Settings,
    now: dt.datetime,
    actor_kind: str,
    actor_id: int | None = None,
    reason: str | None = None,
    notify: bool = True,
) -> Erasure | None:
    """Erase the candidate (None if not of this organization). `notify` emails them the
    `erasure_confirmation` once it is done (not for retention, which they did not ask for)."""
    found = await whose(db, organization_id=organization_id, candidate_id=candidate_id)
    if found is None:
        return None
    candidate = (
        await db.execute(
            select(Candidate.name, Candidate.email).where(Candidate.id == candidate_id)
        )
    ).one()
    hold_months = await db.scalar(
        select(Organization.legal_hold_months).where(Organization.id == organization_id)
    )
    keep_until = add_months(now, hold_months or 12)
    applications = (
        await db.execute(
            select(Application.job_id, Application.decided_at)
            .where(Application.candidate_id == candidate_id)
            .order_by(Application.id)
        )
    ).all()
    holds = [
        LegalHold(
            organization_id=organization_id,
            job_id=row.job_id,
            decided_at=row.decided_at,
            erased_at=now,
            cause=cause,
            keep_until=keep_until,
        )
        for row in applications
    ]
    db.add_all(holds)
    needles = await _needles(
        db, name=candidate.name, email=candidate.email, thread_ids=found.thread_ids
    )

    # Email to them, sent or waiting, and the copies the file backend wrote.
    mail_ids = list(
        (
            await db.scalars(
                select(BackgroundJob.id).where(*mail_to_candidate(organization_id, candidate.email))
            )
        ).all()
    )
    if mail_ids:
        await db.execute(delete(BackgroundJob).where(BackgroundJob.id.in_(mail_ids)))
    if not settings.smtp_url:
        # The development backend's copies: theirs, and the organization's others
        # that name them (a question's notice to staff).
        files = FileMailBackend(settings.mail_path)
        files.forget(mail_ids)
        others = await db.scalars(
            select(BackgroundJob.id).where(
                BackgroundJob.kind == MAIL_SEND.name,
                BackgroundJob.payload["organization_id"].as_integer() == organization_id,
            )
        )
        files.forget(others.all(), mentioning=needles)
    # Their name and words in the organization's other email (a question's notice to
    # staff), in what a CSV check reported, and in the audit trail's details.
    await _scrub_json_column(
        db,
        BackgroundJob.payload,
        BackgroundJob.id,
        BackgroundJob.kind == MAIL_SEND.name,
        needles,
    )
    await _scrub_json_column(
        db,
        ImportUpload.problems,
        ImportUpload.id,
        ImportUpload.organization_id == organization_id,
        needles,
    )
    await _scrub_json_column(
        db,
        AuditEvent.details,
        AuditEvent.id,
        AuditEvent.organization_id == organization_id,
        needles,
    )
    # What their ATS sent about them (its raw body names them): the record that the
    # event arrived stays, so that the ATS sending it again still counts as a replay.
    patterns = [form for needle in needles for form in _json_forms(needle)]
    await db.execute(
        update(AtsEvent)
        .where(
            AtsEvent.organization_id == organization_id,
            or_(
                AtsEvent.application_id.in_(found.application_ids),
                *[AtsEvent.body.contains(p, autoescape=True) for p in patterns],
            ),
        )
        .values(
            body=ERASED_EVENT_BODY,
            application_id=None,
            # One still waiting (for its job's mapping) has nothing left to make.
            state=case(
                (
                    AtsEvent.state.in_([AtsEventState.RECEIVED, AtsEventState.WAITING]),
                    AtsEventState.IGNORED,
                ),
                else_=AtsEvent.state,
            ),
        )
    )
    # Their answers to "Was this helpful?", found by the keyed hash of each application.
    secret = settings.secret_key.get_secret_value()
    await db.execute(
        delete(SurveyAnswer).where(
            SurveyAnswer.answer_key.in_(
                [answer_key(secret, application_id) for application_id in found.application_ids]
            )
        )
    )
    # The API's answers kept for its clients' retries (a day at most) that name them.
    await _scrub_json_column(
        db,
        IdempotentRequest.body,
        IdempotentRequest.id,
        IdempotentRequest.api_key_id.in_(
            select(ApiKey.id).where(ApiKey.organization_id == organization_id)
        ),
        needles,
    )
    # Their requests stay in the log without them; exports waiting go.
    requests = (
        await db.scalars(select(DataRequest).where(DataRequest.candidate_id == candidate_id))
    ).all()
    for request in requests:
        request.candidate_id = None
        request.export_sealed = None
        request.token_hash = None
        if request.reason:
            request.reason = _scrubbed(request.reason, needles)
        if request.answered_at is None:
            request.answered_at = now
    # The candidate and everything that hangs from them (ON DELETE CASCADE).
    await db.execute(delete(Candidate).where(Candidate.id == candidate_id))
    await db.flush()
    erasure = Erasure(
        organization_id=organization_id,
        candidate_id=candidate_id,
        application_ids=found.application_ids,
        legal_hold_ids=tuple(hold.id for hold in holds),
        cause=cause,
        at=now,
    )
    record(
        db,
        action="privacy.erased",
        actor_kind=actor_kind,
        actor_id=actor_id,
        organization_id=organization_id,
        subject_type="candidate",
        subject_id=candidate_id,
        details={
            "cause": cause.value,
            "applications": len(holds),
            **({"reason": _scrubbed(reason, needles)} if reason else {}),
        },
    )
    if notify:
        await enqueue_email(
            db,
            settings=settings,
            to_address=candidate.email,
            template="erasure_confirmation",
            context={"name": candidate.name, "erased_on": long_date(now)},
            idempotency_key=f"privacy.erased:{organization_id}:{candidate_id}",
            now=now,
            organization_id=organization_id,
            forget_recipient=True,
        )
    await after_erasure(db, erasure)
    return erasure


async def after_erasure(db: AsyncSession, erasure: Erasure) -> None:
    """What follows every erasure, in the erasure's own transaction (so it happens if and
    only if the erasure commits): the one place to tell other systems, today the
    organization's webhook endpoints (`candidate.erased`, with ids only)."""
    await emit(
        db,
        organization_id=erasure.organization_id,
        event_type="candidate.erased",
        data={
            "candidate_id": erasure.candidate_id,
            "application_ids": list(erasure.application_ids),
            "cause": erasure.cause.value,
            "erased_at": erasure.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        },
        now=erasure.at,
    )
    log.info(
        "erased candidate %d of organization %d (%s)",
        erasure.candidate_id,
        erasure.organization_id,
        erasure.cause.value,
    )


async def forget_expired(db: AsyncSession, *, now: dt.datetime) -> tuple[int, int]:
    """Drop legal holds past their period, and exports not downloaded in time.
    Returns (holds dropped, exports dropped)."""
    holds = await db.execute(delete(LegalHold).where(LegalHold.keep_until <= now))
    exports = await db.execute(
        update(DataRequest)
        .where(DataRequest.export_sealed.is_not(None), DataRequest.token_expires_at <= now)
        .values(export_sealed=None)
    )
    return holds.rowcount or 0, exports.rowcount or 0  # type: ignore[attr-defined]
