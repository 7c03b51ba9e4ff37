"""The job pages (/staff/jobs): the list, creating, editing, archiving and deleting a
job, and its requirements: add, edit, reorder, remove and undo."""

from __future__ import annotations

import html

import httpx
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.candidates.models import Job, Requirement
from portal.candidates.service import job_titles
from portal.db import unit_of_work
from portal.feedback.models import FeedbackItem
from portal.security.actors import Staff, StaffRole
from tests.factories import csrf_token
from tests.jobs_support import (
    actions,
    add_requirement,
    create_job,
    desk,
    job_of,
    listed_requirements,
    requirement_id,
)

Sessions = async_sessionmaker[AsyncSession]


def _staff(d_org: int, staff_id: int) -> Staff:
    return Staff(
        staff_id=staff_id,
        organization_id=d_org,
        role=StaffRole.RECRUITER,
        name="",
        session_id_hash=b"",
    )


# --- the list --------------------------------------------------------------------------


async def test_an_organization_without_jobs_is_told_to_create_its_first(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    async with unit_of_work(sessions) as db:
        # An organization that has only just been created: no job at all.
        await db.execute(delete(Job))
    page = await d.get("/staff/jobs")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "Create your first job" in page.text
    assert "the skills and experience you assess candidates on" in page.text
    assert 'href="/staff/jobs/new"' in page.text
    # The navigation leads here.
    assert '<a href="/staff/jobs">Jobs</a>' in page.text


async def test_the_list_shows_active_jobs_first_and_archived_ones_behind_a_filter(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    old = await create_job(d, "Zookeeper")
    assert (await d.post(f"/staff/jobs/{old}/archive")).status_code == 303
    page = await d.get("/staff/jobs")
    assert "Data Analyst" in page.text and "Zookeeper" not in page.text
    assert "Active (1)" in page.text and "Archived (1)" in page.text
    # The factory's job: two requirements, one application.
    assert "<td>2 requirements</td>" in page.text and "<td>1 application</td>" in page.text
    archived = await d.get("/staff/jobs?show=archived")
    assert "Zookeeper" in archived.text and "Data Analyst" not in archived.text
    bad = await d.get("/staff/jobs?show=%00")
    assert bad.status_code == 422 and "Data Analyst" in bad.text


async def test_the_list_is_paginated(client: httpx.AsyncClient, sessions: Sessions) -> None:
    d = await desk(client, sessions)
    async with unit_of_work(sessions) as db:
        db.add_all(Job(organization_id=d.organization_id, title=f"Job {n:02}") for n in range(30))
    first = await d.get("/staff/jobs")
    assert "Page 1 of 2" in first.text and "Next page" in first.text
    assert "Job 00" in first.text and "Job 29" not in first.text
    second = await d.get("/staff/jobs?show=active&page=2")
    assert "Job 29" in second.text and "Previous page" in second.text
    assert (await d.get("/staff/jobs?page=99")).status_code == 200


# --- creating and editing ----------------------------------------------------------------


async def test_a_recruiter_creates_a_job_and_is_asked_for_its_requirements(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    form = await d.get("/staff/jobs/new")
    assert form.status_code == 200 and "Create a job" in form.text
    response = await d.post(
        "/staff/jobs",
        title="Platform Engineer",
        team="Infrastructure",
        location="Berlin",
        posting_url="https://acme.example/jobs/platform",
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("?done=created#add-requirement")
    page = await d.get(response.headers["location"])
    assert "<h1>Platform Engineer</h1>" in page.text
    assert "Infrastructure" in page.text and "Berlin" in page.text
    assert 'href="https://acme.example/jobs/platform" rel="noopener noreferrer"' in page.text
    assert "Now list its requirements" in page.text
    assert "This job has no requirements yet" in page.text
    assert await actions(sessions, d.organization_id) == ["job.created"]


async def test_bad_job_details_are_explained_and_kept_as_typed(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    response = await d.post(
        "/staff/jobs",
        title="  ",
        team="Platform <b>team</b>",
        location="x" * 201,
        posting_url="http://acme.example/jobs",
    )
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert "Enter the job's title, like Data Analyst." in text
    assert "Keep it to 200 characters or fewer (this has 201)." in text
    assert "starting with https://" in text
    assert 'value="Platform &lt;b&gt;team&lt;/b&gt;"' in response.text
    assert 'value="http://acme.example/jobs"' in response.text
    assert "Nothing was saved" in response.text
    assert await actions(sessions, d.organization_id) == []
    for url in ("javascript:alert(1)", "https://", "https://exa mple.com"):
        refused = await d.post("/staff/jobs", title="Engineer", posting_url=url)
        assert refused.status_code == 422, url


async def test_editing_a_job_saves_its_details_and_audits_what_changed(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    job_id = await job_of(sessions, d.world)
    form = await d.get(f"/staff/jobs/{job_id}/edit")
    assert 'name="version" value="1"' in form.text and 'value="Data Analyst"' in form.text
    saved = await d.post(
        f"/staff/jobs/{job_id}/edit",
        title="Senior Data Analyst",
        team="Insights",
        location="Remote",
        posting_url="",
        version="1",
    )
    assert saved.headers["location"] == f"/staff/jobs/{job_id}?done=updated"
    same = await d.post(
        f"/staff/jobs/{job_id}/edit",
        title="Senior Data Analyst",
        team="Insights",
        location="Remote",
        version="2",
    )
    assert same.headers["location"] == f"/staff/jobs/{job_id}?done=unchanged"
    async with unit_of_work(sessions) as db:
        job = await db.get_one(Job, job_id)
        assert (job.title, job.version) == ("Senior Data Analyst", 2)
        event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "job.updated"))
        assert event is not None and event.details["fields"] == ["title"]
    bad = await d.post(f"/staff/jobs/{job_id}/edit", title="", version="2")
    assert bad.status_code == 422 and "Enter the job's title" in html.unescape(bad.text)


async def test_two_recruiters_editing_one_job_cannot_overwrite_each_other(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    ada = await desk(client, sessions)
    bo = await desk(other_client, sessions, world=ada.world, email="bo@acme.example")
    job_id = await job_of(sessions, ada.world)
    fields = {"team": "Insights", "location": "Remote", "version": "1"}
    first = await ada.post(f"/staff/jobs/{job_id}/edit", title="Analyst (Ada)", **fields)
    assert first.status_code == 303
    second = await bo.post(f"/staff/jobs/{job_id}/edit", title="Analyst (Bo)", **fields)
    assert second.status_code == 409
    assert "Someone else changed this while you were writing" in second.text
    assert "Analyst (Bo)" in second.text and "Analyst (Ada)" in second.text
    assert 'name="version" value="2"' in second.text
    async with unit_of_work(sessions) as db:
        assert (await db.get_one(Job, job_id)).title == "Analyst (Ada)"
    # "Save mine instead" posts the kept text over the version shown.
    again = await bo.post(
        f"/staff/jobs/{job_id}/edit", title="Analyst (Bo)", **{**fields, "version": "2"}
    )
    assert again.status_code == 303
    async with unit_of_work(sessions) as db:
        assert (await db.get_one(Job, job_id)).title == "Analyst (Bo)"


async def test_an_archived_job_is_not_offered_for_new_rejections_but_keeps_its_data(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    job_id = await job_of(sessions, d.world)
    actor = _staff(d.organization_id, d.staff_id)
    archived = await d.post(f"/staff/jobs/{job_id}/archive")
    assert archived.headers["location"] == f"/staff/jobs/{job_id}?done=archived"
    page = await d.get(archived.headers["location"])
    assert "Archived" in page.text and "not offered for new rejections" in page.text
    assert "Bring back from the archive" in page.text
    async with unit_of_work(sessions) as db:
        assert await job_titles(db, actor=actor, archived=False) == []
        # Filters of existing applications still name it.
        assert await job_titles(db, actor=actor) == [(job_id, "Data Analyst")]
    listing = await d.get("/staff/applications")
    assert "Dana Scully" in listing.text
    # Nor is a CSV template offered for it.
    imports = await d.get("/staff/import")
    assert "Template for Data Analyst" not in imports.text
    assert 'href="/staff/jobs/new"' in imports.text
    # Archiving twice changes nothing; the version a colleague edits is left alone.
    await d.post(f"/staff/jobs/{job_id}/archive")
    assert await actions(sessions, d.organization_id) == ["job.archived"]
    async with unit_of_work(sessions) as db:
        assert (await db.get_one(Job, job_id)).version == 1
    back = await d.post(f"/staff/jobs/{job_id}/unarchive")
    assert back.headers["location"] == f"/staff/jobs/{job_id}?done=unarchived"
    assert "Template for Data Analyst" in (await d.get("/staff/import")).text
    async with unit_of_work(sessions) as db:
        assert await job_titles(db, actor=actor, archived=False) == [(job_id, "Data Analyst")]
    assert await actions(sessions, d.organization_id) == ["job.archived", "job.unarchived"]


# --- deleting (admins) ---------------------------------------------------------------------


async def test_only_an_admin_deletes_a_job_and_only_one_without_applications(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    recruiter = await desk(client, sessions)
    admin = await desk(other_client, sessions, world=recruiter.world, role="admin")
    empty = await create_job(recruiter, "Intern")
    await add_requirement(recruiter, empty, "Curiosity")
    with_applications = await job_of(sessions, recruiter.world)

    page = await recruiter.get(f"/staff/jobs/{empty}")
    assert "Delete this job" not in page.text
    for method in (recruiter.get, recruiter.post):
        refused = await method(f"/staff/jobs/{empty}/delete")
        assert refused.status_code == 404

    assert "Delete this job" in (await admin.get(f"/staff/jobs/{empty}")).text
    kept = await admin.get(f"/staff/jobs/{with_applications}/delete")
    assert kept.status_code == 200
    assert "cannot be deleted" in kept.text and "1 application" in kept.text
    assert "Archive this job" in kept.text
    refused = await admin.post(f"/staff/jobs/{with_applications}/delete")
    assert refused.status_code == 409 and "Archive this job" in refused.text

    confirm = await admin.get(f"/staff/jobs/{empty}/delete")
    assert "Delete “Intern”?" in html.unescape(confirm.text)
    assert "with its 1 requirement." in confirm.text
    deleted = await admin.post(f"/staff/jobs/{empty}/delete")
    assert deleted.headers["location"] == "/staff/jobs?done=deleted"
    assert "Job deleted." in (await admin.get(deleted.headers["location"])).text
    async with unit_of_work(sessions) as db:
        assert await db.get(Job, empty) is None
        assert await db.get(Job, with_applications) is not None
        assert (
            await db.scalars(select(Requirement.name).where(Requirement.job_id == empty))
        ).all() == []
    assert (await admin.get(f"/staff/jobs/{empty}")).status_code == 404
    assert (await actions(sessions, recruiter.organization_id))[-1] == "job.deleted"


# --- requirements ----------------------------------------------------------------------------


async def test_requirements_are_added_edited_and_reordered_without_javascript(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    job_id = await job_of(sessions, d.world)
    added = await d.post(
        f"/staff/jobs/{job_id}/requirements",
        name="Communication",
        description="Explains findings to people without a technical background",
    )
    assert added.status_code == 303
    assert added.headers["location"].startswith(f"/staff/jobs/{job_id}?done=added#requirement-")
    page = await d.get(f"/staff/jobs/{job_id}")
    assert listed_requirements(page.text) == ["SQL", "Statistics", "Communication"]
    # The first cannot go up, the last cannot go down.
    sql = await requirement_id(sessions, job_id, "SQL")
    communication = await requirement_id(sessions, job_id, "Communication")
    assert f"/requirements/{sql}/move" in page.text
    assert page.text.count(f"/requirements/{sql}/move") == 1
    assert page.text.count(f"/requirements/{communication}/move") == 1

    moved = await d.post(f"/staff/jobs/{job_id}/requirements/{communication}/move", direction="up")
    assert (
        moved.headers["location"] == f"/staff/jobs/{job_id}?done=moved#requirement-{communication}"
    )
    await d.post(f"/staff/jobs/{job_id}/requirements/{communication}/move", direction="up")
    page = await d.get(f"/staff/jobs/{job_id}")
    assert listed_requirements(page.text) == ["Communication", "SQL", "Statistics"]
    # At the top already: nothing moves.
    await d.post(f"/staff/jobs/{job_id}/requirements/{communication}/move", direction="up")
    await d.post(f"/staff/jobs/{job_id}/requirements/{sql}/move", direction="down")
    page = await d.get(f"/staff/jobs/{job_id}")
    assert listed_requirements(page.text) == ["Communication", "Statistics", "SQL"]
    bad = await d.post(f"/staff/jobs/{job_id}/requirements/{sql}/move", direction="sideways")
    assert bad.status_code == 422

    edit = await d.get(f"/staff/jobs/{job_id}/requirements/{sql}")
    assert 'value="SQL"' in edit.text and "Writes queries" in edit.text
    saved = await d.post(
        f"/staff/jobs/{job_id}/requirements/{sql}", name="SQL and dbt", description="Models data"
    )
    assert saved.headers["location"] == f"/staff/jobs/{job_id}?done=changed#requirement-{sql}"
    page = await d.get(f"/staff/jobs/{job_id}")
    assert listed_requirements(page.text) == ["Communication", "Statistics", "SQL and dbt"]
    assert (await actions(sessions, d.organization_id)) == [
        "requirement.added",
        "requirement.moved",
        "requirement.moved",
        "requirement.moved",
        "requirement.updated",
    ]


async def test_bad_requirements_are_explained_and_kept_as_typed(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    job_id = await job_of(sessions, d.world)
    long_name = "N" * 101
    response = await d.post(
        f"/staff/jobs/{job_id}/requirements", name=long_name, description="Kept <i>as</i> typed"
    )
    assert response.status_code == 422
    assert "Keep it to 100 characters or fewer (this has 101)." in response.text
    assert f'value="{long_name}"' in response.text
    assert "Kept &lt;i&gt;as&lt;/i&gt; typed</textarea>" in response.text
    assert "The requirement was not added" in response.text
    # The rest of the job's page is there too.
    assert listed_requirements(response.text) == ["SQL", "Statistics"]

    taken = await d.post(f"/staff/jobs/{job_id}/requirements", name="sql", description="Again")
    assert taken.status_code == 422
    assert "This job already has a requirement named “SQL”" in html.unescape(taken.text)
    assert 'value="sql"' in taken.text
    empty = await d.post(f"/staff/jobs/{job_id}/requirements", name="", description="")
    assert "Enter a short name, like SQL." in empty.text

    stats = await requirement_id(sessions, job_id, "Statistics")
    clash = await d.post(
        f"/staff/jobs/{job_id}/requirements/{stats}", name="SQL", description="Typed"
    )
    assert clash.status_code == 422 and 'value="SQL"' in clash.text
    control = await d.post(
        f"/staff/jobs/{job_id}/requirements/{stats}", name="Stats\x00", description=""
    )
    assert control.status_code == 422 and "invisible control character" in control.text
    assert await actions(sessions, d.organization_id) == []


async def test_removing_an_unused_requirement_deletes_it_and_undo_puts_it_back(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    job_id = await create_job(d, "Platform Engineer")
    for name in ("Linux", "Networking", "Go"):
        await add_requirement(d, job_id, name, f"About {name}")
    networking = await requirement_id(sessions, job_id, "Networking")
    removed = await d.post(f"/staff/jobs/{job_id}/requirements/{networking}/remove")
    assert removed.status_code == 303
    page = await d.get(removed.headers["location"])
    assert listed_requirements(page.text) == ["Linux", "Go"]
    assert "Removed “Networking”." in html.unescape(page.text)
    assert "Undo" in page.text
    async with unit_of_work(sessions) as db:
        assert await db.get(Requirement, networking) is None

    undo = await d.post(
        f"/staff/jobs/{job_id}/requirements/restore",
        removal=page.text.split('name="removal" value="')[1].split('"')[0],
    )
    assert undo.headers["location"] == f"/staff/jobs/{job_id}?done=restored#requirements"
    page = await d.get(f"/staff/jobs/{job_id}")
    assert listed_requirements(page.text) == ["Linux", "Networking", "Go"]
    assert "About Networking" in page.text
    # The notice no longer offers to undo, and undoing twice brings back nothing more.
    again = await d.get(removed.headers["location"])
    assert "Undo" not in again.text
    removal = removed.headers["location"].split("removed=")[1].split("#")[0]
    twice = await d.post(f"/staff/jobs/{job_id}/requirements/restore", removal=removal)
    assert twice.headers["location"].endswith("?done=already_restored#requirements")
    assert listed_requirements((await d.get(f"/staff/jobs/{job_id}")).text) == [
        "Linux",
        "Networking",
        "Go",
    ]
    assert (await actions(sessions, d.organization_id))[-2:] == [
        "requirement.removed",
        "requirement.restored",
    ]


async def test_removing_a_requirement_feedback_uses_retires_it_and_undo_brings_it_back(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    job_id = await job_of(sessions, d.world)
    sql = await requirement_id(sessions, job_id, "SQL")
    removed = await d.post(f"/staff/jobs/{job_id}/requirements/{sql}/remove")
    page = await d.get(removed.headers["location"])
    assert listed_requirements(page.text) == ["Statistics"]
    assert "feedback that mentions it keeps it" in page.text
    async with unit_of_work(sessions) as db:
        kept = await db.get_one(Requirement, sql)
        assert kept.retired_at is not None
        items = await db.scalars(select(FeedbackItem).where(FeedbackItem.requirement_id == sql))
        assert len(items.all()) == 2
    # A new draft no longer offers it.
    editor = await d.get(f"/staff/applications/{d.world.application_id}/feedback")
    assert "Writes queries" not in editor.text and "A/B tests" in editor.text
    # Its name is free for a new requirement; then undoing cannot bring the old one back.
    await add_requirement(d, job_id, "SQL", "New meaning")
    removal = removed.headers["location"].split("removed=")[1].split("#")[0]
    clash = await d.post(f"/staff/jobs/{job_id}/requirements/restore", removal=removal)
    assert clash.status_code == 409
    assert "this job has a requirement named “SQL” now" in html.unescape(clash.text)
    new_sql = await requirement_id(sessions, job_id, "SQL")
    await d.post(f"/staff/jobs/{job_id}/requirements/{new_sql}/remove")
    undone = await d.post(f"/staff/jobs/{job_id}/requirements/restore", removal=removal)
    assert undone.status_code == 303
    page = await d.get(f"/staff/jobs/{job_id}")
    assert listed_requirements(page.text) == ["SQL", "Statistics"]
    async with unit_of_work(sessions) as db:
        assert (await db.get_one(Requirement, sql)).retired_at is None


async def test_undo_takes_only_a_removal_of_the_same_job(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    job_id = await job_of(sessions, d.world)
    other = await create_job(d, "Other")
    await add_requirement(d, other, "Kotlin")
    kotlin = await requirement_id(sessions, other, "Kotlin")
    removed = await d.post(f"/staff/jobs/{other}/requirements/{kotlin}/remove")
    removal = removed.headers["location"].split("removed=")[1].split("#")[0]
    wrong_job = await d.post(f"/staff/jobs/{job_id}/requirements/restore", removal=removal)
    assert wrong_job.status_code == 404
    page = await d.get(f"/staff/jobs/{job_id}?removed={removal}")
    assert "Undo" not in page.text
    assert (await d.post(f"/staff/jobs/{job_id}/requirements/restore")).status_code == 404


async def test_state_changes_need_the_csrf_token(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    job_id = await job_of(sessions, d.world)
    sql = await requirement_id(sessions, job_id, "SQL")
    for path, data in (
        ("/staff/jobs", {"title": "Forged"}),
        (f"/staff/jobs/{job_id}/edit", {"title": "Forged", "version": "1"}),
        (f"/staff/jobs/{job_id}/archive", {}),
        (f"/staff/jobs/{job_id}/requirements", {"name": "Forged"}),
        (f"/staff/jobs/{job_id}/requirements/{sql}/remove", {}),
        (f"/staff/jobs/{job_id}/requirements/{sql}/move", {"direction": "down"}),
        ("/staff/jobs/library", {"name": "Forged"}),
    ):
        refused = await d.client.post(path, data=data)
        assert refused.status_code == 403, path
        forged = await d.client.post(path, data={**data, "csrftoken": "x" * 43})
        assert forged.status_code == 403, path
    assert await actions(sessions, d.organization_id) == []


async def test_markup_in_names_is_shown_as_text(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    script = "<script>alert('x')</script>"
    job_id = await create_job(d, f"Analyst {script}", team=script)
    await add_requirement(d, job_id, f"SQL {script}", script)
    for path in ("/staff/jobs", f"/staff/jobs/{job_id}", f"/staff/jobs/{job_id}/edit"):
        page = await d.get(path)
        assert script not in page.text, path
        assert "&lt;script&gt;" in page.text, path
    requirement = await requirement_id(sessions, job_id, f"SQL {script}")
    saved = await d.post(f"/staff/jobs/{job_id}/requirements/{requirement}/library")
    assert saved.status_code == 303
    library = await d.get("/staff/jobs/library")
    assert script not in library.text and "SQL &lt;script&gt;" in library.text


async def test_both_roles_manage_jobs(client: httpx.AsyncClient, sessions: Sessions) -> None:
    for role in ("recruiter", "admin"):
        d = await desk(client, sessions, role=role, slug=f"org-{role}")
        job_id = await create_job(d, f"Job for {role}")
        await add_requirement(d, job_id, "Teamwork")
        assert listed_requirements((await d.get(f"/staff/jobs/{job_id}")).text) == ["Teamwork"]
        assert await csrf_token(client, f"/staff/jobs/{job_id}") == d.token


async def test_a_new_rejection_cannot_be_for_an_archived_job(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    job_id = await job_of(sessions, d.world)
    other = await create_job(d, "Zookeeper")
    form = await d.get("/staff/applications/new")
    assert f'<option value="{job_id}">Data Analyst</option>' in form.text
    await d.post(f"/staff/jobs/{job_id}/archive")
    form = await d.get("/staff/applications/new")
    assert "Data Analyst" not in form.text
    assert f'<option value="{other}">Zookeeper</option>' in form.text
    # A form opened before the job was archived is refused, with what was typed kept.
    refused = await d.post(
        "/staff/applications/new",
        name="Lee Park",
        email="lee@example.com",
        job=str(job_id),
        stage="screen",
    )
    assert refused.status_code == 422
    assert "That job was archived" in refused.text and 'value="Lee Park"' in refused.text
    await d.post(f"/staff/jobs/{other}/archive")
    empty = await d.get("/staff/applications/new")
    assert "no active jobs yet" in empty.text and 'href="/staff/jobs/new"' in empty.text


async def test_the_new_job_form_takes_its_title_from_the_address(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    d = await desk(client, sessions)
    form = await d.get("/staff/jobs/new?title=Welder+%26+%3Cb%3EFitter%3C%2Fb%3E")
    assert 'value="Welder &amp; &lt;b&gt;Fitter&lt;/b&gt;"' in form.text
    assert 'value=""' in (await d.get("/staff/jobs/new")).text
