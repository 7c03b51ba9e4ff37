"""Your data: a candidate downloads everything held about them, and erases it; and the
attacks on both (another's link, a reused one, no confirmation, no CSRF)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import zipfile
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from portal.ats.models import AtsEvent
from portal.audit.models import AuditEvent
from portal.candidates.models import Candidate
from portal.db import Base, unit_of_work
from portal.jobs.models import BackgroundJob
from portal.privacy.export import EXPORTED, NOT_THEIRS, SECRET_COLUMNS
from portal.privacy.models import DataRequest, LegalHold
from portal.settings import Settings
from portal.webhooks.models import WebhookDelivery
from tests.factories import csrf_token, open_link
from tests.privacy_support import (
    EMAIL,
    MARKER,
    NAME,
    QUESTION,
    Sessions,
    all_rows,
    link_in_mail,
    mail_files,
    message_text,
    needles_in,
    owned_rows,
    scan_database,
    seed,
)


async def _post(
    client: httpx.AsyncClient,
    path: str,
    data: dict[str, str] | None = None,
    *,
    page: str = "/your-data",
) -> httpx.Response:
    token = await csrf_token(client, page)
    return await client.post(path, data={"csrftoken": token, **(data or {})})


async def _export_link(client: httpx.AsyncClient, app: Starlette, settings: Settings) -> str:
    response = await _post(client, "/your-data/export")
    assert response.status_code == 303
    assert response.headers["location"].endswith("/your-data?done=export#notice")
    while await app.state.worker.run_once():
        pass
    return link_in_mail(settings, to=EMAIL, subject="is ready")


async def _download(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    response = await open_link(client, path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "no-store" in response.headers["cache-control"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["your-data.html", "your-data.json"]
    page = archive.read("your-data.html").decode()
    assert NAME in page and MARKER in page
    document: dict[str, Any] = json.loads(archive.read("your-data.json"))
    return document


def test_every_table_is_exported_or_says_why_not() -> None:
    tables = {table.name for table in Base.metadata.sorted_tables}
    assert tables == set(EXPORTED) | set(NOT_THEIRS)
    assert not set(EXPORTED) & set(NOT_THEIRS)


async def test_the_footer_of_every_candidate_page_links_to_their_data(
    app: Starlette,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
) -> None:
    seeded = await seed(client, other_client, sessions, app)
    for path in ("/feedback", f"/feedback/{seeded.dana.application_id}", "/your-data"):
        page = await client.get(path, follow_redirects=True)
        assert page.status_code == 200
        assert 'href="/your-data">Your data</a>' in page.text, path


async def test_candidate_email_carries_their_data_link_in_its_footer(
    app: Starlette,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    await seed(client, other_client, sessions, app)
    await _export_link(client, app, settings)
    to_dana = [message for _, message in mail_files(settings) if message["To"] == EMAIL]
    assert to_dana
    for message in to_dana:
        assert "http://testserver/your-data" in message_text(message)


async def test_the_export_holds_every_row_of_theirs_and_nothing_of_anyone_else(
    app: Starlette,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    seeded = await seed(client, other_client, sessions, app)
    path = await _export_link(client, app, settings)
    # Opening the link (a mail scanner does) uses nothing.
    assert (await client.get(path)).status_code == 200
    assert (await other_client.head(path)).status_code == 200
    document = await _download(client, path)
    assert document["schema"] == "afterword.candidate-export"
    assert document["version"] == 1

    async with unit_of_work(sessions) as db:
        dump = await all_rows(db)
    owned = owned_rows(dump, seeded.dana.candidate_id)
    # Withheld on purpose (docs/admin/privacy.md): drafts and internal parts of the
    # feedback, staff's notes and override reasons, replies never sent, staff's kept text.
    by_id = {table: {row.get("id"): row for row in rows} for table, rows in dump.items()}
    drafts = {i for i in owned["feedback"] if by_id["feedback"][i]["state"] == "draft"}
    withheld = {
        "feedback": drafts,
        "feedback_items": {
            i
            for i in owned.get("feedback_items", [])
            if not by_id["feedback_items"][i]["visible"]
            or by_id["feedback_items"][i]["feedback_id"] in drafts
        },
        "thread_messages": {
            i
            for i in owned.get("thread_messages", [])
            if by_id["thread_messages"][i]["author_kind"] == "staff"
            and (
                by_id["thread_messages"][i]["state"] != "sent"
                or by_id["thread_messages"][i]["hidden_at"] is not None
            )
        },
        # The interviewers' private notes (docs/staff/drafting.md#privacy).
        "scorecard_entries": {
            i
            for i in owned.get("scorecard_entries", [])
            if by_id["scorecard_entries"][i]["private"]
        },
    }
    assert withheld["feedback"] and withheld["feedback_items"] and withheld["thread_messages"]
    assert withheld["scorecard_entries"] and owned["scorecards"]
    for table in NOT_THEIRS:
        withheld[table] = set(owned.get(table, []))
    # Rows found by something other than a foreign key: email to their address, and
    # the audit trail's records about them or by them.
    mail = {
        row["id"]
        for row in dump["background_jobs"]
        if row["kind"] == "mail.send"
        and row["payload"].get("to") == EMAIL
        and row["payload"].get("organization_id") == seeded.dana.organization_id
        # The email that brought this export was written after it.
        and row["payload"].get("template") != "data_export"
    }
    assert mail
    owned["background_jobs"] = sorted(mail)
    subjects = {
        "candidate": {seeded.dana.candidate_id},
        "application": set(owned["applications"]),
        "thread": set(owned["threads"]),
        "pool_membership": set(owned["pool_memberships"]),
    }
    owned["audit_events"] = sorted(
        row["id"]
        for row in dump["audit_events"]
        if row["organization_id"] == seeded.dana.organization_id
        # The records of this export's sending and download, written after it.
        and row["action"] not in ("privacy.export_sent", "privacy.export_downloaded")
        and (
            (row["actor_kind"] == "candidate" and row["actor_id"] == seeded.dana.candidate_id)
            or row["subject_id"] in subjects.get(row["subject_type"] or "", set())
        )
    )
    assert owned["audit_events"]

    exported = document["tables"]
    for name in (schema_table.name for schema_table in Base.metadata.sorted_tables):
        expected = set(owned.get(name, [])) - withheld.get(name, set())
        rows = exported.get(name, [])
        if name == "sessions":
            # No id leaves (its hash is a credential): the count must match.
            assert len(rows) == len(expected), name
        else:
            assert {row["id"] for row in rows} == expected, name
        for row in rows:
            assert not SECRET_COLUMNS & set(row), name
    assert exported["sessions"], "their session is listed"
    assert any(row["body"] == QUESTION for row in exported["thread_messages"])

    text = json.dumps(document, ensure_ascii=False)
    for other in (
        "Eve Otherperson",
        "eve@example.com",
        "eve-question-8812",
        "Dana Globex",
        "Globex Role",
        "Draft wording",
        "INTERNAL:",
        "waiting for approval",
    ):
        assert other not in text, other
    assert "sealed" not in text


async def test_a_download_link_works_once_and_only_for_its_holder(
    app: Starlette,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    await seed(client, other_client, sessions, app)
    path = await _export_link(client, app, settings)
    await _download(client, path)
    again = await open_link(client, path)
    assert again.status_code == 410
    assert "no longer works" in again.text
    # Pressing the button of a page loaded earlier: nothing either.
    token = await csrf_token(client, "/signin")
    late = await client.post(path, data={"csrftoken": token})
    assert late.status_code == 410
    # The stored copy went with the download.
    async with unit_of_work(sessions) as db:
        sealed = await db.scalars(select(DataRequest.export_sealed))
        assert all(value is None for value in sealed)


async def test_another_candidates_or_a_made_up_link_leads_nowhere(
    app: Starlette,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    await seed(client, other_client, sessions, app)
    path = await _export_link(client, app, settings)
    forged = path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")
    assert (await open_link(other_client, forged)).status_code == 404
    assert (await open_link(other_client, "/your-data/download/" + "x" * 400)).status_code == 404
    # An export link is not an erasure link.
    erase_path = path.replace("/download/", "/erase/")
    assert (await open_link(other_client, erase_path)).status_code == 404
    # Eve's own export gives Eve's data, never Dana's.
    response = await _post(other_client, "/your-data/export")
    assert response.status_code == 303
    while await app.state.worker.run_once():
        pass
    eve_path = link_in_mail(settings, to="eve@example.com", subject="is ready")
    response = await open_link(other_client, eve_path)
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    text = archive.read("your-data.json").decode()
    assert "Eve Otherperson" in text and NAME not in text and MARKER not in text


async def test_requests_without_csrf_are_refused(
    app: Starlette,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    await seed(client, other_client, sessions, app)
    for path, data in (
        ("/your-data/export", {}),
        ("/your-data/erase", {"confirm": "yes"}),
    ):
        response = await client.post(path, data=data)
        assert response.status_code == 403, path
    path = await _export_link(client, app, settings)
    assert (await client.post(path)).status_code == 403
    async with unit_of_work(sessions) as db:
        kinds = (await db.scalars(select(DataRequest.kind))).all()
    assert kinds == ["export"]


async def test_signed_out_visitors_are_asked_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in ("/your-data", "/your-data/erase"):
        response = await client.get(path)
        assert response.status_code in (200, 401, 303), path
        assert "your-data" not in response.headers.get("location", "")
        assert "Email me my data" not in response.text


async def test_erasure_needs_the_box_ticked_then_the_emailed_link(
    app: Starlette,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    seeded = await seed(client, other_client, sessions, app)
    page = await client.get("/your-data/erase")
    assert page.status_code == 200
    unticked = await _post(client, "/your-data/erase", page="/your-data/erase")
    assert unticked.status_code == 422
    assert "Tick the box" in unticked.text
    ticked = await _post(client, "/your-data/erase", {"confirm": "yes"}, page="/your-data/erase")
    assert ticked.status_code == 303
    while await app.state.worker.run_once():
        pass
    # Nothing is erased by asking: only by the link.
    async with unit_of_work(sessions) as db:
        assert await db.get(Candidate, seeded.dana.candidate_id) is not None
    path = link_in_mail(settings, to=EMAIL, subject="Confirm")
    assert (await other_client.get(path)).status_code == 200
    async with unit_of_work(sessions) as db:
        assert await db.get(Candidate, seeded.dana.candidate_id) is not None
    done = await open_link(other_client, path)
    assert done.status_code == 200
    assert "Your data has been erased" in done.text
    async with unit_of_work(sessions) as db:
        assert await db.get(Candidate, seeded.dana.candidate_id) is None
    # A second press: the link is spent.
    assert (await open_link(other_client, path)).status_code == 404


async def test_after_erasure_nothing_of_them_is_left(
    app: Starlette,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    seeded = await seed(client, other_client, sessions, app)
    # A PDF in this process's cache, an export waiting, and an old sign-in link.
    pdf = await client.get(f"/feedback/{seeded.dana.application_id}/summary.pdf")
    assert pdf.status_code == 200
    assert len(app.state.portal.pdf._cache) == 1
    export_path = await _export_link(client, app, settings)
    from tests.factories import sign_in_link

    old_link = await sign_in_link(sessions, seeded.dana)
    async with unit_of_work(sessions) as db:
        before = await all_rows(db)
    globex_owned = owned_rows(before, seeded.elsewhere.candidate_id)
    # The scan finds them before: in their row, their question, the email about it.
    planted = {table for table, _, _ in scan_database(before, [NAME, EMAIL, MARKER], skip={})}
    assert {
        "candidates",
        "thread_messages",
        "background_jobs",
        "audit_events",
        "import_uploads",
        "ats_events",
        "survey_answers",
    } <= planted
    globex_before = {
        table: [row for row in before[table] if row.get("id") in set(ids)]
        for table, ids in globex_owned.items()
    }

    await _post(client, "/your-data/erase", {"confirm": "yes"}, page="/your-data/erase")
    while await app.state.worker.run_once():
        pass
    erase_path = link_in_mail(settings, to=EMAIL, subject="Confirm")
    assert (await open_link(client, erase_path)).status_code == 200
    while await app.state.worker.run_once():
        pass

    needles = [NAME, EMAIL, MARKER]
    async with unit_of_work(sessions) as db:
        after = await all_rows(db)
    # The other organization's rows about the same address are skipped by the scan,
    # and must be exactly as they were.
    skip = {table: set(ids) for table, ids in globex_owned.items()}
    skip["background_jobs"] = {
        row["id"]
        for row in after["background_jobs"]
        if row["payload"].get("organization_id") == seeded.elsewhere.organization_id
    }
    assert scan_database(after, needles, skip=skip) == []
    for table, rows in globex_before.items():
        now_rows = [row for row in after[table] if row.get("id") in {r.get("id") for r in rows}]
        assert now_rows == rows, table

    # The mail directory: only the notice of the erasure, delivered to them, names them.
    # The other organization's email to the same address stays.
    notices, globex = [], []
    for path, message in mail_files(settings):
        text = message_text(message)
        if "has been erased" in str(message["Subject"]) and message["To"] == EMAIL:
            notices.append(path)
            continue
        if "Globex Corp" in str(message["From"]):
            globex.append(path)
            continue
        assert needles_in(text, needles) == [], (path, message["Subject"])
    assert len(notices) == 1
    assert len(globex) == 1
    # Nothing waits in the outbox for them, and the notice's record forgot the address.
    async with unit_of_work(sessions) as db:
        jobs = (await db.scalars(select(BackgroundJob))).all()
        for job in jobs:
            if job.payload.get("organization_id") == seeded.dana.organization_id:
                assert EMAIL not in json.dumps(job.payload)
        holds = (await db.scalars(select(LegalHold))).all()
        assert [(h.organization_id, h.cause.value) for h in holds] == [
            (seeded.dana.organization_id, "candidate")
        ]
        erased = await db.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.erased"))
        assert erased is not None
        # The ATS's event stays (a resent one is still a replay), without them in it.
        event = await db.scalar(select(AtsEvent))
        assert event is not None and event.application_id is None
        # The organization's systems hear of it, by ids only.
        notice = await db.scalar(
            select(WebhookDelivery).where(WebhookDelivery.event_type == "candidate.erased")
        )
        assert notice is not None
        data = json.loads(notice.body)["data"]
        assert data["candidate_id"] == seeded.dana.candidate_id
        assert data["application_ids"] == [seeded.dana.application_id]
        assert data["cause"] == "candidate"
    # Logs.
    for record in caplog.records:
        assert needles_in(record.getMessage(), needles) == [], record.getMessage()
    # The PDF cache of this process.
    assert len(app.state.portal.pdf._cache) == 0
    # Their session, their links and the export link are dead.
    assert (await client.get(f"/feedback/{seeded.dana.application_id}")).status_code != 200
    assert "Email me my data" not in (await client.get("/your-data")).text
    assert (await open_link(other_client, old_link)).status_code in (404, 410)
    assert (await open_link(other_client, export_path)).status_code == 404
    # Eve is untouched.
    assert (await other_client.get(f"/feedback/{seeded.eve.application_id}")).status_code == 200


async def test_two_presses_at_once_erase_once(
    app: Starlette,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    seeded = await seed(client, other_client, sessions, app)
    await _post(client, "/your-data/erase", {"confirm": "yes"}, page="/your-data/erase")
    while await app.state.worker.run_once():
        pass
    path = link_in_mail(settings, to=EMAIL, subject="Confirm")
    token = await csrf_token(other_client, path)
    first, second = await asyncio.gather(
        other_client.post(path, data={"csrftoken": token}),
        other_client.post(path, data={"csrftoken": token}),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 410]
    async with unit_of_work(sessions) as db:
        assert await db.get(Candidate, seeded.dana.candidate_id) is None
        erasures = (
            await db.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.erased"))
        ).all()
    assert len(erasures) == 1


async def test_asking_twice_sends_one_email(
    app: Starlette,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    await seed(client, other_client, sessions, app)
    for _ in range(3):
        assert (await _post(client, "/your-data/export")).status_code == 303
        page = "/your-data/erase"
        assert (await _post(client, page, {"confirm": "yes"}, page=page)).status_code == 303
    while await app.state.worker.run_once():
        pass
    async with unit_of_work(sessions) as db:
        kinds = sorted((await db.scalars(select(DataRequest.kind))).all())
    assert kinds == ["erasure", "export"]
    subjects = [str(m["Subject"]) for _, m in mail_files(settings) if m["To"] == EMAIL]
    assert sum("is ready" in s for s in subjects) == 1
    assert sum("Confirm" in s for s in subjects) == 1
