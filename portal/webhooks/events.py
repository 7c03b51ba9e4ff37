"""The event types an endpoint can subscribe to, each with what it means.

Payloads carry ids and the facts of the event, never the feedback's wording, a
question's text or anything staff-only (internal items, notes, scorecards).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

EVENT_TYPES: dict[str, str] = {
    "feedback.published": "A version of a candidate's feedback was published.",
    "feedback.viewed": "A candidate opened their feedback through its emailed link.",
    "question.asked": "A candidate asked a question about their feedback.",
    "question.answered": "Staff answered a candidate's question (the answer was sent).",
    "pool.joined": "A candidate joined the talent pool.",
    "pool.left": "A candidate left the talent pool (or their membership ended).",
    "candidate.erased": "A candidate's personal data was erased (for the privacy work).",
}


def published_event(*, application_id: int, version: int, now: dt.datetime) -> dict[str, Any]:
    return {
        "application_id": application_id,
        "version": version,
        "published_at": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
    }
