"""Bulk actions on the applications list: publishing many drafts (through the one publish
path, risky ones skipped with their findings), assigning to a colleague and back, the
"assigned to" filter, and what an attacker may try (other organizations' ids, no CSRF
token, more than a batch takes)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.audit.models import AuditEvent
from portal.candidates.models import Application, Candidate, Job
from portal.db import unit_of_work, utcnow
from portal.feedback.models import Feedback, FeedbackState
from portal.jobs.models import BackgroundJob
from portal.orgs.models import Organization
from portal.staff.models import StaffUser
from portal.workspace.forms import BULK_MAX
from tests.factories import CSRF_FIELD, World, make_staff, make_world, staff_sign_in
from tests.html import Page, text

Sessions = async_sessionmaker[AsyncSession]
RISKY = "We felt you would be a better culture fit elsewhere."
LIST = "/staff/applications"
BULK = "/staff/applications/bulk"
BULK_PUBLISH = "/staff/applications/bulk/publish"
NAMES = ["Ada Lovelace", "Bo Marsh", "Cy Varga", "Di Prince", "Ed Nygma"]


# --- helpers ----------------------------------------------------------------------------


async def _recruiter(
    client: httpx.AsyncClient,
    sessions: Sessions,
    world: World,
    *,
    email: str = "sam@acme.example",
    name: str = "Sam Recruiter",
) -> int:
    staff_id = await make_staff(
        sessions, organization_id=world.organization_id, email=email, name=name
    )
    assert (await staff_sign_in(client, email=email)).status_code == 303
    return staff_id


async def _drafts(sessions: Sessions, count: int = 5, *, slug: str = "acme") -> list[World]:
    """`count` applications of one organization, each with a draft (none risky)."""
    return [
        await make_world(
            sessions,
            slug=slug,
            email=f"{name.split()[0].lower()}@example.com",
            name=name,
            job_title=f"Job {name.split()[0]}",
            published=False,
        )
        for name in NAMES[:count]
    ]


async def _make_risky(sessions: Sessions, world: World) -> None:
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Feedback)
            .where(Feedback.application_id == world.application_id)
            .values(decision_summary=RISKY)
        )


async def _without_feedback(
    sessions: Sessions, world: World, count: int, *, job_title: str = "Backend Engineer"
) -> list[int]:
    """`count` applications without feedback, to a job of their own."""
    now = utcnow()
    async with unit_of_work(sessions) as db:
        job = Job(organization_id=world.organization_id, title=job_title)
        db.add(job)
        await db.flush()
        candidates = [
            Candidate(
                organization_id=world.organization_id,
                email=f"{job_title.split()[0].lower()}{number}@example.com",
                name=f"{job_title.split()[0]} Person {number:03d}",
            )
            for number in range(count)
        ]
        db.add_all(candidates)
        await db.flush()
        applications = [
            Application(
                organization_id=world.organization_id,
                candidate_id=candidate.id,
                job_id=job.id,
                stage="screen",
                decided_at=now - dt.timedelta(days=10 + number),
            )
            for number, candidate in enumerate(candidates)
        ]
        db.add_all(applications)
        await db.flush()
        return [application.id for application in applications]


async def _token(client: httpx.AsyncClient) -> str:
    match = CSRF_FIELD.search((await client.get(LIST)).text)
    assert match
    return match.group(1)


async def _bulk(
    client: httpx.AsyncClient, data: dict[str, str | list[str]], *, token: bool = True
) -> httpx.Response:
    if token:
        data = {"csrftoken": await _token(client), **data}
    return await client.post(BULK, data=data)


def _ids(*worlds: World) -> list[str]:
    return [str(world.application_id) for world in worlds]


async def _confirm(client: httpx.AsyncClient, confirmation: httpx.Response) -> httpx.Response:
    """Press the confirmation page's button: its form as the browser sends it."""
    assert confirmation.status_code == 200, confirmation.text
    return await client.post(BULK_PUBLISH, data=_form_data(confirmation.text, "form.button-row"))


def _form_data(
    html: str,
    form: str,
    *,
    button: tuple[str, str] | None = None,
    tick: set[str] | frozenset[str] = frozenset(),
    choose: dict[str, str] | None = None,
) -> dict[str, list[str]]:
    """What a browser without JavaScript posts from a form of `html`: its hidden fields,
    the boxes `tick`ed (by value), the radio buttons and selects as `choose`n (or as the
    page set them), and the button pressed."""
    page = Page(html)
    choose = choose or {}
    posted: list[tuple[str, str]] = []
    for element in page.all(f"{form} input"):
        name, value, kind = element.get("name"), element.get("value", ""), element.get("type")
        if not name:
            continue
        picked = choose.get(name) == value or (
            name not in choose and element.get("checked") is not None
        )
        if (
            kind == "hidden"
            or (kind == "checkbox" and value in tick)
            or (kind == "radio" and picked)
        ):
            posted.append((name, value))
    for select_element in page.all(f"{form} select"):
        name = select_element.get("name", "")
        options = [o for o in select_element.iter() if o.tag.endswith("option")]
        chosen = choose.get(name)
        if chosen is None:
            selected = [o for o in options if o.get("selected") is not None] or options[:1]
            chosen = selected[0].get("value", "") if selected else ""
        posted.append((name, chosen))
    if button:
        posted.append(button)
    fields: dict[str, list[str]] = {}
    for name, value in posted:
        fields.setdefault(name, []).append(value)
    return fields


async def _count(sessions: Sessions, statement: object) -> int:
    async with sessions() as db:
        return int(await db.scalar(statement) or 0)  # type: ignore[call-overload]


async def _states(sessions: Sessions, worlds: list[World]) -> list[FeedbackState]:
    async with sessions() as db:
        return [
            (
                await db.scalars(
                    select(Feedback.state)
                    .where(Feedback.application_id == world.application_id)
                    .order_by(Feedback.version.desc())
                )
            ).first()
            or FeedbackState.DRAFT
            for world in worlds
        ]


async def _assignees(sessions: Sessions, ids: list[int]) -> dict[int, int | None]:
    async with sessions() as db:
        rows = await db.execute(
            select(Application.id, Application.assignee_staff_id).where(Application.id.in_(ids))
        )
        return {row.id: row.assignee_staff_id for row in rows}


def _names(page: httpx.Response) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', page.text)


# --- publishing -------------------------------------------------------------------------


async def test_bulk_publish_publishes_four_and_skips_the_risky_one_with_its_findings(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    worlds = await _drafts(sessions, 5)
    risky = worlds[2]
    await _make_risky(sessions, risky)
    await _recruiter(client, sessions, worlds[0])

    # Publishing starts with a confirmation: how many, which, and who is skipped.
    confirmation = await _bulk(client, {"action": "publish", "application": _ids(*worlds)})
    assert confirmation.status_code == 200
    page = Page(confirmation.text)
    assert text(page.one("h1")) == "Publish 4 drafts?"
    ready = [text(cell) for cell in page.all("table th[scope=row]")]
    assert ready == [name for name in NAMES if name != "Cy Varga"]
    assert text(page.one("#skipped-heading")) == "Skipped: 1"
    assert "Cy Varga" in text(page.one("ul.skipped"))
    assert "“culture fit”" in text(page.one("ul.skipped"))
    # Nothing is published, and nobody emailed, before the confirmation.
    assert await _states(sessions, worlds) == [FeedbackState.DRAFT] * 5
    assert await _count(sessions, select(func.count(BackgroundJob.id))) == 0

    result = await _confirm(client, confirmation)
    assert result.status_code == 200
    page = Page(result.text)
    assert text(page.one("h1")) == "Published 4. Skipped 1."
    skipped = text(page.one("ul.skipped"))
    assert "Cy Varga" in skipped and "risky wording" in skipped
    assert "“culture fit”" in skipped
    editor = f"/staff/applications/{risky.application_id}/feedback"
    assert f'href="{editor}"' in result.text  # a link to the draft to fix

    assert await _states(sessions, worlds) == [
        FeedbackState.PUBLISHED,
        FeedbackState.PUBLISHED,
        FeedbackState.DRAFT,
        FeedbackState.PUBLISHED,
        FeedbackState.PUBLISHED,
    ]
    async with sessions() as db:
        emails = (
            await db.scalars(select(BackgroundJob).where(BackgroundJob.kind == "mail.send"))
        ).all()
        published = (
            await db.scalars(
                select(AuditEvent.subject_id).where(AuditEvent.action == "feedback.published")
            )
        ).all()
        links = await db.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "link.issued")
        )
    # The same as publishing each one from its preview: an invitation email each, and
    # one audit record of publishing (and of the link) per application.
    assert sorted(str(email.payload["to"]) for email in emails) == sorted(
        world.email for world in worlds if world is not risky
    )
    assert sorted(i or 0 for i in published) == sorted(
        w.application_id for w in worlds if w is not risky
    )
    assert links == 4


async def test_drafts_missing_or_already_published_are_skipped_with_a_reason(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    draft = await make_world(sessions, email="dee@example.com", name="Dee Draft", published=False)
    done = await make_world(sessions, email="pat@example.com", name="Pat Published")
    (bare,) = await _without_feedback(sessions, draft, 1)
    await _recruiter(client, sessions, draft)

    confirmation = await _bulk(
        client,
        {"action": "publish", "application": [*_ids(draft, done), str(bare)]},
    )
    assert text(Page(confirmation.text).one("h1")) == "Publish 1 draft?"
    result = await _confirm(client, confirmation)
    page = Page(result.text)
    assert text(page.one("h1")) == "Published 1. Skipped 2."
    skipped = text(page.one("ul.skipped"))
    assert "Pat Published" in skipped and "already published" in skipped
    assert "Backend Person 000" in skipped and "no feedback has been written yet" in skipped

    # Nothing publishable at all: the confirmation says why, with no button.
    nothing = await _bulk(client, {"action": "publish", "application": _ids(done)})
    assert nothing.status_code == 200
    assert text(Page(nothing.text).one("h1")) == "Nothing to publish"
    assert BULK_PUBLISH not in nothing.text


async def test_a_draft_changed_after_the_confirmation_is_skipped_not_published(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    first, second = await _drafts(sessions, 2)
    await _recruiter(client, sessions, first)
    confirmation = await _bulk(client, {"action": "publish", "application": _ids(first, second)})
    # A colleague saves a newer version of the first while the recruiter reads the page.
    async with unit_of_work(sessions) as db:
        db.add(
            Feedback(
                application_id=first.application_id,
                version=2,
                state=FeedbackState.DRAFT,
                decision_summary="A newer version.",
                personal_note="Thank you for your time.",
            )
        )
    result = await _confirm(client, confirmation)
    assert text(Page(result.text).one("h1")) == "Published 1. Skipped 1."
    assert "a newer version was saved after you confirmed" in result.text
    assert await _states(sessions, [first, second]) == [
        FeedbackState.DRAFT,
        FeedbackState.PUBLISHED,
    ]


async def test_planning_a_bulk_publish_reads_the_same_statements_for_two_or_five(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    """The confirmation reads every chosen draft and runs the check on it in a fixed
    number of statements, not a few more for each application."""
    worlds = await _drafts(sessions, 5)
    await _recruiter(client, sessions, worlds[0])
    token = await _token(client)

    @contextmanager
    def counted() -> Iterator[list[str]]:
        statements: list[str] = []

        def count(conn: object, cursor: object, statement: str, *args: object) -> None:
            statements.append(statement)

        engine = app.state.portal.engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", count)

    counts = []
    for chosen in (worlds[:2], worlds):
        with counted() as statements:
            page = await client.post(
                BULK, data={"csrftoken": token, "action": "publish", "application": _ids(*chosen)}
            )
        assert f"Publish {len(chosen)} drafts?" in page.text
        counts.append(len(statements))
    assert counts[0] == counts[1]


async def test_markup_in_a_candidates_name_stays_text_on_the_bulk_pages(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, name="<script>alert(1)</script>", published=False)
    await _recruiter(client, sessions, world)
    confirmation = await _bulk(client, {"action": "publish", "application": _ids(world)})
    result = await _confirm(client, confirmation)
    for page in (confirmation, result):
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


# --- assigning ----------------------------------------------------------------------------


async def test_assigning_and_unassigning_audits_each_application(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    worlds = await _drafts(sessions, 3)
    me = await _recruiter(client, sessions, worlds[0])
    colleague = await make_staff(
        sessions,
        organization_id=worlds[0].organization_id,
        email="kim@acme.example",
        name="Kim Lee",
    )
    ids = [world.application_id for world in worlds]

    result = await _bulk(
        client, {"action": "assign", "assign_to": str(colleague), "application": _ids(*worlds)}
    )
    assert result.status_code == 200
    assert text(Page(result.text).one("h1")) == "Assigned to Kim Lee"
    assert "3 applications now belong to Kim Lee." in text(Page(result.text).one("[role=status]"))
    assert await _assignees(sessions, ids) == dict.fromkeys(ids, colleague)
    listing = await client.get(LIST)
    assert listing.text.count("Kim Lee</td>") == 3
    one = await client.get(f"/staff/applications/{ids[0]}")
    assert "<dt>Assigned to</dt><dd>Kim Lee" in one.text

    # Two of them back to nobody, one of those to the recruiter first.
    await _bulk(client, {"action": "assign", "assign_to": str(me), "application": _ids(worlds[0])})
    unassigned = await _bulk(
        client, {"action": "assign", "assign_to": "none", "application": _ids(*worlds[:2])}
    )
    assert text(Page(unassigned.text).one("h1")) == "Unassigned"
    assert await _assignees(sessions, ids) == {ids[0]: None, ids[1]: None, ids[2]: colleague}
    # The same again changes nothing, and records nothing.
    again = await _bulk(
        client, {"action": "assign", "assign_to": "none", "application": _ids(*worlds[:2])}
    )
    assert "0 applications now belong to nobody. 2 already did." in again.text

    async with sessions() as db:
        events = (
            await db.execute(
                select(AuditEvent.subject_id, AuditEvent.actor_id, AuditEvent.details)
                .where(AuditEvent.action == "application.assigned")
                .order_by(AuditEvent.id)
            )
        ).all()
    assert [(e.subject_id, e.details) for e in events] == [
        *((i, {"assignee": colleague, "previous": None}) for i in ids),
        (ids[0], {"assignee": me, "previous": colleague}),
        (ids[0], {"assignee": None, "previous": me}),
        (ids[1], {"assignee": None, "previous": colleague}),
    ]
    assert {e.actor_id for e in events} == {me}


async def test_the_list_filters_by_assignee(client: httpx.AsyncClient, sessions: Sessions) -> None:
    mine, theirs, _nobodys = await _drafts(sessions, 3)
    me = await _recruiter(client, sessions, mine)
    colleague = await make_staff(
        sessions, organization_id=mine.organization_id, email="kim@acme.example", name="Kim Lee"
    )
    async with unit_of_work(sessions) as db:
        for world, staff_id in ((mine, me), (theirs, colleague)):
            await db.execute(
                update(Application)
                .where(Application.id == world.application_id)
                .values(assignee_staff_id=staff_id)
            )
    for wanted, names in (
        ("me", ["Ada Lovelace"]),
        ("none", ["Cy Varga"]),
        (str(colleague), ["Bo Marsh"]),
        ("", ["Ada Lovelace", "Bo Marsh", "Cy Varga"]),
    ):
        page = await client.get(LIST, params={"assignee": wanted, "sort": "name"})
        assert page.status_code == 200
        assert _names(page) == names, wanted
    # The filter is a choice on the page, and a wrong value is explained.
    options = [
        o.get("value") for o in Page((await client.get(LIST)).text).all("select#assignee option")
    ]
    assert options[:3] == ["", "me", "none"] and str(colleague) in options
    wrong = await client.get(LIST, params={"assignee": "someone"})
    assert wrong.status_code == 422 and "Choose one." in wrong.text


async def test_every_match_of_the_filters_across_pages_or_only_this_page(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    backend = await _without_feedback(sessions, world, 27)
    others = await _without_feedback(sessions, world, 3, job_title="Designer Role")
    me = await _recruiter(client, sessions, world)
    filters = {"q": "backend", "sort": "name"}

    page = await client.get(LIST, params=filters)
    assert "Every match of the current filters, on every page (27)" in page.text
    # "All on this page": the 25 rows the page shows, whichever were ticked.
    shown = await client.post(
        BULK,
        data=_form_data(
            page.text,
            "form#bulk",
            button=("action", "assign"),
            choose={"scope": "page", "assign_to": str(me)},
        ),
    )
    assert "25 applications now belong to Sam Recruiter." in shown.text
    # "Every match": all 27 backend applications, on both pages, and none of the others.
    matches = await client.post(
        BULK,
        data=_form_data(
            page.text,
            "form#bulk",
            button=("action", "assign"),
            choose={"scope": "matches", "assign_to": "none"},
        ),
    )
    assert "25 applications now belong to nobody. 2 already did." in matches.text
    await _bulk(client, {"action": "assign", "assign_to": str(me), "scope": "matches", **filters})
    assignees = await _assignees(sessions, backend + others)
    assert [assignees[i] for i in backend] == [me] * 27
    assert [assignees[i] for i in others] == [None] * 3
    # The way back to the list keeps the filters.
    assert 'href="/staff/applications?q=backend&amp;sort=name"' in matches.text


async def test_the_bulk_bar_works_as_plain_form_posts(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    """No JavaScript: tick rows, press a button; the page's own form does the rest."""
    worlds = await _drafts(sessions, 3)
    me = await _recruiter(client, sessions, worlds[0])
    page = await client.get(LIST, params={"sort": "name"})
    form = Page(page.text).one("form#bulk")
    assert form.get("method") == "post" and form.get("action") == BULK
    boxes = Page(page.text).all("form#bulk input[type=checkbox][name=application]")
    assert len(boxes) == 3 and all(box.get("aria-label") for box in boxes)

    ticked = {str(worlds[0].application_id), str(worlds[2].application_id)}
    assigned = await client.post(
        BULK,
        data=_form_data(
            page.text,
            "form#bulk",
            tick=ticked,
            button=("action", "assign"),
            choose={"assign_to": str(me)},
        ),
    )
    assert "2 applications now belong to Sam Recruiter." in assigned.text
    confirmation = await client.post(
        BULK, data=_form_data(page.text, "form#bulk", tick=ticked, button=("action", "publish"))
    )
    assert text(Page(confirmation.text).one("h1")) == "Publish 2 drafts?"
    result = await _confirm(client, confirmation)
    assert text(Page(result.text).one("h1")) == "Published 2."
    assert await _states(sessions, worlds) == [
        FeedbackState.PUBLISHED,
        FeedbackState.DRAFT,
        FeedbackState.PUBLISHED,
    ]


async def test_nothing_chosen_or_no_colleague_comes_back_with_a_message_and_the_ticks(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    worlds = await _drafts(sessions, 2)
    await _recruiter(client, sessions, worlds[0])
    nothing = await _bulk(client, {"action": "assign", "assign_to": "none", "job": "999"})
    assert nothing.status_code == 422
    assert "Tick at least one application" in nothing.text
    # The page keeps the filters it was posted with.
    assert '<option value="999"' not in nothing.text  # no such job: not offered
    no_one = await _bulk(client, {"action": "assign", "application": _ids(worlds[1])})
    assert no_one.status_code == 422
    assert "Choose who to assign them to" in no_one.text
    ticked = Page(no_one.text).all("input[name=application][checked]")
    assert [box.get("value") for box in ticked] == _ids(worlds[1])
    no_action = await _bulk(client, {"application": _ids(worlds[1])})
    assert no_action.status_code == 422 and "Choose what to do." in no_action.text
    # Both mistakes at once are both told.
    both = await _bulk(client, {"action": "assign"})
    assert "Tick at least one application" in both.text
    assert "Choose who to assign them to" in both.text


# --- what an attacker may try ---------------------------------------------------------------


async def test_another_organizations_applications_are_left_alone_without_a_trace(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    (mine,) = await _drafts(sessions, 1)
    (theirs,) = await _drafts(sessions, 1, slug="globex")
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Candidate)
            .where(Candidate.id == theirs.candidate_id)
            .values(name="Globex Secret")
        )
    me = await _recruiter(client, sessions, mine)
    missing = theirs.application_id + 1000

    answers = []
    for foreign in (theirs.application_id, missing):
        answer = await _bulk(
            client, {"action": "assign", "assign_to": str(me), "application": [str(foreign)]}
        )
        assert answer.status_code == 200
        assert "1 of the chosen applications could not be found" in answer.text
        answers.append(CSRF_FIELD.sub("", answer.text))
    # Another organization's application and one that does not exist read the same.
    assert answers[0] == answers[1]
    # Beside one of the recruiter's own, theirs is left out and the rest is done.
    mixed = await _bulk(
        client,
        {"action": "assign", "assign_to": str(me), "application": _ids(mine, theirs)},
    )
    assert "1 application now belongs to Sam Recruiter." in mixed.text
    assert "Globex Secret" not in mixed.text
    assert await _assignees(sessions, [mine.application_id]) == {mine.application_id: me}
    assert await _assignees(sessions, [theirs.application_id]) == {theirs.application_id: None}

    confirmation = await _bulk(
        client, {"action": "publish", "application": [str(theirs.application_id)]}
    )
    assert "Globex Secret" not in confirmation.text
    assert "could not be found" in confirmation.text
    # A forged confirmation naming their draft publishes nothing of theirs.
    forged = await client.post(
        BULK_PUBLISH,
        data={"csrftoken": await _token(client), "confirmed": f"{theirs.application_id}:1"},
    )
    assert forged.status_code == 200
    assert "Globex Secret" not in forged.text
    assert text(Page(forged.text).one("h1")) == "Published 0. Skipped 1."
    assert await _states(sessions, [theirs]) == [FeedbackState.DRAFT]
    assert await _count(sessions, select(func.count(BackgroundJob.id))) == 0


async def test_another_organizations_or_an_inactive_colleague_cannot_be_assigned(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    (mine,) = await _drafts(sessions, 1)
    (theirs,) = await _drafts(sessions, 1, slug="globex")
    await _recruiter(client, sessions, mine)
    outsider = await make_staff(
        sessions,
        organization_id=theirs.organization_id,
        email="eve@globex.example",
        name="Eve Outsider",
    )
    gone = await make_staff(
        sessions,
        organization_id=mine.organization_id,
        email="gone@acme.example",
        name="Gone Person",
        active=False,
    )
    for staff_id in (outsider, gone, outsider + 1000):
        refused = await _bulk(
            client, {"action": "assign", "assign_to": str(staff_id), "application": _ids(mine)}
        )
        assert refused.status_code == 422, staff_id
        assert "Choose a colleague from the list." in refused.text
        assert "Eve Outsider" not in refused.text
    assert await _assignees(sessions, [mine.application_id]) == {mine.application_id: None}
    assert (
        await _count(
            sessions,
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "application.assigned"),
        )
        == 0
    )
    # Only active colleagues are offered.
    page = await client.get(LIST)
    assert "Gone Person" not in page.text


async def test_bulk_forms_need_the_csrf_token(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    (world,) = await _drafts(sessions, 1)
    me = await _recruiter(client, sessions, world)
    assign = await _bulk(
        client,
        {"action": "assign", "assign_to": str(me), "application": _ids(world)},
        token=False,
    )
    assert assign.status_code == 403
    publish = await client.post(BULK_PUBLISH, data={"confirmed": f"{world.application_id}:1"})
    assert publish.status_code == 403
    assert await _assignees(sessions, [world.application_id]) == {world.application_id: None}
    assert await _states(sessions, [world]) == [FeedbackState.DRAFT]


async def test_a_batch_over_the_cap_is_refused_with_a_message(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    await _without_feedback(sessions, world, BULK_MAX)
    me = await _recruiter(client, sessions, world)
    over = await _bulk(client, {"action": "assign", "assign_to": str(me), "scope": "matches"})
    assert over.status_code == 422
    message = f"That is {BULK_MAX + 1:,} applications, and one bulk action takes at most {BULK_MAX}"
    assert message in over.text
    assert "Nothing was changed." in over.text
    # Narrowed to the cap, it goes through.
    within = await _bulk(
        client,
        {"action": "assign", "assign_to": str(me), "scope": "matches", "q": "backend"},
    )
    assert f"{BULK_MAX} applications now belong to Sam Recruiter." in within.text
    # A forged confirmation of more than the cap publishes nothing.
    confirmed = ",".join(f"{number}:1" for number in range(1, BULK_MAX + 2))
    forged = await client.post(
        BULK_PUBLISH, data={"csrftoken": await _token(client), "confirmed": confirmed}
    )
    assert forged.status_code == 422 and message in forged.text
    assert await _states(sessions, [world]) == [FeedbackState.DRAFT]


# --- the database's own guard -------------------------------------------------------------


async def test_the_database_keeps_an_assignee_in_the_applications_organization(
    sessions: Sessions,
) -> None:
    (mine,) = await _drafts(sessions, 1)
    (theirs,) = await _drafts(sessions, 1, slug="globex")
    outsider = await make_staff(
        sessions, organization_id=theirs.organization_id, email="eve@globex.example"
    )
    colleague = await make_staff(sessions, organization_id=mine.organization_id)
    try:
        async with unit_of_work(sessions) as db:
            await db.execute(
                update(Application)
                .where(Application.id == mine.application_id)
                .values(assignee_staff_id=outsider)
            )
    except IntegrityError:
        pass
    else:
        raise AssertionError("an assignee of another organization was accepted")
    # A colleague is fine; deleting their account clears the assignment.
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Application)
            .where(Application.id == mine.application_id)
            .values(assignee_staff_id=colleague)
        )
    async with unit_of_work(sessions) as db:
        await db.delete(await db.get_one(StaffUser, colleague))
    assert await _assignees(sessions, [mine.application_id]) == {mine.application_id: None}
    # Deleting a whole organization takes its assigned applications and staff with it.
    other = await make_staff(sessions, organization_id=mine.organization_id, email="o@acme.example")
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Application)
            .where(Application.id == mine.application_id)
            .values(assignee_staff_id=other)
        )
    async with unit_of_work(sessions) as db:
        await db.execute(delete(Organization).where(Organization.id == mine.organization_id))
    assert await _assignees(sessions, [mine.application_id]) == {}
