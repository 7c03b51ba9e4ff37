"""Whether a version says enough to publish without a second thought (docs/staff/publishing.md).

Feedback that assesses no requirement, or names neither a strength nor a growth area,
is not specific feedback (DESIGN §2.1). It may still be right to publish it (a
candidate who withdrew early, say), so it is not refused: publishing it needs the
recruiter's explicit confirmation, and bulk publishing leaves it out. Only what the
candidate will read counts: an item kept internal says nothing to them.

The feedback check uses the same judgement (docs/staff/feedback-check.md): feedback that
assesses no requirement is flagged as vague as a whole, and a "not yet met" whose text
carries no evidence (`has_evidence`) is flagged on its item.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

from portal.characters import matching_text
from portal.feedback.check_rules import Tokens
from portal.feedback.check_signals import clauses, load_signals, requirement_words, specific

if TYPE_CHECKING:
    from portal.feedback.check import Draft


class Missing(StrEnum):
    ASSESSMENT = "assessment"  # no requirement is rated
    STRENGTH_OR_GROWTH_AREA = "strength_or_growth_area"  # neither a strength nor a growth area


MISSING_WORDS = {
    Missing.ASSESSMENT: "No requirement is assessed: the candidate will not learn how they "
    "did against any of the job's requirements.",
    Missing.STRENGTH_OR_GROWTH_AREA: "There are no strengths and no growth areas: the "
    "candidate will not learn what went well or what to work on.",
}


def missing_parts(draft: Draft) -> tuple[Missing, ...]:
    """What the candidate's page of `draft` would lack, in the order of the page."""
    shown = [item for item in draft.items if item.visible]
    missing = []
    if not any(item.kind == "assessment" and item.rating for item in shown):
        missing.append(Missing.ASSESSMENT)
    if not any(item.kind in ("strength", "growth_area") for item in shown):
        missing.append(Missing.STRENGTH_OR_GROWTH_AREA)
    return tuple(missing)


def has_evidence(text: str, requirements: Sequence[str] = ()) -> bool:
    """Whether some sentence of `text` names evidence: a number, a quoted answer, a name, a
    requirement of the job or a word beyond the vocabulary of generic feedback."""
    tokens = Tokens.of(matching_text(text).text)
    signals = load_signals()
    required = requirement_words(tuple(requirements))
    return any(specific(signals, tokens, first, last, required) for first, last in clauses(tokens))
