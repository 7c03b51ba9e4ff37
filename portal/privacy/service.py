"""Data requests: a candidate (or staff on their written request) asks for their data
or for its erasure; the log of requests with their one-month deadline (GDPR art. 12(3)).

An export is produced by a job (`privacy.export`) and offered as a one-time link
by email. An erasure asked for on the candidate's page waits for the candidate to
open the link emailed to them: the mailbox proves who they are, as for signing in.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal import concurrency
from portal.audit.service import record
from portal.candidates.models import Application, Candidate
from portal.jobs import service as jobs
from portal.mail.service import enqueue_email
from portal.orgs.branding import BRANDING_COLUMNS, Branding, branding_from
from portal.orgs.models import Organization
from portal.pool.panel import add_months
from portal.privacy.erasure import Erasure, erase_candidate
from portal.privacy.jobs import EXPORT, ExportPayload
from portal.privacy.models import DataRequest, ErasureCause, RequestKind, RequestSource
from portal.security.actors import Candidate as CandidateActor
from portal.security.actors import Staff
from portal.security.tokens import new_token, token_digest, unseal
from portal.settings import Settings
from portal.staff.models import StaffUser
from portal.urls import absolute_url

ERASURE_LINK_LIFETIME_HOURS = 24
ERASURE_LINK_LIFETIME = dt.timedelta(hours=ERASURE_LINK_LIFETIME_HOURS)
# A second request within this time reuses the first (one email, not one per click).
REPEAT_WINDOW = dt.timedelta(minutes=15)
MAX_TOKEN_LENGTH = 100
# GDPR art. 12(3): an answer within one month of the request.
DEADLINE_MONTHS = 1


class NotFound(Exception):
    """No such candidate in the actor's organization."""


def due_on(requested_at: dt.datetime) -> dt.datetime:
    return add_months(requested_at, DEADLINE_MONTHS)


async def _recent(
    db: AsyncSession, *, candidate_id: int, kind: RequestKind, now: dt.datetime
) -> DataRequest | None:
    return await db.scalar(
        select(DataRequest)
        .where(
            DataRequest.candidate_id == candidate_id,
            DataRequest.kind == kind,
            DataRequest.source == RequestSource.CANDIDATE,
            DataRequest.requested_at > now - REPEAT_WINDOW,
            DataRequest.token_used_at.is_(None),
        )
        .order_by(DataRequest.id.desc())
        .limit(1)
    )


async def _export(
    db: AsyncSession,
    *,
    organization_id: int,
    candidate_id: int,
    source: RequestSource,
    now: dt.datetime,
    staff_id: int | None = None,
    reason: str | None = None,
) -> DataRequest:
    request = DataRequest(
        organization_id=organization_id,
        candidate_id=candidate_id,
        kind=RequestKind.EXPORT,
        source=source,
        staff_user_id=staff_id,
        reason=reason,
        requested_at=now,
    )
    db.add(request)
    await db.flush()
    await jobs.enqueue(
        db,
        EXPORT,
        ExportPayload(request_id=request.id),
        run_at=now,
        idempotency_key=f"privacy.export:{request.id}",
    )
    record(
        db,
        action="privacy.export_requested",
        actor_kind="staff" if staff_id else "candidate",
        actor_id=staff_id or candidate_id,
        organization_id=organization_id,
        subject_type="candidate",
        subject_id=candidate_id,
        details={"request_id": request.id},
    )
    return request


async def request_export(db: AsyncSession, *, actor: CandidateActor, now: dt.datetime) -> None:
    """The candidate asks for their data: a job builds it and emails a one-time link."""
    if await _recent(db, candidate_id=actor.candidate_id, kind=RequestKind.EXPORT, now=now):
        return
    await _export(
        db,
        organization_id=actor.organization_id,
        candidate_id=actor.candidate_id,
        source=RequestSource.CANDIDATE,
        now=now,
    )


async def export_for_candidate(
    db: AsyncSession, *, actor: Staff, candidate_id: int, reason: str, now: dt.datetime
) -> None:
    """Staff produce a candidate's export on their behalf: it is emailed to the candidate."""
    if not await _candidate_of(db, actor=actor, candidate_id=candidate_id):
        raise NotFound
    await _export(
        db,
        organization_id=actor.organization_id,
        candidate_id=candidate_id,
        source=RequestSource.STAFF,
        now=now,
        staff_id=actor.staff_id,
        reason=reason,
    )


async def _candidate_of(db: AsyncSession, *, actor: Staff, candidate_id: int) -> bool:
    found = await db.scalar(
        select(Candidate.id).where(
            Candidate.id == candidate_id, Candidate.organization_id == actor.organization_id
        )
    )
    return found is not None


@dataclass(frozen=True)
class TokenPage:
    """What a one-time link leads to, read without using it (GET: mail scanners)."""

    request_id: int
    kind: RequestKind
    branding: Branding
    spent: str | None  # "used" or "expired"; None while it works


async def inspect_token(
    db: AsyncSession, *, token: str, kind: RequestKind, now: dt.datetime
) -> TokenPage | None:
    """None for a token we never issued for this kind (or whose candidate is erased)."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    row = (
        await db.execute(
            select(
                DataRequest.id,
                DataRequest.token_expires_at,
                DataRequest.token_used_at,
                *BRANDING_COLUMNS,
            )
            .join(Organization, Organization.id == DataRequest.organization_id)
            .where(
                DataRequest.token_hash == token_digest(token),
                DataRequest.kind == kind,
                DataRequest.candidate_id.is_not(None),
            )
        )
    ).one_or_none()
    if row is None:
        return None
    spent = None
    if row.token_used_at is not None:
        spent = "used"
    elif row.token_expires_at is None or row.token_expires_at <= now:
        spent = "expired"
    return TokenPage(row.id, kind, branding_from(row._mapping), spent)


async def _use_token(
    db: AsyncSession, *, token: str, kind: RequestKind, now: dt.datetime
) -> DataRequest | None:
    """The request of a working token, marked used (one use: a second call finds none).
    One conditional UPDATE, so that two presses at once cannot both win."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    used = await db.execute(
        update(DataRequest)
        .where(
            DataRequest.token_hash == token_digest(token),
            DataRequest.kind == kind,
            DataRequest.candidate_id.is_not(None),
            DataRequest.token_used_at.is_(None),
            DataRequest.token_expires_at > now,
        )
        .values(token_used_at=now)
        .returning(DataRequest.id)
    )
    request_id = used.scalar_one_or_none()
    if request_id is None:
        return None
    return await db.get(DataRequest, request_id, populate_existing=True)


async def take_export(
    db: AsyncSession, *, token: str, settings: Settings, now: dt.datetime, ip_hash: str | None
) -> tuple[dict[str, object], Branding] | None:
    """The export behind a working one-time link, taken: the link and the stored copy
    are gone afterwards. None when the link does not work."""
    request = await _use_token(db, token=token, kind=RequestKind.EXPORT, now=now)
    if request is None or request.export_sealed is None:
        return None
    document = json.loads(unseal(settings.secret_key.get_secret_value(), request.export_sealed))
    request.export_sealed = None
    record(
        db,
        action="privacy.export_downloaded",
        actor_kind="anonymous",
        organization_id=request.organization_id,
        subject_type="candidate",
        subject_id=request.candidate_id,
        ip_hash=ip_hash,
        details={"request_id": request.id},
    )
    branding = branding_from(
        (
            await db.execute(
                select(*BRANDING_COLUMNS).where(Organization.id == request.organization_id)
            )
        )
        .one()
        ._mapping
    )
    return document, branding


async def request_erasure(
    db: AsyncSession, *, actor: CandidateActor, settings: Settings, now: dt.datetime
) -> None:
    """The candidate asks to be erased: a one-time confirmation link goes to their
    address; nothing is erased until it is opened and confirmed."""
    request = await _recent(db, candidate_id=actor.candidate_id, kind=RequestKind.ERASURE, now=now)
    if request is not None:
        return
    candidate = await db.get(Candidate, actor.candidate_id)
    assert candidate is not None
    token = new_token()
    request = DataRequest(
        organization_id=actor.organization_id,
        candidate_id=actor.candidate_id,
        kind=RequestKind.ERASURE,
        source=RequestSource.CANDIDATE,
        requested_at=now,
        token_hash=token_digest(token),
        token_expires_at=now + ERASURE_LINK_LIFETIME,
    )
    db.add(request)
    await db.flush()
    await enqueue_email(
        db,
        settings=settings,
        to_address=candidate.email,
        template="erasure_request",
        context={"name": candidate.name, "hours": ERASURE_LINK_LIFETIME_HOURS},
        idempotency_key=f"privacy.erasure_request:{request.id}",
        now=now,
        organization_id=actor.organization_id,
        link=absolute_url(settings, "privacy.erase", token=token),
    )
    record(
        db,
        action="privacy.erasure_requested",
        actor_kind="candidate",
        actor_id=actor.candidate_id,
        organization_id=actor.organization_id,
        subject_type="candidate",
        subject_id=actor.candidate_id,
        details={"request_id": request.id},
    )


async def confirm_erasure(
    db: AsyncSession, *, token: str, settings: Settings, now: dt.datetime
) -> tuple[Branding, Erasure] | None:
    """Erase the candidate whose confirmation link this is; the organization's branding
    for the page that says so and what was erased, or None when the link does not work."""
    request = await _use_token(db, token=token, kind=RequestKind.ERASURE, now=now)
    if request is None or request.candidate_id is None:
        return None
    request.answered_at = now
    organization_id, candidate_id = request.organization_id, request.candidate_id
    branding = branding_from(
        (await db.execute(select(*BRANDING_COLUMNS).where(Organization.id == organization_id)))
        .one()
        ._mapping
    )
    erasure = await erase_candidate(
        db,
        organization_id=organization_id,
        candidate_id=candidate_id,
        cause=ErasureCause.CANDIDATE,
        settings=settings,
        now=now,
        actor_kind="candidate",
        actor_id=candidate_id,
    )
    assert erasure is not None
    return branding, erasure


async def erase_on_request(
    db: AsyncSession,
    *,
    actor: Staff,
    candidate_id: int,
    reason: str,
    settings: Settings,
    now: dt.datetime,
) -> Erasure:
    """Staff erase a candidate on their written request (`reason` says which)."""
    if not await _candidate_of(db, actor=actor, candidate_id=candidate_id):
        raise NotFound
    request = DataRequest(
        organization_id=actor.organization_id,
        candidate_id=candidate_id,
        kind=RequestKind.ERASURE,
        source=RequestSource.STAFF,
        staff_user_id=actor.staff_id,
        reason=reason,
        requested_at=now,
        answered_at=now,
    )
    db.add(request)
    await db.flush()
    erasure = await erase_candidate(
        db,
        organization_id=actor.organization_id,
        candidate_id=candidate_id,
        cause=ErasureCause.STAFF,
        settings=settings,
        now=now,
        actor_kind="staff",
        actor_id=actor.staff_id,
        reason=reason,
    )
    assert erasure is not None
    return erasure


@dataclass(frozen=True)
class LoggedRequest:
    id: int
    kind: RequestKind
    source: RequestSource
    candidate_id: int | None
    candidate_name: str | None  # None once erased
    staff_name: str | None
    reason: str | None
    requested_at: dt.datetime
    answered_at: dt.datetime | None
    due_at: dt.datetime
    unconfirmed: bool  # an erasure whose emailed confirmation was never used

    def overdue(self, now: dt.datetime) -> bool:
        return self.answered_at is None and not self.unconfirmed and now > self.due_at


PAGE_SIZE = 50


async def request_log(
    db: AsyncSession, *, actor: Staff, page: int, now: dt.datetime
) -> tuple[list[LoggedRequest], int]:
    """The organization's data requests, newest first, a page at a time; and the total."""
    total = await db.scalar(
        select(func.count())
        .select_from(DataRequest)
        .where(DataRequest.organization_id == actor.organization_id)
    )
    rows = await db.execute(
        select(
            DataRequest.id,
            DataRequest.kind,
            DataRequest.source,
            DataRequest.candidate_id,
            Candidate.name.label("candidate_name"),
            StaffUser.name.label("staff_name"),
            DataRequest.reason,
            DataRequest.requested_at,
            DataRequest.answered_at,
            DataRequest.token_expires_at,
        )
        .outerjoin(Candidate, Candidate.id == DataRequest.candidate_id)
        .outerjoin(StaffUser, StaffUser.id == DataRequest.staff_user_id)
        .where(DataRequest.organization_id == actor.organization_id)
        .order_by(DataRequest.requested_at.desc(), DataRequest.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return [
        LoggedRequest(
            id=row.id,
            kind=row.kind,
            source=row.source,
            candidate_id=row.candidate_id,
            candidate_name=row.candidate_name,
            staff_name=row.staff_name,
            reason=row.reason,
            requested_at=row.requested_at,
            answered_at=row.answered_at,
            due_at=due_on(row.requested_at),
            unconfirmed=(
                row.kind == RequestKind.ERASURE
                and row.answered_at is None
                and row.token_expires_at is not None
                and row.token_expires_at <= now
            ),
        )
        for row in rows
    ], total or 0


@dataclass(frozen=True)
class RetentionSettings:
    retention_months: int
    legal_hold_months: int
    version: int


async def retention_settings(db: AsyncSession, *, actor: Staff) -> RetentionSettings:
    row = (
        await db.execute(
            select(
                Organization.retention_months,
                Organization.legal_hold_months,
                Organization.version,
            ).where(Organization.id == actor.organization_id)
        )
    ).one()
    return RetentionSettings(**row._mapping)


async def update_retention(
    db: AsyncSession,
    *,
    actor: Staff,
    retention_months: int,
    legal_hold_months: int,
    version: int,
    ip_hash: str | None,
) -> None:
    """Save the organization's retention periods (audited); `Conflict` if someone saved
    in between."""
    org = await db.get(Organization, actor.organization_id, populate_existing=True)
    assert org is not None
    concurrency.expect_version(org, version)
    before = {"retention_months": org.retention_months, "legal_hold_months": org.legal_hold_months}
    org.retention_months = retention_months
    org.legal_hold_months = legal_hold_months
    await concurrency.flush(db)
    record(
        db,
        action="privacy.retention_changed",
        actor_kind="staff",
        actor_id=actor.staff_id,
        organization_id=actor.organization_id,
        subject_type="organization",
        subject_id=actor.organization_id,
        ip_hash=ip_hash,
        details={
            "before": before,
            "after": {"retention_months": retention_months, "legal_hold_months": legal_hold_months},
        },
    )


@dataclass(frozen=True)
class CandidateSummary:
    candidate_id: int
    name: str
    email: str
    applications: int


async def candidate_summary(
    db: AsyncSession, *, actor: Staff, candidate_id: int
) -> CandidateSummary | None:
    """A candidate of the actor's organization, for the page that acts on their request."""
    row = (
        await db.execute(
            select(
                Candidate.id.label("candidate_id"),
                Candidate.name,
                Candidate.email,
                select(func.count())
                .select_from(Application)
                .where(Application.candidate_id == Candidate.id)
                .correlate(Candidate)
                .scalar_subquery()
                .label("applications"),
            ).where(
                Candidate.id == candidate_id, Candidate.organization_id == actor.organization_id
            )
        )
    ).one_or_none()
    return None if row is None else CandidateSummary(**row._mapping)
