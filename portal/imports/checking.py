"""Reading an import file and running the feedback check on every row.

CPU only, no database: call `check_file` off the event loop (`import_csv` runs
it in a thread, one check at a time: `service.CHECKS_AT_ONCE`). The feedback
check costs about a millisecond per row (a row has a dozen texts), most of an
import's time. It runs in this process: a pool of processes was tried and was
slower on two CPUs, each process paying for its own cold lemma cache.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from portal.feedback.check import Draft, Finding, blocks_publishing, check_feedback
from portal.imports.format import (
    MAX_FILE_BYTES,
    Catalog,
    ImportRow,
    Problem,
    decode,
    read_rows,
)

MAX_PROBLEMS = 1_000
REPORT_EVERY = 500

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class CheckedFile:
    """A file read and checked: its valid rows and what is wrong with the others."""

    rows: list[ImportRow]
    problems: list[Problem]  # the first MAX_PROBLEMS
    problem_count: int  # every error (risky findings count when publishing)
    risky_rows: int
    row_count: int  # rows read, valid or not

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


def check_file(
    data: bytes,
    catalog: Catalog,
    *,
    publish: bool,
    progress: Progress | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    today: dt.date | None = None,
) -> CheckedFile:
    """Read the file (raises `FileProblem` when it cannot be read at all) and run
    the feedback check on every valid row. Risky findings are problems of kind
    "risky", counted as errors only when publishing. `today` (by default the
    current day, UTC) bounds the rows' decision dates."""
    text = decode(data, max_bytes=max_bytes)
    # Rows, roughly, for the progress bar: the number of lines is an upper bound.
    estimate = max(1, text.count("\n"))

    def on_row(number: int) -> None:
        if progress is not None and number % REPORT_EVERY == 0:
            progress("Reading", min(number, estimate), estimate)

    rows, problems, problem_count, data_rows = read_rows(
        text, catalog, max_problems=MAX_PROBLEMS, on_row=on_row, today=today
    )
    risky = _risky_findings(rows, progress)
    for index, findings in risky:
        row = rows[index]
        for finding in findings:
            if publish:
                problem_count += 1
            if len(problems) < MAX_PROBLEMS:
                problems.append(_problem(row, finding))
    problems.sort(key=lambda problem: problem.row)
    return CheckedFile(rows, problems, problem_count, len(risky), data_rows)


def _problem(row: ImportRow, finding: Finding) -> Problem:
    text = _field_text(row.draft, finding.field)
    words = finding.words(text) if finding.end > finding.start else ""
    message = (f'"{words}": ' if words else "") + finding.message
    return Problem(row.row, row.column_of(finding.field), message, kind="risky")


def _field_text(draft: Draft, where: str) -> str:
    if where == "decision_summary":
        return draft.decision_summary
    if where == "personal_note":
        return draft.personal_note
    if where.startswith("items["):
        item = draft.items[int(where[6 : where.index("]")])]
        return item.suggestion if where.endswith(".suggestion") else item.body
    if where.startswith("suggested_roles["):
        return draft.suggested_roles[int(where[16 : where.index("]")])]
    return ""


def check_drafts(drafts: Sequence[Draft], start: int = 0) -> list[tuple[int, list[Finding]]]:
    """(index, risky findings) for each draft with risky findings; `start` is added to
    the indexes."""
    risky: list[tuple[int, list[Finding]]] = []
    for offset, draft in enumerate(drafts):
        findings = check_feedback(draft)
        if blocks_publishing(findings):
            risky.append((start + offset, [f for f in findings if f.severity == "risky"]))
    return risky


def _risky_findings(
    rows: Sequence[ImportRow], progress: Progress | None
) -> list[tuple[int, list[Finding]]]:
    drafts = [row.draft for row in rows]
    risky: list[tuple[int, list[Finding]]] = []
    for start in range(0, len(drafts), REPORT_EVERY):
        risky += check_drafts(drafts[start : start + REPORT_EVERY], start)
        if progress is not None:
            progress("Checking", min(start + REPORT_EVERY, len(drafts)), len(drafts))
    return risky
