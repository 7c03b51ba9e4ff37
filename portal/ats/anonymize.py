"""An ATS anonymized one of its candidates: the portal erases them too.

Greenhouse's `candidate_anonymized` web hook names the candidate by Greenhouse's id
alone. An application's candidate is found by email address when an event makes it,
so `ats_candidates` (written then, by `remember_candidate`) is what says which of the
organization's applications came from that ATS person; the candidates of those
applications are erased, whole.

Whole, even when the ATS names only some fields (`full_name`, `current_title`): what
the portal holds of a candidate in that organization came from that ATS record (their
name, address, application and decision) or was written about it (feedback, questions
and replies, talent-pool consent), so it cannot be kept apart from what the ATS
anonymized, and a partial copy would still identify them. The employer anonymizing
someone in its ATS means it no longer wants to hold them; the portal follows.

The erasure itself belongs to `portal.privacy`, a layer above this one (it reads
every domain's tables). So that this layer need not import it, `portal.privacy`
registers its eraser here (`on_anonymized.register`, in `portal.privacy.anonymized`,
imported by `portal.job_kinds` as the job kinds are), and processing an event hands
it the organization's candidates to erase. Without one registered, processing fails
loudly and the event is tried again: it is never dropped.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from portal.ats import adapters
from portal.ats.models import Ats, AtsCandidate, AtsEvent, AtsEventState
from portal.candidates.models import Application
from portal.settings import Settings

# A waiting event's body once its candidate was anonymized before it could be used.
ANONYMIZED_EVENT_BODY = '{"anonymized": true}'


@dataclass(frozen=True)
class ErasureOrder:
    """What the ATS asked, for the eraser: the organization's candidates (ours) that
    came from one ATS person (theirs)."""

    organization_id: int
    ats: Ats
    event_id: int
    external_id: str  # the ATS's id of the person
    candidate_ids: tuple[int, ...]
    fields: tuple[str, ...]  # what the ATS said it anonymized
    requested_at: dt.datetime  # when the event arrived


class Eraser(Protocol):
    async def __call__(
        self, db: AsyncSession, *, order: ErasureOrder, settings: Settings, now: dt.datetime
    ) -> int:
        """Erase the order's candidates (in the caller's transaction); how many."""
        ...


class AnonymizedHook:
    """The one eraser of candidates an ATS anonymized, registered by a higher layer."""

    def __init__(self) -> None:
        self._eraser: Eraser | None = None

    def register(self, eraser: Eraser) -> Eraser:
        if self._eraser is not None:
            raise ValueError("an eraser of anonymized candidates is already registered")
        self._eraser = eraser
        return eraser

    @property
    def eraser(self) -> Eraser:
        if self._eraser is None:
            raise LookupError(
                "nothing erases candidates an ATS anonymized: import portal.job_kinds"
            )
        return self._eraser


on_anonymized = AnonymizedHook()


async def remember_candidate(
    db: AsyncSession, *, application_id: int, ats: Ats, external_id: str, now: dt.datetime
) -> None:
    """Keep which ATS person an application came from (once)."""
    if not external_id:
        return
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    await db.execute(
        insert(AtsCandidate)
        .values(
            application_id=application_id, ats=ats.value, external_id=external_id, created_at=now
        )
        .on_conflict_do_nothing(
            index_elements=[AtsCandidate.application_id, AtsCandidate.ats, AtsCandidate.external_id]
        )
    )


async def candidates_of(
    db: AsyncSession, *, organization_id: int, ats: Ats, external_id: str
) -> tuple[int, ...]:
    """The organization's candidates with an application from this ATS person."""
    return tuple(
        (
            await db.scalars(
                select(Application.candidate_id)
                .join(AtsCandidate, AtsCandidate.application_id == Application.id)
                .where(
                    Application.organization_id == organization_id,
                    AtsCandidate.ats == ats,
                    AtsCandidate.external_id == external_id,
                )
                .distinct()
                .order_by(Application.candidate_id)
            )
        ).all()
    )


async def _drop_waiting(
    db: AsyncSession, *, event: AtsEvent, ats: Ats, external_id: str, now: dt.datetime
) -> int:
    """The person's rejections not made into applications yet (their job unmapped, or
    still queued) would bring them back: they end here, their bodies cleared.

    No row is locked to look: one being processed by another worker right now is
    waited for by the UPDATE, which then finds it no longer waiting, and the
    application it made is found by `candidates_of` afterwards. Another anonymization
    is never written to, so two of them processed at once cannot wait on each other."""
    waiting = (
        await db.execute(
            select(AtsEvent.id, AtsEvent.body).where(
                AtsEvent.organization_id == event.organization_id,
                AtsEvent.ats == ats,
                AtsEvent.id != event.id,
                AtsEvent.state.in_([AtsEventState.RECEIVED, AtsEventState.WAITING]),
                # A cheap first sieve: the id appears in the body somewhere.
                AtsEvent.body.contains(external_id, autoescape=True),
            )
        )
    ).all()
    dropped = 0
    for row in waiting:
        try:
            read = adapters.read_event(ats, json.loads(row.body))
        except (adapters.Unusable, ValueError, RecursionError):
            continue
        if not (isinstance(read, adapters.Rejection) and read.candidate_id == external_id):
            continue
        result = await db.execute(
            update(AtsEvent)
            .where(
                AtsEvent.id == row.id,
                AtsEvent.state.in_([AtsEventState.RECEIVED, AtsEventState.WAITING]),
            )
            .values(
                body=ANONYMIZED_EVENT_BODY,
                state=AtsEventState.IGNORED,
                message=(
                    f"Its candidate was anonymized in {ats.value.capitalize()} "
                    f"(event {event.id}) before it was used."
                ),
                processed_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        dropped += result.rowcount or 0  # type: ignore[attr-defined]
    return dropped


async def process_anonymization(
    db: AsyncSession,
    *,
    event: AtsEvent,
    anonymization: adapters.Anonymization,
    settings: Settings,
    now: dt.datetime,
) -> tuple[AtsEventState, str]:
    """Erase the organization's candidates that came from the anonymized ATS person:
    PROCESSED, or IGNORED when none did. The state and the message for the event."""
    ats = Ats(event.ats)
    system = ats.value.capitalize()
    external_id = anonymization.candidate_id
    dropped = await _drop_waiting(db, event=event, ats=ats, external_id=external_id, now=now)
    also = f" {dropped} waiting rejection(s) of theirs dropped." if dropped else ""
    candidate_ids = await candidates_of(
        db, organization_id=event.organization_id, ats=ats, external_id=external_id
    )
    if not candidate_ids:
        return (
            AtsEventState.IGNORED,
            f"No application here came from {system} candidate {external_id}: "
            f"nothing to erase.{also}",
        )
    erased = await on_anonymized.eraser(
        db,
        order=ErasureOrder(
            organization_id=event.organization_id,
            ats=ats,
            event_id=event.id,
            external_id=external_id,
            candidate_ids=candidate_ids,
            fields=anonymization.fields,
            requested_at=event.received_at,
        ),
        settings=settings,
        now=now,
    )
    return (
        AtsEventState.PROCESSED,
        f"{system} anonymized candidate {external_id}: {erased} candidate(s) erased here.{also}",
    )
