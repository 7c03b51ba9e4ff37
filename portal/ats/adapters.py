"""Each ATS's webhook, read into one shape: a rejection, an anonymization (or nothing
to do).

Pure functions over the parsed JSON; what is missing from an event (Lever sends only
ids) is completed through `portal.ats.fetch`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from portal.ats.fetch import Person
from portal.ats.models import Ats


class Unusable(ValueError):
    """The event is signed but cannot be used; the message says why (for staff)."""


@dataclass(frozen=True)
class Rejection:
    application_id: str  # the ATS's ids
    candidate_id: str
    email: str
    name: str
    job_id: str
    job_name: str
    stage: str  # the ATS's stage name, mapped by `stage_of`
    decided_on: dt.date | None
    reason: str  # staff-only: never copied into the feedback

    def completed(self, person: Person | None) -> Rejection:
        if person is None:
            return self
        return replace(
            self,
            email=self.email or person.email,
            name=self.name or person.name,
            job_id=self.job_id or person.job_id,
            job_name=self.job_name or person.job_name,
            stage=self.stage or person.stage,
        )


@dataclass(frozen=True)
class Anonymization:
    """The ATS anonymized one of its candidates (Greenhouse's `candidate_anonymized`):
    their id in the ATS, and the fields it says it anonymized (for the record only:
    the portal erases the candidate whole, see `portal.ats.anonymize`)."""

    candidate_id: str
    fields: tuple[str, ...]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any, limit: int = 300) -> str:
    if value is None or isinstance(value, dict | list | bool):
        return ""
    return " ".join(str(value).split())[:limit]


def _day(value: Any) -> dt.date | None:
    """An ISO 8601 moment, or milliseconds since the epoch (Lever), as a date."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC).date()
    text = _str(value, 40)
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def event_name(ats: Ats, payload: dict[str, Any]) -> str:
    if ats == Ats.LEVER:
        return _str(payload.get("event"), 100)
    return _str(payload.get("action"), 100)


def read_greenhouse_anonymized(payload: dict[str, Any]) -> Anonymization:
    """`{"action": "candidate_anonymized", "payload": {"candidate_id": 37031511,
    "anonymized_fields": ["full_name", "current_title"]}}`, as Greenhouse documents it."""
    body = _dict(payload.get("payload"))
    candidate_id = _str(body.get("candidate_id"), 100)
    if not candidate_id:
        raise Unusable("The anonymization names no candidate.")
    fields = body.get("anonymized_fields")
    return Anonymization(
        candidate_id=candidate_id,
        fields=tuple(
            _str(field, 60) for field in (fields if isinstance(fields, list) else ())[:100]
        ),
    )


def read_greenhouse(payload: dict[str, Any]) -> Rejection | Anonymization | None:
    if payload.get("action") == "candidate_anonymized":
        return read_greenhouse_anonymized(payload)
    if payload.get("action") != "reject_candidate":
        return None
    application = _dict(_dict(payload.get("payload")).get("application"))
    candidate = _dict(application.get("candidate"))
    emails = [_dict(e) for e in candidate.get("email_addresses") or () if isinstance(e, dict)]
    # The candidate's personal address first, as Greenhouse lists several.
    emails.sort(key=lambda e: e.get("type") != "personal")
    jobs = [_dict(j) for j in application.get("jobs") or () if isinstance(j, dict)]
    if not application.get("id") or not jobs:
        raise Unusable("The rejection names no application or no job.")
    name = " ".join(
        part
        for part in (_str(candidate.get("first_name")), _str(candidate.get("last_name")))
        if part
    )
    reason = _dict(application.get("rejection_reason"))
    return Rejection(
        application_id=_str(application.get("id"), 100),
        candidate_id=_str(candidate.get("id"), 100),
        email=_str(emails[0].get("value"), 320).lower() if emails else "",
        name=name[:200],
        job_id=_str(jobs[0].get("id"), 100),
        job_name=_str(jobs[0].get("name")),
        stage=_str(_dict(application.get("current_stage")).get("name"), 100),
        decided_on=_day(application.get("rejected_at")),
        reason=_str(reason.get("name"), 200),
    )


def read_lever(payload: dict[str, Any]) -> Rejection | None:
    if payload.get("event") != "candidateArchiveChange":
        return None
    data = _dict(payload.get("data"))
    archived = _dict(data.get("toArchived"))
    if not archived:
        return None  # taken out of the archive: nothing to write
    opportunity = _str(data.get("opportunityId"), 100)
    if not opportunity:
        raise Unusable("The event names no opportunity.")
    return Rejection(
        application_id=opportunity,
        candidate_id=_str(data.get("contactId") or data.get("candidateId"), 100),
        email="",
        name="",
        job_id="",
        job_name="",
        stage="",
        decided_on=_day(archived.get("archivedAt")),
        reason=_str(archived.get("reason"), 200),
    )


ASHBY_ACTIONS = frozenset({"application.changeStage", "candidateStageChange"})


def read_ashby(payload: dict[str, Any]) -> Rejection | None:
    if payload.get("action") not in ASHBY_ACTIONS:
        return None
    application = _dict(_dict(payload.get("data")).get("application"))
    stage = _dict(application.get("currentInterviewStage"))
    if stage.get("type") != "Archived" and application.get("status") != "Archived":
        return None  # moved along, not out
    candidate = _dict(application.get("candidate"))
    job = _dict(application.get("job"))
    if not application.get("id") or not job.get("id"):
        raise Unusable("The stage change names no application or no job.")
    return Rejection(
        application_id=_str(application.get("id"), 100),
        candidate_id=_str(candidate.get("id"), 100),
        email=_str(_dict(candidate.get("primaryEmailAddress")).get("value"), 320).lower(),
        name=_str(candidate.get("name"), 200),
        job_id=_str(job.get("id"), 100),
        job_name=_str(job.get("title")),
        # The stage before the archive is not in the event; the archived one says nothing.
        stage="",
        decided_on=_day(application.get("updatedAt")),
        reason=_str(_dict(application.get("archiveReason")).get("text"), 200),
    )


Reader = Callable[[dict[str, Any]], Rejection | Anonymization | None]
READERS: dict[Ats, Reader] = {
    Ats.GREENHOUSE: read_greenhouse,
    Ats.LEVER: read_lever,
    Ats.ASHBY: read_ashby,
}


def read_event(ats: Ats, payload: dict[str, Any]) -> Rejection | Anonymization | None:
    """The rejection (or, from Greenhouse, the anonymization) an event describes; None
    for any other event (a ping, a stage change that is not a rejection). Raises
    `Unusable`."""
    return READERS[ats](payload)


def stage_of(name: str) -> str:
    """An ATS's stage name as Afterword's stage (applied, screen, interview, final)."""
    words = name.casefold()
    if any(w in words for w in ("application review", "applied", "new lead", "lead")):
        return "applied"
    if any(w in words for w in ("screen", "phone", "recruiter call")):
        return "screen"
    if any(w in words for w in ("final", "offer", "reference")):
        return "final"
    return "interview"
