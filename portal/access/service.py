"""Issuing and redeeming emailed links (DESIGN §4.2, §4.8, §6).

A link's token is shown once (in the email) and only its SHA-256 is stored.
Redeeming is one conditional UPDATE, so two clicks racing each other cannot
both succeed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access.models import LANDING, AccessLink, LinkPurpose
from portal.audit import service as audit
from portal.candidates.models import Application, Candidate, Job
from portal.mail import service as mail
from portal.orgs.branding import BRANDING_COLUMNS, Branding, branding_from
from portal.orgs.models import Organization
from portal.security.tokens import new_token, token_digest
from portal.settings import Settings
from portal.urls import absolute_url
from portal.webhooks import service as webhooks

SIGN_IN_LIFETIME = dt.timedelta(minutes=10)
# A candidate is sent at most one sign-in link in this time, however many
# requests name them: within it the last link still works (it lasts twice as
# long and nothing newer revoked it), so dropping a request locks nobody out.
SIGN_IN_RESEND_AFTER = dt.timedelta(minutes=5)
MAX_TOKEN_LENGTH = 100


def link_url(settings: Settings, token: str) -> str:
    return absolute_url(settings, "candidate.link", token=token)


class UnknownApplication(LookupError):
    pass


async def issue_invitation_link(
    db: AsyncSession,
    *,
    application_id: int,
    now: dt.datetime,
    created_by_staff_id: int | None = None,
    purpose: LinkPurpose = LinkPurpose.INVITATION,
) -> str:
    """A new invitation link to an application's feedback; returns the token.

    With `purpose` REPLY or POOL the link is the same kind of link (single use,
    the organization's invitation lifetime) but lands on the conversation or the
    talent-pool panel of the page (`LANDING`)."""
    if purpose == LinkPurpose.SIGN_IN:
        raise ValueError("a sign-in link belongs to no application: issue_sign_in_link")
    row = (
        await db.execute(
            select(Application.candidate_id, Organization.invitation_days)
            .join(Job, Job.id == Application.job_id)
            .join(Organization, Organization.id == Job.organization_id)
            .where(Application.id == application_id)
        )
    ).one_or_none()
    if row is None:
        raise UnknownApplication(application_id)
    token = new_token()
    db.add(
        AccessLink(
            candidate_id=row.candidate_id,
            application_id=application_id,
            purpose=purpose,
            token_hash=token_digest(token),
            created_by_staff_id=created_by_staff_id,
            created_at=now,
            expires_at=now + dt.timedelta(days=row.invitation_days),
        )
    )
    await db.flush()
    return token


async def issue_landing_link(
    db: AsyncSession,
    *,
    application_id: int,
    purpose: LinkPurpose,
    organization_id: int,
    now: dt.datetime,
    staff_id: int | None = None,
) -> str:
    """A link for an email that is not itself about a link (a reply, a talent-pool
    welcome): issued like an invitation, landing where `purpose` says, audited as
    ``link.issued``. The caller puts it in its own email; returns the token."""
    token = await issue_invitation_link(
        db,
        application_id=application_id,
        now=now,
        created_by_staff_id=staff_id,
        purpose=purpose,
    )
    audit.record(
        db,
        action="link.issued",
        actor_kind="staff" if staff_id else "system",
        actor_id=staff_id,
        organization_id=organization_id,
        subject_type="application",
        subject_id=application_id,
        details={"purpose": purpose},
    )
    return token


async def issue_sign_in_link(db: AsyncSession, *, candidate_id: int, now: dt.datetime) -> str:
    """A 10-minute, single-use sign-in link; older unused ones stop working."""
    await db.execute(
        update(AccessLink)
        .where(
            AccessLink.candidate_id == candidate_id,
            AccessLink.purpose == LinkPurpose.SIGN_IN,
            AccessLink.used_at.is_(None),
            AccessLink.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    token = new_token()
    db.add(
        AccessLink(
            candidate_id=candidate_id,
            purpose=LinkPurpose.SIGN_IN,
            token_hash=token_digest(token),
            created_at=now,
            expires_at=now + SIGN_IN_LIFETIME,
        )
    )
    await db.flush()
    return token


@dataclass(frozen=True)
class LinkState:
    """What a link leads to, read without using it (for the page in front of the button)."""

    link_id: int
    purpose: LinkPurpose
    organization_id: int
    branding: Branding
    candidate_id: int
    application_id: int | None
    job_title: str | None  # the application's job, for an invitation
    spent: str | None  # "used", "revoked" or "expired"; None while it works

    @property
    def usable(self) -> bool:
        return self.spent is None

    @property
    def landing(self) -> str:
        """The anchor of the feedback page the link lands on ("" for the top)."""
        return LANDING.get(self.purpose, "")


async def inspect_link(db: AsyncSession, *, token: str, now: dt.datetime) -> LinkState | None:
    """Whose link this is, what it opens and whether it still works; None for a token
    we never issued. Never uses the link (GET and HEAD call this: mail scanners)."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    row = (
        await db.execute(
            select(
                AccessLink.id.label("link_id"),
                AccessLink.purpose,
                Organization.id.label("organization_id"),
                *BRANDING_COLUMNS,
                AccessLink.candidate_id,
                AccessLink.application_id,
                Job.title.label("job_title"),
                AccessLink.used_at,
                AccessLink.revoked_at,
                AccessLink.expires_at,
            )
            .join(Candidate, Candidate.id == AccessLink.candidate_id)
            .join(Organization, Organization.id == Candidate.organization_id)
            .outerjoin(Application, Application.id == AccessLink.application_id)
            .outerjoin(Job, Job.id == Application.job_id)
            .where(AccessLink.token_hash == token_digest(token))
        )
    ).one_or_none()
    if row is None:
        return None
    link = row._mapping
    spent = (
        "used"
        if link["used_at"]
        else "revoked"
        if link["revoked_at"]
        else "expired"
        if link["expires_at"] <= now
        else None
    )
    return LinkState(
        link_id=link["link_id"],
        purpose=link["purpose"],
        organization_id=link["organization_id"],
        branding=branding_from(link),
        candidate_id=link["candidate_id"],
        application_id=link["application_id"],
        job_title=link["job_title"],
        spent=spent,
    )


def record_spent_link(db: AsyncSession, *, link: LinkState | None, ip_hash: str) -> None:
    """Audit an attempt with a link that does not work (None: one we never issued)."""
    if link is None:
        audit.record(db, action="link.unknown", actor_kind="anonymous", ip_hash=ip_hash)
        return
    audit.record(
        db,
        action="link.reused" if link.spent == "used" else "link.rejected",
        actor_kind="anonymous",
        organization_id=link.organization_id,
        subject_type="access_link",
        subject_id=link.link_id,
        ip_hash=ip_hash,
        details={"reason": link.spent, "purpose": link.purpose},
    )


@dataclass(frozen=True)
class RedeemedLink:
    candidate_id: int
    organization_id: int
    application_id: int | None
    purpose: LinkPurpose

    @property
    def landing(self) -> str:
        return LANDING.get(self.purpose, "")


async def redeem_link(
    db: AsyncSession, *, token: str, now: dt.datetime, ip_hash: str
) -> RedeemedLink | None:
    """Use a link once (audited). None for unknown, used, expired or revoked links:
    the caller looks at why (`inspect_link`) and audits that (`record_spent_link`)."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    used = (
        await db.execute(
            update(AccessLink)
            .where(
                AccessLink.token_hash == token_digest(token),
                AccessLink.used_at.is_(None),
                AccessLink.revoked_at.is_(None),
                AccessLink.expires_at > now,
            )
            .values(used_at=now)
            .returning(
                AccessLink.id,
                AccessLink.candidate_id,
                AccessLink.application_id,
                AccessLink.purpose,
            )
        )
    ).one_or_none()
    if used is None:
        return None
    organization_id = await _organization_of(db, used.candidate_id)
    audit.record(
        db,
        action="link.used",
        actor_kind="candidate",
        actor_id=used.candidate_id,
        organization_id=organization_id,
        subject_type="access_link",
        subject_id=used.id,
        ip_hash=ip_hash,
        details={"purpose": used.purpose},
    )
    if used.application_id is not None:
        await webhooks.emit(
            db,
            organization_id=organization_id,
            event_type="feedback.viewed",
            data={
                "application_id": used.application_id,
                "candidate_id": used.candidate_id,
                "link": str(used.purpose),
            },
            now=now,
        )
    return RedeemedLink(
        candidate_id=used.candidate_id,
        organization_id=organization_id,
        application_id=used.application_id,
        purpose=used.purpose,
    )


async def _organization_of(db: AsyncSession, candidate_id: int) -> int:
    return (
        await db.execute(select(Candidate.organization_id).where(Candidate.id == candidate_id))
    ).scalar_one()


# --- sign-in requests, answered by the worker (see portal/access/jobs.py) -----


async def answer_sign_in_request(
    db: AsyncSession, *, email: str, settings: Settings, now: dt.datetime
) -> None:
    """Email a sign-in link from every organization that knows the address."""
    email = email.strip().lower()
    candidates = (
        (await db.execute(select(Candidate.id).where(Candidate.email == email))).scalars().all()
    )
    for candidate_id in candidates:
        await _send_sign_in_link(db, candidate_id=candidate_id, settings=settings, now=now)


async def answer_fresh_link_request(
    db: AsyncSession, *, token_hash: str, settings: Settings, now: dt.datetime
) -> None:
    try:
        digest = bytes.fromhex(token_hash)
    except ValueError:
        return
    candidate_id = (
        await db.execute(select(AccessLink.candidate_id).where(AccessLink.token_hash == digest))
    ).scalar_one_or_none()
    if candidate_id is not None:
        await _send_sign_in_link(db, candidate_id=candidate_id, settings=settings, now=now)


async def _send_sign_in_link(
    db: AsyncSession, *, candidate_id: int, settings: Settings, now: dt.datetime
) -> None:
    # The row lock (PostgreSQL) makes workers answering requests for the same
    # candidate take turns, so the check below sees the other's link.
    candidate = (
        await db.execute(
            select(Candidate.email, Candidate.name, Candidate.organization_id)
            .where(Candidate.id == candidate_id)
            .with_for_update()
        )
    ).one()
    if await _has_recent_sign_in_link(db, candidate_id=candidate_id, now=now):
        return
    token = await issue_sign_in_link(db, candidate_id=candidate_id, now=now)
    await _email_link(
        db,
        settings=settings,
        token=token,
        purpose=LinkPurpose.SIGN_IN,
        to_address=candidate.email,
        organization_id=candidate.organization_id,
        context={
            "name": candidate.name,
            "minutes": int(SIGN_IN_LIFETIME.total_seconds() // 60),
        },
        now=now,
        subject_type="candidate",
        subject_id=candidate_id,
    )


async def _email_link(
    db: AsyncSession,
    *,
    settings: Settings,
    token: str,
    purpose: LinkPurpose,
    to_address: str,
    organization_id: int,
    context: dict[str, Any],
    now: dt.datetime,
    subject_type: str,
    subject_id: int,
    staff_id: int | None = None,
    details: dict[str, Any] | None = None,
    ip_hash: str | None = None,
) -> None:
    """Queue the email that carries a new link (template = purpose), and audit the issue.

    Each link is its own event, so the idempotency key is the link's.
    """
    await mail.enqueue_email(
        db,
        settings=settings,
        to_address=to_address,
        template=purpose,
        organization_id=organization_id,
        idempotency_key=f"{purpose}:{token_digest(token).hex()}",
        context=context,
        link=link_url(settings, token),
        now=now,
    )
    audit.record(
        db,
        action="link.issued",
        actor_kind="staff" if staff_id else "system",
        actor_id=staff_id,
        organization_id=organization_id,
        subject_type=subject_type,
        subject_id=subject_id,
        ip_hash=ip_hash,
        details={"purpose": purpose, **(details or {})},
    )


async def _has_recent_sign_in_link(
    db: AsyncSession, *, candidate_id: int, now: dt.datetime
) -> bool:
    recent = await db.scalar(
        select(AccessLink.id)
        .where(
            AccessLink.candidate_id == candidate_id,
            AccessLink.purpose == LinkPurpose.SIGN_IN,
            AccessLink.used_at.is_(None),
            AccessLink.revoked_at.is_(None),
            AccessLink.created_at > now - SIGN_IN_RESEND_AFTER,
        )
        .limit(1)
    )
    return recent is not None


async def send_invitation(
    db: AsyncSession,
    *,
    application_id: int,
    settings: Settings,
    now: dt.datetime,
    created_by_staff_id: int | None = None,
    ip_hash: str | None = None,
) -> str:
    """Issue a fresh invitation link and queue the invitation email with it.

    Used when feedback is published and for every re-send; each send is its own
    event (its own link), audited with the client's `ip_hash` when a person asked.
    """
    token = await issue_invitation_link(
        db, application_id=application_id, now=now, created_by_staff_id=created_by_staff_id
    )
    row = (
        await db.execute(
            select(
                Candidate.id.label("candidate_id"),
                Candidate.email,
                Candidate.name,
                Job.title.label("job_title"),
                Organization.id.label("organization_id"),
                Organization.invitation_days,
                Organization.reply_promise_days,
            )
            .join(Application, Application.candidate_id == Candidate.id)
            .join(Job, Job.id == Application.job_id)
            .join(Organization, Organization.id == Job.organization_id)
            .where(Application.id == application_id)
        )
    ).one()
    await _email_link(
        db,
        settings=settings,
        token=token,
        purpose=LinkPurpose.INVITATION,
        to_address=row.email,
        organization_id=row.organization_id,
        context={
            "name": row.name,
            "job_title": row.job_title,
            "link_days": row.invitation_days,
            "reply_promise_days": row.reply_promise_days,
            # The invitation promises answers only where candidates can ask.
            "can_ask_questions": False,
        },
        now=now,
        subject_type="application",
        subject_id=application_id,
        staff_id=created_by_staff_id,
        details={"candidate_id": row.candidate_id},
        ip_hash=ip_hash,
    )
    return token
