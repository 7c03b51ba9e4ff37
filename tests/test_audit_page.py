"""The audit log page: an admin reads their organization's trail in words, with the
people and records it names linked, times in their time zone, the technical details
on demand, filtered and paginated; recruiters, other organizations and strangers
see nothing of it."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import delete, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.audit.models import AuditEvent
from portal.candidates.models import Application
from portal.db import unit_of_work
from portal.orgs.models import Organization
from portal.pool.models import PoolMembership
from portal.staff.models import StaffUser
from portal.threads.models import SavedAnswer, Thread
from tests.factories import make_staff, make_world, open_session, sign_in, staff_sign_in
from tests.pool_support import add_member
from tests.test_queue import _ask

Sessions = async_sessionmaker[AsyncSession]
DAY = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
COOKIE = "afterword_session"


async def _events(sessions: Sessions, *events: AuditEvent) -> None:
    async with unit_of_work(sessions) as db:
        db.add_all(events)


def _event(
    organization_id: int, action: str, *, actor_id: int | None = None, **extra: object
) -> AuditEvent:
    return AuditEvent(
        organization_id=organization_id,
        actor_kind=extra.pop("actor_kind", "staff" if actor_id else "anonymous"),
        actor_id=actor_id,
        action=action,
        details=extra.pop("details", {}),
        created_at=extra.pop("created_at", DAY),
        **extra,
    )


async def _admin_and_recruiter(sessions: Sessions) -> tuple[int, int, int, int]:
    acme = await make_world(sessions)
    globex = await make_world(sessions, slug="globex", email="bo@example.com", name="Bo Globex")
    admin = await make_staff(
        sessions,
        organization_id=acme.organization_id,
        email="ada@acme.example",
        name="Ada Admin",
        role="admin",
    )
    recruiter = await make_staff(
        sessions, organization_id=acme.organization_id, name="Sam Recruiter"
    )
    return acme.organization_id, globex.organization_id, admin, recruiter


async def _application_of(sessions: Sessions, organization_id: int) -> int:
    async with sessions() as db:
        return (
            await db.scalars(
                select(Application.id).where(Application.organization_id == organization_id)
            )
        ).one()


async def _as(client: httpx.AsyncClient, sessions: Sessions, staff_id: int) -> None:
    client.cookies.set(COOKIE, await open_session(sessions, staff_user_id=staff_id))


def _sentences(page: str) -> list[str]:
    """Each event's sentence as text."""
    found = re.findall(r'<p class="audit-event__what">(.*?)</p>', page, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", s)) for s in found]


def _links(page: str) -> dict[str, str]:
    """Link text -> address, within the events' sentences."""
    found: dict[str, str] = {}
    for sentence in re.findall(r'<p class="audit-event__what">(.*?)</p>', page, re.S):
        for href, text in re.findall(r'<a href="([^"]+)">(.*?)</a>', sentence):
            found[html.unescape(text)] = href
    return found


async def test_admin_reads_their_organizations_trail_and_nothing_else(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    acme, globex, _, recruiter = await _admin_and_recruiter(sessions)
    application_id = await _application_of(sessions, acme)
    await _events(
        sessions,
        _event(
            acme,
            "feedback.published",
            actor_id=recruiter,
            subject_type="application",
            subject_id=application_id,
            ip_hash="0123456789abcdef0123456789abcdef",
            details={"version": 2, "overridden": False},
        ),
        _event(acme, "staff.sign_in_failed", details={"reason": "<b>wrong_password</b>"}),
        _event(globex, "globex.secret_action"),
    )
    await staff_sign_in(client, "ada@acme.example")
    page = await client.get("/staff/audit")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    sentences = _sentences(page.text)
    assert "Sam Recruiter published feedback on Dana Scully's application for Data Analyst." in (
        sentences
    )
    # The technical details, on demand.
    assert "<details" in page.text and "<summary>Technical details" in page.text
    assert "<code>feedback.published</code>" in page.text
    assert f"<code>application</code> #{application_id}" in page.text
    assert "<code>0123456789abcdef0123456789abcdef</code>" in page.text
    assert "&#34;overridden&#34;: false" in page.text and "&#34;version&#34;: 2" in page.text
    assert "&lt;b&gt;wrong_password&lt;/b&gt;" in page.text  # markup shown as text
    assert "A sign-in as an unknown account failed: <b>wrong password</b>." in sentences
    assert "globex.secret_action" not in page.text and "Globex" not in page.text
    assert 'href="/staff/audit"' in (await client.get("/staff/")).text  # in the navigation


async def test_recruiters_and_strangers_do_not_find_the_audit_log(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _admin_and_recruiter(sessions)
    stranger = await other_client.get("/staff/audit")
    assert stranger.status_code == 303 and stranger.headers["location"].endswith("/staff/signin")
    await staff_sign_in(client)  # the recruiter
    assert (await client.get("/staff/audit")).status_code == 404
    assert 'href="/staff/audit"' not in (await client.get("/staff/")).text


async def _thread(sessions: Sessions, application_id: int) -> int:
    async with unit_of_work(sessions) as db:
        application = await db.get_one(Application, application_id)
        thread = Thread(
            organization_id=application.organization_id,
            application_id=application.id,
            candidate_id=application.candidate_id,
            job_id=application.job_id,
            state="waiting",
        )
        db.add(thread)
        await db.flush()
        return thread.id


async def test_events_name_people_and_records_and_link_to_them(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, name="Sam Lee")
    acme = world.organization_id
    admin = await make_staff(
        sessions, organization_id=acme, email="amir@acme.example", name="Amir Haddad", role="admin"
    )
    priya = await make_staff(
        sessions, organization_id=acme, email="priya@acme.example", name="Priya Raman"
    )
    jo = await make_staff(sessions, organization_id=acme, email="jo@acme.example", name="Jo Park")
    thread = await _thread(sessions, world.application_id)
    member = await add_member(sessions, world)
    async with unit_of_work(sessions) as db:
        answer = SavedAnswer(organization_id=acme, title="Thanks", body="Thank you.")
        db.add(answer)
        await db.flush()
        answer_id = answer.id
    app_id = world.application_id
    happened: list[tuple[str, dict[str, Any]]] = [
        ("feedback.published", {"actor_id": priya, "subject_type": "application",
                                "subject_id": app_id}),
        ("staff.invited", {"actor_id": admin, "subject_type": "staff_user", "subject_id": jo,
                           "details": {"role": "recruiter"}}),
        ("thread.question_asked", {"actor_kind": "candidate", "actor_id": world.candidate_id,
                                   "subject_type": "thread", "subject_id": thread}),
        ("link.issued", {"actor_kind": "system", "subject_type": "candidate",
                         "subject_id": world.candidate_id, "details": {"purpose": "sign_in"}}),
        ("thread.assigned", {"actor_id": priya, "subject_type": "thread", "subject_id": thread,
                             "details": {"previous": None, "assignee": jo}}),
        ("pool.joined", {"actor_kind": "candidate", "actor_id": world.candidate_id,
                         "subject_type": "pool_membership", "subject_id": member}),
        ("saved_answer.changed", {"actor_id": admin, "subject_type": "saved_answer",
                                  "subject_id": answer_id, "details": {"title": "Thanks"}}),
        ("saved_answer.created", {"actor_id": admin, "subject_type": "saved_answer",
                                  "subject_id": 999_999, "details": {"title": "Gone now"}}),
        ("feedback.imported", {"actor_kind": "system", "details": {
            "source": "command line", "file": "ats.csv", "rows": 3, "published": False}}),
        ("organization.settings_changed", {"actor_id": admin, "subject_type": "organization",
                                           "subject_id": acme,
                                           "details": {"fields": ["time_zone"]}}),
    ]  # fmt: skip
    await _events(
        sessions,
        *(
            _event(acme, action, created_at=DAY + dt.timedelta(minutes=n), **fields)
            for n, (action, fields) in enumerate(happened)
        ),
    )
    await _as(client, sessions, admin)
    page = await client.get("/staff/audit")
    assert page.status_code == 200, page.text
    sentences = set(_sentences(page.text))
    expected = {
        "Priya Raman published feedback on Sam Lee's application for Data Analyst.",
        "Amir Haddad invited Jo Park as a recruiter.",
        "Sam Lee asked a question about their application for Data Analyst.",
        "Afterword emailed Sam Lee a sign-in link.",
        "Priya Raman assigned Sam Lee's question about Data Analyst to Jo Park.",
        "Sam Lee joined the talent pool.",
        "Amir Haddad changed the saved answer “Thanks”.",
        "Amir Haddad added the saved answer “Gone now” (since deleted).",
        "Command line imported feedback from “ats.csv” as drafts (3 rows).",
        "Amir Haddad changed the organization's settings: time zone.",
    }
    assert expected <= sentences, sorted(sentences)
    links = _links(page.text)
    assert links["Priya Raman"] == f"/staff/people/{priya}"
    assert links["Jo Park"] == f"/staff/people/{jo}"
    assert links["Sam Lee's application for Data Analyst"] == f"/staff/applications/{app_id}"
    assert links["a question"] == f"/staff/queue/{thread}"
    assert links["Sam Lee's question about Data Analyst"] == f"/staff/queue/{thread}"
    assert links["the talent pool"] == f"/staff/pool/{member}"
    assert links["“Thanks”"] == f"/staff/saved-answers/{answer_id}"
    assert links["the organization's settings"] == "/staff/settings"
    # A candidate has no page of their own; a deleted record has none either.
    assert "Sam Lee" not in links and "“Gone now”" not in links
    # A member who left is named, but their page (active members only) is not linked.
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(PoolMembership).where(PoolMembership.id == member).values(state="left")
        )
    again = await client.get("/staff/audit")
    assert "Sam Lee joined the talent pool." in _sentences(again.text)
    assert "the talent pool" not in _links(again.text)


async def test_deleted_records_and_another_organizations_records_are_not_named(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    acme, globex, admin, recruiter = await _admin_and_recruiter(sessions)
    globex_world = await make_world(
        sessions, slug="globex", email="cy@example.com", name="Cy Secret", job_title="Spy"
    )
    globex_staff = await make_staff(
        sessions, organization_id=globex, email="gil@globex.example", name="Gil Globex"
    )
    await _events(
        sessions,
        # Events of this organization that (wrongly) name another's records...
        _event(acme, "feedback.published", actor_id=globex_staff, subject_type="application",
               subject_id=globex_world.application_id),
        _event(acme, "candidate.blocked", actor_id=recruiter, subject_type="thread",
               subject_id=123_456, details={"candidate_id": globex_world.candidate_id}),
        # ...and records since deleted.
        _event(acme, "staff.deactivated", actor_id=admin, subject_type="staff_user",
               subject_id=987_654),
        # Another organization's events.
        _event(globex, "feedback.published", actor_id=globex_staff, subject_type="application",
               subject_id=globex_world.application_id),
    )  # fmt: skip
    await _as(client, sessions, admin)
    page = await client.get("/staff/audit")
    assert page.status_code == 200
    for secret in ("Cy Secret", "Spy", "Gil Globex", "Bo Globex"):
        assert secret not in page.text
    sentences = _sentences(page.text)
    assert "A deleted staff account published feedback on a deleted application." in sentences
    assert "Sam Recruiter stopped a deleted candidate from asking more questions." in sentences, (
        sentences
    )
    assert "Ada Admin deactivated a deleted staff account." in sentences
    assert set(_links(page.text)) == {"Sam Recruiter", "Ada Admin"}


@contextmanager
def _counting(app: Starlette) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = app.state.portal.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _varied(acme: int, world_application: int, staff_ids: list[int], n: int) -> AuditEvent:
    """The n-th of a mix of events naming staff, applications, candidates and more."""
    staff = staff_ids[n % len(staff_ids)]
    kinds = [
        ("feedback.published", "application", world_application, {}),
        ("staff.invited", "staff_user", staff_ids[(n + 1) % len(staff_ids)], {"role": "admin"}),
        ("link.revoked", "access_link", n + 1, {"application_id": world_application}),
        ("pool.invited", "job", 1, {"sent": [1], "skipped": []}),
        ("thread.assigned", "thread", n + 1, {"assignee": staff_ids[0]}),
        ("saved_answer.deleted", "saved_answer", n + 1, {"title": f"Answer {n}"}),
    ]
    action, subject_type, subject_id, details = kinds[n % len(kinds)]
    return _event(
        acme,
        action,
        actor_id=staff,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details,
        created_at=DAY + dt.timedelta(minutes=n),
    )


async def test_a_page_costs_the_same_queries_however_many_events_it_shows(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    acme, _, admin, _recruiter = await _admin_and_recruiter(sessions)
    staff_ids = [admin]
    for n in range(8):
        staff_ids.append(
            await make_staff(
                sessions, organization_id=acme, email=f"s{n}@acme.example", name=f"Staff {n}"
            )
        )
    application_id = await _application_of(sessions, acme)
    await _as(client, sessions, admin)
    counts = []
    for total in (6, 60):
        async with unit_of_work(sessions) as db:
            await db.execute(delete(AuditEvent))
        await _events(
            sessions, *(_varied(acme, application_id, staff_ids, n) for n in range(total))
        )
        with _counting(app) as statements:
            page = await client.get("/staff/audit")
        assert page.status_code == 200
        assert len(_sentences(page.text)) == min(total, 50)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


async def test_times_are_shown_in_the_readers_time_zone(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    acme, _, admin, recruiter = await _admin_and_recruiter(sessions)
    moment = dt.datetime(2026, 12, 6, 13, 5, tzinfo=dt.UTC)
    await _events(sessions, _event(acme, "thread.reopened", actor_id=recruiter, created_at=moment))
    await _as(client, sessions, admin)

    async def shown() -> str:
        page = await client.get("/staff/audit")
        found = re.search(r'<time datetime="([^"]+)">([^<]+)</time>', page.text)
        assert found, page.text
        assert found.group(1) == "2026-12-06T13:05:00+00:00"
        return found.group(2)

    # The organization's zone (UTC until an admin chooses one)...
    assert await shown() == "6 Dec 2026, 13:05 UTC"
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Organization).where(Organization.id == acme).values(time_zone="Europe/Berlin")
        )
    assert await shown() == "6 Dec 2026, 14:05 CET"
    assert "Times are in Europe/Berlin" in (await client.get("/staff/audit")).text
    # ...unless the reader chose their own.
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(StaffUser).where(StaffUser.id == admin).values(time_zone="America/New_York")
        )
    assert await shown() == "6 Dec 2026, 08:05 EST"


async def test_date_filters_are_whole_days_in_the_readers_time_zone(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    acme, _, admin, recruiter = await _admin_and_recruiter(sessions)
    late = dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.UTC)  # 11 March, 00:30 in Berlin
    await _events(sessions, _event(acme, "thread.reopened", actor_id=recruiter, created_at=late))
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(StaffUser).where(StaffUser.id == admin).values(time_zone="Europe/Berlin")
        )
    await _as(client, sessions, admin)
    on_11th = await client.get(
        "/staff/audit", params={"since": "2026-03-11", "until": "2026-03-11"}
    )
    assert _sentences(on_11th.text) == ["Sam Recruiter reopened a conversation."]
    on_10th = await client.get(
        "/staff/audit", params={"since": "2026-03-10", "until": "2026-03-10"}
    )
    assert _sentences(on_10th.text) == []


async def test_filters_by_person_action_and_dates(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    acme, _, admin, recruiter = await _admin_and_recruiter(sessions)
    await _events(
        sessions,
        _event(acme, "thread.reopened", actor_id=recruiter, created_at=DAY - dt.timedelta(days=5)),
        _event(acme, "thread.closed", actor_id=recruiter, created_at=DAY),
        _event(acme, "staff.reinvited", actor_id=admin, created_at=DAY + dt.timedelta(days=5)),
    )
    await _as(client, sessions, admin)
    words = {"thread.reopened": "reopened", "thread.closed": "closed", "staff.reinvited": "sent"}

    async def shown(**params: str) -> set[str]:
        page = await client.get("/staff/audit", params=params)
        assert page.status_code == 200, page.text
        sentences = " ".join(_sentences(page.text))
        return {action for action, word in words.items() if f" {word} " in sentences}

    assert await shown() == {"thread.reopened", "thread.closed", "staff.reinvited"}
    assert await shown(actor=str(recruiter)) == {"thread.reopened", "thread.closed"}
    assert await shown(action="staff.reinvited") == {"staff.reinvited"}
    assert await shown(since="2026-03-10", until="2026-03-10") == {"thread.closed"}
    assert await shown(since="2026-03-10") == {"thread.closed", "staff.reinvited"}
    assert await shown(until="2026-03-09", actor="", action="") == {"thread.reopened"}
    nothing = await client.get("/staff/audit", params={"action": "nothing.like.this"})
    assert "No events match these filters." in nothing.text
    # The actions to choose from, in words.
    page = (await client.get("/staff/audit")).text
    assert '<option value="thread.reopened">Thread reopened</option>' in page


async def test_an_empty_trail_says_what_to_do_first(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    _, _, admin, _ = await _admin_and_recruiter(sessions)
    await _as(client, sessions, admin)
    page = await client.get("/staff/audit")
    assert "Nothing has been recorded yet." in page.text
    assert 'href="/staff/people"' in page.text and "<ol" not in page.text


async def test_bad_filters_are_explained_and_kept(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _admin_and_recruiter(sessions)
    await staff_sign_in(client, "ada@acme.example")
    page = await client.get("/staff/audit", params={"since": "31/03/2026"})
    assert page.status_code == 422
    assert "Enter a date like 2026-03-31." in page.text and 'value="31/03/2026"' in page.text
    page = await client.get("/staff/audit", params={"since": "2026-03-10", "until": "2026-03-01"})
    assert page.status_code == 422 and "The end date comes before the start date." in page.text
    page = await client.get("/staff/audit", params={"action": "x" * 5000, "page": "-1"})
    assert page.status_code == 422 and "Keep it to 60 characters" in page.text


async def test_long_trails_are_paginated(client: httpx.AsyncClient, sessions: Sessions) -> None:
    acme, _, _, _ = await _admin_and_recruiter(sessions)
    await _events(
        sessions,
        *(
            _event(acme, f"step.s{n:03d}", created_at=DAY + dt.timedelta(minutes=n))
            for n in range(120)
        ),
    )
    await staff_sign_in(client, "ada@acme.example")
    first = await client.get("/staff/audit", params={"action": ""})
    # The 120 steps, and the admin's own sign-in, newest.
    assert "121 events" in first.text and "page 1 of 3" in first.text
    assert "Ada Admin signed in with their password." in _sentences(first.text)
    assert "step s071" in first.text and "step s070" not in first.text
    assert 'href="/staff/audit?page=2"' in first.text
    third = await client.get("/staff/audit", params={"page": "3"})
    assert "step s020" in third.text and "step s021" not in third.text
    assert "Older" not in third.text and "Newer" in third.text
    beyond = await client.get("/staff/audit", params={"page": "99"})
    assert beyond.status_code == 200 and "step s000" in beyond.text


async def test_markup_in_names_and_details_is_shown_as_text(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    acme, _, admin, _ = await _admin_and_recruiter(sessions)
    villain = await make_staff(
        sessions,
        organization_id=acme,
        email="x@acme.example",
        name="<script>alert(1)</script>",
    )
    await _events(
        sessions,
        _event(acme, "thread.closed", actor_id=villain, subject_type="thread", subject_id=5,
               details={"reason": "<img src=x onerror=alert(2)>"}),
        _event(acme, "saved_answer.deleted", actor_id=admin, subject_type="saved_answer",
               subject_id=9, details={"title": "<script>alert(3)</script>"}),
    )  # fmt: skip
    await _as(client, sessions, admin)
    page = await client.get("/staff/audit")
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "&lt;img src=x onerror=alert(2)&gt;" in page.text
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in page.text


async def test_a_candidates_question_is_in_the_trail_in_words(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, name="Sam Lee")
    admin = await make_staff(
        sessions, organization_id=world.organization_id, email="ada@acme.example", role="admin"
    )
    await sign_in(client, sessions, world)
    await _ask(client, world, "What did my SQL answer lack?")
    async with sessions() as db:
        asked = (
            await db.scalars(select(AuditEvent).where(AuditEvent.action == "thread.question_asked"))
        ).one()
        thread = (await db.scalars(select(Thread))).one()
    assert (asked.actor_kind, asked.actor_id) == ("candidate", world.candidate_id)
    assert (asked.subject_type, asked.subject_id) == ("thread", thread.id)
    assert asked.organization_id == world.organization_id and asked.ip_hash
    await _as(other_client, sessions, admin)
    page = await other_client.get("/staff/audit")
    assert "Sam Lee asked a question about their application for Data Analyst." in _sentences(
        page.text
    )
    assert _links(page.text)["a question"] == f"/staff/queue/{thread.id}"
