"""A language model for an organization: its settings, rephrasing a draft (proposed,
then approved or rejected by a recruiter), and the second opinion on the check.

Text leaves the installation only from here and only when the organization's admin
named a model and turned the use on: `settings_of` says so, and every function that
asks a model refuses (`Off`) otherwise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal import concurrency
from portal.audit import service as audit
from portal.feedback import drafts
from portal.feedback.check import Draft
from portal.feedback.models import Feedback
from portal.llm import adapter, rephrase
from portal.llm.forms import ModelSettingsForm
from portal.llm.models import Rephrasing, RephrasingState
from portal.orgs.models import Organization
from portal.security.actors import Staff


class Off(LookupError):
    """The organization has not turned this use of a model on."""


class Unchanged(Exception):
    """The rephrased draft is the same as the one it was made from."""


class NothingToRephrase(LookupError):
    """There is no saved draft, or it holds no candidate-facing text."""


@dataclass(frozen=True)
class ModelSettings:
    model: str
    rephrases: bool
    second_opinion: bool
    version: int

    @property
    def can_rephrase(self) -> bool:
        return bool(self.model and self.rephrases)

    @property
    def gives_second_opinion(self) -> bool:
        return bool(self.model and self.second_opinion)

    def form_values(self) -> dict[str, str]:
        return {
            "language_model": self.model,
            "model_rephrases": "on" if self.rephrases else "",
            "model_second_opinion": "on" if self.second_opinion else "",
            "version": str(self.version),
        }


async def settings_of(db: AsyncSession, *, organization_id: int) -> ModelSettings:
    row = (
        await db.execute(
            select(
                Organization.language_model,
                Organization.model_rephrases,
                Organization.model_second_opinion,
                Organization.version,
            ).where(Organization.id == organization_id)
        )
    ).one()
    return ModelSettings(
        row.language_model or "", row.model_rephrases, row.model_second_opinion, row.version
    )


async def update_settings(
    db: AsyncSession, *, actor: Staff, changes: ModelSettingsForm, ip_hash: str | None = None
) -> None:
    """Save the admin's choice (audited with what it is now), or `Conflict` when the
    organization's settings changed since the page was loaded."""
    org = await db.get(Organization, actor.organization_id, populate_existing=True)
    if org is None:
        raise LookupError(actor.organization_id)
    concurrency.expect_version(org, changes.version)
    wanted = {
        "language_model": changes.language_model,
        "model_rephrases": changes.model_rephrases,
        "model_second_opinion": changes.model_second_opinion,
    }
    changed = {name: value for name, value in wanted.items() if getattr(org, name) != value}
    for name, value in changed.items():
        setattr(org, name, value)
    await concurrency.flush(db)
    if changed:
        audit.record(
            db,
            action="organization.language_model_changed",
            actor_kind="staff",
            actor_id=actor.staff_id,
            organization_id=org.id,
            subject_type="organization",
            subject_id=org.id,
            ip_hash=ip_hash,
            details={
                "fields": sorted(changed),
                "model": org.language_model,
                "rephrases": org.model_rephrases,
                "second_opinion": org.model_second_opinion,
            },
        )


# --- rephrasing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """What will be sent: the newest draft's candidate-facing texts, to this model."""

    model: str
    version: int
    draft: Draft
    texts: dict[str, str]


async def prepare_rephrasing(db: AsyncSession, *, actor: Staff, application_id: int) -> Prepared:
    """The newest draft's texts for the organization's model: `Off` unless an admin
    turned rephrasing on, `drafts.ApplicationNotFound`, `NothingToRephrase`."""
    settings = await settings_of(db, organization_id=actor.organization_id)
    if not settings.can_rephrase:
        raise Off()
    stored = await drafts.load_draft(db, actor=actor, application_id=application_id)
    if stored is None:
        raise NothingToRephrase()
    texts = rephrase.candidate_texts(stored.draft)
    if not texts:
        raise NothingToRephrase()
    return Prepared(settings.model, stored.version, stored.draft, texts)


async def ask_to_rephrase(prepared: Prepared, *, within: float) -> adapter.Exchange:
    """Send the texts (no database session is needed, or should be held, meanwhile);
    `adapter.ModelFailed` when no answer came."""
    return await adapter.ask(
        prepared.model,
        system=rephrase.SYSTEM,
        prompt=rephrase.prompt_for(prepared.texts),
        within=within,
    )


async def record_proposal(
    db: AsyncSession,
    *,
    actor: Staff,
    application_id: int,
    prepared: Prepared,
    exchange: adapter.Exchange,
    now: dt.datetime,
) -> int:
    """Keep a valid answer as a proposal (its id); `rephrase.BadAnswer` (nothing kept)
    otherwise."""
    rephrase.read_answer(exchange.output, prepared.texts)
    await drafts.newest_version_of(db, actor=actor, application_id=application_id)
    proposal = Rephrasing(
        application_id=application_id,
        based_on_version=prepared.version,
        state=RephrasingState.PROPOSED,
        model=exchange.model,
        system=exchange.system,
        prompt=exchange.prompt,
        output=exchange.output,
        created_by_staff_id=actor.staff_id,
        created_at=now,
    )
    db.add(proposal)
    await db.flush()
    return proposal.id


@dataclass(frozen=True)
class Proposal:
    id: int
    state: RephrasingState
    model: str
    based_on_version: int
    newest_version: int
    current: Draft  # the version the texts were taken from
    proposed: Draft  # the same with the model's texts
    texts: dict[str, str]  # the texts sent, by field
    answer: dict[str, str]  # the model's, by field

    @property
    def stale(self) -> bool:
        return self.newest_version != self.based_on_version


async def load_proposal(
    db: AsyncSession, *, actor: Staff, application_id: int, rephrasing_id: int
) -> Proposal:
    """A rephrasing of an application the recruiter may read (`LookupError` otherwise)."""
    stored = await drafts.load_draft(db, actor=actor, application_id=application_id)
    row = await db.scalar(
        select(Rephrasing).where(
            Rephrasing.id == rephrasing_id, Rephrasing.application_id == application_id
        )
    )
    if row is None or stored is None:
        raise LookupError(rephrasing_id)
    base = await drafts.load_draft(
        db, actor=actor, application_id=application_id, version=row.based_on_version
    )
    if base is None:
        raise LookupError(rephrasing_id)
    texts = rephrase.candidate_texts(base.draft)
    answer = rephrase.read_answer(row.output, texts)
    return Proposal(
        id=row.id,
        state=row.state,
        model=row.model,
        based_on_version=row.based_on_version,
        newest_version=stored.version,
        current=base.draft,
        proposed=rephrase.rephrased(base.draft, answer),
        texts=texts,
        answer=answer,
    )


async def approve(
    db: AsyncSession,
    *,
    actor: Staff,
    application_id: int,
    rephrasing_id: int,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> int:
    """Save the proposal as the next draft version (the newest must still be the one it
    was made from: `Conflict` otherwise) and keep the prompt and answer with it."""
    proposal = await load_proposal(
        db, actor=actor, application_id=application_id, rephrasing_id=rephrasing_id
    )
    if proposal.state != RephrasingState.PROPOSED:
        raise LookupError(rephrasing_id)
    saved = await drafts.save_draft(
        db,
        actor=actor,
        application_id=application_id,
        draft=proposal.proposed,
        author_staff_id=actor.staff_id,
        based_on=proposal.based_on_version,
        now=now,
        ip_hash=ip_hash,
    )
    if not saved.created:  # the model changed nothing: there is no new version to carry it
        raise Unchanged()
    feedback_id = await db.scalar(
        select(Feedback.id).where(
            Feedback.application_id == application_id, Feedback.version == saved.version
        )
    )
    row = await db.get(Rephrasing, rephrasing_id)
    assert row is not None
    row.state = RephrasingState.APPROVED
    row.feedback_id = feedback_id
    row.decided_by_staff_id = actor.staff_id
    row.decided_at = now
    audit.record(
        db,
        action="feedback.rephrasing_approved",
        actor_kind="staff",
        actor_id=actor.staff_id,
        organization_id=actor.organization_id,
        subject_type="application",
        subject_id=application_id,
        ip_hash=ip_hash,
        details={"version": saved.version, "model": proposal.model},
    )
    return saved.version


async def reject(
    db: AsyncSession, *, actor: Staff, application_id: int, rephrasing_id: int, now: dt.datetime
) -> None:
    await drafts.newest_version_of(db, actor=actor, application_id=application_id)
    row = await db.scalar(
        select(Rephrasing).where(
            Rephrasing.id == rephrasing_id,
            Rephrasing.application_id == application_id,
            Rephrasing.state == RephrasingState.PROPOSED,
        )
    )
    if row is None:
        raise LookupError(rephrasing_id)
    row.state = RephrasingState.REJECTED
    row.decided_by_staff_id = actor.staff_id
    row.decided_at = now
