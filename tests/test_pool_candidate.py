"""The candidate's talent pool: joining, changing and leaving from the feedback page,
leaving and renewing from the emailed links, expiry, and the attacks on each."""

from __future__ import annotations

import datetime as dt
import html

import httpx
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit.models import AuditEvent
from portal.db import unit_of_work, utcnow
from portal.mail.jobs import LINK_MARKER, OutgoingEmail, envelope
from portal.orgs.consent import record_consent_text
from portal.orgs.models import Organization
from portal.pool import expiry
from portal.pool.models import PoolConsentEvent, PoolMembership
from portal.pool.panel import PoolPanel
from portal.pool.tokens import LinkPurpose, member_token
from portal.security.token_paths import redact_path
from portal.settings import Settings
from tests.factories import World, make_world, sign_in
from tests.pool_support import (
    JOIN,
    STATEMENT,
    Sessions,
    join,
    leave_path,
    memberships,
    offer_pool,
    page_token,
    queued_mail,
    renew_path,
)


async def _event_kinds(db: AsyncSession) -> list[str]:
    return list(
        (await db.scalars(select(PoolConsentEvent.kind).order_by(PoolConsentEvent.id))).all()
    )


async def _member(client: httpx.AsyncClient, sessions: Sessions) -> World:
    world = await make_world(sessions)
    await offer_pool(sessions, world)
    await sign_in(client, sessions, world)
    return world


async def test_the_panel_shows_the_statement_and_nothing_is_ticked(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _member(client, sessions)
    page = await client.get(f"/feedback/{world.application_id}")
    assert page.status_code == 200
    assert 'id="pool"' in page.text
    assert "We keep your name, email address and feedback" in page.text
    assert "version 1" in page.text
    assert f'action="/feedback/{world.application_id}/pool#pool-errors"' in page.text
    assert " checked" not in page.text
    assert await memberships(sessions, world) == []


async def test_no_panel_unless_the_feedback_and_the_organization_offer_it(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    page = await client.get(f"/feedback/{world.application_id}")
    assert 'id="pool"' not in page.text
    await offer_pool(sessions, world)
    async with unit_of_work(sessions) as db:
        await db.execute(update(Organization).values(offers_pool=False))
    page = await client.get(f"/feedback/{world.application_id}")
    assert 'id="pool"' not in page.text
    token = await page_token(client, f"/feedback/{world.application_id}")
    refused = await client.post(
        f"/feedback/{world.application_id}/pool", data={**JOIN, "csrftoken": token}
    )
    assert refused.status_code == 404


async def test_joining_records_consent_and_queues_a_sealed_welcome_email(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await _member(client, sessions)
    response = await join(client, world)
    assert response.status_code == 303
    assert (
        response.headers["location"] == f"/feedback/{world.application_id}?pool=joined#pool-message"
    )
    page = await client.get(response.headers["location"])
    assert "You have joined the Acme Corp talent pool" in page.text
    assert "Leave the talent pool" in page.text

    [membership] = await memberships(sessions, world)
    assert membership.state == "active"
    assert membership.role_families == "data,engineering"
    assert membership.locations == "Berlin\nRemote in the EU"
    assert membership.duration_months == 12
    assert (membership.expires_at - membership.joined_at).days in (365, 366)
    async with sessions() as db:
        [event] = (await db.scalars(select(PoolConsentEvent))).all()
        audited = (await db.scalars(select(AuditEvent.action))).all()
    assert (event.kind, event.actor_kind) == ("joined", "candidate")
    assert event.details["consent_version"] == 1
    assert "pool.joined" in audited

    [mail] = await queued_mail(sessions, "pool_welcome")
    token = member_token(settings, membership.id, LinkPurpose.LEAVE)
    # The token waits sealed: neither the bodies nor the headers hold it in clear.
    assert token not in str(mail)
    assert mail["headers"]["List-Unsubscribe"] == f"<http://testserver/pool/leave/{LINK_MARKER}>"
    assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    sent = envelope(1, OutgoingEmail(**mail), settings)
    assert sent.headers["List-Unsubscribe"] == f"<http://testserver/pool/leave/{token}>"
    assert f"http://testserver/pool/leave/{token}" in sent.text_body
    assert "Leave whenever you like." in sent.text_body
    assert "(version 1)" in sent.text_body
    assert "Data and analytics" in sent.text_body


async def test_joining_with_htmx_swaps_only_the_panel(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _member(client, sessions)
    response = await join(client, world, htmx=True)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="card pool" id="pool"')
    assert "You have joined" in response.text
    assert "<html" not in response.text


async def test_a_join_without_agreeing_is_refused_with_every_choice_kept(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _member(client, sessions)
    response = await join(client, world, consent="", locations="<script>alert(1)</script>")
    assert response.status_code == 422
    assert "Tick the box to agree to the statement" in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>alert(1)" not in response.text
    assert 'value="data" checked' in response.text
    assert 'value="quarterly" checked' in response.text
    assert "Thank you, Dana" in response.text  # the whole page, without JavaScript
    assert await memberships(sessions, world) == []

    htmx = await join(client, world, htmx=True, remote="", locations="x" * 301)
    assert htmx.status_code == 422
    assert "<html" not in htmx.text
    assert "Keep it to 300 characters or fewer (this has 301)." in htmx.text
    assert "x" * 301 in htmx.text
    assert "Choose whether you would like remote or on-site work." in htmx.text


async def test_a_duration_the_organization_does_not_offer_is_refused(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _member(client, sessions)
    response = await join(client, world, duration_months="7")
    assert response.status_code == 422
    assert "Choose one of the periods listed." in response.text
    assert await memberships(sessions, world) == []


async def test_a_statement_changed_while_reading_is_shown_before_anyone_joins(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _member(client, sessions)
    token = await page_token(client, f"/feedback/{world.application_id}")
    async with unit_of_work(sessions) as db:
        org = await db.get(Organization, world.organization_id)
        assert org is not None
        await record_consent_text(
            db, org=org, text="A stricter statement.", staff_user_id=None, now=utcnow()
        )
    response = await client.post(
        f"/feedback/{world.application_id}/pool", data={**JOIN, "csrftoken": token}
    )
    assert response.status_code == 409
    assert "The statement changed while you were reading it" in response.text
    assert "A stricter statement." in response.text
    assert 'name="consent_version" value="2"' in response.text
    assert await memberships(sessions, world) == []
    again = await join(client, world, consent_version="2")
    assert again.status_code == 303
    assert len(await memberships(sessions, world)) == 1
    async with sessions() as db:
        [event] = (await db.scalars(select(PoolConsentEvent))).all()
    assert event.details["consent_version"] == 2


async def test_changing_preferences_and_leaving_from_the_page(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _member(client, sessions)
    await join(client, world)
    token = await page_token(client, f"/feedback/{world.application_id}")
    page = await client.get(f"/feedback/{world.application_id}")
    assert 'value="engineering" checked' in page.text
    changed = await client.post(
        f"/feedback/{world.application_id}/pool/preferences",
        data={
            "csrftoken": token,
            "role_families": "design",
            "locations": "Lisbon",
            "remote": "remote",
            "which_roles": "chosen",
            "contact_frequency": "monthly",
        },
        headers={"hx-request": "true"},
    )
    assert changed.status_code == 200
    assert "Your preferences are saved." in changed.text
    [membership] = await memberships(sessions, world)
    assert (membership.role_families, membership.locations, membership.remote) == (
        "design",
        "Lisbon",
        "remote",
    )
    left = await client.post(
        f"/feedback/{world.application_id}/pool/leave", data={"csrftoken": token}
    )
    assert left.status_code == 303
    [membership] = await memberships(sessions, world)
    assert membership.state == "left" and membership.left_at is not None
    page = await client.get(left.headers["location"])
    assert "You have left the talent pool." in page.text
    assert "Join the talent pool" in page.text  # and may join again
    async with sessions() as db:
        kinds = await _event_kinds(db)
    assert kinds == ["joined", "changed", "left"]


async def test_rejoining_is_a_new_consent_and_the_old_one_stays(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await _member(client, sessions)
    await join(client, world)
    token = await page_token(client, f"/feedback/{world.application_id}")
    await client.post(f"/feedback/{world.application_id}/pool/leave", data={"csrftoken": token})
    await join(client, world, duration_months="6")
    first, second = await memberships(sessions, world)
    assert (first.state, second.state) == ("left", "active")
    assert second.duration_months == 6
    assert len(await queued_mail(sessions, "pool_welcome")) == 2
    # The old membership's emailed link is spent for good: it cannot end the new one.
    reused = await httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver"
    ).post(leave_path(settings, first.id), data={"List-Unsubscribe": "One-Click"})
    assert reused.status_code == 200
    _, second = await memberships(sessions, world)
    assert second.state == "active"


async def test_joining_twice_keeps_one_membership(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _member(client, sessions)
    await join(client, world)
    await join(client, world)
    assert len(await memberships(sessions, world)) == 1


async def test_join_and_change_need_the_csrf_token(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _member(client, sessions)
    await client.get(f"/feedback/{world.application_id}")
    refused = await client.post(f"/feedback/{world.application_id}/pool", data=JOIN)
    assert refused.status_code == 403
    await join(client, world)
    for path in ("pool/preferences", "pool/leave"):
        refused = await client.post(
            f"/feedback/{world.application_id}/{path}", data={**JOIN, "csrftoken": "forged"}
        )
        assert refused.status_code == 403
    [membership] = await memberships(sessions, world)
    assert membership.state == "active" and membership.remote == "either"


async def test_a_candidate_cannot_join_through_another_candidates_application(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    mine = await _member(client, sessions)
    theirs = await make_world(sessions, email="eve@example.com", name="Eve")
    await offer_pool(sessions, theirs)
    token = await page_token(client, f"/feedback/{mine.application_id}")
    for path in ("pool", "pool/preferences", "pool/leave"):
        response = await client.post(
            f"/feedback/{theirs.application_id}/{path}", data={**JOIN, "csrftoken": token}
        )
        assert response.status_code == 404, path
    assert await memberships(sessions, theirs) == []


# --- the emailed links, without a session ------------------------------------------


async def test_one_click_unsubscribe_withdraws_at_once_without_cookie_or_csrf(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    world = await _member(client, sessions)
    await join(client, world)
    [membership] = await memberships(sessions, world)
    path = leave_path(settings, membership.id)
    # A mail client: no cookie, no token, only the RFC 8058 body.
    response = await other_client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "You have left the talent pool" in response.text
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers
    [membership] = await memberships(sessions, world)
    assert membership.state == "left"
    async with sessions() as db:
        event = await db.scalar(select(PoolConsentEvent).where(PoolConsentEvent.kind == "left"))
    assert event is not None and event.actor_kind == "email_link"
    # Repeating it is harmless.
    again = await other_client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    async with sessions() as db:
        events = (await db.scalars(select(PoolConsentEvent.kind))).all()
    assert events.count("left") == 1


async def test_opening_the_leave_link_withdraws_nothing_and_offers_a_button(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    world = await _member(client, sessions)
    await join(client, world)
    [membership] = await memberships(sessions, world)
    path = leave_path(settings, membership.id)
    for _ in range(2):
        page = await other_client.get(path)
        assert page.status_code == 200
        assert page.headers["referrer-policy"] == "no-referrer"
    assert "Leave the Acme Corp talent pool?" in page.text
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    head = await other_client.head(path)
    assert head.status_code == 200
    [membership] = await memberships(sessions, world)
    assert membership.state == "active"
    # Pressing the button, as the person would.
    pressed = await other_client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert pressed.status_code == 200
    [membership] = await memberships(sessions, world)
    assert membership.state == "left"
    after = await other_client.get(path)
    assert "You are not in the talent pool" in after.text


async def test_forged_or_misdirected_leave_tokens_find_nothing(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    world = await _member(client, sessions)
    await join(client, world)
    other = await make_world(sessions, email="bo@example.com", name="Bo")
    await offer_pool(sessions, other)
    await sign_in(other_client, sessions, other)
    await join(other_client, other)
    [a] = await memberships(sessions, world)
    [b] = await memberships(sessions, other)
    token_a = member_token(settings, a.id, LinkPurpose.LEAVE)
    mac = token_a.split(".", 1)[1]
    forged = [
        f"{b.id}.{mac}",  # A's token aimed at B
        f"{a.id}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",  # altered
        f"{a.id}",
        "x" * 43,
        f"0{a.id}.{mac}",
        member_token(
            settings.model_copy(update={"secret_key": SecretStr("x" * 40)}),
            b.id,
            LinkPurpose.LEAVE,
        ),
    ]
    async with httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver"
    ) as stranger:
        for token in forged:
            for method in ("GET", "POST"):
                response = await stranger.request(
                    method, f"/pool/leave/{token}", data={"List-Unsubscribe": "One-Click"}
                )
                assert response.status_code == 404, (method, token)
        # A POST without the RFC 8058 body withdraws nothing.
        bare = await stranger.post(f"/pool/leave/{token_a}", data={"x": "y"})
        assert bare.status_code == 400
    assert [m.state for m in await memberships(sessions, world)] == ["active"]
    assert [m.state for m in await memberships(sessions, other)] == ["active"]


# --- renewal and expiry --------------------------------------------------------------


async def _run_expiry(sessions: Sessions, settings: Settings, now: dt.datetime) -> tuple[int, int]:
    async with unit_of_work(sessions) as db:
        return await expiry.remind_and_expire(db, settings=settings, now=now)


async def test_renewal_is_requested_once_and_renewing_takes_one_confirmed_click(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    world = await _member(client, sessions)
    await join(client, world, duration_months="6")
    [membership] = await memberships(sessions, world)
    early = membership.expires_at - dt.timedelta(days=31)
    assert await _run_expiry(sessions, settings, early) == (0, 0)
    due = membership.expires_at - dt.timedelta(days=29)
    assert await _run_expiry(sessions, settings, due) == (1, 0)
    assert await _run_expiry(sessions, settings, due + dt.timedelta(hours=1)) == (0, 0)
    [mail] = await queued_mail(sessions, "pool_renewal")
    sent = envelope(1, OutgoingEmail(**mail), settings)
    renew = member_token(settings, membership.id, LinkPurpose.RENEW)
    leave = member_token(settings, membership.id, LinkPurpose.LEAVE)
    assert renew not in str(mail) and leave not in str(mail)
    assert f"http://testserver/pool/renew/{renew}" in sent.text_body
    assert f"http://testserver/pool/leave/{leave}" in sent.text_body
    assert sent.headers["List-Unsubscribe"] == f"<http://testserver/pool/leave/{leave}>"

    # Opening the link renews nothing; the button does (with the page's CSRF token).
    path = renew_path(settings, membership.id)
    page = await other_client.get(path)
    assert page.status_code == 200
    assert "Stay in the Acme Corp talent pool?" in page.text
    assert "Leave whenever you like." in page.text
    [unchanged] = await memberships(sessions, world)
    assert unchanged.expires_at == membership.expires_at
    refused = await other_client.post(path, data={"consent_version": "1"})
    assert refused.status_code == 403
    token_field = await page_token(other_client, path)
    renewed = await other_client.post(path, data={"consent_version": "1", "csrftoken": token_field})
    assert renewed.status_code == 303
    done = await other_client.get(renewed.headers["location"])
    assert "Thank you, you are staying" in done.text
    [after] = await memberships(sessions, world)
    assert after.expires_at > membership.expires_at
    assert after.renewal_requested_at is None
    async with sessions() as db:
        kinds = await _event_kinds(db)
    assert kinds == ["joined", "renewed"]


async def test_renewing_on_a_newer_statement_shows_it_first(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    world = await _member(client, sessions)
    await join(client, world)
    [membership] = await memberships(sessions, world)
    path = renew_path(settings, membership.id)
    token_field = await page_token(other_client, path)
    async with unit_of_work(sessions) as db:
        org = await db.get(Organization, world.organization_id)
        assert org is not None
        await record_consent_text(
            db, org=org, text="Version two.", staff_user_id=None, now=utcnow()
        )
    stale = await other_client.post(path, data={"consent_version": "1", "csrftoken": token_field})
    assert stale.status_code == 409
    assert "Version two." in stale.text and "this has changed since you joined" in stale.text
    ok = await other_client.post(path, data={"consent_version": "2", "csrftoken": token_field})
    assert ok.status_code == 303
    async with sessions() as db:
        version = await db.scalar(
            select(PoolConsentEvent.details).where(PoolConsentEvent.kind == "renewed")
        )
    assert version is not None and version["consent_version"] == 2


async def test_consent_past_its_expiry_ends_and_cannot_be_renewed(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    world = await _member(client, sessions)
    await join(client, world, duration_months="6")
    [membership] = await memberships(sessions, world)
    later = membership.expires_at + dt.timedelta(minutes=1)
    # Nobody ran the job during the notice period: the request still goes out
    # only while there is time; past expiry the consent simply ends.
    assert await _run_expiry(sessions, settings, later) == (0, 1)
    [ended] = await memberships(sessions, world)
    assert ended.state == "expired"
    page = await other_client.get(renew_path(settings, membership.id))
    assert "Your consent has ended" in page.text
    page = await client.get(f"/feedback/{world.application_id}")
    assert "Join the talent pool" in page.text
    async with sessions() as db:
        audited = await db.scalar(select(AuditEvent).where(AuditEvent.action == "pool.expired"))
    assert audited is not None and audited.actor_kind == "system"


async def test_a_new_statement_never_applies_to_existing_members(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _member(client, sessions)
    await join(client, world)
    async with unit_of_work(sessions) as db:
        org = await db.get(Organization, world.organization_id)
        assert org is not None
        await record_consent_text(
            db, org=org, text="Version two.", staff_user_id=None, now=utcnow()
        )
    page = await client.get(f"/feedback/{world.application_id}")
    assert "You agreed to version 1 of the statement" in page.text
    [membership] = await memberships(sessions, world)
    async with sessions() as db:
        text_version = await db.scalar(
            select(PoolMembership.consent_text_id).where(PoolMembership.id == membership.id)
        )
    assert text_version == membership.consent_text_id
    assert html.escape(STATEMENT.split("\n")[0]) not in page.text  # the join form is gone


async def test_a_huge_body_is_refused_before_anything_is_read(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _member(client, sessions)
    token = await page_token(client, f"/feedback/{world.application_id}")
    huge = {**JOIN, "csrftoken": token, "locations": "x" * (10 * 1024 * 1024)}
    response = await client.post(f"/feedback/{world.application_id}/pool", data=huge)
    assert response.status_code == 413
    one_click = await other_client.post(
        "/pool/leave/1.x", data={"List-Unsubscribe": "One-Click", "pad": "x" * (10 * 1024 * 1024)}
    )
    assert one_click.status_code == 413
    assert await memberships(sessions, world) == []


def test_pool_tokens_never_reach_the_access_log() -> None:
    assert redact_path("/pool/leave/12.AbC-_x") == "/pool/leave/[redacted]"
    assert redact_path("/careers/pool/renew/12.AbC?done=renewed") == (
        "/careers/pool/renew/[redacted]?done=renewed"
    )
    assert redact_path("/staff/pool/12") == "/staff/pool/12"


def test_the_pool_forms_option_lists_are_built_once() -> None:
    panels = [
        PoolPanel(
            application_id=n,
            organization="Acme",
            consent_text="We keep your details.",
            consent_version=1,
            durations=(6, 12),
            membership=None,
        )
        for n in (1, 2)
    ]
    for name in ("role_families", "remote_choices", "frequency_choices", "duration_choices"):
        first, second = (getattr(panel, name) for panel in panels)
        assert first is second, name  # the same constant, not a new dict per render
    assert dict(panels[0].duration_choices) == {"6": "6 months", "12": "1 year"}
