"""What the candidate's feedback page shows of the talent pool: the panel, read
with the page's own statement (`load_page`) or, after a change, with one small
statement of its own, and a member's choices in words."""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from sqlalchemy import Select, and_, bindparam, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth import Actor
from portal.auth import Candidate as CandidateActor
from portal.candidates.models import Application, Candidate
from portal.candidates.service import readable_applications
from portal.db import column_rows, utcnow
from portal.feedback import service as feedback_service
from portal.feedback.models import Feedback
from portal.feedback.view import FeedbackView, Version, version_condition
from portal.formats import long_date
from portal.forms import FormState
from portal.orgs.models import Organization
from portal.pool.forms import (
    FREQUENCY_WORDS,
    REMOTE_WORDS,
    ROLE_FAMILIES,
    WHICH_ROLES_WORDS,
    PreferenceWords,
    role_family_codes,
)
from portal.pool.models import (
    ConsentEventKind,
    PoolConsentEvent,
    PoolConsentText,
    PoolMembership,
    PoolState,
)
from portal.threads.service import ThreadHead


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` later (the month's last day when it has fewer)."""
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _months(n: int) -> str:
    if n % 12 == 0:
        years = n // 12
        return f"{years} year{'' if years == 1 else 's'}"
    return f"{n} month{'' if n == 1 else 's'}"


# The option lists of the panel's forms (value as posted -> label), built once rather
# than on every render of the feedback page.
ROLE_FAMILY_CHOICES: Mapping[str, str] = MappingProxyType(dict(ROLE_FAMILIES))
REMOTE_CHOICES: Mapping[str, str] = MappingProxyType({str(k): v for k, v in REMOTE_WORDS.items()})
WHICH_ROLES_CHOICES: Mapping[str, str] = MappingProxyType(dict(WHICH_ROLES_WORDS))
FREQUENCY_CHOICES: Mapping[str, str] = MappingProxyType(
    {str(k): v for k, v in FREQUENCY_WORDS.items()}
)


@functools.cache
def duration_choices(durations: tuple[int, ...]) -> Mapping[str, str]:
    """The consent durations an organization offers, as choices (an organization's
    list seldom changes, so each is built once)."""
    return MappingProxyType({str(n): _months(n) for n in durations})


@dataclass(frozen=True)
class Membership(PreferenceWords):
    id: int
    state: str
    role_families: tuple[str, ...]
    locations: tuple[str, ...]
    remote: str
    only_chosen_roles: bool
    contact_frequency: str
    duration_months: int
    joined_at: dt.datetime
    expires_at: dt.datetime
    left_at: dt.datetime | None
    consent_version: int
    renewed_at: dt.datetime | None = None  # the last renewal, if any

    @property
    def active(self) -> bool:
        return self.state == PoolState.ACTIVE

    @property
    def period_started_at(self) -> dt.datetime:
        """When the current consent period began: the last renewal, else joining. A
        change of duration counts from here."""
        return self.renewed_at or self.joined_at

    def form_values(self) -> dict[str, str]:
        return {
            "role_families": ",".join(self.role_families),
            "locations": ", ".join(self.locations),
            "remote": self.remote,
            "which_roles": self.which_roles,
            "contact_frequency": self.contact_frequency,
            "duration_months": str(self.duration_months),
        }

    def preference_lines(self) -> list[str]:
        """The member's choices in words, for emails."""
        lines = []
        if self.role_families:
            lines.append("Kinds of role: " + ", ".join(self.role_family_labels))
        if self.locations:
            lines.append("Places: " + ", ".join(self.locations))
        lines.append(self.remote_words)
        lines.append("Roles: " + WHICH_ROLES_WORDS[self.which_roles])
        lines.append("How often: " + self.frequency_words)
        return lines


MEMBERSHIP_COLUMNS = (
    PoolMembership.id.label("membership_id"),
    PoolMembership.state.label("membership_state"),
    PoolMembership.role_families,
    PoolMembership.locations,
    PoolMembership.remote,
    PoolMembership.only_chosen_roles,
    PoolMembership.contact_frequency,
    PoolMembership.duration_months,
    PoolMembership.joined_at,
    PoolMembership.expires_at,
    PoolMembership.left_at,
    PoolConsentText.version.label("member_consent_version"),
    select(func.max(PoolConsentEvent.at))
    .where(
        PoolConsentEvent.membership_id == PoolMembership.id,
        PoolConsentEvent.kind == ConsentEventKind.RENEWED,
    )
    .scalar_subquery()
    .label("renewed_at"),
)


def membership_from_row(row: Any) -> Membership | None:
    if row["membership_id"] is None:
        return None
    return Membership(
        id=row["membership_id"],
        state=row["membership_state"],
        role_families=role_family_codes(row["role_families"]),
        locations=tuple(line for line in row["locations"].split("\n") if line),
        remote=row["remote"],
        only_chosen_roles=bool(row["only_chosen_roles"]),
        contact_frequency=row["contact_frequency"],
        duration_months=row["duration_months"],
        joined_at=row["joined_at"],
        expires_at=row["expires_at"],
        left_at=row["left_at"],
        consent_version=row["member_consent_version"],
        renewed_at=row["renewed_at"],
    )


@dataclass(frozen=True)
class PoolPanel:
    """The feedback page's talent-pool panel: the statement, the choices, and the
    candidate's current membership if they have one."""

    application_id: int
    organization: str
    consent_text: str
    consent_version: int
    durations: tuple[int, ...]
    membership: Membership | None
    form: FormState = field(default_factory=FormState)
    done: str = ""  # "joined", "changed", "left": what just happened
    notice: str = ""  # e.g. the statement changed while they read it

    @property
    def role_families(self) -> Mapping[str, str]:
        return ROLE_FAMILY_CHOICES

    @property
    def remote_choices(self) -> Mapping[str, str]:
        return REMOTE_CHOICES

    @property
    def which_roles_choices(self) -> Mapping[str, str]:
        return WHICH_ROLES_CHOICES

    @property
    def frequency_choices(self) -> Mapping[str, str]:
        return FREQUENCY_CHOICES

    @property
    def duration_choices(self) -> Mapping[str, str]:
        return duration_choices(self.durations)

    @property
    def duration_change_choices(self) -> dict[str, str]:
        """A member's choices of how long to stay, each with the date it would end
        (counted from the start of their consent period); periods already over are
        left out."""
        member = self.membership
        if member is None:
            return {}
        now = utcnow()
        choices = {}
        for value, words in self.duration_choices.items():
            ends = add_months(member.period_started_at, int(value))
            if ends > now:
                choices[value] = f"{words}, until {long_date(ends)}"
        return choices

    @property
    def consent_paragraphs(self) -> tuple[str, ...]:
        """The organization's statement as paragraphs (split at blank lines)."""
        return tuple(p.strip() for p in self.consent_text.split("\n\n") if p.strip())

    def value(self, name: str) -> str:
        """A field's value: as typed (after an error), else the member's choice."""
        if name in self.form.values or self.membership is None:
            return self.form.value(name)
        return self.membership.form_values().get(name, "")

    def chosen(self, name: str, option: str) -> bool:
        return option in self.chosen_values(name)

    def chosen_values(self, name: str) -> frozenset[str]:
        """The options of a choice field to show ticked (role families are several)."""
        value = self.value(name)
        if name == "role_families":
            return frozenset(value.split(","))
        return frozenset((value,))


_Statement = TypeVar("_Statement", bound="Select[*tuple[Any, ...]]")

# The organization's side of the panel: its statement and choices.
OFFER_COLUMNS = (
    Organization.display_name.label("pool_organization"),
    Organization.offers_pool,
    Organization.consent_text,
    Organization.consent_text_version,
    Organization.consent_durations_months,
)


def _with_membership(statement: _Statement, candidate_id: Any) -> _Statement:
    """`statement` (with `Organization` in its FROM) with the candidate's active
    membership joined on (found through the partial unique index on active
    memberships; the literal lets PostgreSQL use it) and its consent text."""
    return statement.outerjoin(
        PoolMembership,
        and_(
            PoolMembership.candidate_id == candidate_id,
            PoolMembership.state == literal_column(f"'{PoolState.ACTIVE}'"),
            PoolMembership.organization_id == Organization.id,
        ),
    ).outerjoin(PoolConsentText, PoolConsentText.id == PoolMembership.consent_text_id)


# One statement, for a panel read on its own (after a change, for the PDF).
PANEL = _with_membership(
    select(*OFFER_COLUMNS, *MEMBERSHIP_COLUMNS).select_from(Organization), bindparam("candidate_id")
).where(Organization.id == bindparam("organization_id"))

# The candidate's feedback page with the panel, in the page's one statement: a
# statement less on the busiest page (bench/run.py). The panel's columns repeat on
# each of the page's rows (one per feedback item); they are few and small.
PAGE_WITH_PANEL = _with_membership(
    feedback_service.FEEDBACK_PAGE.add_columns(*OFFER_COLUMNS, *MEMBERSHIP_COLUMNS),
    Candidate.id,
)


def _panel_from_row(row: Any, application_id: int) -> PoolPanel | None:
    if not row["offers_pool"]:
        return None
    return PoolPanel(
        application_id=application_id,
        organization=row["pool_organization"],
        consent_text=row["consent_text"],
        consent_version=row["consent_text_version"],
        durations=tuple(row["consent_durations_months"] or ()),
        membership=membership_from_row(row),
    )


async def _read_panel(
    db: AsyncSession, *, candidate_id: int, organization_id: int, application_id: int
) -> PoolPanel | None:
    rows = await column_rows(
        db, PANEL, {"candidate_id": candidate_id, "organization_id": organization_id}
    )
    return _panel_from_row(rows[0], application_id) if rows else None


async def load_page(
    db: AsyncSession, *, actor: CandidateActor, application_id: int
) -> tuple[FeedbackView, ThreadHead, PoolPanel | None] | None:
    """The candidate's feedback page (`portal.feedback.service.load_feedback_page`),
    its conversation's head and, when its feedback offers the pool, the panel, all
    with one statement; None if it is not theirs or nothing is published."""
    rows = await column_rows(
        db, PAGE_WITH_PANEL, feedback_service.page_parameters(actor, application_id)
    )
    found = feedback_service.page_from_rows(rows)
    if found is None:
        return None
    view, head = found
    panel = _panel_from_row(rows[0], application_id) if view.pool_invitation_offered else None
    return view, head, panel


async def load_panel(
    db: AsyncSession, *, actor: CandidateActor, application_id: int
) -> PoolPanel | None:
    """The panel of the candidate's page for one of their applications whose
    feedback offers the pool (None when the organization has turned the pool off).
    The page's own statement has found the application theirs and the offer made."""
    return await _read_panel(
        db,
        candidate_id=actor.candidate_id,
        organization_id=actor.organization_id,
        application_id=application_id,
    )


async def application_panel(
    db: AsyncSession, *, actor: Actor, application_id: int
) -> PoolPanel | None:
    """The panel as the candidate of an application `actor` may read sees it (for
    the PDF summary, which staff download too); None when the application is not
    readable or the organization has turned the pool off."""
    subject = (
        await db.execute(
            readable_applications(actor)
            .with_only_columns(Application.candidate_id, Application.organization_id)
            .where(Application.id == application_id)
        )
    ).first()
    if subject is None:
        return None
    return await _read_panel(
        db,
        candidate_id=subject.candidate_id,
        organization_id=subject.organization_id,
        application_id=application_id,
    )


async def panel_for(
    db: AsyncSession, *, actor: CandidateActor, application_id: int
) -> PoolPanel | None:
    """The panel, read in a transaction (after a change, or for a form with errors);
    None when the application is not theirs or its feedback offers no pool."""
    if not await offers_pool(db, actor=actor, application_id=application_id):
        return None
    return await load_panel(db, actor=actor, application_id=application_id)


async def offers_pool(db: AsyncSession, *, actor: CandidateActor, application_id: int) -> bool:
    """Whether the candidate's own application has published feedback offering the pool."""
    readable = readable_applications(actor).with_only_columns(Application.id)
    found = await db.scalar(
        select(Feedback.pool_invitation_offered)
        .select_from(Application)
        .join(
            Feedback,
            and_(
                Feedback.application_id == Application.id,
                version_condition(Version.PUBLISHED),
            ),
        )
        .where(Application.id == application_id, Application.id.in_(readable))
    )
    return bool(found)
