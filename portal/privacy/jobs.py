"""The privacy domain's jobs: building an export (`privacy.export`), and the daily
retention run (`privacy.retention`), which also forgets expired legal holds."""

from __future__ import annotations

import datetime as dt
import json
import logging

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit.service import record
from portal.candidates.models import Candidate
from portal.formats import long_date
from portal.jobs.registry import JobContext, JobKind, registry
from portal.mail.service import enqueue_email
from portal.privacy import retention
from portal.privacy.export import build_export
from portal.privacy.models import DataRequest
from portal.security.tokens import new_token, seal, token_digest
from portal.settings import Settings
from portal.urls import absolute_url

log = logging.getLogger(__name__)

EXPORT_LINK_LIFETIME = dt.timedelta(days=7)


class ExportPayload(BaseModel):
    request_id: int


async def produce_export(
    db: AsyncSession, *, request_id: int, settings: Settings, now: dt.datetime
) -> bool:
    """Build the export of a request, keep it sealed and email the one-time link.
    Safe to run twice: a request already answered is left alone. False when there is
    nothing to do (answered, or the candidate was erased meanwhile)."""
    request = await db.get(DataRequest, request_id)
    if request is None or request.answered_at is not None or request.candidate_id is None:
        return False
    document = await build_export(
        db, organization_id=request.organization_id, candidate_id=request.candidate_id, now=now
    )
    if document is None:
        return False
    candidate = await db.get(Candidate, request.candidate_id)
    assert candidate is not None
    secret = settings.secret_key.get_secret_value()
    token = new_token()
    request.export_sealed = seal(secret, json.dumps(document, ensure_ascii=False))
    request.token_hash = token_digest(token)
    request.token_expires_at = now + EXPORT_LINK_LIFETIME
    request.answered_at = now
    await enqueue_email(
        db,
        settings=settings,
        to_address=candidate.email,
        template="data_export",
        context={"name": candidate.name, "expires_on": long_date(request.token_expires_at)},
        idempotency_key=f"privacy.export_sent:{request.id}",
        now=now,
        organization_id=request.organization_id,
        link=absolute_url(settings, "privacy.download", token=token),
    )
    record(
        db,
        action="privacy.export_sent",
        actor_kind="system",
        organization_id=request.organization_id,
        subject_type="candidate",
        subject_id=request.candidate_id,
        details={"request_id": request.id},
    )
    return True


async def _run_export(db: AsyncSession, payload: ExportPayload, context: JobContext) -> None:
    await produce_export(
        db, request_id=payload.request_id, settings=context.settings, now=context.now
    )


EXPORT = registry.add(JobKind("privacy.export", ExportPayload, run=_run_export))


class Retention(BaseModel):
    pass


async def _run_retention(db: AsyncSession, _: Retention, context: JobContext) -> None:
    erased, holds = await retention.run_retention(db, settings=context.settings, now=context.now)
    if erased or holds:
        log.info("retention: %d candidates erased, %d legal holds ended", erased, holds)


RETENTION = registry.add(
    JobKind("privacy.retention", Retention, run=_run_retention, every=dt.timedelta(days=1))
)
