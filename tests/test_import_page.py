"""The staff import page: upload, read the check, confirm; templates; limits and CSRF."""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from portal.audit.models import AuditEvent
from portal.auth.areas import STAFF
from portal.candidates.models import Application, Candidate, Job
from portal.db import unit_of_work, utcnow
from portal.feedback.models import Feedback
from portal.imports.format import MAX_FILE_BYTES
from portal.imports.forms import EXAMPLE_EMAIL
from portal.routing import Area
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


async def applications(sessions: Sessions) -> int:
    async with sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(Application)) or 0)


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
    assert (
        '<td data-label="Row">2</td>' in first.text
        and '<td data-label="Column">email</td>' in first.text
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in first.text
    assert "<script>alert(1)" not in first.text
    assert "&lt;b&gt;odd.csv" in first.text
    assert "Page 1 of 2" in first.text and "?page=2" in first.text
    second = await client.get(checked.headers["location"] + "?page=2")
    assert (
        '<td data-label="Row">62</td>' in second.text
        and '<td data-label="Row">2</td>' not in second.text
    )
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
    assert (
        '<td data-label="Row">3</td>' in result.text
        and '<td data-label="Column">decision_summary</td>' in result.text
    )
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


def _csv(header: list[str], *rows: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue().encode()


async def test_a_templates_example_row_shows_the_columns_and_is_never_imported(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await signed_in(client, sessions)
    async with unit_of_work(sessions) as db:
        job_id = (await db.get_one(Application, world.application_id)).job_id
    page = await client.get("/staff/import")
    assert EXAMPLE_EMAIL in page.text and "decided_on" in page.text
    response = await client.get(f"/staff/import/jobs/{job_id}/template.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    header, example = list(csv.reader(io.StringIO(response.text, newline="")))
    assert header[:6] == ["email", "name", "job", "stage", "decided_on", "decision_summary"]
    assert "rating: SQL" in header and "evidence: Statistics" in header
    assert example[header.index("job")] == "Data Analyst"
    assert example[header.index("email")] == EXAMPLE_EMAIL
    assert example[header.index("decided_on")] == utcnow().date().isoformat()
    before = await applications(sessions)

    # Left in the file, the example row is refused, and with it the file.
    checked = await upload(client, response.content)
    refused = await client.get(checked.headers["location"])
    assert "1 problem:" in refused.text and "Import as drafts" not in refused.text
    assert (
        '<td data-label="Row">2</td>' in refused.text
        and '<td data-label="Column">email</td>' in refused.text
    )
    assert "This is the template&#39;s example row: delete it" in refused.text
    # Beside real rows too: they wait until it is gone.
    real = list(example)
    real[header.index("email")] = "lee@example.com"
    real[header.index("name")] = "Lee Park"
    both = await client.get((await upload(client, _csv(header, example, real))).headers["location"])
    assert "1 problem:" in both.text and '<td data-label="Row">2</td>' in both.text
    # Written over with a real candidate, every other cell of it imports as shown.
    fine = await client.get((await upload(client, _csv(header, real))).headers["location"])
    assert "Every row passed its check" in fine.text
    done = await client.post(form_action(fine.text), data={"csrftoken": await token(client)})
    assert done.status_code == 303
    async with sessions() as db:
        emails = set((await db.scalars(select(Candidate.email))).all())
    assert "lee@example.com" in emails and EXAMPLE_EMAIL not in emails
    assert await applications(sessions) == before + 1


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
    header, example = list(csv.reader(io.StringIO(response.text, newline="")))
    assert example[2] == '\'=HYPERLINK("https://x.test")'
    # What the export guarded reads back as written: the row names the job.
    example[0] = "lee@example.com"
    checked = await upload(client, _csv(header, example))
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


# --- a row naming a job the organization lacks ----------------------------------------

NEW_JOB = "staff.job_new"  # the jobs page's "new job" form, with ?title= to prefill


def routes_named(app: Starlette, name: str) -> list[tuple[list[BaseRoute], BaseRoute]]:
    """(the list holding it, the route) for each route called `name`, through every Mount."""
    found: list[tuple[list[BaseRoute], BaseRoute]] = []

    def walk(routes: list[BaseRoute]) -> None:
        for route in routes:
            if getattr(route, "name", None) == name:
                found.append((routes, route))
            if isinstance(route, Mount):
                walk(route.routes)

    walk(app.router.routes)
    return found


def _areas(routes: list[BaseRoute]) -> list[Area]:
    found: list[Area] = []
    for route in routes:
        if isinstance(route, Area):
            found.append(route)
        if isinstance(route, Mount):
            found.extend(_areas(route.routes))
    return found


def stand_in_jobs_page(app: Starlette) -> None:
    """A stand-in for the jobs page's "new job" form, for an app that has none yet."""

    async def new_job(request: Request) -> Response:
        return PlainTextResponse(f"new job: {request.query_params.get('title', '')}")

    [area] = [area for area in _areas(app.router.routes) if area.guard is STAFF]
    area.routes.append(Route("/jobs/new", new_job, name=NEW_JOB))


async def _missing_job_result(client: httpx.AsyncClient, title: str) -> str:
    checked = await upload(client, csv_bytes([row(), row("kim@example.com", job=title)]))
    page = await client.get(checked.headers["location"])
    assert page.status_code == 200
    assert (
        '<td data-label="Row">3</td>' in page.text
        and '<td data-label="Column">job</td>' in page.text
    )
    return page.text


async def test_a_missing_job_links_to_the_jobs_page(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    if not routes_named(app, NEW_JOB):
        pytest.skip(f"the app has no {NEW_JOB} route (the jobs page) yet")
    await signed_in(client, sessions)
    page = await _missing_job_result(client, "Welder")
    link = re.search(r'<a href="([^"]+)">Create the job “Welder”</a>', page)
    assert link, "no link to create the missing job"
    assert link.group(1) == "/staff/jobs/new?title=Welder"
    form = await client.get(link.group(1))
    assert form.status_code == 200 and 'value="Welder"' in form.text


async def test_a_missing_job_is_linked_by_route_name_once_a_jobs_page_exists(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    if not routes_named(app, NEW_JOB):
        stand_in_jobs_page(app)
    await signed_in(client, sessions)
    page = await _missing_job_result(client, "Welder & <b>Fitter</b>  ")
    assert (
        "Corp has no job &#34;Welder &amp; &lt;b&gt;Fitter&lt;/b&gt;&#34;. Add the job first"
        in page
    )
    assert (
        '<a href="/staff/jobs/new?title=Welder+%26+%3Cb%3EFitter%3C%2Fb%3E">'
        "Create the job “Welder &amp; &lt;b&gt;Fitter&lt;/b&gt;”</a>"
    ) in page
    assert "<b>Fitter" not in page


async def test_without_a_jobs_page_a_missing_job_is_named_in_words(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    for routes, route in routes_named(app, NEW_JOB):
        routes.remove(route)
    await signed_in(client, sessions)
    page = await _missing_job_result(client, "Welder")
    assert "Acme Corp has no job &#34;Welder&#34;. Add the job first (or correct the title)" in page
    assert "Create the job" not in page and "/staff/jobs/new" not in page
