"""How useful a draft from scorecards was: when a version is published, each drafted
sentence is found in the published text as it was drafted (kept), changed (edited: a
published sentence at least `EDITED_RATIO` alike), or not at all (deleted). Each published
sentence stands for one drafted sentence at most."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth import Actor
from portal.drafting.compose import sentences_of
from portal.drafting.models import DraftedFeedback
from portal.feedback import drafts
from portal.feedback.check import Draft

EDITED_RATIO = 0.6


@dataclass(frozen=True)
class Measured:
    kept: int
    edited: int
    deleted: int


def published_sentences(draft: Draft) -> list[str]:
    texts = [draft.decision_summary, draft.personal_note]
    for item in draft.items:
        texts += [item.body, item.suggestion]
    return [sentence for text in texts if text for sentence in sentences_of(text)]


def measure(drafted: Sequence[str], published: Sequence[str]) -> Measured:
    """Each published sentence answers for one drafted sentence at most: a sentence
    drafted twice (as evidence and as a growth area, say) and rewritten in one place is
    kept once and edited once, not kept twice."""
    left = Counter(published)
    unmatched = []
    kept = edited = deleted = 0
    for sentence in drafted:
        if left[sentence] > 0:
            left[sentence] -= 1
            kept += 1
        else:
            unmatched.append(sentence)
    others = list(left.elements())
    for sentence in unmatched:
        matcher = SequenceMatcher(a=sentence, autojunk=False)
        for i, other in enumerate(others):
            matcher.set_seq2(other)
            if matcher.quick_ratio() >= EDITED_RATIO and matcher.ratio() >= EDITED_RATIO:
                del others[i]
                edited += 1
                break
        else:
            deleted += 1
    return Measured(kept, edited, deleted)


async def record_usefulness(
    db: AsyncSession, *, application_id: int, published_version: int, draft: Draft
) -> Measured | None:
    """Measure the newest draft from scorecards at or before the version just published
    (the one the recruiter started from) against it; None when none was drafted, or it
    was measured already by an earlier publication."""
    record = await db.scalar(
        select(DraftedFeedback)
        .where(
            DraftedFeedback.application_id == application_id,
            DraftedFeedback.version <= published_version,
            DraftedFeedback.published_version.is_(None),
        )
        .order_by(DraftedFeedback.version.desc())
        .limit(1)
    )
    if record is None:
        return None
    sentences = [part for s in record.sentences for part in sentences_of(str(s["text"]))]
    measured = measure(sentences, published_sentences(draft))
    record.published_version = published_version
    record.kept, record.edited, record.deleted = measured.kept, measured.edited, measured.deleted
    await db.flush()
    return measured


async def measure_published(
    db: AsyncSession, *, actor: Actor, application_id: int, version: int
) -> Measured | None:
    """After publishing `version` (every way of publishing calls this): measure the draft
    from scorecards it came from, if any."""
    stored = await drafts.load_draft(
        db, actor=actor, application_id=application_id, version=version
    )
    if stored is None:
        return None
    return await record_usefulness(
        db, application_id=application_id, published_version=version, draft=stored.draft
    )
