"""The requirement library (/staff/jobs/library): save requirements to reuse, browse,
edit and (admins) delete them, add one to a job, and copy a job's requirements."""

from __future__ import annotations

import html
import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.db import unit_of_work
from portal.postings.models import LibraryRequirement
from tests.jobs_support import (
    Desk,
    actions,
    add_requirement,
    create_job,
    desk,
    job_of,
    listed_requirements,
    requirement_id,
)

Sessions = async_sessionmaker[AsyncSession]
ENTRY_LINK = re.compile(r'href="/staff/jobs/library/(\d+)">([^<]*)</a>')


def _entries(page: str) -> dict[str, int]:
    return {html.unescape(name): int(entry) for entry, name in ENTRY_LINK.findall(page)}


async def _save(d: Desk, name: str, description: str = "") -> int:
    response = await d.post("/staff/jobs/library", name=name, description=description)
    assert response.headers["location"] == "/staff/jobs/library?done=saved", response.text
    return _entries((await d.get("/staff/jobs/library")).text)[name]


async def test_an_empty_library_says_how_to_fill_it(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    page = await d.get("/staff/jobs/library")
    assert page.status_code == 200
    assert "The library is empty" in page.text and "Save to library" in page.text
    job_page = await d.get(f"/staff/jobs/{await job_of(sessions, d.world)}")
    assert "The library is empty." in job_page.text


async def test_requirements_are_saved_searched_and_edited_in_the_library(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    communication = await _save(d, "Communication", "Explains findings clearly")
    await _save(d, "Kotlin", "Writes idiomatic Kotlin")
    page = await d.get("/staff/jobs/library")
    assert list(_entries(page.text)) == ["Communication", "Kotlin"]
    found = await d.get("/staff/jobs/library?q=idiomatic")
    assert list(_entries(found.text)) == ["Kotlin"]
    none = await d.get("/staff/jobs/library?q=cobol")
    assert "No library requirement matches “cobol”" in html.unescape(none.text)

    taken = await d.post("/staff/jobs/library", name="communication", description="Typed")
    assert taken.status_code == 422
    assert "The library already has a requirement named “communication”" in html.unescape(
        taken.text
    )
    assert 'value="communication"' in taken.text and ">Typed</textarea>" in taken.text
    too_long = await d.post("/staff/jobs/library", name="C" * 101)
    assert too_long.status_code == 422 and "(this has 101)" in too_long.text

    edit = await d.get(f"/staff/jobs/library/{communication}")
    assert 'value="Communication"' in edit.text
    assert "Delete from the library" not in edit.text  # a recruiter's page
    saved = await d.post(
        f"/staff/jobs/library/{communication}",
        name="Stakeholder communication",
        description="Explains findings to people without a technical background",
    )
    assert saved.headers["location"] == "/staff/jobs/library?done=changed"
    clash = await d.post(f"/staff/jobs/library/{communication}", name="Kotlin")
    assert clash.status_code == 422
    assert await actions(sessions, d.organization_id) == [
        "library_requirement.saved",
        "library_requirement.saved",
        "library_requirement.updated",
    ]


async def test_a_job_requirement_is_saved_to_the_library_and_added_to_another_job(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    analyst = await job_of(sessions, d.world)
    sql = await requirement_id(sessions, analyst, "SQL")
    saved = await d.post(f"/staff/jobs/{analyst}/requirements/{sql}/library")
    assert saved.headers["location"] == (
        f"/staff/jobs/{analyst}?done=saved_to_library#requirement-{sql}"
    )
    again = await d.post(f"/staff/jobs/{analyst}/requirements/{sql}/library")
    assert again.status_code == 409
    assert "The requirement library already has “SQL”" in html.unescape(again.text)
    entry = _entries((await d.get("/staff/jobs/library")).text)["SQL"]

    engineer = await create_job(d, "Data Engineer")
    page = await d.get(f"/staff/jobs/{engineer}")
    assert f'<option value="{entry}">SQL</option>' in page.text
    added = await d.post(
        f"/staff/jobs/{engineer}/requirements/from-library", requirement=str(entry)
    )
    assert added.headers["location"] == f"/staff/jobs/{engineer}?done=added#requirements"
    page = await d.get(f"/staff/jobs/{engineer}")
    assert listed_requirements(page.text) == ["SQL"] and "Writes queries" in page.text
    assert "This job has every requirement in the library already." in page.text
    twice = await d.post(
        f"/staff/jobs/{engineer}/requirements/from-library", requirement=str(entry)
    )
    assert twice.status_code == 409
    missing = await d.post(f"/staff/jobs/{engineer}/requirements/from-library")
    assert missing.status_code == 422
    assert "Choose a requirement from the library." in missing.text

    # The job has a copy: changing the library changes no job.
    await d.post(f"/staff/jobs/library/{entry}", name="SQL", description="Changed in library")
    assert "Writes queries" in (await d.get(f"/staff/jobs/{engineer}")).text
    events = await actions(sessions, d.organization_id)
    assert events[:3] == ["library_requirement.saved", "job.created", "requirement.added"]


async def test_all_requirements_are_copied_from_another_job_skipping_those_it_has(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    analyst = await job_of(sessions, d.world)
    engineer = await create_job(d, "Data Engineer")
    await add_requirement(d, engineer, "statistics", "Its own meaning")
    page = await d.get(f"/staff/jobs/{engineer}")
    assert f'<option value="{analyst}">Data Analyst</option>' in page.text
    copied = await d.post(f"/staff/jobs/{engineer}/requirements/copy", from_job=str(analyst))
    assert copied.headers["location"] == f"/staff/jobs/{engineer}?done=copied#requirements"
    page = await d.get(f"/staff/jobs/{engineer}")
    assert listed_requirements(page.text) == ["statistics", "SQL"]
    assert "Its own meaning" in page.text
    again = await d.post(f"/staff/jobs/{engineer}/requirements/copy", from_job=str(analyst))
    assert again.headers["location"].endswith("?done=nothing_to_copy#requirements")
    itself = await d.post(f"/staff/jobs/{engineer}/requirements/copy", from_job=str(engineer))
    assert itself.status_code == 404
    # The job copied from is unchanged.
    assert listed_requirements((await d.get(f"/staff/jobs/{analyst}")).text) == [
        "SQL",
        "Statistics",
    ]
    assert (await actions(sessions, d.organization_id)).count("requirement.copied") == 1


async def test_only_an_admin_deletes_from_the_library(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    recruiter = await desk(client, sessions)
    admin = await desk(other_client, sessions, world=recruiter.world, role="admin")
    entry = await _save(recruiter, "Kotlin")
    for method in (recruiter.get, recruiter.post):
        assert (await method(f"/staff/jobs/library/{entry}/delete")).status_code == 404
    page = await admin.get(f"/staff/jobs/library/{entry}")
    assert "Delete from the library" in page.text
    confirm = await admin.get(f"/staff/jobs/library/{entry}/delete")
    assert "Jobs that have it keep their own copy" in confirm.text
    deleted = await admin.post(f"/staff/jobs/library/{entry}/delete")
    assert deleted.headers["location"] == "/staff/jobs/library?done=deleted"
    async with unit_of_work(sessions) as db:
        assert await db.get(LibraryRequirement, entry) is None
    assert (await admin.get(f"/staff/jobs/library/{entry}")).status_code == 404


async def test_another_organizations_jobs_and_library_are_not_found(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    """Every new route, with another organization's job, requirement or library entry
    in the path or in the form: 404, and nothing changes."""
    ours = await desk(client, sessions, role="admin")
    theirs = await desk(other_client, sessions, slug="globex", role="admin")
    our_job = await job_of(sessions, ours.world)
    their_job = await job_of(sessions, theirs.world)
    our_sql = await requirement_id(sessions, our_job, "SQL")
    their_sql = await requirement_id(sessions, their_job, "SQL")
    their_entry = await _save(theirs, "Globex secret", "Their own words")
    removed = await theirs.post(f"/staff/jobs/{their_job}/requirements/{their_sql}/remove")
    their_removal = removed.headers["location"].split("removed=")[1].split("#")[0]
    before = await actions(sessions, ours.organization_id)
    async with unit_of_work(sessions) as db:
        library_before = (await db.scalars(select(LibraryRequirement.name))).all()

    requirement = f"/staff/jobs/{our_job}/requirements/{their_sql}"
    for method, path, data in (
        ("GET", f"/staff/jobs/{their_job}", {}),
        ("GET", f"/staff/jobs/{their_job}/edit", {}),
        ("POST", f"/staff/jobs/{their_job}/edit", {"title": "Mine", "version": "1"}),
        ("POST", f"/staff/jobs/{their_job}/archive", {}),
        ("POST", f"/staff/jobs/{their_job}/unarchive", {}),
        ("GET", f"/staff/jobs/{their_job}/delete", {}),
        ("POST", f"/staff/jobs/{their_job}/delete", {}),
        ("POST", f"/staff/jobs/{their_job}/requirements", {"name": "Mine"}),
        ("POST", f"/staff/jobs/{their_job}/requirements", {}),
        ("GET", requirement, {}),
        ("POST", requirement, {"name": "Mine"}),
        ("POST", requirement + "/move", {"direction": "up"}),
        ("POST", requirement + "/remove", {}),
        ("POST", requirement + "/library", {}),
        ("GET", f"/staff/jobs/{their_job}/requirements/{their_sql}", {}),
        ("POST", f"/staff/jobs/{our_job}/requirements/restore", {"removal": their_removal}),
        (
            "POST",
            f"/staff/jobs/{our_job}/requirements/from-library",
            {"requirement": str(their_entry)},
        ),
        ("POST", f"/staff/jobs/{our_job}/requirements/copy", {"from_job": str(their_job)}),
        ("POST", f"/staff/jobs/{their_job}/requirements/copy", {"from_job": str(our_job)}),
        ("GET", f"/staff/jobs/library/{their_entry}", {}),
        ("POST", f"/staff/jobs/library/{their_entry}", {"name": "Mine"}),
        ("GET", f"/staff/jobs/library/{their_entry}/delete", {}),
        ("POST", f"/staff/jobs/library/{their_entry}/delete", {}),
    ):
        if method == "GET":
            response = await ours.get(path)
        else:
            response = await ours.post(path, **data)
        assert response.status_code == 404, (method, path, response.status_code)
        assert "Globex secret" not in response.text
    assert await actions(sessions, ours.organization_id) == before
    async with unit_of_work(sessions) as db:
        assert (await db.scalars(select(LibraryRequirement.name))).all() == library_before
    # Nor do our pages show any of theirs.
    for path in ("/staff/jobs", f"/staff/jobs/{our_job}", "/staff/jobs/library"):
        page = await ours.get(path)
        assert "Globex secret" not in page.text
        assert f'<option value="{their_job}"' not in page.text
    assert our_sql


async def test_the_audit_log_tells_each_change_in_words(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions, role="admin")
    analyst = await job_of(sessions, d.world)
    engineer = await create_job(d, "Data Engineer")
    await add_requirement(d, engineer, "Python", "Writes tested code")
    python = await requirement_id(sessions, engineer, "Python")
    await d.post(f"/staff/jobs/{engineer}/requirements/{python}", name="Python 3")
    await d.post(f"/staff/jobs/{engineer}/requirements/copy", from_job=str(analyst))
    await d.post(f"/staff/jobs/{engineer}/requirements/{python}/remove")
    entry = await _save(d, "Kotlin")
    await d.post(f"/staff/jobs/library/{entry}", name="Kotlin 2")
    page = html.unescape((await d.get("/staff/audit")).text)
    text = re.sub(r"<[^>]+>", "", page)
    for sentence in (
        "created the job Data Engineer",
        # Deleted since (nothing used it): named by what the events kept.
        "added the requirement “Python” (since deleted) to Data Engineer",
        "changed the requirement “Python 3” (since deleted) of Data Engineer",
        "copied “SQL” and “Statistics” from another job to Data Engineer",
        "removed the requirement “Python 3” from Data Engineer",
        "added “Kotlin 2” to the requirement library",
        "changed “Kotlin 2” in the requirement library",
    ):
        assert sentence in text, sentence
    assert f'href="/staff/jobs/library/{entry}"' in page
