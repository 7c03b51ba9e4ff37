"""The talent pool: consent to be contacted about future roles, held per candidate.

A membership is one consent: joining again after leaving (or after consent
expired) makes a new row, and the old one stays as the record of what was
agreed and when. Every change to a membership is also a `PoolConsentEvent`,
so the history of a consent can be shown as it happened.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow


class PoolState(enum.StrEnum):
    ACTIVE = "active"
    LEFT = "left"  # the candidate withdrew their consent
    EXPIRED = "expired"  # the consent ran out without being renewed


class ContactFrequency(enum.StrEnum):
    """How often a member may be contacted (which roles: `only_chosen_roles`)."""

    ANYTIME = "anytime"  # whenever a suitable role comes up
    MONTHLY = "monthly"  # at most once a month
    QUARTERLY = "quarterly"  # at most once a quarter


class RemotePreference(enum.StrEnum):
    EITHER = "either"
    REMOTE = "remote"  # remote only
    ON_SITE = "on_site"  # on site or hybrid only


class ConsentEventKind(enum.StrEnum):
    JOINED = "joined"
    CHANGED = "changed"
    RENEWED = "renewed"
    LEFT = "left"
    EXPIRED = "expired"


class ConsentActor(enum.StrEnum):
    """Who made a consent change."""

    CANDIDATE = "candidate"  # signed in, on their feedback page
    EMAIL_LINK = "email_link"  # from the link in a pool email, without a session
    SYSTEM = "system"  # the expiry job


class PoolConsentText(Base):
    """One version of an organization's consent statement, as candidates read it.

    Versions are never edited: a change is a new version, and members keep the
    version they agreed to until they agree to another (by renewing).
    """

    __tablename__ = "pool_consent_texts"
    __table_args__ = (UniqueConstraint("organization_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    version: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )


ACTIVE_ONLY = text(f"state = '{PoolState.ACTIVE}'")


class PoolMembership(Base):
    __tablename__ = "pool_memberships"
    __table_args__ = (
        CheckConstraint("duration_months BETWEEN 1 AND 60", name="duration_months"),
        # The candidate belongs to the membership's organization (see Application).
        ForeignKeyConstraint(
            ["candidate_id", "organization_id"],
            ["candidates.id", "candidates.organization_id"],
            ondelete="CASCADE",
        ),
        # At most one active consent per candidate; the partial index also serves
        # the feedback page's look-up of it.
        Index(
            "uq_pool_memberships_active_candidate",
            "candidate_id",
            unique=True,
            sqlite_where=ACTIVE_ONLY,
            postgresql_where=ACTIVE_ONLY,
        ),
        Index("ix_pool_memberships_organization_state", "organization_id", "state", "joined_at"),
        Index("ix_pool_memberships_state_expires_at", "state", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(index=True)
    # The application whose feedback page they joined from.
    source_application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="SET NULL")
    )
    # What they agreed to. No ON DELETE: a consent text in use cannot be deleted.
    consent_text_id: Mapped[int] = mapped_column(ForeignKey("pool_consent_texts.id"))
    state: Mapped[PoolState] = enum_column(PoolState, default=PoolState.ACTIVE)
    # Codes from portal.pool.forms.ROLE_FAMILIES, comma-separated and sorted, so
    # that a filter is one LIKE on both databases.
    role_families: Mapped[str] = mapped_column(String(400), default="")
    # As the candidate typed them, one per line.
    locations: Mapped[str] = mapped_column(Text, default="")
    remote: Mapped[RemotePreference] = enum_column(
        RemotePreference, default=RemotePreference.EITHER
    )
    # Which roles they may hear about: only those of the kinds they chose (when they
    # chose any), or any role; and how often.
    only_chosen_roles: Mapped[bool] = mapped_column(default=False, server_default=false())
    contact_frequency: Mapped[ContactFrequency] = enum_column(
        ContactFrequency, default=ContactFrequency.QUARTERLY
    )
    duration_months: Mapped[int]
    joined_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    left_at: Mapped[dt.datetime | None]
    # Set when the renewal request is queued, cleared by a renewal: one request
    # per consent period.
    renewal_requested_at: Mapped[dt.datetime | None]
    # The last invitation sent, for the member's contact frequency.
    last_contacted_at: Mapped[dt.datetime | None]


class PoolConsentEvent(Base):
    """One change to a consent: who made it, when, and what it became."""

    __tablename__ = "pool_consent_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(
        ForeignKey("pool_memberships.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ConsentEventKind] = enum_column(ConsentEventKind)
    # The text the consent stands on after this change.
    consent_text_id: Mapped[int] = mapped_column(ForeignKey("pool_consent_texts.id"))
    actor_kind: Mapped[ConsentActor] = enum_column(ConsentActor)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The preferences (and expiry) after the change.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PoolContact(Base):
    """An invitation sent to a member: the log their contact frequency is checked against."""

    __tablename__ = "pool_contacts"
    __table_args__ = (
        Index("ix_pool_contacts_membership_contacted", "membership_id", "contacted_at"),
        # One invitation per member and job, however many recruiters send at once.
        UniqueConstraint("membership_id", "job_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(
        ForeignKey("pool_memberships.id", ondelete="CASCADE")
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    contacted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
