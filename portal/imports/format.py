"""The CSV import format: its columns, and reading a file into drafts.

One row per application. Pure: given the organization's jobs (a `Catalog`),
`read_rows` turns the file's text into `ImportRow`s (each holding the
`portal.feedback.check.Draft` the row describes) and `Problem`s, each naming
the row (the header is row 1, as in a spreadsheet) and the column.

Validation is the model's, the one the JSON API takes too
(`portal.imports.forms.Rejection`): the reader maps each row's cells to the model's
fields (and finds the job and requirements they name in the catalog, which no model
knows), the model checks every value, and each of its errors is reported in the
column its value came from, in the import page's words (`_message`).

The columns (names are case-insensitive; spaces, hyphens and underscores are
the same) are described in docs/staff/import.md ("Importing feedback from a CSV"):
`email`, `name`, `job` (title or number), `stage` and `decision_summary` are
required; `decided_on` is the day of the decision (YYYY-MM-DD; empty: the day of
the import); `rating: <requirement>` and `evidence: <requirement>` assess one of
the job's requirements; `strength_<n>`, `growth_area_<n>` with `suggestion_<n>`
(each optionally with `..._requirement`) are items in the order of `<n>`, and
`suggestion_<n>_url` a link for a suggestion; `reapply_after_months`,
`suggested_roles` (one per line, each optionally followed by its posting's
address),
`pool_invitation_offered` and `personal_note` are the next steps and the note.

The template offered for each job carries an example row whose email address is
`EXAMPLE_EMAIL`: the import refuses that row, so an example left in a file never
becomes a candidate.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from portal.candidates.decisions import parse_day
from portal.candidates.models import Stage
from portal.characters import control_character_problem
from portal.csvexport import FORMULA_STARTS
from portal.feedback.check import Draft
from portal.feedback.roles import SuggestedRoles
from portal.forms import parse_number
from portal.imports.forms import (
    MAX_ITEMS,
    MAX_NAME,
    MAX_ROLES,
    MAX_TEXT,
    RatingValue,
    Rejection,
)

# The staff page takes files up to 10 MB (about 10,000 rows of full feedback); the
# command line, which reads a file on the server's own disk, up to 1 GB.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_COMMAND_LINE_BYTES = 1024 * 1024 * 1024
# A job with 50 requirements and every column filled has about 230 columns; past
# this a header is a mistake (or an attack), refused before it is read.
MAX_COLUMNS = 500

REQUIRED = ("email", "name", "job", "stage", "decision_summary")
SIMPLE = (
    *REQUIRED,
    "decided_on",
    "reapply_after_months",
    "suggested_roles",
    "pool_invitation_offered",
    "personal_note",
)
RATINGS: dict[str, RatingValue] = {
    "met": "met",
    "partly met": "partly_met",
    "partly_met": "partly_met",
    "partly": "partly_met",
    "not yet met": "not_yet_met",
    "not_yet_met": "not_yet_met",
    "not met": "not_yet_met",
}
_ITEM = re.compile(r"^(strength|growth_area)_([1-9][0-9]{0,2})(_requirement)?$")
_SUGGESTION = re.compile(r"^suggestion_([1-9][0-9]{0,2})(_url)?$")
_SPACES = re.compile(r"[\s_-]+")

ProblemKind = Literal["error", "risky"]


@dataclass(frozen=True)
class Problem:
    """What is wrong with one cell (or one row, or the header), for a person to fix.

    `kind` is "error" (the file cannot be imported as it is) or "risky" (the
    feedback check found risky words: they stop an import that publishes).
    `missing_job` is the title of a job the row names and the organization lacks,
    for the staff page to offer creating it."""

    row: int
    column: str
    message: str
    kind: ProblemKind = "error"
    missing_job: str = ""

    def as_dict(self) -> dict[str, object]:
        found: dict[str, object] = {
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "kind": self.kind,
        }
        if self.missing_job:
            found["missing_job"] = self.missing_job
        return found


class FileProblem(ValueError):
    """The file as a whole cannot be read (too large, not UTF-8, no header)."""


@dataclass(frozen=True)
class JobEntry:
    id: int
    title: str
    # lower-cased, space-collapsed name -> (requirement id, name as written)
    requirements: dict[str, tuple[int, str]]


@dataclass(frozen=True)
class Catalog:
    """The organization's jobs, by id and by title (lower-cased, spaces collapsed)."""

    organization_name: str
    jobs: dict[int, JobEntry]
    by_title: dict[str, list[JobEntry]]

    @classmethod
    def of(cls, organization_name: str, jobs: Sequence[JobEntry]) -> Catalog:
        by_title: dict[str, list[JobEntry]] = {}
        for job in jobs:
            by_title.setdefault(key_of(job.title), []).append(job)
        return cls(organization_name, {job.id: job for job in jobs}, by_title)


@dataclass
class ImportRow:
    """One valid row: the application it names and the feedback it carries."""

    row: int
    email: str
    name: str
    job_id: int
    stage: str
    draft: Draft
    decided_on: dt.date | None = None  # None: the day of the import
    reapply_after_months: int | None = None
    pool_invitation_offered: bool = False
    # the column each of draft.items came from (body, suggestion), for findings
    item_columns: list[tuple[str, str]] = field(default_factory=list)
    requirement_ids: list[int | None] = field(default_factory=list)

    def column_of(self, where: str) -> str:
        """The CSV column of a finding's field (`items[2].body`, `decision_summary`...)."""
        found = re.match(r"^items\[(\d+)\]\.(body|suggestion)$", where)
        if found:
            body, suggestion = self.item_columns[int(found.group(1))]
            return body if found.group(2) == "body" else suggestion
        if where.startswith("suggested_roles"):
            return "suggested_roles"
        return where


def key_of(text: str) -> str:
    return " ".join(text.split()).casefold()


def column_key(header: str) -> str:
    """How a header cell is compared: `Rating: SQL` -> `rating:sql`, `Growth area 1` ->
    `growth_area_1`."""
    prefix, colon, rest = header.partition(":")
    prefix = _SPACES.sub("_", prefix.strip().casefold()).strip("_")
    if colon:
        return f"{prefix}:{key_of(rest)}"
    return prefix


def decode(data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The file's text: UTF-8 (a byte-order mark is ignored), at most `max_bytes`."""
    if len(data) > max_bytes:
        raise FileProblem(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is "
            f"{max_bytes // 1024 // 1024:,} MB. Split it into smaller files and import each"
            + (
                ", or import it with `portal import` on the server."
                if max_bytes < MAX_COMMAND_LINE_BYTES
                else "."
            )
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileProblem(
            f"The file is not UTF-8 text (line {line}, byte {exc.start + 1}). Save it as "
            '"CSV UTF-8" (Excel: File > Save As > CSV UTF-8) and try again.'
        ) from None
    if not text.strip():
        raise FileProblem("The file is empty: it needs a header row and one row per application.")
    return text


@dataclass(frozen=True)
class Columns:
    """Where each column is: simple ones by name, requirements' and items' by number."""

    names: list[str]  # as written in the header
    simple: dict[str, int]
    ratings: dict[str, int]  # requirement key -> index
    evidence: dict[str, int]
    indexed: dict[tuple[str, int, bool], int]  # (kind, n, is_requirement) -> index
    urls: dict[int, int]  # n of suggestion_<n>_url -> index


def read_header(header: list[str]) -> tuple[Columns, list[Problem]]:
    """Where each column is, and what is wrong with the header (row 1).

    Linear in the number of cells, and refused past `MAX_COLUMNS` before any cell
    is looked at."""
    if len(header) > MAX_COLUMNS:
        return Columns(list(header), {}, {}, {}, {}, {}), [
            Problem(
                1,
                "",
                f"The header has {len(header):,} columns; an import takes at most "
                f"{MAX_COLUMNS:,} columns. Remove the columns the import does not use "
                "(download the template for a job to see them).",
            )
        ]
    problems: list[Problem] = []
    simple: dict[str, int] = {}
    ratings: dict[str, int] = {}
    evidence: dict[str, int] = {}
    indexed: dict[tuple[str, int, bool], int] = {}
    urls: dict[int, int] = {}
    seen: dict[str, int] = {}
    # Empty cells after the last named one are what spreadsheets leave; before it,
    # a column without a name.
    last_named = max((index for index, name in enumerate(header) if name.strip()), default=-1)
    for index, name in enumerate(header):
        control = control_character_problem(name)
        if control:
            problems.append(Problem(1, f"column {index + 1}", control))
            continue
        key = column_key(name)
        shown = name.strip() or f"column {index + 1}"
        if not key:
            if index < last_named:
                problems.append(Problem(1, shown, "This column has no name."))
            continue
        if key in seen:
            problems.append(
                Problem(1, shown, f"This column appears twice (also column {seen[key] + 1}).")
            )
            continue
        seen[key] = index
        item = _ITEM.match(key)
        suggestion = _SUGGESTION.match(key)
        if key in SIMPLE:
            simple[key] = index
        elif key.startswith("rating:") and key != "rating:":
            ratings[key.removeprefix("rating:")] = index
        elif key.startswith("evidence:") and key != "evidence:":
            evidence[key.removeprefix("evidence:")] = index
        elif item:
            kind, number, requirement = item.groups()
            indexed[(kind, int(number), bool(requirement))] = index
        elif suggestion and suggestion.group(2):
            urls[int(suggestion.group(1))] = index
        elif suggestion:
            indexed[("suggestion", int(suggestion.group(1)), False)] = index
        else:
            problems.append(
                Problem(
                    1,
                    shown,
                    "Unknown column. See the column reference (the guide's page "
                    '"Importing from a CSV"), or download the template for a job.',
                )
            )
    for required in REQUIRED:
        if required not in simple:
            problems.append(Problem(1, required, "This column is required and missing."))
    for requirement in evidence.keys() - ratings.keys():
        problems.append(
            Problem(
                1,
                header[evidence[requirement]].strip(),
                f'Evidence needs its rating column too ("rating: {requirement}").',
            )
        )
    for kind, number, is_requirement in list(indexed):
        if kind == "suggestion" and ("growth_area", number, False) not in indexed:
            problems.append(
                Problem(1, f"suggestion_{number}", f"There is no growth_area_{number} column.")
            )
        if is_requirement and (kind, number, False) not in indexed:
            problems.append(
                Problem(1, f"{kind}_{number}_requirement", f"There is no {kind}_{number} column.")
            )
    for number in urls:
        if ("growth_area", number, False) not in indexed:
            problems.append(
                Problem(1, f"suggestion_{number}_url", f"There is no growth_area_{number} column.")
            )
    return Columns(list(header), simple, ratings, evidence, indexed, urls), problems


@dataclass
class _RowReader:
    """Reads the cells of one row, collecting a problem per bad cell."""

    number: int
    cells: list[str]
    columns: Columns
    problems: list[Problem]
    # Cells already reported: one message per cell is enough.
    reported: set[int] = field(default_factory=set)

    def refuse_control_characters(self, indexes: Iterable[int]) -> None:
        """A problem for each of these cells holding a control character (see
        portal.characters); the model refuses them in the others."""
        for index in indexes:
            problem = control_character_problem(self.cell(index))
            if problem:
                self.fail(index, problem)

    def name_of(self, index: int) -> str:
        return self.columns.names[index].strip()

    def cell(self, index: int | None) -> str:
        if index is None or index >= len(self.cells):
            return ""
        value = self.cells[index].strip()
        # What `portal.csvexport` guarded on the way out ('=...) reads back as written.
        if value.startswith("'") and value[1:2] and value[1] in FORMULA_STARTS:
            return value[1:]
        return value

    def text(self, index: int | None, *, limit: int = MAX_TEXT) -> str:
        value = self.cell(index)
        if index is not None and len(value) > limit:
            self.fail(index, f"Keep it to {limit:,} characters or fewer (this has {len(value):,}).")
        return value

    def fail(self, index: int | str, message: str, *, missing_job: str = "") -> None:
        if isinstance(index, int):
            if index in self.reported:
                return
            self.reported.add(index)
        column = self.name_of(index) if isinstance(index, int) else index
        self.problems.append(Problem(self.number, column, message, missing_job=missing_job))


def read_rows(
    text: str,
    catalog: Catalog,
    *,
    max_problems: int = 1_000,
    on_row: Callable[[int], None] | None = None,
    today: dt.date | None = None,
) -> tuple[list[ImportRow], list[Problem], int, int]:
    """Every valid row, every problem (at most `max_problems` kept), the number of
    problems in all and the number of rows read (blank ones aside). `today` (by
    default the current day, UTC) bounds the decision dates."""
    today = today or dt.datetime.now(dt.UTC).date()
    problems: list[Problem] = []
    total_problems = 0
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    lines = _records(reader, problems)
    try:
        first = next(lines)
    except StopIteration:
        return [], [Problem(1, "", "The file has no header row.")], 1, 0
    if isinstance(first, Problem):
        return [], [first], 1, 0
    columns, header_problems = read_header(first[1])
    if header_problems:
        data_rows = sum(1 for record in lines if not isinstance(record, Problem))
        return [], header_problems[:max_problems], len(header_problems), data_rows
    rows: list[ImportRow] = []
    seen: dict[tuple[str, int], int] = {}
    data_rows = 0
    for record in lines:
        if isinstance(record, Problem):
            total_problems += 1
            if len(problems) < max_problems:
                problems.append(record)
            continue
        number, cells = record
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, as spreadsheets leave at the end
        data_rows += 1
        found: list[Problem] = []
        row = _read_row(_RowReader(number, cells, columns, found), catalog, today)
        if row is not None:
            duplicate_of = seen.get((row.email, row.job_id))
            if duplicate_of is not None:
                found.append(
                    Problem(
                        number,
                        "email",
                        f"The same candidate and job as row {duplicate_of}: one row per "
                        "application.",
                    )
                )
            else:
                seen[(row.email, row.job_id)] = number
        total_problems += len(found)
        if found:
            problems.extend(found[: max(0, max_problems - len(problems))])
        elif row is not None:
            rows.append(row)
        if on_row is not None:
            on_row(number)
    if not rows and not total_problems:
        problems.append(Problem(2, "", "The file has a header but no rows."))
        total_problems = 1
    return rows, problems, total_problems, data_rows


def _records(
    reader: Iterator[list[str]], problems: list[Problem]
) -> Iterator[tuple[int, list[str]] | Problem]:
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Problem(number, "", f"This row cannot be read as CSV ({exc}).")
            return
        yield number, cells


# Where a model field's value came from: its path in `Rejection` -> the column's index.
Where = dict[tuple[str | int, ...], int]


def _read_row(cells: _RowReader, catalog: Catalog, today: dt.date) -> ImportRow | None:
    """The row as `Rejection` takes it: the reader only maps cells to the model's fields
    (and finds the job and the requirements they name, in the organization's
    catalog); every value is checked by the model, the one the API validates with, and
    its errors are reported in the columns the values came from."""
    columns = cells.columns
    if len(cells.cells) > len(columns.names):
        cells.fail(
            "",
            f"This row has {len(cells.cells)} cells but the header has {len(columns.names)}: "
            "is a comma missing its quotes?",
        )
        return None
    simple = columns.simple
    where: Where = {}

    def cell(path: tuple[str | int, ...], index: int | None) -> str:
        if index is not None:
            where[path] = index
        return cells.cell(index)

    # Cells the model does not see (they name records) are refused here.
    cells.refuse_control_characters(
        [simple["job"], *(index for (_, _, is_req), index in columns.indexed.items() if is_req)]
    )
    job = _job(cells, catalog)
    assessments, strengths, growth_areas, item_columns, requirement_ids = _items(cells, job, where)
    roles_cell = cell(("feedback", "suggested_roles"), simple.get("suggested_roles"))
    roles = SuggestedRoles.read(roles_cell)
    if roles.problem:
        cells.fail(simple["suggested_roles"], roles.problem)
    decided_on = cell(("decided_on",), simple.get("decided_on"))
    offered = cell(("feedback", "pool_invitation_offered"), simple.get("pool_invitation_offered"))
    reapply = cell(("feedback", "reapply_after_months"), simple.get("reapply_after_months"))
    values: dict[str, Any] = {
        "email": cell(("email",), simple["email"]),
        "name": cell(("name",), simple["name"]),
        "stage": cell(("stage",), simple["stage"]).casefold(),
        # A day as written (YYYY-MM-DD), or the text for the model to refuse.
        "decided_on": (parse_day(decided_on) or decided_on) if decided_on else None,
        "feedback": {
            "decision_summary": cell(("feedback", "decision_summary"), simple["decision_summary"]),
            "assessments": assessments,
            "strengths": strengths,
            "growth_areas": growth_areas,
            "reapply_after_months": reapply or None,
            "suggested_roles": list(roles.roles),
            "suggested_role_urls": roles.urls,
            "pool_invitation_offered": offered or False,
            "personal_note": cell(("feedback", "personal_note"), simple.get("personal_note")),
        },
    }
    for kind, count in (("strengths", len(strengths)), ("growth_areas", len(growth_areas))):
        if count > MAX_ITEMS:  # the first one too many
            where[("feedback", kind)] = where[("feedback", kind, MAX_ITEMS, "body")]
    rejection = _as_rejection(cells, today, values, where)
    if rejection is None or rejection.feedback is None or job is None or cells.problems:
        return None
    return ImportRow(
        row=cells.number,
        email=rejection.email,
        name=rejection.name,
        job_id=job.id,
        stage=rejection.stage.value,
        decided_on=rejection.decided_on,
        # Next steps are carried beside the draft here (the content hash reads them); the
        # job's requirements go with it to the check (a language the job asks for).
        draft=dataclasses.replace(
            rejection.feedback.draft(),
            requirements=tuple(name for _, name in job.requirements.values()),
        ),
        reapply_after_months=rejection.feedback.reapply_after_months,
        pool_invitation_offered=rejection.feedback.pool_invitation_offered,
        item_columns=item_columns,
        requirement_ids=requirement_ids,
    )


def _as_rejection(
    cells: _RowReader, today: dt.date, values: dict[str, Any], where: Where
) -> Rejection | None:
    """The row as the model every import shares (`portal.imports.forms.Rejection`),
    or None with a problem per field it refuses, in the column the value came from."""
    try:
        return Rejection.model_validate(values, context={"today": today})
    except ValidationError as exc:
        for error in exc.errors():
            path = tuple(error["loc"])
            index = None
            for end in range(len(path), 0, -1):
                index = where.get(path[:end])
                if index is not None:
                    break
            column: int | str = index if index is not None else str(path[-1] if path else "")
            cells.fail(column, _message(path, error))
        return None


STAGES = ", ".join(stage.value for stage in Stage)


def _message(path: tuple[str | int, ...], error: ErrorDetails) -> str:
    """The model's error about a cell, in the words of the import page: what was
    written, and what to write instead."""
    field = next((str(part) for part in reversed(path) if isinstance(part, str)), "")
    kind = error["type"]
    given = error.get("input")
    text = given.strip() if isinstance(given, str) else ""
    empty = given is None or given == "" or (isinstance(given, str) and not text)
    if kind == "control_character":
        return error["msg"]
    if kind == "string_too_long":
        limit = (error.get("ctx") or {}).get("max_length", MAX_TEXT)
        return f"Keep it to {limit:,} characters or fewer (this has {len(str(given)):,})."
    if field == "email":
        if kind == "example_row":
            return (
                "This is the template's example row: delete it (or write a real application "
                "over it), then import the file again."
            )
        if empty:
            return "Enter the candidate's email address."
        return f'"{text[:80]}" is not an email address.'
    if field == "name" and empty:
        return "Enter the candidate's name."
    if field == "stage":
        written = f'"{text[:40]}"' if text else "Nothing"
        return f"{written} is not a stage: use {STAGES}."
    if field == "decided_on" and kind != "decided_on":
        return (
            f'"{text[:40]}" is not a date: write it as YYYY-MM-DD, like 2026-03-31, or leave '
            "it empty for the day of the import."
        )
    if field == "decision_summary" and empty:
        return "Write the decision in a sentence or two."
    if field == "rating":
        written = f'"{text[:40]}" is not a rating' if text else "The evidence needs a rating"
        return f"{written}: use met, partly met or not yet met."
    if field == "suggestion_url":
        return "Enter a web address that starts with https://, or leave it empty."
    if field == "reapply_after_months":
        return "Enter a number of months from 0 to 60 (or leave it empty)."
    if field == "pool_invitation_offered":
        return 'Write "yes" or "no" (or leave it empty).'
    if field in ("suggested_roles", "suggested_role_urls"):
        return f"At most {MAX_ROLES} roles, one per line, each up to {MAX_NAME} characters."
    if field in ("strengths", "growth_areas") and kind == "too_long":
        return f"At most {MAX_ITEMS} of these per row."
    return str(error["msg"])


def _job(cells: _RowReader, catalog: Catalog) -> JobEntry | None:
    index = cells.columns.simple["job"]
    given = cells.cell(index)
    if index in cells.reported:
        return None
    if not given:
        cells.fail(index, "Name the job (its title, or its number).")
        return None
    number = parse_number(given)
    if number is not None and number in catalog.jobs:
        return catalog.jobs[number]
    matches = catalog.by_title.get(key_of(given), [])
    if len(matches) == 1:
        return matches[0]
    if matches:
        numbers = ", ".join(str(job.id) for job in matches)
        cells.fail(index, f'Several jobs are called "{given}": use its number instead ({numbers}).')
    elif number is not None:
        cells.fail(index, f"{catalog.organization_name} has no job number {number}.")
    else:
        title = " ".join(given.split())[:100]
        cells.fail(
            index,
            f'{catalog.organization_name} has no job "{title}". Add the job first (or correct '
            "the title), then import the file again.",
            missing_job=title,
        )
    return None


def _requirement(
    cells: _RowReader, job: JobEntry | None, given: str, index: int
) -> tuple[int | None, str]:
    if job is None:
        return None, given
    found = job.requirements.get(key_of(given))
    if found is None:
        cells.fail(index, f'The job "{job.title}" has no requirement "{given[:100]}".')
        return None, given
    return found


Items = tuple[
    list[dict[str, Any]],
    list[dict[str, Any]],
    list[dict[str, Any]],
    list[tuple[str, str]],
    list[int | None],
]


def _items(cells: _RowReader, job: JobEntry | None, where: Where) -> Items:
    """The row's assessments, strengths and growth areas as the model takes them (the
    requirement each names found in the job), the columns each came from, and the
    requirements' ids. Which cells make an item is the reader's to say; what their
    values may be is the model's."""
    columns = cells.columns
    assessments: list[dict[str, Any]] = []
    lists: dict[str, list[dict[str, Any]]] = {"strength": [], "growth_area": []}
    # (body column, suggestion column) and requirement id of each item, in the draft's
    # order: assessments, strengths, growth areas.
    placed: dict[str, list[tuple[tuple[str, str], int | None]]] = {
        "assessment": [],
        "strength": [],
        "growth_area": [],
    }
    for requirement, index in columns.ratings.items():
        rating_text = cells.cell(index)
        evidence_index = columns.evidence.get(requirement)
        evidence = cells.cell(evidence_index)
        if not rating_text and not evidence:
            continue
        requirement_id, shown = _requirement(cells, job, requirement, index)
        path = ("feedback", "assessments", len(assessments))
        where[(*path, "rating")] = index
        if evidence_index is not None:
            where[(*path, "evidence")] = evidence_index
        assessments.append(
            {
                "requirement": shown,
                # The spellings a spreadsheet may hold ("partly met"), as the model's values.
                "rating": RATINGS.get(key_of(rating_text), rating_text),
                "evidence": evidence,
            }
        )
        evidence_column = cells.name_of(evidence_index) if evidence_index is not None else ""
        placed["assessment"].append(((evidence_column or cells.name_of(index), ""), requirement_id))
    kinds: tuple[Literal["strength"], Literal["growth_area"]] = ("strength", "growth_area")
    for kind in kinds:
        numbers = sorted(n for k, n, is_req in columns.indexed if k == kind and not is_req)
        for number in numbers:
            index = columns.indexed[(kind, number, False)]
            body = cells.cell(index)
            suggestion_index = columns.indexed.get(("suggestion", number, False))
            suggestion = cells.cell(suggestion_index) if kind == "growth_area" else ""
            url_index = columns.urls.get(number) if kind == "growth_area" else None
            url = cells.cell(url_index)
            requirement_index = columns.indexed.get((kind, number, True))
            requirement_text = cells.cell(requirement_index)
            if not body:
                if suggestion and suggestion_index is not None:
                    cells.fail(suggestion_index, f"A suggestion needs its growth_area_{number}.")
                elif url and url_index is not None:
                    cells.fail(url_index, f"A link needs its growth_area_{number}.")
                elif requirement_text and requirement_index is not None:
                    cells.fail(requirement_index, f"A requirement needs its {kind}_{number}.")
                continue
            tied: tuple[int | None, str | None] = (None, None)
            if requirement_text and requirement_index is not None:
                tied = _requirement(cells, job, requirement_text, requirement_index)
            items = lists[kind]
            path = ("feedback", f"{kind}s", len(items))
            where[(*path, "body")] = index
            item: dict[str, Any] = {"body": body, "requirement": tied[1]}
            if kind == "growth_area":
                item |= {"suggestion": suggestion, "suggestion_url": url or None}
                if suggestion_index is not None:
                    where[(*path, "suggestion")] = suggestion_index
                if url_index is not None:
                    where[(*path, "suggestion_url")] = url_index
            items.append(item)
            suggestion_column = (
                cells.name_of(suggestion_index) if suggestion_index is not None else ""
            )
            placed[kind].append(((cells.name_of(index), suggestion_column), tied[0]))
    ordered = placed["assessment"] + placed["strength"] + placed["growth_area"]
    return (
        assessments,
        lists["strength"],
        lists["growth_area"],
        [columns for columns, _ in ordered],
        [requirement_id for _, requirement_id in ordered],
    )


def template_columns(requirement_names: Sequence[str]) -> list[str]:
    """The header of the template for a job with these requirements."""
    header = ["email", "name", "job", "stage", "decided_on", "decision_summary"]
    for name in requirement_names:
        header += [f"rating: {name}", f"evidence: {name}"]
    header += [
        "strength_1",
        "strength_1_requirement",
        "strength_2",
        "strength_2_requirement",
        "growth_area_1",
        "growth_area_1_requirement",
        "suggestion_1",
        "suggestion_1_url",
        "reapply_after_months",
        "suggested_roles",
        "pool_invitation_offered",
        "personal_note",
    ]
    return header
