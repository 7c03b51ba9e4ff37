"""The candidate's feedback page: what they see, and what nobody else can."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from jinja2 import Template
from pydantic import SecretStr
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.app import create_app
from portal.db import unit_of_work
from portal.feedback.models import Feedback, FeedbackItem
from portal.orgs.models import Organization
from portal.settings import Settings
from portal.staff.models import StaffUser
from tests.factories import make_staff, make_world, sign_in
from tests.html import Page, text
from tests.pool_support import offer_pool

Sessions = async_sessionmaker[AsyncSession]


def _main(html: str) -> str:
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


async def test_feedback_page_shows_every_visible_part_in_order(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    response = await client.get(f"/feedback/{world.application_id}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    main = _main(response.text)
    order = [
        "Thank you, Dana",
        "You were not offered the Data Analyst role",
        "you reached the interviews",
        "Requirements: 1 met · 1 not yet met",
        "Thank you for interviewing for Data Analyst.",
        "A note from the recruiter",
        "It was a pleasure to meet you.",
        "How you matched the role",
        "Your window-function answer was precise.",
        "Not yet met",
        "What was strong",
        "Clear, well-commented queries.",
        "Where to grow, and how",
        "Trustworthy Online Controlled Experiments",
        "What happens next",
        "after 6 months",
        "Junior Analyst",
    ]
    positions = [main.index(text) for text in order]
    assert positions == sorted(positions)
    assert "Acme Corp" in response.text


async def test_internal_items_never_reach_the_candidate(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    response = await client.get(f"/feedback/{world.application_id}")
    assert "INTERNAL" not in response.text
    assert "seniority" not in response.text


async def test_another_candidates_application_is_not_found(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    mine = await make_world(sessions)
    theirs = await make_world(sessions, email="eve@example.com", name="Eve Moneypenny")
    other_org = await make_world(
        sessions, slug="globex", email="dana@example.com", name="Dana Scully"
    )
    await sign_in(client, sessions, mine)
    assert (await client.get(f"/feedback/{mine.application_id}")).status_code == 200
    for application_id in (theirs.application_id, other_org.application_id, 999_999):
        response = await client.get(f"/feedback/{application_id}")
        assert response.status_code == 404
        assert "Eve" not in response.text
        assert "Globex" not in response.text


async def test_drafts_are_not_shown(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions, published=False)
    await sign_in(client, sessions, world)
    assert (await client.get(f"/feedback/{world.application_id}")).status_code == 404
    listing = await client.get("/feedback")
    assert listing.status_code == 200
    assert "Your feedback is being written" in listing.text


async def test_the_newest_published_version_is_shown(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        db.add(
            Feedback(
                application_id=world.application_id,
                version=2,
                state="published",
                decision_summary="Version two: clearer words.",
            )
        )
        db.add(
            Feedback(
                application_id=world.application_id,
                version=3,
                state="draft",
                decision_summary="Version three is still a draft.",
            )
        )
    await sign_in(client, sessions, world)
    text = (await client.get(f"/feedback/{world.application_id}")).text
    assert "Version two: clearer words." in text
    assert "Version three" not in text
    assert "interviewing for Data Analyst" not in text


async def test_several_applications_get_a_list_first(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    first = await make_world(sessions, job_title="Data Analyst")
    second = await make_world(sessions, job_title="Data Engineer")
    assert first.candidate_id == second.candidate_id
    await sign_in(client, sessions, first)
    listing = await client.get("/feedback")
    assert listing.status_code == 200
    assert "Data Analyst" in listing.text and "Data Engineer" in listing.text
    assert listing.text.count('href="/feedback/') == 2
    page = await client.get(f"/feedback/{first.application_id}")
    assert "All your applications" in page.text


async def test_only_a_single_application_redirects_straight_to_it(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    response = await client.get("/feedback")
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/feedback/{world.application_id}")
    page = await client.get(response.headers["location"])
    assert "All your applications" not in page.text


async def test_signed_out_visitors_are_asked_to_sign_in(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    for path in ("/feedback", f"/feedback/{world.application_id}"):
        response = await client.get(path)
        assert response.status_code == 401
        assert "Get a sign-in link" in response.text


async def test_candidate_text_is_escaped(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(FeedbackItem)
            .where(FeedbackItem.kind == "growth_area")
            .values(suggestion="<script>alert(1)</script>")
        )
    await sign_in(client, sessions, world)
    text = (await client.get(f"/feedback/{world.application_id}")).text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


async def test_the_outcome_is_stated_and_the_note_signed(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    sam = await make_staff(sessions, organization_id=world.organization_id, name="Sam Rivera")
    async with unit_of_work(sessions) as db:
        await db.execute(update(StaffUser).values(title="Senior Recruiter"))
        await db.execute(
            update(Feedback).values(
                created_by_staff_id=sam,
                personal_note="Thank you, Dana.\n\nDo keep in touch.\nAll the best,",
            )
        )
    await sign_in(client, sessions, world)
    page = await client.get(f"/feedback/{world.application_id}")
    html = Page(page.text)

    outcome = text(html.one(".outcome__decision"))
    assert outcome.startswith("You were not offered the Data Analyst role · decided ")
    assert outcome.endswith(" · you reached the interviews")
    assert text(html.one(".outcome__tally")) == "Requirements: 1 met · 1 not yet met"
    paragraphs = [text(p) for p in html.all(".note .note__text")]
    assert paragraphs == ["Thank you, Dana.", "Do keep in touch.\nAll the best,"]
    assert text(html.one(".note .signature")) == "Sam Rivera, Senior Recruiter · Acme Corp"


async def test_an_unsigned_note_is_signed_by_the_organization(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    html = Page((await client.get(f"/feedback/{world.application_id}")).text)
    assert text(html.one(".note .signature")) == "Acme Corp"


async def test_next_steps_link_where_a_page_is_known_and_only_to_the_web(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Feedback).values(
                suggested_roles=["Junior Analyst", "BI Developer", "Data Steward"],
                suggested_role_urls={
                    "Junior Analyst": "https://acme.example/jobs/junior-analyst",
                    "BI Developer": "javascript:alert(1)",
                },
            )
        )
        await db.execute(
            update(FeedbackItem)
            .where(FeedbackItem.kind == "growth_area")
            .values(suggestion_url="https://exp-platform.example/book")
        )
        await db.execute(
            update(Organization).values(
                privacy_url="https://acme.example/privacy", contact_email="jobs@acme.example"
            )
        )
    await sign_in(client, sessions, world)
    page = await client.get(f"/feedback/{world.application_id}")
    html = Page(page.text)

    links = {text(a): a.get("href") for a in html.all("main a")}
    assert links["Junior Analyst"] == "https://acme.example/jobs/junior-analyst"
    assert "BI Developer" not in links and "javascript:" not in page.text
    assert "Data Steward" in text(html.one("section[aria-labelledby=next-heading]"))
    resource = html.one(".suggestion a")
    assert resource.get("href") == "https://exp-platform.example/book"
    assert text(resource) == "Open the resource for Statistics"
    footer = {text(a): a.get("href") for a in html.all("footer a")}
    assert footer["Privacy notice"] == "https://acme.example/privacy"
    assert footer["jobs@acme.example"] == "mailto:jobs@acme.example"


async def test_the_requirement_table_keeps_its_roles_when_phones_stack_it(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    html = Page((await client.get(f"/feedback/{world.application_id}")).text)
    table = html.one("table.requirements")
    assert table.get("role") == "table"
    assert [th.get("role") for th in html.all("table.requirements thead th")] == [
        "columnheader"
    ] * 3
    for row in html.all("table.requirements tbody tr"):
        assert row.get("role") == "row"
        cells = [cell.get("role") for cell in row]
        assert cells == ["rowheader", "cell", "cell"]


async def test_rendering_the_feedback_page_again_builds_no_template_module(
    client: httpx.AsyncClient, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await make_world(sessions)
    await offer_pool(sessions, world)
    await sign_in(client, sessions, world)
    page = f"/feedback/{world.application_id}"
    assert (await client.get(page)).status_code == 200  # templates loaded and compiled
    built: list[str | None] = []
    make_module = Template.make_module

    def counted(self: Template, *args: Any, **kwargs: Any) -> Any:
        built.append(self.name)
        return make_module(self, *args, **kwargs)

    monkeypatch.setattr(Template, "make_module", counted)
    response = await client.get(page)
    assert response.status_code == 200
    assert 'id="pool"' in response.text and 'id="conversation"' in response.text
    # Macros imported with the page's context are built anew on every render.
    assert built == []


async def test_templates_are_read_again_from_disk_only_in_development(
    settings: Settings,
) -> None:
    production = settings.model_copy(
        update={
            "env": "production",
            "secret_key": SecretStr("s" * 48),
            "base_url": "https://feedback.example.com",
        }
    )
    for each, reloads in ((settings, True), (production, False)):
        app = create_app(each, run_worker=False)
        try:
            assert app.state.portal.templates.env.auto_reload is reloads
        finally:
            await app.state.portal.engine.dispose()
            await app.state.portal.pdf.aclose()


async def test_the_page_with_its_pool_panel_costs_three_statements(
    app: Any, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    """The busiest page reads who is signed in; the page, its conversation and the
    talent-pool panel in one statement; and the survey under it in another
    (bench/run.py measures what each costs)."""
    world = await make_world(sessions)
    await offer_pool(sessions, world)
    await sign_in(client, sessions, world)
    page = f"/feedback/{world.application_id}"
    assert (await client.get(page)).status_code == 200
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = app.state.portal.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = await client.get(page)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    assert 'id="pool"' in response.text and "Join the talent pool" in response.text
    assert "How helpful was this feedback?" in response.text
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 3, statements
