"""The CSV import format: its columns, and reading a file into drafts.

One row per application. Pure: given the organization's jobs (a `Catalog`),
`read_rows` turns the file's text into `ImportRow`s (each holding the
`portal.feedback.check.Draft` the row describes) and `Problem`s, each naming
the row (the header is row 1, as in a spreadsheet) and the column.

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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import ValidationError

from portal.candidates.decisions import day_problem, parse_day
from portal.candidates.models import Stage
from portal.characters import control_character_problem
from portal.csvexport import FORMULA_STARTS
from portal.feedback.check import Draft, DraftItem
from portal.feedback.roles import SuggestedRoles
from portal.forms import EMAIL_MAX, EMAIL_SHAPE, URL_MAX, WEB_ADDRESS, parse_number
from portal.imports.forms import (
    EXAMPLE_EMAIL,
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
YES = frozenset({"yes", "y", "true", "1"})
NO = frozenset({"no", "n", "false", "0", ""})
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

    def refuse_control_characters(self) -> None:
        """A problem for each cell holding a control character (see portal.characters)."""
        for index, value in enumerate(self.cells):
            problem = control_character_problem(value)
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


def _read_row(cells: _RowReader, catalog: Catalog, today: dt.date) -> ImportRow | None:
    columns = cells.columns
    if len(cells.cells) > len(columns.names):
        cells.fail(
            "",
            f"This row has {len(cells.cells)} cells but the header has {len(columns.names)}: "
            "is a comma missing its quotes?",
        )
        return None
    cells.refuse_control_characters()
    simple = columns.simple
    email = cells.cell(simple["email"]).lower()
    if email == EXAMPLE_EMAIL:
        cells.fail(
            simple["email"],
            "This is the template's example row: delete it (or write a real application over "
            "it), then import the file again.",
        )
        return None
    if not email:
        cells.fail(simple["email"], "Enter the candidate's email address.")
    elif len(email) > EMAIL_MAX or not EMAIL_SHAPE.match(email):
        cells.fail(simple["email"], f'"{email[:80]}" is not an email address.')
    name = cells.text(simple["name"], limit=MAX_NAME)
    if not name:
        cells.fail(simple["name"], "Enter the candidate's name.")
    job = _job(cells, catalog)
    stage = cells.cell(simple["stage"]).casefold()
    if stage not in Stage.__members__.values():
        given = f'"{stage[:40]}"' if stage else "Nothing"
        cells.fail(
            simple["stage"],
            f"{given} is not a stage: use {', '.join(s.value for s in Stage)}.",
        )
    decided_on = _decided_on(cells, simple.get("decided_on"), today)
    summary = cells.text(simple["decision_summary"])
    if not summary:
        cells.fail(simple["decision_summary"], "Write the decision in a sentence or two.")
    items, item_columns, requirement_ids = _items(cells, job)
    reapply = _reapply(cells, simple.get("reapply_after_months"))
    offered = cells.cell(simple.get("pool_invitation_offered")).casefold()
    if offered not in YES | NO:
        cells.fail(simple["pool_invitation_offered"], 'Write "yes" or "no" (or leave it empty).')
    roles = SuggestedRoles.read(cells.cell(simple.get("suggested_roles")))
    if roles.problem:
        cells.fail(simple["suggested_roles"], roles.problem)
    elif len(roles.roles) > MAX_ROLES or any(len(role) > MAX_NAME for role in roles.roles):
        cells.fail(
            simple["suggested_roles"],
            f"At most {MAX_ROLES} roles, one per line, each up to {MAX_NAME} characters.",
        )
    note = cells.text(simple.get("personal_note"))
    if cells.problems or job is None:
        return None
    rejection = _as_rejection(
        cells,
        today,
        {
            "email": email,
            "name": name,
            "stage": stage,
            "decided_on": decided_on,
            "feedback": {
                "decision_summary": summary,
                "assessments": [
                    {"requirement": i.requirement, "rating": i.rating, "evidence": i.body}
                    for i in items
                    if i.kind == "assessment"
                ],
                "strengths": [
                    {"body": i.body, "requirement": i.requirement}
                    for i in items
                    if i.kind == "strength"
                ],
                "growth_areas": [
                    {
                        "body": i.body,
                        "suggestion": i.suggestion,
                        "suggestion_url": i.suggestion_url,
                        "requirement": i.requirement,
                    }
                    for i in items
                    if i.kind == "growth_area"
                ],
                "suggested_roles": list(roles.roles),
                "suggested_role_urls": roles.urls,
                "personal_note": note,
            },
        },
    )
    if rejection is None or rejection.feedback is None:
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
        reapply_after_months=reapply,
        pool_invitation_offered=offered in YES,
        item_columns=item_columns,
        requirement_ids=requirement_ids,
    )


def _as_rejection(cells: _RowReader, today: dt.date, values: dict[str, object]) -> Rejection | None:
    """The row as the model every import shares (`portal.imports.forms.Rejection`),
    or None with a problem per field it refuses. The cells were read and checked one
    by one above, with messages naming their columns; this keeps the row's content
    to exactly what the API takes too."""
    try:
        return Rejection.model_validate(values, context={"today": today})
    except ValidationError as exc:
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            index = cells.columns.simple.get(field)
            cells.fail(index if index is not None else field, error["msg"])
        return None


def _job(cells: _RowReader, catalog: Catalog) -> JobEntry | None:
    index = cells.columns.simple["job"]
    given = cells.cell(index)
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


def _decided_on(cells: _RowReader, index: int | None, today: dt.date) -> dt.date | None:
    """The row's decision date, or None when the cell is empty (the day of the import)."""
    value = cells.cell(index)
    if not value or index is None:
        return None
    day = parse_day(value)
    if day is None:
        cells.fail(
            index,
            f'"{value[:40]}" is not a date: write it as YYYY-MM-DD, like 2026-03-31, or leave '
            "it empty for the day of the import.",
        )
        return None
    problem = day_problem(day, today=today)
    if problem:
        cells.fail(index, problem)
        return None
    return day


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


def _items(
    cells: _RowReader, job: JobEntry | None
) -> tuple[list[DraftItem], list[tuple[str, str]], list[int | None]]:
    columns = cells.columns
    items: list[DraftItem] = []
    where: list[tuple[str, str]] = []
    requirement_ids: list[int | None] = []
    for requirement, index in columns.ratings.items():
        rating_text = cells.cell(index)
        evidence_index = columns.evidence.get(requirement)
        evidence = cells.text(evidence_index)
        if not rating_text and not evidence:
            continue
        requirement_id, shown = _requirement(cells, job, requirement, index)
        rating = RATINGS.get(key_of(rating_text))
        if rating is None:
            message = (
                f'"{rating_text[:40]}" is not a rating'
                if rating_text
                else "The evidence needs a rating"
            )
            cells.fail(index, f"{message}: use met, partly met or not yet met.")
            continue
        items.append(
            DraftItem(
                kind="assessment",
                body=evidence,
                rating=rating,
                requirement=shown,
            )
        )
        evidence_column = cells.name_of(evidence_index) if evidence_index is not None else ""
        where.append((evidence_column or cells.name_of(index), ""))
        requirement_ids.append(requirement_id)
    kinds: tuple[Literal["strength"], Literal["growth_area"]] = ("strength", "growth_area")
    for kind in kinds:
        numbers = sorted(n for k, n, is_req in columns.indexed if k == kind and not is_req)
        count = 0
        for number in numbers:
            index = columns.indexed[(kind, number, False)]
            body = cells.text(index)
            suggestion_index = columns.indexed.get(("suggestion", number, False))
            suggestion = cells.text(suggestion_index) if kind == "growth_area" else ""
            url = _web_address(cells, columns.urls.get(number)) if kind == "growth_area" else ""
            requirement_index = columns.indexed.get((kind, number, True))
            requirement_text = cells.cell(requirement_index)
            if not body:
                if suggestion and suggestion_index is not None:
                    cells.fail(suggestion_index, f"A suggestion needs its growth_area_{number}.")
                elif url:
                    cells.fail(columns.urls[number], f"A link needs its growth_area_{number}.")
                elif requirement_text and requirement_index is not None:
                    cells.fail(requirement_index, f"A requirement needs its {kind}_{number}.")
                continue
            count += 1
            if count > MAX_ITEMS:
                cells.fail(index, f"At most {MAX_ITEMS} of these per row.")
                break
            tied: tuple[int | None, str | None] = (None, None)
            if requirement_text and requirement_index is not None:
                tied = _requirement(cells, job, requirement_text, requirement_index)
            items.append(
                DraftItem(
                    kind=kind,
                    body=body,
                    suggestion=suggestion,
                    requirement=tied[1],
                    suggestion_url=url or None,
                )
            )
            where.append(
                (
                    cells.name_of(index),
                    cells.name_of(suggestion_index) if suggestion_index is not None else "",
                )
            )
            requirement_ids.append(tied[0])
    return items, where, requirement_ids


def _web_address(cells: _RowReader, index: int | None) -> str:
    value = cells.cell(index)
    if value and index is not None and (not WEB_ADDRESS.match(value) or len(value) > URL_MAX):
        cells.fail(index, "Enter a web address that starts with https://, or leave it empty.")
        return ""
    return value


def _reapply(cells: _RowReader, index: int | None) -> int | None:
    value = cells.cell(index)
    if not value or index is None:
        return None
    months = parse_number(value, low=0, high=60)
    if months is None:
        cells.fail(index, "Enter a number of months from 0 to 60 (or leave it empty).")
    return months


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
