"""What Afterword asks an applicant tracking system for, beyond the webhook itself:
an application's scorecards, and (for Lever, whose webhook carries only ids) the
candidate and the job. One interface (`AtsApi`), with a recorded-answers
implementation (`RecordedApi`, JSON files) for tests and demonstrations; the live
clients, and which one an organization's events use, are in `portal.ats.clients`.

A scorecard's `questions` include the interviewer's private notes: they are stored
for staff and never copied into anything a candidate can read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from portal.ats.models import Ats

RATINGS = ("definitely_not", "no", "mixed", "yes", "strong_yes", "no_decision")


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str
    note: str
    rating: str  # one of RATINGS


@dataclass(frozen=True)
class Scorecard:
    id: str
    interviewer: str
    overall_recommendation: str
    attributes: tuple[Attribute, ...]
    # [{"question", "answer"}], private notes included: staff-only.
    questions: tuple[dict[str, str], ...] = ()
    submitted_at: str | None = None


@dataclass(frozen=True)
class Person:
    """A candidate as the ATS describes them, with the job they applied for."""

    email: str
    name: str
    job_id: str
    job_name: str
    stage: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class AtsApi(Protocol):
    async def scorecards(self, ats: Ats, application_id: str) -> list[Scorecard]: ...

    async def person(self, ats: Ats, application_id: str, candidate_id: str) -> Person | None: ...


class NoApi:
    """No access to the ATS's API: no scorecards, no details beyond the webhook."""

    async def scorecards(self, ats: Ats, application_id: str) -> list[Scorecard]:
        return []

    async def person(self, ats: Ats, application_id: str, candidate_id: str) -> Person | None:
        return None


def _text(value: Any, limit: int = 5_000) -> str:
    return str(value)[:limit] if value is not None else ""


def read_scorecard(raw: dict[str, Any]) -> Scorecard:
    """A scorecard in Greenhouse's shape (the others' are recorded in the same one)."""
    attributes = []
    for item in raw.get("attributes") or ():
        rating = _text(item.get("rating")) or "no_decision"
        attributes.append(
            Attribute(
                name=_text(item.get("name"), 200),
                type=_text(item.get("type"), 100),
                note=_text(item.get("note")),
                rating=rating if rating in RATINGS else "no_decision",
            )
        )
    interviewer = raw.get("interviewer") or raw.get("submitted_by") or {}
    return Scorecard(
        id=_text(raw.get("id"), 100),
        interviewer=_text(interviewer.get("name") if isinstance(interviewer, dict) else "", 200),
        overall_recommendation=_text(raw.get("overall_recommendation"), 40),
        attributes=tuple(attributes),
        questions=tuple(
            {"question": _text(q.get("question"), 500), "answer": _text(q.get("answer"))}
            for q in raw.get("questions") or ()
        ),
        submitted_at=_text(raw.get("submitted_at"), 40) or None,
    )


class RecordedApi:
    """Answers recorded as JSON files: `<dir>/<ats>/scorecards-<application id>.json`
    (a list of scorecards) and `<dir>/<ats>/person-<application id>.json`."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _read(self, ats: Ats, name: str) -> Any:
        path = self.directory / ats.value / f"{name}.json"
        if not path.resolve().is_relative_to(self.directory.resolve()) or not path.is_file():
            return None
        return json.loads(path.read_text())

    async def scorecards(self, ats: Ats, application_id: str) -> list[Scorecard]:
        raw = self._read(ats, f"scorecards-{application_id}")
        return [read_scorecard(item) for item in raw or ()]

    async def person(self, ats: Ats, application_id: str, candidate_id: str) -> Person | None:
        raw = self._read(ats, f"person-{application_id}")
        if not raw:
            return None
        return Person(
            email=_text(raw.get("email"), 320).lower(),
            name=_text(raw.get("name"), 200),
            job_id=_text(raw.get("job_id"), 100),
            job_name=_text(raw.get("job_name"), 300),
            stage=_text(raw.get("stage"), 100),
        )


def api_for(recorded_dir: str) -> AtsApi:
    return RecordedApi(recorded_dir) if recorded_dir else NoApi()
