"""The talent pool's rules: joining, changing and leaving, consent statements, and
what staff may read (renewal and leaving by email: links.py; expiry: expiry.py).

A membership is one consent, on one version of the organization's statement,
for the number of months the candidate chose. Leaving and expiry end it; a
later join is a new membership. Every change is kept as a `PoolConsentEvent`
and audited. Services flush; the request (or job) commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, false, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access.models import LinkPurpose as AccessPurpose
from portal.access.service import issue_landing_link, link_url
from portal.audit import service as audit
from portal.auth import Candidate as CandidateActor
from portal.candidates.models import Application, Candidate
from portal.candidates.service import readable_applications
from portal.formats import long_date
from portal.mail.service import enqueue_email
from portal.orgs.consent import current_consent_text
from portal.orgs.models import Organization
from portal.pool.forms import (
    DurationForm,
    JoinForm,
    PreferencesForm,
    location_list,
    role_family_codes,
)
from portal.pool.models import (
    ConsentActor,
    ConsentEventKind,
    PoolConsentEvent,
    PoolConsentText,
    PoolMembership,
    PoolState,
)
from portal.pool.panel import Membership, add_months, offers_pool
from portal.pool.tokens import LinkPurpose, leave_url, member_token
from portal.security.actors import Actor, ApiKey, Staff
from portal.settings import Settings
from portal.urls import absolute_url
from portal.webhooks import service as webhooks


class NotOffered(Exception):
    """The application is not the candidate's, or its feedback offers no pool: a 404."""


class StatementChanged(Exception):
    """The consent statement changed after the candidate read it: show the new one."""


class DurationNotOffered(Exception):
    """A duration the organization does not offer."""


class PeriodOver(Exception):
    """A new duration whose period, counted from the start of the current one, has
    already ended."""


# --- consent texts ------------------------------------------------------------


# --- joining, changing, leaving -------------------------------------------------


def _snapshot(membership: PoolMembership) -> dict[str, Any]:
    return {
        "role_families": membership.role_families,
        "locations": membership.locations,
        "remote": membership.remote,
        "only_chosen_roles": membership.only_chosen_roles,
        "contact_frequency": membership.contact_frequency,
        "duration_months": membership.duration_months,
        "expires_at": membership.expires_at.isoformat(),
    }


def record_change(
    db: AsyncSession,
    membership: PoolMembership,
    *,
    kind: ConsentEventKind,
    actor: ConsentActor,
    actor_id: int | None,
    now: dt.datetime,
    ip_hash: str | None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Keep the change in the membership's history and in the audit trail (as
    `pool.<kind>`; a change of duration as `pool.duration_changed`)."""
    details = {**_snapshot(membership), **(extra or {})}
    duration = details.get("changed") == "duration"
    db.add(
        PoolConsentEvent(
            membership_id=membership.id,
            kind=kind,
            consent_text_id=membership.consent_text_id,
            actor_kind=actor,
            at=now,
            details=details,
        )
    )
    audit.record(
        db,
        action="pool.duration_changed" if duration else f"pool.{kind}",
        actor_kind="candidate" if actor is not ConsentActor.SYSTEM else "system",
        actor_id=actor_id,
        organization_id=membership.organization_id,
        subject_type="pool_membership",
        subject_id=membership.id,
        ip_hash=ip_hash,
        details={"via": str(actor), **details},
    )


async def _active_membership(db: AsyncSession, *, candidate_id: int) -> PoolMembership | None:
    return await db.scalar(
        select(PoolMembership)
        .where(
            PoolMembership.candidate_id == candidate_id,
            PoolMembership.state == PoolState.ACTIVE,
        )
        .with_for_update()
    )


async def join(
    db: AsyncSession,
    *,
    actor: CandidateActor,
    application_id: int,
    form: JoinForm,
    settings: Settings,
    now: dt.datetime,
    ip_hash: str | None,
) -> PoolMembership:
    """Record the candidate's consent and queue the welcome email.

    Raises NotOffered (not theirs, or no pool offered), StatementChanged (the
    statement they read is no longer the current one) or DurationNotOffered.
    Joining while already a member changes nothing and returns that membership.
    """
    if not await offers_pool(db, actor=actor, application_id=application_id):
        raise NotOffered(application_id)
    org = await db.get(Organization, actor.organization_id, with_for_update=True)
    if org is None or not org.offers_pool:
        raise NotOffered(application_id)
    if form.consent_version != org.consent_text_version:
        raise StatementChanged(org.consent_text_version)
    if form.duration_months not in (org.consent_durations_months or []):
        raise DurationNotOffered(form.duration_months)
    existing = await _active_membership(db, candidate_id=actor.candidate_id)
    if existing is not None:
        return existing
    text = await current_consent_text(db, organization_id=org.id)
    membership = PoolMembership(
        organization_id=org.id,
        candidate_id=actor.candidate_id,
        source_application_id=application_id,
        consent_text_id=text.id,
        state=PoolState.ACTIVE,
        role_families=form.role_families,
        locations=form.locations,
        remote=form.remote,
        only_chosen_roles=form.only_chosen_roles,
        contact_frequency=form.contact_frequency,
        duration_months=form.duration_months,
        joined_at=now,
        expires_at=add_months(now, form.duration_months),
    )
    try:
        # Added inside the SAVEPOINT: begin_nested() flushes what is pending first, so
        # a membership added before it would fail outside the savepoint and take the
        # whole transaction with it.
        async with db.begin_nested():
            db.add(membership)
            await db.flush()
    except IntegrityError:
        # A join from another tab won the race (one active membership each).
        found = await _active_membership(db, candidate_id=actor.candidate_id)
        assert found is not None
        return found
    record_change(
        db,
        membership,
        kind=ConsentEventKind.JOINED,
        actor=ConsentActor.CANDIDATE,
        actor_id=actor.candidate_id,
        now=now,
        ip_hash=ip_hash,
        extra={"consent_version": text.version},
    )
    await webhooks.emit(
        db,
        organization_id=org.id,
        event_type="pool.joined",
        data=pool_event(membership, reason="joined"),
        now=now,
    )
    await _welcome(db, membership=membership, text=text, settings=settings, now=now)
    return membership


async def _welcome(
    db: AsyncSession,
    *,
    membership: PoolMembership,
    text: PoolConsentText,
    settings: Settings,
    now: dt.datetime,
) -> None:
    candidate = await db.get(Candidate, membership.candidate_id)
    assert candidate is not None
    token = member_token(settings, membership.id, LinkPurpose.LEAVE)
    view = _view(membership, consent_version=text.version)
    secrets = [token]
    if membership.source_application_id is None:
        manage = absolute_url(settings, "candidate.applications")
    else:
        # A one-time link that signs the member in on the pool panel of their feedback.
        access = await issue_landing_link(
            db,
            application_id=membership.source_application_id,
            purpose=AccessPurpose.POOL,
            organization_id=membership.organization_id,
            now=now,
        )
        manage = link_url(settings, access)
        secrets.append(access)
    await enqueue_email(
        db,
        settings=settings,
        to_address=candidate.email,
        template="pool_welcome",
        context={
            "name": candidate.name,
            "consent_text": text.text,
            "consent_version": text.version,
            "consented_on": long_date(membership.joined_at),
            "expires_on": long_date(membership.expires_at),
            "preferences": view.preference_lines(),
            "manage_url": manage,
            "leave_url": leave_url(settings, token),
        },
        idempotency_key=f"pool.welcome:{membership.id}",
        now=now,
        organization_id=membership.organization_id,
        secrets=secrets,
        unsubscribe_url=leave_url(settings, token),
    )


def _view(membership: PoolMembership, *, consent_version: int) -> Membership:
    return Membership(
        id=membership.id,
        state=membership.state,
        role_families=role_family_codes(membership.role_families),
        locations=location_list(membership.locations),
        remote=membership.remote,
        only_chosen_roles=membership.only_chosen_roles,
        contact_frequency=membership.contact_frequency,
        duration_months=membership.duration_months,
        joined_at=membership.joined_at,
        expires_at=membership.expires_at,
        left_at=membership.left_at,
        consent_version=consent_version,
    )


async def change(
    db: AsyncSession,
    *,
    actor: CandidateActor,
    application_id: int,
    form: PreferencesForm,
    now: dt.datetime,
    ip_hash: str | None,
) -> PoolMembership | None:
    """Change the member's preferences (None when they are not a member)."""
    await _own_application(db, actor=actor, application_id=application_id)
    membership = await _active_membership(db, candidate_id=actor.candidate_id)
    if membership is None:
        return None
    membership.role_families = form.role_families
    membership.locations = form.locations
    membership.remote = form.remote
    membership.only_chosen_roles = form.only_chosen_roles
    membership.contact_frequency = form.contact_frequency
    await db.flush()
    record_change(
        db,
        membership,
        kind=ConsentEventKind.CHANGED,
        actor=ConsentActor.CANDIDATE,
        actor_id=actor.candidate_id,
        now=now,
        ip_hash=ip_hash,
    )
    return membership


async def _period_start(db: AsyncSession, membership: PoolMembership) -> dt.datetime:
    renewed = await db.scalar(
        select(func.max(PoolConsentEvent.at)).where(
            PoolConsentEvent.membership_id == membership.id,
            PoolConsentEvent.kind == ConsentEventKind.RENEWED,
        )
    )
    return renewed or membership.joined_at


async def change_duration(
    db: AsyncSession,
    *,
    actor: CandidateActor,
    application_id: int,
    form: DurationForm,
    now: dt.datetime,
    ip_hash: str | None,
) -> PoolMembership | None:
    """Change how long the member stays: one of the organization's durations,
    counted from the start of the current consent period (joining, or the last
    renewal), so that the consent never outlasts the statement's term without a
    renewal. Recorded and audited like any consent change; None when they are not
    a member. Raises NotOffered, DurationNotOffered, or PeriodOver (that period has
    already ended: leaving is the way to end it now)."""
    await _own_application(db, actor=actor, application_id=application_id)
    org = await db.get(Organization, actor.organization_id)
    if org is None or form.duration_months not in (org.consent_durations_months or []):
        raise DurationNotOffered(form.duration_months)
    membership = await _active_membership(db, candidate_id=actor.candidate_id)
    if membership is None:
        return None
    ends = add_months(await _period_start(db, membership), form.duration_months)
    if ends <= now:
        raise PeriodOver(form.duration_months)
    if form.duration_months == membership.duration_months and ends == membership.expires_at:
        return membership
    before = {
        "previous_duration_months": membership.duration_months,
        "previous_expires_at": membership.expires_at.isoformat(),
    }
    if ends > membership.expires_at:
        # A later end: the reminder to renew is due again before it.
        membership.renewal_requested_at = None
    membership.duration_months = form.duration_months
    membership.expires_at = ends
    await db.flush()
    record_change(
        db,
        membership,
        kind=ConsentEventKind.CHANGED,
        actor=ConsentActor.CANDIDATE,
        actor_id=actor.candidate_id,
        now=now,
        ip_hash=ip_hash,
        extra={"changed": "duration", **before},
    )
    return membership


async def _own_application(db: AsyncSession, *, actor: CandidateActor, application_id: int) -> None:
    found = await db.scalar(
        readable_applications(actor)
        .with_only_columns(Application.id)
        .where(Application.id == application_id)
    )
    if found is None:
        raise NotOffered(application_id)


async def leave_as_candidate(
    db: AsyncSession,
    *,
    actor: CandidateActor,
    application_id: int,
    now: dt.datetime,
    ip_hash: str | None,
) -> PoolMembership | None:
    await _own_application(db, actor=actor, application_id=application_id)
    membership = await _active_membership(db, candidate_id=actor.candidate_id)
    if membership is not None:
        await leave_membership(db, membership, via=ConsentActor.CANDIDATE, now=now, ip_hash=ip_hash)
    return membership


def pool_event(membership: PoolMembership, *, reason: str) -> dict[str, Any]:
    """A talent-pool webhook's data: who, from which application, and why."""
    return {
        "candidate_id": membership.candidate_id,
        "membership_id": membership.id,
        "source_application_id": membership.source_application_id,
        "reason": reason,
    }


async def leave_membership(
    db: AsyncSession,
    membership: PoolMembership,
    *,
    via: ConsentActor,
    now: dt.datetime,
    ip_hash: str | None,
) -> None:
    membership.state = PoolState.LEFT
    membership.left_at = now
    record_change(
        db,
        membership,
        kind=ConsentEventKind.LEFT,
        actor=via,
        actor_id=membership.candidate_id,
        now=now,
        ip_hash=ip_hash,
    )
    await webhooks.emit(
        db,
        organization_id=membership.organization_id,
        event_type="pool.left",
        data=pool_event(membership, reason=str(via)),
        now=now,
    )


# --- who may read memberships ----------------------------------------------------------


def readable_memberships(actor: Actor, *, now: dt.datetime) -> Select[PoolMembership]:
    """Staff (and an API key with `pool:read`) see their organization's active
    members (consent not yet past its expiry, even before the expiry job has run);
    nobody else sees any here. (A candidate's own membership reaches them through
    their feedback page.)"""
    statement = select(PoolMembership)
    if isinstance(actor, Staff) or (isinstance(actor, ApiKey) and "pool:read" in actor.scopes):
        return statement.where(
            PoolMembership.organization_id == actor.organization_id,
            PoolMembership.state == PoolState.ACTIVE,
            PoolMembership.expires_at > now,
        )
    return statement.where(false())
