"""Scorecards from a CSV file (docs/drafting.md, "Scorecards from a CSV file"): one row
per attribute or question; rows with the same `application` and `scorecard` make one
scorecard, whose interviewer, step, date and recommendation come from its first row.
Checked whole: a file with any problem stores nothing, and every problem is named by
its row."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from portal.candidates.decisions import parse_day
from portal.drafting.models import ScorecardRating
from portal.drafting.service import AttributeInput, QuestionInput, ScorecardInput

COLUMNS = (
    "application",
    "scorecard",
    "interviewer",
    "step",
    "date",
    "recommendation",
    "attribute",
    "rating",
    "note",
    "note_private",
    "question",
    "answer",
    "answer_private",
)
REQUIRED = ("application", "scorecard", "interviewer")
MAX_ROWS = 5_000
MAX_BYTES = 5 * 1024 * 1024
YES = {"yes", "y", "true", "1", "private"}
NO = {"no", "n", "false", "0", "", "safe", "candidate-safe"}


@dataclass
class CardRows:
    application: str  # Afterword's id of the application, or the ATS's (external id)
    scorecard: str
    card: ScorecardInput
    row: int


@dataclass
class Parsed:
    cards: list[CardRows] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _flag(value: str, default: bool, row: int, column: str, problems: list[str]) -> bool:
    word = value.strip().casefold()
    if not word:
        return default
    if word in YES:
        return True
    if word in NO:
        return False
    problems.append(f"Row {row}: {column} should be yes or no, not “{value[:40]}”.")
    return default


def _rating(value: str, row: int, column: str, problems: list[str]) -> ScorecardRating | None:
    word = "_".join(value.strip().casefold().replace("-", " ").split())
    if not word:
        return None
    try:
        return ScorecardRating(word)
    except ValueError:
        problems.append(
            f"Row {row}: {column} should be one of definitely_not, no, mixed, yes, strong_yes, "
            f"no_decision, not “{value[:40]}”."
        )
        return None


def _text(data: bytes) -> str:
    """The file's text (UTF-8, a byte-order mark ignored), or ValueError saying why not.
    (The feedback import's own reading is in `portal.imports`, above this domain.)"""
    if len(data) > MAX_BYTES:
        raise ValueError(f"The file is larger than {MAX_BYTES // 1024 // 1024} MB: split it.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(
            f'The file is not UTF-8 text (line {line}). Save it as "CSV UTF-8" and try again.'
        ) from None
    if not text.strip():
        raise ValueError("The file is empty: it needs a header row and one row per attribute.")
    return text


def parse_scorecards(data: bytes) -> Parsed:
    parsed = Parsed()
    try:
        text = _text(data)
    except ValueError as exc:
        parsed.problems.append(str(exc))
        return parsed
    reader = csv.DictReader(io.StringIO(text))
    headers = ["_".join((h or "").strip().casefold().split()) for h in reader.fieldnames or []]
    reader.fieldnames = headers
    missing = [c for c in REQUIRED if c not in headers]
    if missing:
        parsed.problems.append("The header row lacks the columns: " + ", ".join(missing) + ".")
        return parsed
    unknown = [h for h in headers if h and h not in COLUMNS]
    if unknown:
        parsed.problems.append("Unknown columns: " + ", ".join(unknown) + ".")
        return parsed
    by_key: dict[tuple[str, str], CardRows] = {}
    attributes: dict[tuple[str, str], list[AttributeInput]] = {}
    questions: dict[tuple[str, str], list[QuestionInput]] = {}
    problems = parsed.problems
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            problems.append(f"The file has more than {MAX_ROWS:,} rows: split it.")
            break
        cells = {k: (v or "").strip() if isinstance(v, str) else "" for k, v in raw.items() if k}
        application, scorecard = cells.get("application", ""), cells.get("scorecard", "")
        if not application or not scorecard:
            problems.append(f"Row {number}: give the application and the scorecard.")
            continue
        if len(scorecard) > 100 or len(application) > 200:
            problems.append(f"Row {number}: the application or scorecard id is too long.")
            continue
        key = (application, scorecard)
        if key not in by_key:
            interviewer = cells.get("interviewer", "")
            if not interviewer or len(interviewer) > 200:
                problems.append(f"Row {number}: give the interviewer (200 characters at most).")
            day: dt.date | None = None
            if cells.get("date"):
                day = parse_day(cells["date"])
                if day is None:
                    problems.append(f"Row {number}: date should look like 2026-11-30.")
            by_key[key] = CardRows(
                application=application,
                scorecard=scorecard,
                row=number,
                card=ScorecardInput(
                    interviewer=interviewer[:200],
                    step=cells.get("step", "")[:200],
                    interviewed_on=day,
                    overall_recommendation=_rating(
                        cells.get("recommendation", ""), number, "recommendation", problems
                    ),
                    external_id=scorecard,
                ),
            )
            attributes[key], questions[key] = [], []
        if cells.get("attribute"):
            attributes[key].append(
                AttributeInput(
                    name=cells["attribute"][:300],
                    rating=_rating(cells.get("rating", ""), number, "rating", problems),
                    note=cells.get("note", "")[:5_000],
                    private=_flag(
                        cells.get("note_private", ""), False, number, "note_private", problems
                    ),
                )
            )
        elif cells.get("rating") or cells.get("note"):
            problems.append(f"Row {number}: a rating or note needs its attribute.")
        if cells.get("question") or cells.get("answer"):
            questions[key].append(
                QuestionInput(
                    question=cells.get("question", "")[:300],
                    answer=cells.get("answer", "")[:5_000],
                    private=_flag(
                        cells.get("answer_private", ""), True, number, "answer_private", problems
                    ),
                )
            )
    for key, found in by_key.items():
        found.card = ScorecardInput(
            interviewer=found.card.interviewer,
            step=found.card.step,
            interviewed_on=found.card.interviewed_on,
            overall_recommendation=found.card.overall_recommendation,
            external_id=found.card.external_id,
            attributes=attributes[key],
            questions=questions[key],
        )
        parsed.cards.append(found)
    if not parsed.cards and not problems:
        problems.append("The file has a header row but no scorecards.")
    return parsed
