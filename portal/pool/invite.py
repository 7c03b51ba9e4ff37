"""Inviting pool members to apply for a job, within the limits each of them chose.

A member who asked for at most one message a month (or a quarter) is skipped
until then, with the date they may next be contacted; a member who asked only
about matching roles is skipped unless the role is one of the kinds they
chose; nobody is invited twice to the same job. The checks are repeated at send
time, so two recruiters sending at once cannot both reach the same member: the
database keeps one contact per member and job (a unique constraint; the second
sender's insert does nothing and that member is skipped), and a conditional
update claims the member's contact frequency.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.candidates.models import Job
from portal.formats import long_date
from portal.mail.service import enqueue_email, render_email, sender_for
from portal.pool.forms import ROLE_FAMILIES, InviteForm
from portal.pool.models import ContactFrequency, PoolContact, PoolMembership, PoolState
from portal.pool.search import CONTACT_GAP, MemberRow, members_by_id
from portal.pool.tokens import LinkPurpose, leave_url, member_token
from portal.security.actors import Staff
from portal.settings import Settings

# Shown in the preview where each member's own leave link will be.
LEAVE_PLACEHOLDER = "(each member's own one-click leave link)"
ALREADY_INVITED = "Already invited to this job."
INVITED_MEANWHILE = "Invited to this job by a colleague a moment ago."
CONTACTED_MEANWHILE = "Contacted by a colleague a moment ago."


@dataclass(frozen=True)
class Skipped:
    member: MemberRow
    reason: str
    next_at: dt.datetime | None = None


@dataclass
class InvitePlan:
    job_id: int
    job_title: str
    job_location: str
    send: list[MemberRow] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    subject: str = ""
    text: str = ""
    sent: int = 0


async def _job(db: AsyncSession, *, actor: Staff, job_id: int) -> Job | None:
    return await db.scalar(
        select(Job).where(Job.id == job_id, Job.organization_id == actor.organization_id)
    )


def _context(member_name: str, job: Job, form: InviteForm, leave: str) -> dict[str, object]:
    return {
        "name": member_name,
        "job_title": job.title,
        "job_location": job.location,
        "message": form.message,
        "apply_url": form.apply_url,
        "leave_url": leave,
    }


async def plan(
    db: AsyncSession, *, actor: Staff, form: InviteForm, settings: Settings, now: dt.datetime
) -> InvitePlan | None:
    """Who would be invited and who skipped (and why), and the email as the first
    of them would read it. None when the job is not one of the organization's."""
    job = await _job(db, actor=actor, job_id=form.job_id)
    if job is None:
        return None
    members = await members_by_id(db, actor=actor, membership_ids=form.member_ids, now=now)
    invited = set(
        (
            await db.scalars(
                select(PoolContact.membership_id).where(
                    PoolContact.job_id == job.id,
                    PoolContact.membership_id.in_([m.membership_id for m in members]),
                )
            )
        ).all()
    )
    result = InvitePlan(job.id, job.title, job.location)
    family = ROLE_FAMILIES.get(form.role_family, "")
    for member in members:
        next_at = member.next_contact_at
        if member.membership_id in invited:
            result.skipped.append(Skipped(member, ALREADY_INVITED))
        elif next_at is not None and next_at > now:
            result.skipped.append(
                Skipped(member, f"Contacted on {long_date(member.last_contacted_at)}.", next_at)
            )
        elif member.which_roles == "chosen" and form.role_family not in member.role_families:
            wanted = ", ".join(member.role_family_labels)
            result.skipped.append(
                Skipped(member, f"Only wants roles in {wanted}; this is {family}.")
            )
        else:
            result.send.append(member)
    sample = result.send[0].name if result.send else "(member's name)"
    sender = await sender_for(db, organization_id=actor.organization_id, settings=settings)
    result.subject, result.text, _html = render_email(
        "pool_job_invitation",
        {
            "organization": sender.organization,
            "accent_colour": sender.accent_colour,
            **_context(sample, job, form, LEAVE_PLACEHOLDER),
        },
    )
    return result


async def _record_contact(
    db: AsyncSession, *, actor: Staff, membership_id: int, job_id: int, now: dt.datetime
) -> int | None:
    """Record the invitation of one member to one job; None when a colleague's is
    recorded already (committed, or waited for: the unique constraint decides)."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    return await db.scalar(
        insert(PoolContact)
        .values(
            membership_id=membership_id,
            organization_id=actor.organization_id,
            job_id=job_id,
            staff_user_id=actor.staff_id,
            contacted_at=now,
        )
        .on_conflict_do_nothing(index_elements=["membership_id", "job_id"])
        .returning(PoolContact.id)
    )


async def _claim(db: AsyncSession, *, member: MemberRow, now: dt.datetime) -> bool:
    """Take the member's next contact: only if they are still in and their contact
    frequency allows one now (nobody else contacted them in the meantime)."""
    gap = CONTACT_GAP.get(ContactFrequency(member.contact_frequency))
    allowed: list[ColumnElement[bool]] = [PoolMembership.last_contacted_at.is_(None)]
    if gap is None:
        allowed.append(PoolMembership.last_contacted_at.is_not(None))
    else:
        allowed.append(PoolMembership.last_contacted_at <= now - gap)
    claimed = await db.execute(
        update(PoolMembership)
        .where(
            PoolMembership.id == member.membership_id,
            PoolMembership.state == PoolState.ACTIVE,
            or_(*allowed),
        )
        .values(last_contacted_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(claimed, "rowcount", 0))


async def send(
    db: AsyncSession,
    *,
    actor: Staff,
    form: InviteForm,
    settings: Settings,
    now: dt.datetime,
    ip_hash: str | None,
) -> InvitePlan | None:
    """Queue the invitations the plan allows, record each contact, audit the batch."""
    result = await plan(db, actor=actor, form=form, settings=settings, now=now)
    if result is None:
        return None
    job = await _job(db, actor=actor, job_id=form.job_id)
    assert job is not None
    # In id order, so that two senders lock the same rows in the same order.
    for member in sorted(result.send, key=lambda m: m.membership_id):
        contact_id = await _record_contact(
            db, actor=actor, membership_id=member.membership_id, job_id=job.id, now=now
        )
        if contact_id is None:
            result.send.remove(member)
            result.skipped.append(Skipped(member, INVITED_MEANWHILE))
            continue
        if not await _claim(db, member=member, now=now):
            await db.execute(delete(PoolContact).where(PoolContact.id == contact_id))
            result.send.remove(member)
            result.skipped.append(Skipped(member, CONTACTED_MEANWHILE))
            continue
        token = member_token(settings, member.membership_id, LinkPurpose.LEAVE)
        await enqueue_email(
            db,
            settings=settings,
            to_address=member.email,
            template="pool_job_invitation",
            context=_context(member.name, job, form, leave_url(settings, token)),
            # One invitation per member and job (the contact's unique constraint).
            idempotency_key=f"pool.invitation:{member.membership_id}:{job.id}",
            now=now,
            organization_id=actor.organization_id,
            secrets=[token],
            unsubscribe_url=leave_url(settings, token),
        )
        result.sent += 1
    audit.by_staff(
        db,
        actor,
        action="pool.invited",
        subject_type="job",
        subject_id=job.id,
        ip_hash=ip_hash,
        details={
            "sent": [m.membership_id for m in result.send],
            "skipped": [s.member.membership_id for s in result.skipped],
        },
    )
    return result
