"""CSV files for people to open in a spreadsheet, safely.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is read by Excel, LibreOffice and Google Sheets as a formula, so text a
candidate typed ("=HYPERLINK(...)") could run when a recruiter opens the
export (CSV injection, OWASP). Such cells are written with a leading
apostrophe, which spreadsheets show as text and do not display; everything
else is written as it is. Files are UTF-8 with a byte-order mark (so Excel
reads accents correctly) and CRLF line ends (RFC 4180).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from starlette.responses import Response

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """One cell as text that no spreadsheet will take for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The whole file: a header row, then every row, each cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return "\ufeff" + out.getvalue()


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> Response:
    """A download of the file, never kept by a cache. `filename` must be plain ASCII."""
    return Response(
        csv_text(header, rows).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "no-store",
        },
    )
