"""Recording audit events, and reading them back for an organization's admins: each
event in words (`portal.audit.sentences`), with the people and records it names
looked up once for a whole page."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from portal.access.models import AccessLink
from portal.audit.forms import AuditFilter
from portal.audit.models import AuditEvent
from portal.audit.sentences import Link, Named, Part, readable, render
from portal.candidates.models import Application, Candidate, Job, Requirement
from portal.db import utcnow
from portal.formats import zone_info
from portal.orgs.models import Organization
from portal.pool.models import PoolMembership, PoolState
from portal.postings.models import LibraryRequirement
from portal.security.actors import Actor, ApiKey, Staff, is_admin
from portal.staff.models import StaffUser
from portal.threads.models import SavedAnswer, Thread

# Who did something, besides staff and candidates: the portal itself (a worker, an
# expiry), the `portal` command, and someone not signed in (a link, a sign-in form).
SYSTEM = "system"
COMMAND_LINE = "cli"
ANONYMOUS = "anonymous"
# An API client, by its key (portal.api).
API_KEY = "api_key"


def record(
    db: AsyncSession,
    *,
    action: str,
    actor_kind: str,
    actor_id: int | None = None,
    organization_id: int | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    ip_hash: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an event to the trail (written with the rest of the transaction); the event.
    A new `action` needs a sentence in `portal.audit.sentences.SENTENCES` (a test
    reads the source for them)."""
    event = AuditEvent(
        action=action,
        actor_kind=actor_kind,
        actor_id=actor_id,
        organization_id=organization_id,
        subject_type=subject_type,
        subject_id=subject_id,
        ip_hash=ip_hash,
        details=details or {},
        created_at=utcnow(),
    )
    db.add(event)
    return event


def by_staff(
    db: AsyncSession,
    actor: Staff,
    *,
    action: str,
    subject_type: str | None = None,
    subject_id: int | None = None,
    ip_hash: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record what a staff member did in their own organization."""
    return record(
        db,
        action=action,
        actor_kind="staff",
        actor_id=actor.staff_id,
        organization_id=actor.organization_id,
        subject_type=subject_type,
        subject_id=subject_id,
        ip_hash=ip_hash,
        details=details,
    )


def by_actor(
    db: AsyncSession,
    actor: Staff | ApiKey,
    *,
    action: str,
    subject_type: str | None = None,
    subject_id: int | None = None,
    ip_hash: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record what a staff member, or an API client (by its key), did in their
    organization."""
    if isinstance(actor, Staff):
        return by_staff(
            db,
            actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            ip_hash=ip_hash,
            details=details,
        )
    return record(
        db,
        action=action,
        actor_kind=API_KEY,
        actor_id=actor.key_id,
        organization_id=actor.organization_id,
        subject_type=subject_type,
        subject_id=subject_id,
        ip_hash=ip_hash,
        details=details,
    )


def readable_events(actor: Actor) -> Select[AuditEvent]:
    """An organization's admins read its audit trail; nobody else reads any."""
    statement = select(AuditEvent)
    if is_admin(actor):
        return statement.where(AuditEvent.organization_id == actor.organization_id)
    return statement.where(false())


# --- names ------------------------------------------------------------------------

# What an event may name, and how: a kind of record and its id.
Ref = tuple[str, int]
# Subject types as recorded -> the kind of record looked up.
SUBJECT_KINDS = {
    "staff_user": "staff",
    "candidate": "candidate",
    "application": "application",
    "thread": "thread",
    "pool_membership": "membership",
    "access_link": "link",
    "job": "job",
    "requirement": "requirement",
    "library_requirement": "library_requirement",
    "saved_answer": "saved_answer",
    "organization": "organization",
}
# Details that name a record: key -> kind.
DETAIL_KINDS = {
    "candidate_id": "candidate",
    "application_id": "application",
    "job_id": "job",
    "requirement_id": "requirement",
    "assignee": "staff",
    "assignee_id": "staff",
    "staff_user_id": "staff",
}


@dataclass(frozen=True)
class Found:
    """One record an event names, as the organization has it now: its own name or
    title, the candidate, job and application it belongs to, and whether the reader
    may open its page."""

    kind: str
    id: int
    name: str | None
    candidate_name: str | None
    job_id: int | None
    job_title: str | None
    application_id: int | None
    readable: bool


def _id_of(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def refs_of(event: EventRow) -> set[Ref]:
    """The records an event names: who did it, its subject, and details that name one."""
    refs: set[Ref] = set()
    if event.actor_id is not None and event.actor_kind in ("staff", "candidate"):
        refs.add(("staff" if event.actor_kind == "staff" else "candidate", event.actor_id))
    kind = SUBJECT_KINDS.get(event.subject_type or "")
    if kind is not None and event.subject_id is not None:
        refs.add((kind, event.subject_id))
    for key, detail_kind in DETAIL_KINDS.items():
        found = _id_of(event.details.get(key))
        if found is not None:
            refs.add((detail_kind, found))
    return refs


def _columns(
    kind: str,
    id_: Any,
    *,
    name: Any = None,
    candidate_name: Any = None,
    job_id: Any = None,
    job_title: Any = None,
    application_id: Any = None,
    readable: Any = None,
) -> tuple[Any, ...]:
    """The look-up's columns, the same for every kind of record (a union)."""
    return (
        literal(kind, String).label("kind"),
        id_.label("id"),
        (cast(null(), String) if name is None else name).label("name"),
        (cast(null(), String) if candidate_name is None else candidate_name).label(
            "candidate_name"
        ),
        (cast(null(), Integer) if job_id is None else job_id).label("job_id"),
        (cast(null(), String) if job_title is None else job_title).label("job_title"),
        (cast(null(), Integer) if application_id is None else application_id).label(
            "application_id"
        ),
        (literal(1, Integer) if readable is None else readable).label("readable"),
    )


def _lookups(
    organization_id: int, ids: Mapping[str, list[int]], now: dt.datetime
) -> list[Select[Any]]:
    """One SELECT per kind of record named: each of the organization's records only."""
    parts: list[Select[Any]] = []
    if ids.get("staff"):
        parts.append(
            select(*_columns("staff", StaffUser.id, name=StaffUser.name)).where(
                StaffUser.organization_id == organization_id, StaffUser.id.in_(ids["staff"])
            )
        )
    if ids.get("candidate"):
        parts.append(
            select(*_columns("candidate", Candidate.id, name=Candidate.name)).where(
                Candidate.organization_id == organization_id, Candidate.id.in_(ids["candidate"])
            )
        )
    if ids.get("application"):
        parts.append(
            select(
                *_columns(
                    "application",
                    Application.id,
                    candidate_name=Candidate.name,
                    job_id=Job.id,
                    job_title=Job.title,
                    application_id=Application.id,
                )
            )
            .join(Candidate, Candidate.id == Application.candidate_id)
            .join(Job, Job.id == Application.job_id)
            .where(
                Application.organization_id == organization_id,
                Application.id.in_(ids["application"]),
            )
        )
    if ids.get("thread"):
        parts.append(
            select(
                *_columns(
                    "thread",
                    Thread.id,
                    candidate_name=Candidate.name,
                    job_id=Job.id,
                    job_title=Job.title,
                    application_id=Thread.application_id,
                )
            )
            .join(Candidate, Candidate.id == Thread.candidate_id)
            .join(Job, Job.id == Thread.job_id)
            .where(Thread.organization_id == organization_id, Thread.id.in_(ids["thread"]))
        )
    if ids.get("membership"):
        # Staff open the pages of active members only (portal.pool.service).
        active = and_(PoolMembership.state == PoolState.ACTIVE, PoolMembership.expires_at > now)
        parts.append(
            select(
                *_columns(
                    "membership",
                    PoolMembership.id,
                    candidate_name=Candidate.name,
                    readable=case((active, 1), else_=0),
                )
            )
            .join(Candidate, Candidate.id == PoolMembership.candidate_id)
            .where(
                PoolMembership.organization_id == organization_id,
                PoolMembership.id.in_(ids["membership"]),
            )
        )
    if ids.get("link"):
        parts.append(
            select(
                *_columns(
                    "link",
                    AccessLink.id,
                    candidate_name=Candidate.name,
                    job_id=Job.id,
                    job_title=Job.title,
                    application_id=Application.id,
                )
            )
            .join(Candidate, Candidate.id == AccessLink.candidate_id)
            .outerjoin(Application, Application.id == AccessLink.application_id)
            .outerjoin(Job, Job.id == Application.job_id)
            .where(Candidate.organization_id == organization_id, AccessLink.id.in_(ids["link"]))
        )
    if ids.get("job"):
        parts.append(
            select(
                *_columns("job", Job.id, name=Job.title, job_id=Job.id, job_title=Job.title)
            ).where(Job.organization_id == organization_id, Job.id.in_(ids["job"]))
        )
    if ids.get("requirement"):
        parts.append(
            select(
                *_columns(
                    "requirement",
                    Requirement.id,
                    name=Requirement.name,
                    job_id=Job.id,
                    job_title=Job.title,
                )
            )
            .join(Job, Job.id == Requirement.job_id)
            .where(Job.organization_id == organization_id, Requirement.id.in_(ids["requirement"]))
        )
    if ids.get("library_requirement"):
        parts.append(
            select(
                *_columns(
                    "library_requirement", LibraryRequirement.id, name=LibraryRequirement.name
                )
            ).where(
                LibraryRequirement.organization_id == organization_id,
                LibraryRequirement.id.in_(ids["library_requirement"]),
            )
        )
    if ids.get("saved_answer"):
        parts.append(
            select(*_columns("saved_answer", SavedAnswer.id, name=SavedAnswer.title)).where(
                SavedAnswer.organization_id == organization_id,
                SavedAnswer.id.in_(ids["saved_answer"]),
            )
        )
    if ids.get("organization"):
        parts.append(
            select(
                *_columns("organization", Organization.id, name=Organization.display_name)
            ).where(Organization.id == organization_id, Organization.id.in_(ids["organization"]))
        )
    return parts


async def look_up_names(
    db: AsyncSession, *, actor: Staff, refs: Iterable[Ref], now: dt.datetime
) -> dict[Ref, Found]:
    """Everything `refs` name that belongs to the actor's organization, in one
    statement whatever their number; a record of another organization, or one since
    deleted, is not found."""
    ids: dict[str, list[int]] = {}
    for kind, id_ in sorted(set(refs)):
        ids.setdefault(kind, []).append(id_)
    parts = _lookups(actor.organization_id, ids, now)
    if not parts:
        return {}
    statement: Executable = parts[0] if len(parts) == 1 else union_all(*parts)
    rows = (await db.execute(statement)).all()
    found = [Found(**{**row._mapping, "readable": bool(row.readable)}) for row in rows]
    return {(item.kind, item.id): item for item in found}


# --- events in words -------------------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    id: int
    created_at: dt.datetime
    action: str
    actor_kind: str
    actor_id: int | None
    subject_type: str | None
    subject_id: int | None
    ip_hash: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class ShownEvent:
    """An event as the audit page shows it: when, the sentence, and the technical
    details on demand."""

    id: int
    created_at: dt.datetime
    sentence: tuple[Part, ...]
    action: str
    subject_type: str | None
    subject_id: int | None
    ip_hash: str | None
    details: str  # as JSON, for people to read


def _link(route: str, **params: int) -> Link:
    return Link(route, tuple(params.items()))


SETTINGS = Named("the organization's settings", _link("staff.settings"))
POOL_SETTINGS = Named("the talent-pool settings", _link("staff.pool_settings"))
CONSENT_TEXT = Named("the talent-pool consent text", _link("staff.pool_settings"))


def _since_deleted(details: Mapping[str, Any], keys: tuple[str, ...], generic: str) -> Named:
    """A record gone from the organization: named by its title in the details if
    they kept one, otherwise in general words."""
    for key in keys:
        value = details.get(key)
        if isinstance(value, str) and value.strip():
            text = " ".join(value.split())
            return Named(f"“{text[:120]}”", note=" (since deleted)", deleted=True)
    return Named(generic, deleted=True)


class _Namer:
    """The names one event's sentence needs, from what the page looked up."""

    def __init__(self, event: EventRow, found: Mapping[Ref, Found]) -> None:
        self.event = event
        self.found = found
        self.details = event.details

    def get(self, kind: str, id_: int | None) -> Found | None:
        return None if id_ is None else self.found.get((kind, id_))

    def subject(self, kind: str) -> Found | None:
        if SUBJECT_KINDS.get(self.event.subject_type or "") != kind:
            return None
        return self.get(kind, self.event.subject_id)

    def names_subject(self, kind: str) -> bool:
        return SUBJECT_KINDS.get(self.event.subject_type or "") == kind

    def detail(self, kind: str) -> Found | None:
        for key, detail_kind in DETAIL_KINDS.items():
            if detail_kind == kind:
                found = self.get(kind, _id_of(self.details.get(key)))
                if found is not None:
                    return found
        return None

    def named_in_details(self, kind: str) -> bool:
        return any(
            detail_kind == kind and _id_of(self.details.get(key)) is not None
            for key, detail_kind in DETAIL_KINDS.items()
        )

    # Each kind of record, as a sentence names it.

    def actor(self) -> Named:
        kind, actor_id = self.event.actor_kind, self.event.actor_id
        if kind == "staff":
            return self.staff(self.get("staff", actor_id), known=actor_id is not None)
        if kind == "candidate":
            found = self.get("candidate", actor_id)
            return Named(found.name or "") if found else Named("a deleted candidate", deleted=True)
        if kind == ANONYMOUS:
            return Named("someone not signed in", ours=True)
        if kind == API_KEY:
            return Named("An API client" + (f" (key #{actor_id})" if actor_id else ""), ours=True)
        if kind == COMMAND_LINE or (
            kind == SYSTEM and self.details.get("source") == "command line"
        ):
            return Named("Command line", ours=True)
        if kind == SYSTEM:
            return Named("Afterword", ours=True)
        return Named(readable(kind) + (f" #{actor_id}" if actor_id is not None else ""), ours=True)

    def staff(self, found: Found | None, *, known: bool = True) -> Named:
        if found is None:
            return Named("a deleted staff account" if known else "someone", deleted=True)
        return Named(found.name or "", _link("staff.person", staff_user_id=found.id))

    def person(self) -> Named | None:
        if self.names_subject("staff"):
            return self.staff(self.subject("staff"))
        return None

    def assignee(self) -> Named | None:
        for key in ("assignee", "assignee_id"):
            staff_id = _id_of(self.details.get(key))
            if staff_id is not None:
                return self.staff(self.get("staff", staff_id))
        return None

    def _belongs(self) -> Found | None:
        """The record the subject belongs to, for its candidate, job and application."""
        for kind in ("application", "thread", "link", "membership", "requirement"):
            found = self.subject(kind)
            if found is not None:
                return found
        return self.detail("application")

    def candidate(self) -> Named | None:
        found = self.subject("candidate") or self.detail("candidate")
        if found is not None:
            return Named(found.name or "")
        owner = self._belongs()
        if owner is not None and owner.candidate_name is not None:
            return Named(owner.candidate_name)
        if self.names_subject("candidate") or self.named_in_details("candidate"):
            return Named("a deleted candidate", deleted=True)
        if owner is None and self._names_an_owner():
            return Named("a deleted candidate", deleted=True)
        return None

    def _names_an_owner(self) -> bool:
        return any(
            self.names_subject(kind) for kind in ("application", "thread", "link", "membership")
        ) or self.named_in_details("application")

    def job(self) -> Named | None:
        found = self.subject("job") or self.detail("job") or self._belongs()
        if found is not None and found.job_id is not None:
            return Named(found.job_title or "", _link("staff.job", job_id=found.job_id))
        if self.names_subject("job") or self.named_in_details("job"):
            return _since_deleted(self.details, ("title", "job_title"), "a deleted job")
        if self._names_an_owner() or self.names_subject("requirement"):
            return Named("a deleted job", deleted=True)
        return None

    def application(self) -> Named | None:
        found = self.subject("application") or self.detail("application")
        if found is None:
            owner = self._belongs()
            if owner is not None and owner.application_id is not None:
                found = owner
        if found is not None and found.application_id is not None:
            return Named(
                f"{found.candidate_name}'s application for {found.job_title}",
                _link("staff.application", application_id=found.application_id),
            )
        if self._names_an_owner():
            return Named("a deleted application", deleted=True)
        return None

    def position(self) -> Named | None:
        """The job's title, leading to the application."""
        application = self.application()
        if application is None or application.deleted:
            return application
        owner = self.subject("application") or self.detail("application") or self._belongs()
        title = owner.job_title if owner is not None else None
        return Named(title or application.text, application.link)

    def thread(self) -> Named | None:
        if not self.names_subject("thread"):
            return None
        found = self.subject("thread")
        if found is None:
            return Named("a deleted conversation", deleted=True)
        return Named(
            f"{found.candidate_name}'s question about {found.job_title}",
            _link("staff.thread", thread_id=found.id),
        )

    def membership(self) -> Named | None:
        if not self.names_subject("membership"):
            return None
        found = self.subject("membership")
        if found is None:
            return Named("a deleted talent-pool membership", deleted=True)
        link = _link("staff.pool_member", membership_id=found.id) if found.readable else None
        return Named(f"{found.candidate_name}'s talent-pool membership", link)

    def saved_answer(self) -> Named | None:
        if not self.names_subject("saved_answer"):
            return None
        found = self.subject("saved_answer")
        if found is None:
            return _since_deleted(self.details, ("title",), "a deleted saved answer")
        return Named(f"“{found.name}”", _link("staff.saved_answer", answer_id=found.id))

    def requirement(self) -> Named | None:
        entry = self.subject("library_requirement")
        if entry is not None:
            return Named(
                f"“{entry.name}”",
                _link("staff.library_requirement", library_requirement_id=entry.id),
            )
        found = self.subject("requirement") or self.detail("requirement")
        if found is not None:
            return Named(f"“{found.name}”")
        if (self.event.subject_type or "").endswith("requirement") or self.named_in_details(
            "requirement"
        ):
            return _since_deleted(self.details, ("name", "title"), "a deleted requirement")
        return None

    def organization(self) -> Named | None:
        if not self.names_subject("organization"):
            return None
        found = self.subject("organization")
        if found is None:
            return _since_deleted(self.details, ("name", "display_name"), "an organization")
        return Named(found.name or "", SETTINGS.link)

    def subject_named(self, names: Mapping[str, Named | None]) -> Named | None:
        """The subject, whatever it is."""
        subject_type = self.event.subject_type
        if subject_type is None:
            return None
        by_kind = {
            "staff": "person",
            "candidate": "candidate",
            "application": "application",
            "thread": "thread",
            "membership": "membership",
            "link": "application",
            "job": "job",
            "requirement": "requirement",
            "library_requirement": "requirement",
            "saved_answer": "saved_answer",
            "organization": "organization",
        }
        key = by_kind.get(SUBJECT_KINDS.get(subject_type, ""))
        if key is not None and names.get(key) is not None:
            return names[key]
        if subject_type == "pool_consent_text":
            return CONSENT_TEXT
        label = readable(subject_type).lower()
        for detail in ("name", "title"):
            value = self.details.get(detail)
            if isinstance(value, str) and value.strip():
                return Named(f"{label} “{' '.join(value.split())[:120]}”")
        return Named(label + (f" #{self.event.subject_id}" if self.event.subject_id else ""))

    def names(self) -> dict[str, Named | None]:
        names: dict[str, Named | None] = {
            "actor": self.actor(),
            "person": self.person(),
            "assignee": self.assignee(),
            "candidate": self.candidate(),
            "job": self.job(),
            "application": self.application(),
            "position": self.position(),
            "thread": self.thread(),
            "membership": self.membership(),
            "saved_answer": self.saved_answer(),
            "requirement": self.requirement(),
            "organization": self.organization(),
            "settings": SETTINGS,
            "pool_settings": POOL_SETTINGS,
            "consent_text": CONSENT_TEXT,
        }
        names["subject"] = self.subject_named(names)
        return names


def shown_event(event: EventRow, found: Mapping[Ref, Found]) -> ShownEvent:
    """An event in words, its names taken from `found` (see `look_up_names`)."""
    names = _Namer(event, found).names()
    return ShownEvent(
        id=event.id,
        created_at=event.created_at,
        sentence=render(event.action, event.details, names),
        action=event.action,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        ip_hash=event.ip_hash,
        details=json.dumps(
            event.details, indent=2, sort_keys=True, ensure_ascii=False, default=str
        ),
    )


# --- the audit log page -------------------------------------------------------------------


@dataclass(frozen=True)
class AuditPage:
    events: list[ShownEvent]
    total: int
    page: int
    pages: int
    people: list[tuple[int, str]]  # the organization's staff, to filter by
    actions: list[tuple[str, str]]  # (code, words) of every action recorded in it


PER_PAGE = 50


async def audit_page(
    db: AsyncSession,
    *,
    actor: Actor,
    filters: AuditFilter,
    per_page: int = PER_PAGE,
    now: dt.datetime | None = None,
) -> AuditPage:
    """One page of the trail, newest first, filtered by who, what and when (dates
    are whole days in the reader's time zone, both ends included), each event in
    words. The same few statements whatever the number of events on the page."""
    scoped = readable_events(actor)
    zone = actor.time_zone if isinstance(actor, Staff) else None
    if filters.actor is not None:
        scoped = scoped.where(
            AuditEvent.actor_kind == "staff", AuditEvent.actor_id == filters.actor
        )
    if filters.action:
        scoped = scoped.where(AuditEvent.action == filters.action)
    if filters.since is not None:
        scoped = scoped.where(AuditEvent.created_at >= _midnight(filters.since, zone))
    if filters.until is not None:
        scoped = scoped.where(
            AuditEvent.created_at < _midnight(filters.until + dt.timedelta(days=1), zone)
        )
    total = await db.scalar(scoped.with_only_columns(func.count(AuditEvent.id))) or 0
    pages = max(1, -(-total // per_page))
    page = min(filters.page, pages)
    rows = (
        await db.execute(
            scoped.with_only_columns(
                AuditEvent.id,
                AuditEvent.created_at,
                AuditEvent.action,
                AuditEvent.actor_kind,
                AuditEvent.actor_id,
                AuditEvent.subject_type,
                AuditEvent.subject_id,
                AuditEvent.ip_hash,
                AuditEvent.details,
            )
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    ).all()
    events = [EventRow(**{**row._mapping, "details": row.details or {}}) for row in rows]
    found: dict[Ref, Found] = {}
    if isinstance(actor, Staff) and events:
        refs = set().union(*(refs_of(event) for event in events))
        found = await look_up_names(db, actor=actor, refs=refs, now=now or utcnow())
    organization_id = actor.organization_id if isinstance(actor, Staff) else -1
    people = (
        await db.execute(
            select(StaffUser.id, StaffUser.name)
            .where(StaffUser.organization_id == organization_id)
            .order_by(StaffUser.name, StaffUser.id)
        )
    ).all()
    actions = (
        await db.scalars(
            readable_events(actor)
            .with_only_columns(AuditEvent.action)
            .distinct()
            .order_by(AuditEvent.action)
        )
    ).all()
    return AuditPage(
        events=[shown_event(event, found) for event in events],
        total=total,
        page=page,
        pages=pages,
        people=[(person.id, person.name) for person in people],
        actions=[(action, readable(action)) for action in actions],
    )


def _midnight(day: dt.date, zone: str | None) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone_info(zone))
