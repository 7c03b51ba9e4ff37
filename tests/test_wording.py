"""Who the pages speak to and how they name an organization: staff pages speak about
the candidate, never to them; no page, PDF or email writes "Northwind Analytics's";
the candidate's page says where the PDF is, and says so when they are in the pool."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.candidates.models import Application, Stage
from portal.db import unit_of_work
from portal.feedback.view import STAFF_STAGE_WORDS, STAGE_WORDS
from portal.mail.service import render_email
from portal.orgs.models import Organization
from portal.paths import TEMPLATES_DIR
from portal.pdf.document import summary_html
from portal.pdf.summary import pool_status, with_extras
from portal.pool.panel import Membership
from tests.factories import World, make_staff, make_world, sign_in, staff_sign_in
from tests.html import Page, text
from tests.pool_support import add_member, join, offer_pool
from tests.test_email_templates import SAMPLES, _context

Sessions = async_sessionmaker[AsyncSession]
ROOT = Path(__file__).resolve().parent.parent
PLURAL_NAME = "Northwind Analytics"


# --- 1. staff pages speak about the candidate -----------------------------------------


def test_every_stage_has_words_for_the_candidate_and_for_staff() -> None:
    assert set(STAGE_WORDS) == set(STAFF_STAGE_WORDS) == set(Stage)
    for words in STAFF_STAGE_WORDS.values():
        assert not re.search(r"\b(you|your)\b", words, re.IGNORECASE), words


async def _staff(client: httpx.AsyncClient, sessions: Sessions, world: World) -> None:
    await make_staff(sessions, organization_id=world.organization_id)
    assert (await staff_sign_in(client)).status_code == 303


async def test_staff_pages_say_how_far_the_candidate_went_in_the_third_person(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        await db.execute(update(Application).values(stage=Stage.SCREEN))
    await offer_pool(sessions, world)
    membership_id = await add_member(sessions, world)
    await _staff(client, sessions, world)
    application = await client.get(f"/staff/applications/{world.application_id}")
    editor = await client.get(f"/staff/applications/{world.application_id}/feedback")
    member = await client.get(f"/staff/pool/{membership_id}")
    for page in (application, editor, member):
        assert page.status_code == 200
        assert "Reached the screening call" in page.text
        assert "You reached" not in page.text
        assert "you reached" not in page.text
    stage = Page(application.text).all("dl.account dd")[1]
    assert text(stage) == "Reached the screening call"
    # The preview is the candidate's own page: it speaks to them, as they will read it.
    preview = await client.get(f"/staff/applications/{world.application_id}/preview")
    assert "you reached the screening call" in preview.text


# --- 2. no "Analytics's" ---------------------------------------------------------------


def _membership(state: str = "active") -> Membership:
    joined = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    return Membership(
        id=1,
        state=state,
        role_families=(),
        locations=(),
        remote="either",
        only_chosen_roles=False,
        contact_frequency="quarterly",
        duration_months=12,
        joined_at=joined,
        expires_at=joined.replace(year=2027),
        left_at=joined + dt.timedelta(days=30) if state == "left" else None,
        consent_version=1,
    )


@pytest.mark.parametrize("state", ["active", "left", "expired"])
def test_the_pdf_names_the_pool_without_a_possessive(state: str) -> None:
    status = pool_status(_membership(state), PLURAL_NAME)
    assert f"the {PLURAL_NAME} talent pool" in status
    assert "'s" not in status


@pytest.mark.parametrize("template", sorted(SAMPLES))
def test_no_email_writes_a_possessive_after_the_organization(template: str) -> None:
    context = _context(template, organization=PLURAL_NAME)
    for part in render_email(template, context):
        assert f"{PLURAL_NAME}'s" not in part and f"{PLURAL_NAME}&#39;s" not in part, template


def test_no_template_or_module_puts_a_possessive_after_a_name_it_is_given() -> None:
    """A name ending in s ("Northwind Analytics") makes "Analytics's": write "the
    Northwind Analytics talent pool" or "feedback from Northwind Analytics" instead."""
    found = []
    for path in Path(TEMPLATES_DIR).rglob("*.*"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\}\}\s*['\u2019]s\b", line):
                found.append(f"{path.name}:{number}")
    organization_name = re.compile(r"\{[^{}]*(organization|display_name)[^{}]*\}['\u2019]s\b")
    for path in (ROOT / "portal").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if organization_name.search(line):
                found.append(f"{path.name}:{number}")
    assert not found, found


async def test_the_staff_invitation_page_names_the_workspace_plainly(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    rendered = render_email(
        "staff_invitation", _context("staff_invitation", organization=PLURAL_NAME)
    )
    assert f"the {PLURAL_NAME} staff workspace" in rendered[1]


# --- 3. the next steps say when the candidate is a member -------------------------------


async def _plural_world(client: httpx.AsyncClient, sessions: Sessions) -> World:
    world = await make_world(sessions)
    await offer_pool(sessions, world)
    async with unit_of_work(sessions) as db:
        await db.execute(update(Organization).values(display_name=PLURAL_NAME))
    await sign_in(client, sessions, world)
    return world


def _next_steps(page: httpx.Response) -> str:
    return text(Page(page.text).one("section[aria-labelledby=next-heading]"))


async def test_the_next_steps_say_the_candidate_is_in_the_pool_once_they_join(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _plural_world(client, sessions)
    before = await client.get(f"/feedback/{world.application_id}")
    assert "may invite you to its talent pool" in _next_steps(before)
    await join(client, world)
    after = await client.get(f"/feedback/{world.application_id}")
    steps = _next_steps(after)
    assert "may invite you" not in steps
    assert re.search(rf"You are in the {PLURAL_NAME} talent pool until \d+ \w+ 20\d\d", steps)
    assert "Analytics's" not in after.text and "Analytics&#39;s" not in after.text


def test_the_pdf_says_the_candidate_is_in_the_pool() -> None:
    from portal.feedback.view import FeedbackView
    from portal.orgs.branding import Branding

    view = FeedbackView(
        application_id=1,
        version=1,
        state="published",  # type: ignore[arg-type]
        published_at=None,
        branding=Branding(display_name=PLURAL_NAME, slug="nw", accent_colour="#123456"),
        candidate_name="Sam Reyes",
        job_title="Data Analyst",
        team="",
        location="",
        stage=Stage.SCREEN,
        decided_at=None,
        decision_summary="Thank you.",
        personal_note="",
        reapply_after_months=None,
        suggested_roles=(),
        pool_invitation_offered=True,
        has_other_applications=False,
    )
    member = _membership()
    summary = with_extras(
        view, (), pool_status(member, PLURAL_NAME), pool_member_until=member.expires_at
    )
    html = summary_html(summary, generated_on=dt.date(2026, 2, 1))
    assert f"You are in the {PLURAL_NAME} talent pool until 5 January 2027." in html
    assert "may invite you" not in html
    assert "Analytics's" not in html and "Analytics&#39;s" not in html
    # Not a member: the offer, as before.
    offer = summary_html(dataclasses.replace(view), generated_on=dt.date(2026, 2, 1))
    assert "may invite you to its talent pool" in offer


# --- 4. the PDF link near the top ------------------------------------------------------


async def test_the_pdf_link_is_with_the_pages_actions_and_before_the_pool_panel(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _plural_world(client, sessions)
    page = await client.get(f"/feedback/{world.application_id}")
    html = Page(page.text)
    pdf = f"/feedback/{world.application_id}/summary.pdf"
    top = html.one("header.feedback__intro a.download, header.feedback__intro .download a")
    assert top.get("href") == pdf and text(top) == "Download a PDF summary"
    links = [a for a in html.all("main a") if a.get("href") == pdf]
    assert len(links) == 2
    assert page.text.rindex(f'href="{pdf}"') < page.text.index('id="pool"')


async def test_the_preview_offers_the_staff_pdf_in_the_same_places(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await _staff(client, sessions, world)
    page = await client.get(f"/staff/applications/{world.application_id}/preview")
    html = Page(page.text)
    top = html.one("header.feedback__intro .download a")
    assert (
        top.get("href") == f"/staff/applications/{world.application_id}/summary.pdf?version=latest"
    )
