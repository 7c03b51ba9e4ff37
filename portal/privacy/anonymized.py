"""Erasing the candidates an applicant tracking system anonymized (Greenhouse's
`candidate_anonymized`), registered with `portal.ats.anonymize.on_anonymized`: the ATS
layer finds which of the organization's candidates came from the anonymized person,
and hands them here, as it may not import this layer.

Each is erased as any erasure is (`erase_candidate`: the legal hold, the audit record
with the cause `ats`, the `candidate.erased` webhook), and the data requests log
records the ATS's request, answered at once. The candidate gets no email: they did
not ask the portal, and the ATS has just anonymized their address there.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from portal.ats.anonymize import ErasureOrder, on_anonymized
from portal.audit.service import SYSTEM
from portal.privacy.erasure import erase_candidate
from portal.privacy.models import DataRequest, ErasureCause, RequestKind, RequestSource
from portal.settings import Settings


@on_anonymized.register
async def erase_anonymized(
    db: AsyncSession, *, order: ErasureOrder, settings: Settings, now: dt.datetime
) -> int:
    reason = f"{order.ats.value.capitalize()} anonymized the candidate (event {order.event_id})"
    erased = 0
    for candidate_id in order.candidate_ids:
        db.add(
            DataRequest(
                organization_id=order.organization_id,
                candidate_id=candidate_id,
                kind=RequestKind.ERASURE,
                source=RequestSource.ATS,
                reason=reason,
                requested_at=order.requested_at,
                answered_at=now,
            )
        )
        await db.flush()
        erasure = await erase_candidate(
            db,
            organization_id=order.organization_id,
            candidate_id=candidate_id,
            cause=ErasureCause.ATS,
            settings=settings,
            now=now,
            actor_kind=SYSTEM,
            reason=reason,
            notify=False,
        )
        if erasure is not None:
            erased += 1
    return erased
