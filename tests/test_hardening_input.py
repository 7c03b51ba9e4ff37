"""Hostile input: control characters, invisible characters and oversized CSV headers.

A NUL reaches PostgreSQL as an error (a 500) and SQLite as a truncated string; an
invisible character inside a word hid it from the abuse flagging and the feedback
check; a header of empty cells once cost quadratic time. Each is refused or seen
through, with a message a person can act on.
"""

from __future__ import annotations

import threading
from typing import Any

import anyio
import anyio.to_thread
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.candidates.models import Candidate
from portal.characters import matching_text
from portal.feedback.check import Draft, check_feedback, check_text
from portal.feedback.models import Feedback
from portal.forms import validate_rows
from portal.imports import format as csv_format
from portal.imports import service
from portal.imports.format import MAX_COLUMNS, Catalog, read_rows
from portal.threads.abuse import assess_message
from portal.threads.models import Message
from portal.workspace.forms import EditorForm
from tests.factories import CSRF_FIELD, World, csrf_token, make_staff, make_world, sign_in
from tests.factories import staff_sign_in as sign_in_staff
from tests.test_import import HEADER, csv_bytes, row
from tests.test_import_page import signed_in, upload

Sessions = async_sessionmaker[AsyncSession]

CONTROL_MESSAGE = "invisible control character"
# "young" in full-width letters
_WIDE_YOUNG = "\uff59\uff4f\uff55\uff4e\uff47"


# --- control characters at the form layer ---------------------------------------------


async def test_a_nul_in_the_candidate_sign_in_email_is_explained_and_kept(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await make_world(sessions, email="dana@example.com")
    response = await client.post(
        "/signin",
        data={"csrftoken": await csrf_token(client), "email": "dana\x00@example.com"},
    )
    assert response.status_code == 422
    assert f"This contains an {CONTROL_MESSAGE} (U+0000, character 5)" in response.text
    assert "dana\x00@example.com" in response.text  # kept as typed


async def test_a_nul_in_the_staff_sign_in_email_is_explained_and_nothing_is_tried(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id)
    response = await sign_in_staff(client, email="sam@acme.example\x00")
    assert response.status_code == 422
    assert f"This contains an {CONTROL_MESSAGE} (U+0000, character 17)" in response.text
    async with sessions() as db:
        assert (await db.scalars(select(AuditEvent))).all() == []
    # A control character in the password is refused the same way, never echoed.
    response = await sign_in_staff(client, password="correct horse\x00")
    assert response.status_code == 422
    assert CONTROL_MESSAGE in response.text and "correct horse" not in response.text
    # Other C0 characters and DEL too; tab, newline and carriage return are text.
    for character in ("\x01", "\x0b", "\x1f", "\x7f"):
        response = await sign_in_staff(client, email=f"sam{character}@acme.example")
        assert response.status_code == 422, repr(character)
        assert f"U+{ord(character):04X}" in response.text


async def test_a_nul_in_a_question_is_explained_kept_and_nothing_is_stored(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    page = await client.get(f"/feedback/{world.application_id}")
    token = CSRF_FIELD.search(page.text)
    assert token
    body = "Could you say more\x00 about the SQL part?"
    response = await client.post(
        f"/feedback/{world.application_id}/questions",
        data={"csrftoken": token.group(1), "body": body},
    )
    assert response.status_code == 422
    assert f"This contains an {CONTROL_MESSAGE} (U+0000, character 19)" in response.text
    assert body in response.text
    async with sessions() as db:
        assert (await db.scalars(select(Message))).all() == []
    # Tabs and line breaks are ordinary text.
    fine = await client.post(
        f"/feedback/{world.application_id}/questions",
        data={"csrftoken": token.group(1), "body": "Two lines:\r\n\tand a tab."},
    )
    assert fine.status_code == 303


async def _recruiter(
    client: httpx.AsyncClient, sessions: Sessions, *, role: str = "recruiter"
) -> World:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id, role=role)
    assert (await sign_in_staff(client)).status_code == 303
    return world


async def test_a_nul_in_a_staff_search_filter_is_explained_not_a_500(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _recruiter(client, sessions, role="admin")
    searches = [
        ("/staff/applications", "q"),
        ("/staff/pool", "location"),
        ("/staff/pool", "skill"),
        ("/staff/audit", "action"),
    ]
    for path, field in searches:
        response = await client.get(path, params={field: "Dana\x00 Scully"})
        assert response.status_code == 422, (path, field)
        assert f"This contains an {CONTROL_MESSAGE} (U+0000, character 5)" in response.text
        if field != "action":  # a list to choose from, not a text box
            assert "Dana\x00 Scully" in response.text, path  # kept as typed
    # The applications list shows everything rather than a search for a cut-off word.
    listed = await client.get("/staff/applications", params={"q": "Nobody\x00 Scully"})
    assert listed.status_code == 422 and "Dana Scully" in listed.text


async def test_the_queue_ignores_a_nul_in_its_filters(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _recruiter(client, sessions)
    for params in ({"after": "1_2\x00_3"}, {"assignee": "\x00"}, {"state": "closed\x00"}):
        response = await client.get("/staff/queue", params=params)
        assert response.status_code == 200, params


def test_every_field_of_every_input_model_is_checked_rows_and_numbers_too() -> None:
    _data, form = validate_rows(
        EditorForm,
        [
            ("version", "0"),
            ("decision_summary", "Thanks.\x00"),
            ("reapply_after_months", "6\x00"),
            ("strengths-0-body", "Clear\x1b queries."),
        ],
    )
    assert form.errors.keys() == {"decision_summary", "reapply_after_months", "strengths-0-body"}
    assert all(CONTROL_MESSAGE in message for message in form.errors.values())
    assert form.values["strengths-0-body"] == "Clear\x1b queries."


# --- control characters in a CSV import -------------------------------------------------


async def test_a_nul_in_a_csv_cell_is_reported_by_row_and_column_and_nothing_is_stored(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await signed_in(client, sessions)
    data = csv_bytes([row(), row("kim@example.com", name="Kim\x00 Lee")])
    checked = await upload(client, data)
    assert checked.status_code == 303
    result = await client.get(checked.headers["location"])
    assert f"This contains an {CONTROL_MESSAGE} (U+0000, character 4)" in result.text
    assert (
        '<td data-label="Row">3</td>' in result.text
        and '<td data-label="Column">name</td>' in result.text
    )
    assert "Import as drafts" not in result.text
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Feedback)) == 1  # make_world's
        names = set((await db.scalars(select(Candidate.name))).all())
    assert names == {"Dana Scully"}


async def test_a_nul_in_the_uploaded_file_name_is_dropped_not_a_500(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await signed_in(client, sessions)
    page = await client.get("/staff/import")
    token = CSRF_FIELD.search(page.text)
    assert token
    # Written by hand: httpx would percent-encode the NUL.
    body = (
        b'--b\r\nContent-Disposition: form-data; name="csrftoken"\r\n\r\n'
        + token.group(1).encode()
        + b'\r\n--b\r\nContent-Disposition: form-data; name="file"; '
        b'filename="feed\x00back.csv"\r\nContent-Type: text/csv\r\n\r\n'
        + csv_bytes([row()])
        + b"\r\n--b--\r\n"
    )
    checked = await client.post(
        "/staff/import",
        content=body,
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert checked.status_code == 303
    result = await client.get(checked.headers["location"])
    assert "<h1>feedback.csv</h1>" in result.text


def test_control_characters_anywhere_in_a_row_are_problems_of_their_cells() -> None:
    catalog = Catalog.of("Acme", [])
    text = csv_bytes(
        [row(decision_summary="Thanks\x07.", personal_note="Bye\x1b", stage="\x7finterview")]
    ).decode()
    _rows, problems, _count, _read = read_rows(text, catalog)
    found = {
        (problem.row, problem.column) for problem in problems if CONTROL_MESSAGE in problem.message
    }
    assert found == {(2, "decision_summary"), (2, "personal_note"), (2, "stage")}


def test_a_control_character_in_the_header_is_refused() -> None:
    text = ",".join([*HEADER, "note\x00"]) + "\n"
    _rows, problems, _count, _read = read_rows(text, Catalog.of("Acme", []))
    assert [(problem.row, CONTROL_MESSAGE in problem.message) for problem in problems] == [
        (1, True)
    ]


# --- invisible characters and the feedback check / abuse flagging ---------------------


def test_matching_text_maps_every_span_back_to_the_characters_written() -> None:
    written = "x\u00adyz \ufb01 e\u0301 \u200b"  # soft hyphen, "fi" ligature, e + accent
    seen = matching_text(written)
    assert seen.text == "xyz fi \u00e9 "
    assert written[slice(*seen.span(0, 3))] == "x\u00adyz"
    assert written[slice(*seen.span(4, 6))] == "\ufb01"
    assert written[slice(*seen.span(4, 5))] == "\ufb01"  # half a ligature is all of it
    assert written[slice(*seen.span(7, 8))] == "e\u0301"
    assert seen.span(len(seen.text), len(seen.text)) == (len(written), len(written))
    plain = matching_text("Plain ASCII, untouched.")
    assert plain.text == plain.original and plain.span(2, 5) == (2, 5)


@pytest.mark.parametrize("hidden", ["\u200b", "\u00ad", "\u2060", "\ufeff", "\u200b\u00ad"])
def test_invisible_characters_do_not_hide_a_risky_phrase(hidden: str) -> None:
    text = f"At your a{hidden}ge it would be hard."
    findings = [f for f in check_text(text) if f.severity == "risky"]
    assert [(f.rule, f.words(text)) for f in findings] == [("risky.age", f"your a{hidden}ge")]


def test_look_alike_letters_are_read_as_the_letters_they_imitate() -> None:
    # Full-width letters: NFKC reads them as the plain ones.
    text = "We need someone " + _WIDE_YOUNG + "er."
    findings = check_text(text)
    assert [(f.rule, f.words(text)) for f in findings] == [
        ("risky.age", "someone " + _WIDE_YOUNG + "er")
    ]


def test_a_risky_field_with_hidden_characters_blocks_publishing_with_its_span() -> None:
    summary = "Thank you. Given your preg\u00adnancy we passed."
    findings = check_feedback(Draft(decision_summary=summary, personal_note="Thanks."))
    risky = [f for f in findings if f.severity == "risky"]
    assert [(f.field, summary[f.start : f.end]) for f in risky] == [
        ("decision_summary", "preg\u00adnancy")
    ]


async def test_publishing_an_import_with_a_hidden_risky_phrase_is_refused(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await signed_in(client, sessions)
    risky = row("r@example.com", decision_summary="Thanks. At your a\u200bge it would be hard.")
    checked = await upload(client, csv_bytes([row(), risky]), publish=True)
    result = await client.get(checked.headers["location"])
    assert "Import and publish" not in result.text
    assert "<strong>Risky:</strong> &#34;your a\u200bge&#34;" in result.text


@pytest.mark.parametrize(
    "message",
    [
        "I know wh\u200bere your of\u00adfice is.",
        "I will s\u200bue you",
        "I will \uff53\uff55\uff45 you",
    ],
)
def test_invisible_characters_do_not_hide_a_threat(message: str) -> None:
    assessment = assess_message(message)
    assert assessment.flagged and "threat" in assessment.reasons


# --- the CSV header: linear, and capped ---------------------------------------------------


def test_a_header_of_forty_thousand_commas_is_refused_with_the_column_cap() -> None:
    text = "," * 40_000 + "\n"
    _rows, problems, count, _read = read_rows(text, Catalog.of("Acme", []))
    assert count == 1
    assert problems[0].row == 1
    assert f"at most {MAX_COLUMNS:,} columns" in problems[0].message
    assert "40,001" in problems[0].message


async def test_the_import_page_refuses_a_header_wider_than_the_cap(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await signed_in(client, sessions)
    checked = await upload(client, b"," * 40_000 + b"\n" + csv_bytes([row()]))
    result = await client.get(checked.headers["location"])
    assert f"at most {MAX_COLUMNS:,} columns" in result.text


async def test_import_checks_run_in_a_thread_outside_the_default_pool(
    client: httpx.AsyncClient, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    await signed_in(client, sessions)
    default_pool = anyio.to_thread.current_default_thread_limiter()
    seen: list[tuple[bool, float]] = []
    real = service.check_file

    def watched(*args: Any, **kwargs: Any) -> Any:
        on_loop_thread = threading.current_thread() is threading.main_thread()
        seen.append((on_loop_thread, default_pool.borrowed_tokens))
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "check_file", watched)
    assert (await upload(client, csv_bytes([row()]))).status_code == 303
    assert seen == [(False, 0)]


def test_reading_a_header_touches_each_cell_a_bounded_number_of_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The header reader used to rescan every later cell for each empty one: 100,000
    empty cells cost some 5 billion looks. Each look is counted here, and the count
    stops the test as soon as it passes a few per cell."""
    cells_in_header = 100_001
    limit = 3 * cells_in_header
    looks = 0

    class Cell(str):
        __slots__ = ()

        def strip(self, chars: str | None = None) -> str:
            nonlocal looks
            looks += 1
            if looks > limit:
                raise AssertionError("the header reader looks at cells again and again")
            return str.strip(self, chars)

    monkeypatch.setattr(csv_format, "MAX_COLUMNS", cells_in_header)
    cells: list[str] = [Cell("") for _ in range(cells_in_header - 1)]
    cells.append(Cell("email"))
    _columns, problems = csv_format.read_header(cells)
    assert looks <= limit
    assert len([p for p in problems if p.message == "This column has no name."]) == 100_000
