"""Everything held about one candidate in one organization, as one JSON document.

The document (schema `afterword.candidate-export`, version 1, see
docs/admin/privacy.md) holds, table by table, every row that is the candidate's:
each table of the schema is either in `EXPORTED` (how to find the candidate's rows)
or in `NOT_THEIRS` (why it holds none of their personal data); a test fails for a
table in neither. A few columns never leave: the hashes of tokens and session ids
(`SECRET_COLUMNS`), and of an email only what was sent (no sealed link).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Table, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access.models import AccessLink
from portal.ats.models import AtsCandidate
from portal.audit.models import AuditEvent
from portal.auth.models import KeptForm
from portal.candidates.models import Application, Candidate, Job
from portal.db import Base
from portal.drafting.models import Scorecard, ScorecardEntry
from portal.feedback.models import Feedback, FeedbackItem, FeedbackState
from portal.jobs.models import BackgroundJob
from portal.llm.models import Rephrasing
from portal.mail.jobs import MAIL_SEND
from portal.orgs.models import Organization
from portal.pool.models import PoolConsentEvent, PoolConsentText, PoolContact, PoolMembership
from portal.privacy.models import DataRequest
from portal.security.models import Session
from portal.threads.models import AuthorKind, CandidateBlock, Message, MessageState, Thread
from portal.timing.models import FeedbackSend

SCHEMA = "afterword.candidate-export"
SCHEMA_VERSION = 1

# Never exported: they would let whoever holds the file recognise a live credential.
SECRET_COLUMNS = frozenset({"token_hash", "id_hash", "export_sealed"})


@dataclass(frozen=True)
class Whose:
    """The ids a candidate's rows are found by."""

    organization_id: int
    candidate_id: int
    email: str
    application_ids: tuple[int, ...]
    thread_ids: tuple[int, ...]
    membership_ids: tuple[int, ...]
    published_feedback_ids: tuple[int, ...]


Finder = Callable[[Whose], Select[Any]]


def _mail_to(whose: Whose) -> Select[Any]:
    return select(
        BackgroundJob.id,
        BackgroundJob.state,
        BackgroundJob.created_at,
        BackgroundJob.finished_at,
        BackgroundJob.payload["template"].as_string().label("template"),
        BackgroundJob.payload["subject"].as_string().label("subject"),
    ).where(*mail_to_candidate(whose.organization_id, whose.email))


def mail_to_candidate(organization_id: int, email: str) -> list[Any]:
    """The conditions that pick the organization's email to this address."""
    return [
        BackgroundJob.kind == MAIL_SEND.name,
        BackgroundJob.payload["to"].as_string() == email,
        BackgroundJob.payload["organization_id"].as_integer() == organization_id,
    ]


def audit_about(whose: Whose) -> Any:
    """The organization's audit events about the candidate or what is theirs, or by them."""
    return and_(
        AuditEvent.organization_id == whose.organization_id,
        or_(
            and_(AuditEvent.actor_kind == "candidate", AuditEvent.actor_id == whose.candidate_id),
            and_(
                AuditEvent.subject_type == "candidate",
                AuditEvent.subject_id == whose.candidate_id,
            ),
            and_(
                AuditEvent.subject_type == "application",
                AuditEvent.subject_id.in_(whose.application_ids),
            ),
            and_(AuditEvent.subject_type == "thread", AuditEvent.subject_id.in_(whose.thread_ids)),
            and_(
                AuditEvent.subject_type == "pool_membership",
                AuditEvent.subject_id.in_(whose.membership_ids),
            ),
        ),
    )


def _rows_of(model: type[Base], condition: Callable[[Whose], Any]) -> Finder:
    table = cast(Table, model.__table__)

    def find(whose: Whose) -> Select[Any]:
        kept = [column for column in table.columns if column.name not in SECRET_COLUMNS]
        return select(*kept).where(condition(whose))

    return find


def _messages(whose: Whose) -> Any:
    # What they wrote, and the replies they were shown: not a reply waiting for
    # approval or sent back, not one staff hid.
    return and_(
        Message.thread_id.in_(whose.thread_ids),
        or_(
            Message.author_kind == AuthorKind.CANDIDATE,
            and_(Message.state == MessageState.SENT, Message.hidden_at.is_(None)),
        ),
    )


def _scorecards(whose: Whose) -> Select[Any]:
    # That an interview took place, with whom and when, is theirs; the interviewer's
    # overall recommendation is withheld (see docs/drafting.md, "What the candidate's
    # data export holds").
    columns: list[Any] = [
        Scorecard.id,
        Scorecard.application_id,
        Scorecard.source,
        Scorecard.interviewer,
        Scorecard.step,
        Scorecard.interviewed_on,
        Scorecard.created_at,
    ]
    return select(*columns).where(Scorecard.application_id.in_(whose.application_ids))


def _scorecard_notes(whose: Whose) -> Select[Any]:
    # The candidate-safe notes and answers, as written about them (GDPR art. 15); the
    # private ones and the ratings are withheld as the interviewers' internal opinion,
    # as staff's internal notes are (art. 15(4): the rights of others).
    columns: list[Any] = [
        ScorecardEntry.id,
        ScorecardEntry.scorecard_id,
        ScorecardEntry.kind,
        ScorecardEntry.name,
        ScorecardEntry.text,
    ]
    return select(*columns).where(
        ScorecardEntry.scorecard_id.in_(
            select(Scorecard.id).where(Scorecard.application_id.in_(whose.application_ids))
        ),
        ScorecardEntry.private.is_(False),
    )


# Table name -> how to find the candidate's rows, in the order the document lists them.
EXPORTED: dict[str, Finder] = {
    "candidates": _rows_of(Candidate, lambda w: Candidate.id == w.candidate_id),
    "applications": _rows_of(Application, lambda w: Application.candidate_id == w.candidate_id),
    "feedback": _rows_of(Feedback, lambda w: Feedback.id.in_(w.published_feedback_ids)),
    "feedback_items": _rows_of(
        FeedbackItem,
        lambda w: and_(
            FeedbackItem.feedback_id.in_(w.published_feedback_ids), FeedbackItem.visible
        ),
    ),
    "threads": _rows_of(Thread, lambda w: Thread.candidate_id == w.candidate_id),
    "thread_messages": _rows_of(Message, _messages),
    "pool_memberships": _rows_of(
        PoolMembership, lambda w: PoolMembership.candidate_id == w.candidate_id
    ),
    "pool_consent_events": _rows_of(
        PoolConsentEvent,
        lambda w: PoolConsentEvent.membership_id.in_(w.membership_ids),
    ),
    "pool_contacts": _rows_of(
        PoolContact, lambda w: PoolContact.membership_id.in_(w.membership_ids)
    ),
    "candidate_blocks": _rows_of(
        CandidateBlock, lambda w: CandidateBlock.candidate_id == w.candidate_id
    ),
    "access_links": _rows_of(AccessLink, lambda w: AccessLink.candidate_id == w.candidate_id),
    "sessions": _rows_of(Session, lambda w: Session.candidate_id == w.candidate_id),
    "kept_forms": _rows_of(KeptForm, lambda w: KeptForm.candidate_id == w.candidate_id),
    "background_jobs": _mail_to,
    "audit_events": _rows_of(AuditEvent, audit_about),
    "data_requests": _rows_of(DataRequest, lambda w: DataRequest.candidate_id == w.candidate_id),
    # What a language model was sent of their feedback's drafts, and what it answered.
    "feedback_rephrasings": _rows_of(
        Rephrasing, lambda w: Rephrasing.application_id.in_(w.application_ids)
    ),
    "scorecards": _scorecards,
    "scorecard_entries": _scorecard_notes,
    "feedback_sends": _rows_of(
        FeedbackSend, lambda w: FeedbackSend.application_id.in_(w.application_ids)
    ),
    "ats_candidates": _rows_of(
        AtsCandidate, lambda w: AtsCandidate.application_id.in_(w.application_ids)
    ),
}

# Tables with none of the candidate's own rows, or whose rows of theirs are withheld,
# and why. A row of theirs in one of these is a decision written here.
NOT_THEIRS: dict[str, str] = {
    "organizations": "the employer's own record",
    "staff_users": "the employer's staff",
    "staff_invitations": "the employer's staff",
    "staff_sign_in_failures": "the employer's staff",
    "jobs": "the employer's jobs (each application's job is named in it)",
    "requirements": "the employer's jobs (published feedback keeps its own copy)",
    "library_requirements": "the employer's requirement library",
    "saved_answers": "the employer's reply templates",
    "pool_consent_texts": "the statements; those the candidate agreed to are in consent_texts",
    "import_uploads": "staff's CSV files, dropped once imported and after a day",
    "legal_holds": "kept without anything that identifies anyone",
    "feedback_overrides": "withheld: a recruiter's internal decision to publish",
    "thread_notes": "withheld: staff's internal notes",
    "ats_connections": "the employer's settings for its applicant tracking system",
    "ats_job_mappings": "the employer's settings for its applicant tracking system",
    "ats_events": "withheld: what the employer's applicant tracking system sent (what it said "
    "of the application is in applications; erasure cuts the candidate out of it)",
    "scorecard_attribute_maps": "the employer's settings: which scorecard attribute rates "
    "which requirement",
    "growth_suggestions": "the employer's suggestion library",
    "drafted_feedback": "withheld: where each sentence of a draft came from, for the "
    "recruiter (the sentences they were published in are in feedback_items); erasure "
    "deletes it with the application",
    "drafting_runs": "the employer's bulk drafting: application ids and counts, no text "
    "(erasure leaves ids that no longer name anyone)",
    "webhook_endpoints": "the employer's settings for its own systems",
    "webhook_deliveries": "the employer's notices to its own systems: ids and dates, no text",
    "api_keys": "the employer's keys for its own systems",
    "api_idempotent_requests": "the answers the API keeps a day for its clients' retries "
    "(what they say of the candidate is in applications; erasure cuts the candidate out)",
    "send_settings": "the employer's send window",
    "survey_wordings": "the employer's survey questions",
    "survey_answers": "kept apart from anyone's identity: only a keyed hash of the "
    "application finds an answer again, and the candidate sees theirs under their feedback "
    "(erasure deletes it)",
    "check_tallies": "withheld: what the feedback check found in each version, for coaching "
    "the employer's writers",
    "check_tally_rules": "withheld: what the feedback check found in each version, for "
    "coaching the employer's writers",
    "insight_months": "counts by job and month, in groups of several candidates",
    "insight_findings": "counts by writer and month, of the feedback check's findings",
    "insight_refreshes": "when the employer's figures were last worked out",
    "rate_limit_hits": "a count of recent requests under a one-way hash of an address or a "
    "link, gone within the hour: nothing that names anyone",
}


async def whose(db: AsyncSession, *, organization_id: int, candidate_id: int) -> Whose | None:
    """The ids to find a candidate's rows by, or None if they are not of this organization."""
    email = await db.scalar(
        select(Candidate.email).where(
            Candidate.id == candidate_id, Candidate.organization_id == organization_id
        )
    )
    if email is None:
        return None
    applications = tuple(
        (
            await db.scalars(
                select(Application.id)
                .where(Application.candidate_id == candidate_id)
                .order_by(Application.id)
            )
        ).all()
    )
    threads = tuple(
        (await db.scalars(select(Thread.id).where(Thread.candidate_id == candidate_id))).all()
    )
    memberships = tuple(
        (
            await db.scalars(
                select(PoolMembership.id).where(PoolMembership.candidate_id == candidate_id)
            )
        ).all()
    )
    published = tuple(
        (
            await db.scalars(
                select(Feedback.id).where(
                    Feedback.application_id.in_(applications),
                    Feedback.state == FeedbackState.PUBLISHED,
                )
            )
        ).all()
    )
    return Whose(
        organization_id, candidate_id, email, applications, threads, memberships, published
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return None
    return value


def _row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    return {name: _plain(value) for name, value in mapping.items()}


async def build_export(
    db: AsyncSession, *, organization_id: int, candidate_id: int, now: dt.datetime
) -> dict[str, Any] | None:
    """The export document, or None if the candidate is not of this organization."""
    found = await whose(db, organization_id=organization_id, candidate_id=candidate_id)
    if found is None:
        return None
    organization = (
        await db.execute(
            select(Organization.name, Organization.display_name).where(
                Organization.id == organization_id
            )
        )
    ).one()
    tables: dict[str, list[dict[str, Any]]] = {}
    for name, finder in EXPORTED.items():
        statement = finder(found)
        table = Base.metadata.tables[name]
        order: list[Any] = [
            column for column in table.primary_key.columns if column.name != "id_hash"
        ]
        if name == "sessions":
            order = [Session.created_at]
        rows = await db.execute(statement.order_by(*order))
        tables[name] = [_row(row._mapping) for row in rows]
    texts = (
        await db.execute(
            select(PoolConsentText.id, PoolConsentText.version, PoolConsentText.text)
            .where(
                PoolConsentText.id.in_(
                    select(PoolMembership.consent_text_id).where(
                        PoolMembership.id.in_(found.membership_ids)
                    )
                )
            )
            .order_by(PoolConsentText.version)
        )
    ).all()
    job_titles = (
        await db.execute(
            select(Job.id, Job.title, Job.team, Job.location).where(
                Job.id.in_(
                    select(Application.job_id).where(Application.candidate_id == candidate_id)
                )
            )
        )
    ).all()
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "generated_at": now.isoformat(),
        "organization": {"name": organization.name, "display_name": organization.display_name},
        "jobs": [_row(row._mapping) for row in job_titles],
        "consent_texts": [_row(row._mapping) for row in texts],
        "tables": tables,
    }
