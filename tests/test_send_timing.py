"""Send timing (issue 26): the send window, scheduled invitations, "send now" with a
reason, the call before a finalist's email, re-publishing that sends nothing again,
and the "decided but not told" clock and digest."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import httpx
import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.access.models import AccessLink, LinkPurpose
from portal.access.service import send_invitation
from portal.audit.models import AuditEvent
from portal.candidates.models import Application
from portal.db import unit_of_work, utcnow
from portal.feedback.models import Feedback, FeedbackState
from portal.jobs.models import BackgroundJob
from portal.orgs.models import Organization
from portal.security.actors import Staff, StaffRole
from portal.settings import Settings
from portal.timing import delivery, untold
from portal.timing import service as timing
from portal.timing.models import FeedbackSend, SendSettings, SendState
from portal.timing.window import NeverOpens, SendWindow, describe, is_open, next_opening
from tests.api_support import make_key, post
from tests.factories import World, make_staff, make_world
from tests.jobs_support import desk
from tests.pool_support import queued_mail
from tests.test_publish_completeness import _press_publish

Sessions = async_sessionmaker[AsyncSession]
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
UTC = dt.UTC


def _berlin(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN)


DEFAULT = SendWindow(BERLIN)  # Monday to Thursday, 09:00 to 16:00


# --- the window, as pure functions --------------------------------------------------


def test_inside_the_window_is_now() -> None:
    tuesday_noon = _berlin(2026, 12, 8, 12, 0)
    assert next_opening(DEFAULT, tuesday_noon) == tuesday_noon.astimezone(UTC)
    assert is_open(DEFAULT, tuesday_noon)


def test_before_the_hours_waits_for_the_morning() -> None:
    assert next_opening(DEFAULT, _berlin(2026, 12, 8, 6, 30)) == _berlin(2026, 12, 8, 9, 0)
    # The window closes at 16:00: a minute later waits for the next day.
    assert next_opening(DEFAULT, _berlin(2026, 12, 8, 16, 0)) == _berlin(2026, 12, 9, 9, 0)


def test_friday_night_waits_over_the_weekend_for_monday_morning() -> None:
    friday_23 = _berlin(2026, 12, 11, 23, 0)  # a Friday, outside Monday to Thursday
    assert not is_open(DEFAULT, friday_23)
    assert next_opening(DEFAULT, friday_23) == _berlin(2026, 12, 14, 9, 0)
    assert next_opening(DEFAULT, _berlin(2026, 12, 13, 15, 0)) == _berlin(2026, 12, 14, 9, 0)


def test_a_holiday_is_skipped() -> None:
    window = SendWindow(BERLIN, holidays=frozenset({dt.date(2026, 12, 14), dt.date(2026, 12, 15)}))
    assert next_opening(window, _berlin(2026, 12, 11, 23, 0)) == _berlin(2026, 12, 16, 9, 0)
    assert not is_open(window, _berlin(2026, 12, 14, 10, 0))


def test_the_window_keeps_local_hours_across_daylight_saving_changes() -> None:
    # Spring: clocks go forward on Sunday 29 March 2026; Monday 09:00 is summer time.
    spring = next_opening(DEFAULT, _berlin(2026, 3, 27, 17, 0))
    assert spring == dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert spring.astimezone(BERLIN).hour == 9
    # Autumn: clocks go back on Sunday 25 October 2026; Monday 09:00 is winter time.
    autumn = next_opening(DEFAULT, _berlin(2026, 10, 23, 17, 0))
    assert autumn == dt.datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    # A window that opens at 02:30 on the night the clocks skip it opens at 03:30
    # summer time (01:30 UTC), not an hour early or a day late.
    night = SendWindow(BERLIN, days=frozenset({7}), start=150, end=240)
    assert next_opening(night, _berlin(2026, 3, 29, 0, 0)) == dt.datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )


def test_the_window_until_midnight_and_in_another_zone() -> None:
    york = zoneinfo.ZoneInfo("America/New_York")
    window = SendWindow(york, days=frozenset({5}), start=20 * 60, end=24 * 60)
    friday_late = dt.datetime(2026, 12, 11, 23, 59, tzinfo=york)
    assert is_open(window, friday_late)
    assert next_opening(window, dt.datetime(2026, 12, 12, 0, 0, tzinfo=york)) == dt.datetime(
        2026, 12, 18, 20, 0, tzinfo=york
    )


def test_a_window_that_never_opens_says_so() -> None:
    every_monday = frozenset(dt.date(2026, 12, 14) + dt.timedelta(weeks=n) for n in range(60))
    window = SendWindow(BERLIN, days=frozenset({1}), holidays=every_monday)
    with pytest.raises(NeverOpens):
        next_opening(window, _berlin(2026, 12, 11, 12, 0))
    with pytest.raises(ValueError, match="starts before it ends"):
        SendWindow(BERLIN, start=600, end=600)
    assert describe(DEFAULT) == "Monday to Thursday, 09:00 to 16:00 (Europe/Berlin)"


# --- telling the candidate ----------------------------------------------------------

SATURDAY = _berlin(2026, 12, 12, 11, 0).astimezone(UTC)
MONDAY_NINE = _berlin(2026, 12, 14, 9, 0).astimezone(UTC)


async def _berlin_defaults(sessions: Sessions, world: World, **changes: object) -> None:
    """The organization in Berlin with the default window (or `changes` to it)."""
    async with unit_of_work(sessions) as db:
        org = await db.get_one(Organization, world.organization_id)
        org.time_zone = "Europe/Berlin"
        await db.execute(
            update(SendSettings)
            .where(SendSettings.organization_id == world.organization_id)
            .values(days=[1, 2, 3, 4], start_minute=540, end_minute=960, **changes)
        )


async def _invitations(sessions: Sessions, world: World) -> int:
    async with sessions() as db:
        return int(
            await db.scalar(
                select(func.count(AccessLink.id)).where(
                    AccessLink.application_id == world.application_id,
                    AccessLink.purpose == LinkPurpose.INVITATION,
                )
            )
            or 0
        )


async def _tell(sessions: Sessions, settings: Settings, world: World, now: dt.datetime) -> object:
    async with unit_of_work(sessions) as db:
        return await timing.tell_candidate(
            db, application_id=world.application_id, settings=settings, now=now
        )


async def _send_row(sessions: Sessions, world: World) -> FeedbackSend:
    async with sessions() as db:
        return await db.get_one(FeedbackSend, world.application_id)


async def test_publishing_on_a_saturday_schedules_the_email_for_monday_morning(
    sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    await _berlin_defaults(sessions, world)
    await _tell(sessions, settings, world, SATURDAY)
    row = await _send_row(sessions, world)
    assert row.state == SendState.SCHEDULED
    assert row.send_at == MONDAY_NINE
    assert await _invitations(sessions, world) == 0
    async with sessions() as db:
        job = await db.scalar(select(BackgroundJob).where(BackgroundJob.kind == "timing.send"))
    assert job is not None and job.run_at == MONDAY_NINE
    # The job does nothing before its time, and sends once when it comes.
    async with unit_of_work(sessions) as db:
        assert not await delivery.deliver_scheduled(
            db, application_id=world.application_id, settings=settings, now=SATURDAY
        )
    for _ in range(2):
        async with unit_of_work(sessions) as db:
            await delivery.deliver_scheduled(
                db, application_id=world.application_id, settings=settings, now=MONDAY_NINE
            )
    assert await _invitations(sessions, world) == 1
    assert len(await queued_mail(sessions, "invitation")) == 1
    assert (await _send_row(sessions, world)).state == SendState.SENT


async def test_publishing_inside_the_window_sends_at_once(
    sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    await _berlin_defaults(sessions, world)
    await _tell(sessions, settings, world, MONDAY_NINE + dt.timedelta(hours=1))
    assert (await _send_row(sessions, world)).state == SendState.SENT
    assert await _invitations(sessions, world) == 1


async def test_publishing_again_does_not_send_again(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions, published=False)
    staff = await desk(client, sessions, world=world)
    assert (await _press_publish(client, world)).status_code == 303
    assert await _invitations(sessions, world) == 1
    # A second version, published too: the candidate already has their link.
    async with unit_of_work(sessions) as db:
        first = await db.scalar(
            select(Feedback).where(Feedback.application_id == world.application_id)
        )
        assert first is not None and first.state == FeedbackState.PUBLISHED
        db.add(
            Feedback(
                application_id=world.application_id,
                version=2,
                state=FeedbackState.DRAFT,
                decision_summary="Thank you for interviewing, and for your patience.",
                personal_note=first.personal_note,
                created_by_staff_id=staff.staff_id,
            )
        )
    await _tell(sessions, settings, world, MONDAY_NINE)
    assert await _invitations(sessions, world) == 1
    assert len(await queued_mail(sessions, "invitation")) == 1


async def test_an_application_told_before_send_timing_existed_is_not_told_again(
    sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    await _tell(sessions, settings, world, MONDAY_NINE)
    async with unit_of_work(sessions) as db:
        row = await db.get_one(FeedbackSend, world.application_id)
        await db.delete(row)  # as if only the old link existed
    assert await _tell(sessions, settings, world, MONDAY_NINE) is None
    assert await _invitations(sessions, world) == 1


async def test_send_now_overrides_the_window_with_a_reason(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    await _berlin_defaults(sessions, world)
    await _tell(sessions, settings, world, SATURDAY)
    staff = await desk(client, sessions, world=world)
    page = await client.get(f"/staff/applications/{world.application_id}")
    assert "The invitation email goes on" in page.text
    path = f"/staff/applications/{world.application_id}/send-now"
    # No reason: the form again, 422.
    refused = await staff.post(path, reason="  ")
    assert refused.status_code == 422
    assert "Say why the candidate should hear now" in refused.text
    assert await _invitations(sessions, world) == 0
    # No CSRF token: refused.
    forged = await client.post(path, data={"reason": "They asked"})
    assert forged.status_code == 403
    sent = await staff.post(path, reason="They asked to hear <b>today</b>")
    assert sent.status_code == 303
    assert await _invitations(sessions, world) == 1
    row = await _send_row(sessions, world)
    assert row.state == SendState.SENT and row.sent_now_reason == "They asked to hear <b>today</b>"
    async with sessions() as db:
        event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "feedback.sent_now"))
    assert event is not None and event.details["reason"] == "They asked to hear <b>today</b>"
    shown = await client.get(f"/staff/applications/{world.application_id}")
    assert "&lt;b&gt;today&lt;/b&gt;" in shown.text
    # Monday's job then finds nothing to send.
    async with unit_of_work(sessions) as db:
        assert not await delivery.deliver_scheduled(
            db, application_id=world.application_id, settings=settings, now=MONDAY_NINE
        )
    assert await _invitations(sessions, world) == 1
    # Twice: nothing waits any more.
    again = await staff.post(path, reason="Again")
    assert again.status_code == 409


async def test_another_organizations_recruiter_cannot_send_or_tick_off(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    await _berlin_defaults(sessions, world)
    await _tell(sessions, settings, world, SATURDAY)
    stranger = await desk(client, sessions, slug="globex")
    for action in ("send-now", "call-done"):
        answer = await stranger.post(
            f"/staff/applications/{world.application_id}/{action}", reason="Mine now"
        )
        assert answer.status_code == 404
    assert await _invitations(sessions, world) == 0


async def test_a_finalist_gets_a_call_before_the_email(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions, published=False)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Application).where(Application.id == world.application_id).values(stage="final")
        )
        await db.execute(
            update(SendSettings)
            .where(SendSettings.organization_id == world.organization_id)
            .values(call_finalists_first=True)
        )
    staff = await desk(client, sessions, world=world)
    assert (await _press_publish(client, world)).status_code == 303
    assert (await _send_row(sessions, world)).state == SendState.WAITING_FOR_CALL
    assert await _invitations(sessions, world) == 0
    page = await client.get(f"/staff/applications/{world.application_id}")
    assert "Call before sending" in page.text
    # The email waits, whatever the hour: no job, no link, until the call.
    async with sessions() as db:
        assert (
            await db.scalar(select(BackgroundJob.id).where(BackgroundJob.kind == "timing.send"))
            is None
        )
    called = await staff.post(f"/staff/applications/{world.application_id}/call-done")
    assert called.status_code == 303
    assert "called_sent" in called.headers["location"]
    row = await _send_row(sessions, world)
    assert row.state == SendState.SENT and row.call_done_by_staff_id == staff.staff_id
    assert await _invitations(sessions, world) == 1
    # Ticking it off again changes nothing.
    assert (
        await staff.post(f"/staff/applications/{world.application_id}/call-done")
    ).status_code == 409
    assert await _invitations(sessions, world) == 1


async def test_a_call_ticked_off_on_a_friday_night_waits_for_the_window(
    sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    await _berlin_defaults(sessions, world, call_finalists_first=True)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Application).where(Application.id == world.application_id).values(stage="final")
        )
    await _tell(sessions, settings, world, SATURDAY)
    assert (await _send_row(sessions, world)).state == SendState.WAITING_FOR_CALL
    staff_id = await make_staff(
        sessions, organization_id=world.organization_id, email="sam@acme.example", name="Sam"
    )
    actor = Staff(staff_id, world.organization_id, StaffRole.RECRUITER, "Sam", b"")
    async with unit_of_work(sessions) as db:
        await timing.mark_called(
            db, actor=actor, application_id=world.application_id, settings=settings, now=SATURDAY
        )
    row = await _send_row(sessions, world)
    assert row.state == SendState.SCHEDULED and row.send_at == MONDAY_NINE
    assert await _invitations(sessions, world) == 0


# --- the settings -------------------------------------------------------------------


async def test_an_admin_sets_the_send_window(client: httpx.AsyncClient, sessions: Sessions) -> None:
    admin = await desk(client, sessions, role="admin")
    page = await client.get("/staff/settings")
    assert "When candidates hear" in page.text
    bad = await client.post(
        "/staff/settings/send-window",
        data={
            "csrftoken": admin.token,
            "start": "17:00",
            "end": "09:00",
            "holidays": "2026-12-24\nChristmas",
            "untold_days": "5",
            "version": "1",
        },
    )
    assert bad.status_code == 422
    assert "Choose at least one day" in bad.text
    assert "End the window after it starts" in bad.text
    assert "“Christmas” is not a date" in bad.text
    assert "2026-12-24\nChristmas" in bad.text  # kept as typed
    saved = await client.post(
        "/staff/settings/send-window",
        data={
            "csrftoken": admin.token,
            "days": ["1", "3"],
            "start": "10:00",
            "end": "15:30",
            "holidays": "2026-12-25\r\n2026-12-24",
            "call_finalists_first": "on",
            "untold_days": "3",
            "version": "1",
        },
    )
    assert saved.status_code == 303
    async with sessions() as db:
        current = await timing.timing_of(db, organization_id=admin.organization_id)
    assert current.window.days == {1, 3}
    assert (current.window.start, current.window.end) == (600, 930)
    assert current.window.holidays == {dt.date(2026, 12, 24), dt.date(2026, 12, 25)}
    assert current.call_finalists_first and current.untold_days == 3
    # A stale version: what is saved now, not a silent overwrite.
    stale = await client.post(
        "/staff/settings/send-window",
        data={
            "csrftoken": admin.token,
            "days": "2",
            "start": "09:00",
            "end": "16:00",
            "untold_days": "5",
            "version": "1",
        },
    )
    assert stale.status_code == 409


async def test_a_window_that_would_never_open_is_refused(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    admin = await desk(client, sessions, role="admin")
    start = utcnow().date() - dt.timedelta(days=7)
    mondays = [start + dt.timedelta(days=(7 - start.weekday()) % 7 + 7 * n) for n in range(60)]
    form = {"days": "1", "start": "09:00", "end": "16:00", "untold_days": "5", "version": "1"}
    refused = await admin.post(
        "/staff/settings/send-window", holidays="\n".join(map(str, mondays)), **form
    )
    assert refused.status_code == 422
    assert "the window would not open in the coming year" in refused.text
    # One Monday fewer in the coming months, and it opens: saved.
    saved = await admin.post(
        "/staff/settings/send-window", holidays="\n".join(map(str, mondays[:20])), **form
    )
    assert saved.status_code == 303


async def test_a_recruiter_cannot_change_the_send_window(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    recruiter = await desk(client, sessions)
    answer = await recruiter.post(
        "/staff/settings/send-window",
        days="1",
        start="00:00",
        end="24:00",
        untold_days="5",
        version="1",
    )
    assert answer.status_code == 404


async def test_the_defaults_apply_until_an_admin_saves(sessions: Sessions) -> None:
    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        await db.execute(
            delete(SendSettings).where(SendSettings.organization_id == world.organization_id)
        )
    async with sessions() as db:
        current = await timing.timing_of(db, organization_id=world.organization_id)
    assert current.version == 0
    assert current.window.days == {1, 2, 3, 4}
    assert (current.window.start, current.window.end) == (540, 960)


# --- decided but not told -----------------------------------------------------------


async def test_the_list_shows_how_long_a_candidate_waits_to_be_told(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)  # decided two days ago, no invitation yet
    await desk(client, sessions, world=world)
    listing = await client.get("/staff/applications")
    assert "Not told · 2 days" in listing.text
    await _tell(sessions, settings, world, MONDAY_NINE)
    listing = await client.get("/staff/applications")
    assert "Not told" not in listing.text


async def test_recruiters_hear_once_a_day_of_candidates_waiting_too_long(
    sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    other = await make_world(sessions, email="bo@example.com", name="Bo Marsh", job_title="Chef")
    await make_staff(
        sessions, organization_id=world.organization_id, email="sam@acme.example", name="Sam"
    )
    now = dt.datetime(2026, 12, 14, 10, 0, tzinfo=UTC)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Application)
            .where(Application.id == world.application_id)
            .values(decided_at=now - dt.timedelta(days=9))
        )
        await db.execute(
            update(Application)
            .where(Application.id == other.application_id)
            .values(decided_at=now - dt.timedelta(days=1))
        )
    early = now.replace(hour=6)
    async with unit_of_work(sessions) as db:
        assert await untold.send_untold_digests(db, settings=settings, now=early) == 0
    for _ in range(2):
        async with unit_of_work(sessions) as db:
            await untold.send_untold_digests(db, settings=settings, now=now)
    [digest] = await queued_mail(sessions, "staff_untold")
    assert digest["to"] == "sam@acme.example"
    assert "Dana Scully" in digest["text"] and "decided 9 days ago" in digest["text"]
    assert "Bo Marsh" not in digest["text"]  # waiting one day: under the five
    # Once told, nobody hears of them the next day.
    await _tell(sessions, settings, world, now)
    async with unit_of_work(sessions) as db:
        later = now + dt.timedelta(days=1)
        assert await untold.send_untold_digests(db, settings=settings, now=later) == 0


async def test_a_waiting_email_cannot_be_sent_by_hand_around_the_window_or_the_call(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    await _berlin_defaults(sessions, world, call_finalists_first=True)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Application).where(Application.id == world.application_id).values(stage="final")
        )
    await _tell(sessions, settings, world, SATURDAY)
    staff = await desk(client, sessions, world=world)
    links = f"/staff/applications/{world.application_id}/links"
    # Waiting for the call: no "Re-send", and a forged post sends nothing.
    page = await client.get(f"/staff/applications/{world.application_id}")
    assert "Call before sending" in page.text and "Re-send the invitation" not in page.text
    refused = await staff.post(links)
    assert refused.status_code == 409 and "waits for the call before sending" in refused.text
    assert await _invitations(sessions, world) == 0
    # Called on a Saturday: scheduled for Monday; re-sending would skip "send now".
    assert (
        await staff.post(f"/staff/applications/{world.application_id}/call-done")
    ).status_code == 303
    assert (await _send_row(sessions, world)).state == SendState.SCHEDULED
    page = await client.get(f"/staff/applications/{world.application_id}")
    assert "Re-send the invitation" not in page.text
    refused = await staff.post(links)
    assert refused.status_code == 409 and "give your reason below" in refused.text
    assert await _invitations(sessions, world) == 0
    # Once it went, a fresh link may be sent by hand.
    async with unit_of_work(sessions) as db:
        assert await delivery.deliver_scheduled(
            db, application_id=world.application_id, settings=settings, now=MONDAY_NINE
        )
    assert (
        "Re-send the invitation"
        in (await client.get(f"/staff/applications/{world.application_id}")).text
    )
    assert (await staff.post(links)).status_code == 303
    assert await _invitations(sessions, world) == 2


async def test_a_scheduled_email_is_not_sent_again_after_a_link_went_otherwise(
    sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    await _berlin_defaults(sessions, world)
    await _tell(sessions, settings, world, SATURDAY)
    # A link sent by another way meanwhile (the command line, say).
    async with unit_of_work(sessions) as db:
        await send_invitation(
            db, application_id=world.application_id, settings=settings, now=SATURDAY
        )
    assert await _invitations(sessions, world) == 1
    async with unit_of_work(sessions) as db:
        assert not await delivery.deliver_scheduled(
            db, application_id=world.application_id, settings=settings, now=MONDAY_NINE
        )
    assert await _invitations(sessions, world) == 1
    assert (await _send_row(sessions, world)).state == SendState.SENT


async def test_the_api_says_when_the_email_waits_and_sends_no_link_around_it(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    today = utcnow().date()
    closed = {today.isoweekday(), (today + dt.timedelta(days=1)).isoweekday()}
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(SendSettings)
            .where(SendSettings.organization_id == world.organization_id)
            .values(days=[day for day in range(1, 8) if day not in closed])
        )
    key = await make_key(sessions, world.organization_id)
    path = f"/api/v1/applications/{world.application_id}"
    published = await post(client, f"{path}/publish", key, {})
    assert published.status_code == 200, published.text
    assert published.json()["published"] is True and published.json()["link_sent"] is False
    assert (await _send_row(sessions, world)).state == SendState.SCHEDULED
    refused = await post(client, f"{path}/send-link", key, {})
    assert refused.status_code == 409 and refused.json()["type"].endswith("email-waiting")
    assert await _invitations(sessions, world) == 0
