"""The recruiter's preview is the candidate's page: the same template and the same visible
text (the conversation, its question form and the talent-pool panel included), with a
banner above; the candidate's forms are there but inert, and carry no CSRF token."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import make_staff, make_world, sign_in, staff_sign_in
from tests.html import Page, text
from tests.pool_support import offer_pool
from tests.test_questions import _ask

Sessions = async_sessionmaker[AsyncSession]


def _words(value: str) -> str:
    return " ".join(value.split())


def _main_text(html: str, *, banner: bool = False) -> str:
    """The page's main content as words, less the preview's banner."""
    page = Page(html)
    words = _words(text(page.one("main")))
    if banner:
        shown = _words(text(page.one("main .preview-banner")))
        assert words.startswith(shown)
        words = words[len(shown) :].strip()
    return words


async def test_preview_shows_the_candidates_page_word_for_word(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await offer_pool(sessions, world)
    await sign_in(other_client, sessions, world)
    assert (await _ask(other_client, world, "Which <b>course</b> would help?")).status_code == 303
    candidates = await other_client.get(f"/feedback/{world.application_id}")
    assert candidates.status_code == 200

    await make_staff(
        sessions, organization_id=world.organization_id, email="sam@acme.example", name="Sam"
    )
    assert (await staff_sign_in(client, email="sam@acme.example")).status_code == 303
    preview = await client.get(f"/staff/applications/{world.application_id}/preview")
    assert preview.status_code == 200

    theirs = _main_text(candidates.text)
    assert "Talent pool" in theirs and "Your question" not in theirs
    assert "Which <b>course</b> would help?" in theirs
    assert _main_text(preview.text, banner=True) == theirs


async def test_the_previews_candidate_forms_are_inert_and_carry_no_token(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    await offer_pool(sessions, world)
    await make_staff(
        sessions, organization_id=world.organization_id, email="sam@acme.example", name="Sam"
    )
    assert (await staff_sign_in(client, email="sam@acme.example")).status_code == 303
    preview = await client.get(f"/staff/applications/{world.application_id}/preview")
    assert preview.status_code == 200
    page = Page(preview.text)
    inert = page.one("main .preview-inert")
    assert inert.get("inert") is not None
    # The question form and the pool panel, as the candidate sees them, inside it only.
    assert len(page.all("main .preview-inert form#ask")) == 1
    assert len(page.all("main .preview-inert section#pool form")) == 1
    assert page.all("main form#ask") == page.all("main .preview-inert form#ask")
    for field in page.all("main .preview-inert input[name=csrftoken]"):
        assert field.get("value") == ""
    # The banner's own publish form does carry the recruiter's token.
    assert page.one(".preview-banner input[name=csrftoken]").get("value")
    assert "do nothing here" in text(page.one(".preview-banner"))


async def test_another_organizations_preview_is_not_found(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    ours = await make_world(sessions)
    theirs = await make_world(sessions, slug="globex", email="eve@example.com")
    await offer_pool(sessions, theirs)
    await make_staff(
        sessions, organization_id=ours.organization_id, email="sam@acme.example", name="Sam"
    )
    await staff_sign_in(client, email="sam@acme.example")
    response = await client.get(f"/staff/applications/{theirs.application_id}/preview")
    assert response.status_code == 404
