"""Whether a version says enough to publish without a second thought (docs/staff/publishing.md).

Feedback that assesses no requirement, or names neither a strength nor a growth area,
is not specific feedback (DESIGN §2.1). It may still be right to publish it (a
candidate who withdrew early, say), so it is not refused: publishing it needs the
recruiter's explicit confirmation, and bulk publishing leaves it out. Only what the
candidate will read counts: an item kept internal says nothing to them.
"""

from __future__ import annotations

from enum import StrEnum

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
