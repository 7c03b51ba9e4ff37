"""The staff import page: upload, read the check, confirm; templates; limits and CSRF."""

from __future__ import annotations

import csv
import io
import re

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.candidates.models import Application, Job
from portal.db import unit_of_work
from portal.feedback.models import Feedback
from portal.imports.format import MAX_FILE_BYTES
from tests.factories import CSRF_FIELD, World, make_staff, make_world, staff_sign_in
from tests.test_import import csv_bytes, row

Sessions = async_sessionmaker[AsyncSession]


async def signed_in(client: httpx.AsyncClient, sessions: Sessions) -> World:
    world = await make_world(sessions, published=False)
    await make_staff(sessions, organization_id=world.organization_id)
    assert (await staff_sign_in(client)).status_code == 303
    return world


async def token(client: httpx.AsyncClient) -> str:
    page = await client.get("/staff/import")
    assert page.status_code == 200
    found = CSRF_FIELD.search(page.text)
    assert found
    return found.group(1)


async def upload(
    client: httpx.AsyncClient,
    data: bytes,
    *,
    filename: str = "feedback.csv",
    publish: bool = False,
    csrf: str | None = None,
) -> httpx.Response:
    fields = {"csrftoken": csrf if csrf is not None else await token(client)}
    if publish:
        fields["publish"] = "yes"
    return await client.post(
        "/staff/import", data=fields, files={"file": (filename, data, "text/csv")}
    )


async def versions(sessions: Sessions) -> int:
    async with sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(Feedback)) or 0)


def form_action(page: str) -> str:
    found = re.search(r'<form method="post" action="(/staff/import/\d+)"', page)
    assert found, "no import button"
    return found.group(1)


async def test_a_recruiter_checks_a_file_then_imports_it_once(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await signed_in(client, sessions)
    page = await client.get("/staff/import")
    assert 'href="/staff/import"' in page.text  # in the staff navigation
    assert "Template for Data Analyst" in page.text

    checked = await upload(client, csv_bytes([row(), row("kim@example.com")]))
    assert checked.status_code == 303
    result = await client.get(checked.headers["location"])
    assert "Every row passed its check" in result.text
    assert "Import as drafts" in result.text
    assert await versions(sessions) == 1  # checking writes no feedback

    action = form_action(result.text)
    done = await client.post(action, data={"csrftoken": await token(client)})
    assert done.status_code == 303
    assert await versions(sessions) == 3
    imported = await client.get(done.headers["location"])
    assert "Imported" in imported.text and "2 new feedback versions" in imported.text
    # Pressing the button again (the back button, a double click) imports nothing more.
    again = await client.post(action, data={"csrftoken": await token(client)})
    assert again.status_code == 303
    assert await versions(sessions) == 3
    async with sessions() as db:
        event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "feedback.imported"))
        assert event is not None and event.actor_kind == "staff"
        assert event.details["new_versions"] == 2
        assert event.details["file"] == "feedback.csv"
    listing = await client.get("/staff/import")
    assert "feedback.csv" in listing.text and "Imported" in listing.text
    # A browser that sends the file's path: only its name is kept.
    pathed = await upload(client, csv_bytes([row()]), filename="C:\\fakepath\\ats.csv")
    assert ">ats.csv</h1>" in (await client.get(pathed.headers["location"])).text


async def test_problems_are_listed_by_row_and_column_a_page_at_a_time(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await signed_in(client, sessions)
    rows = [row(f"bad-{n}") for n in range(60)]
    rows.insert(0, row("<script>alert(1)</script>"))
    checked = await upload(client, csv_bytes(rows), filename="<b>odd.csv")
    first = await client.get(checked.headers["location"])
    assert "61 problems" in first.text
    assert "Import as drafts" not in first.text
    assert "<td>2</td>" in first.text and "<td>email</td>" in first.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in first.text
    assert "<script>alert(1)" not in first.text
    assert "&lt;b&gt;odd.csv" in first.text
    assert "Page 1 of 2" in first.text and "?page=2" in first.text
    second = await client.get(checked.headers["location"] + "?page=2")
    assert "<td>62</td>" in second.text and "<td>2</td>" not in second.text
    assert await versions(sessions) == 1


async def test_publishing_is_refused_for_a_risky_row(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await signed_in(client, sessions)
    risky = row("r@example.com", decision_summary="Thanks. At your age it would be hard.")
    checked = await upload(client, csv_bytes([row(), risky]), publish=True)
    result = await client.get(checked.headers["location"])
    assert "Import and publish" not in result.text
    assert "<strong>Risky:</strong> &#34;your age&#34;" in result.text
    assert "<td>3</td>" in result.text and "<td>decision_summary</td>" in result.text
    # As drafts, the same file can be imported; the risky row is pointed out.
    drafts = await upload(client, csv_bytes([row(), risky]))
    page = await client.get(drafts.headers["location"])
    assert "Import as drafts" in page.text and "risky wording" in page.text


async def test_files_that_cannot_be_read_keep_the_form_with_a_clear_message(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await signed_in(client, sessions)
    latin = await upload(client, csv_bytes([row(name="Zoë")]).decode().encode("latin-1"))
    assert latin.status_code == 422
    assert "not UTF-8 text" in latin.text and "CSV UTF-8" in latin.text
    nothing = await client.post(
        "/staff/import", data={"csrftoken": await token(client), "publish": "yes"}
    )
    assert nothing.status_code == 422
    assert "Choose a CSV file" in nothing.text
    assert 'name="publish" value="yes" checked' in nothing.text
    # Over 10 MB but within the route's body limit: the file's own message.
    large = await upload(client, csv_bytes([row()]) + b"x" * MAX_FILE_BYTES)
    assert large.status_code == 422
    assert "the limit is 10 MB" in large.text
    # Far over: refused before it is read.
    huge = await upload(client, b"x" * (MAX_FILE_BYTES + 200_000))
    assert huge.status_code == 413


async def test_only_the_upload_accepts_a_large_body(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await signed_in(client, sessions)
    csrf = await token(client)
    two_megabytes = "x" * (2 * 1024 * 1024)
    other = await client.post("/staff/signout", data={"csrftoken": csrf, "pad": two_megabytes})
    assert other.status_code == 413
    accepted = await upload(client, csv_bytes([row()]) + b"\n" * (2 * 1024 * 1024), csrf=csrf)
    assert accepted.status_code == 303


async def test_uploading_and_importing_need_the_csrf_token(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await signed_in(client, sessions)
    refused = await upload(client, csv_bytes([row()]), csrf="")
    assert refused.status_code == 403
    checked = await upload(client, csv_bytes([row()]))
    action = form_action((await client.get(checked.headers["location"])).text)
    forged = await client.post(action, data={})
    assert forged.status_code == 403
    assert await versions(sessions) == 1


async def test_a_template_lists_the_jobs_requirements_and_imports_as_it_is(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await signed_in(client, sessions)
    async with unit_of_work(sessions) as db:
        job_id = (await db.get_one(Application, world.application_id)).job_id
    response = await client.get(f"/staff/import/jobs/{job_id}/template.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    header, example = list(csv.reader(io.StringIO(response.text, newline="")))
    assert header[:5] == ["email", "name", "job", "stage", "decision_summary"]
    assert "rating: SQL" in header and "evidence: Statistics" in header
    assert example[header.index("job")] == "Data Analyst"
    # The template, as downloaded, passes the check.
    checked = await upload(client, response.content)
    page = await client.get(checked.headers["location"])
    assert "Every row passed its check" in page.text


async def test_a_template_cannot_carry_a_formula(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await signed_in(client, sessions)
    async with unit_of_work(sessions) as db:
        job = Job(organization_id=world.organization_id, title='=HYPERLINK("https://x.test")')
        db.add(job)
        await db.flush()
        job_id = job.id
    response = await client.get(f"/staff/import/jobs/{job_id}/template.csv")
    _, example = list(csv.reader(io.StringIO(response.text, newline="")))
    assert example[2] == '\'=HYPERLINK("https://x.test")'
    # What the export guarded reads back as written: the row names the job.
    checked = await upload(client, response.content)
    page = await client.get(checked.headers["location"])
    assert "Every row passed its check" in page.text


async def test_another_organizations_job_and_upload_are_not_found(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await signed_in(client, sessions)
    checked = await upload(client, csv_bytes([row()]))
    mine = checked.headers["location"]
    other = await make_world(sessions, slug="globex", email="o@example.com")
    await make_staff(sessions, organization_id=other.organization_id, email="x@globex.example")
    assert (await staff_sign_in(other_client, "x@globex.example")).status_code == 303
    assert (await other_client.get(mine)).status_code == 404
    page = await other_client.get("/staff/import")
    found = CSRF_FIELD.search(page.text)
    assert found
    stolen = await other_client.post(mine, data={"csrftoken": found.group(1)})
    assert stolen.status_code == 404
    async with unit_of_work(sessions) as db:
        theirs = (await db.get_one(Application, other.application_id)).job_id
    assert (await client.get(f"/staff/import/jobs/{theirs}/template.csv")).status_code == 404
    assert (await client.get(f"/staff/import/jobs/{2**40}/template.csv")).status_code == 404
    assert (await client.get(f"/staff/import/{2**40}")).status_code == 404
    assert await versions(sessions) == 2
