"""The PDF summary: what it shows, who may have it, what it may fetch, and how it is served."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import http.server
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pebble import ProcessExpired
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.auth import Candidate
from portal.candidates.models import Application
from portal.db import unit_of_work, utcnow
from portal.feedback.models import Feedback, FeedbackItem
from portal.feedback.view import FeedbackView, load_feedback_view
from portal.orgs.models import Organization
from portal.paths import STATIC_DIR
from portal.pdf.fetcher import RefusedURL, StaticAssetFetcher
from portal.pdf.renderer import PdfRenderer, summary_filename
from portal.pdf.summary import AnsweredQuestion, with_extras
from portal.settings import Settings, SettingsError
from portal.threads.models import Message, Thread
from tests.factories import World, make_staff, make_world, open_session, sign_in
from tests.pool_support import add_member, offer_pool

Sessions = async_sessionmaker[AsyncSession]
LINK = re.compile(r'<a href="([^"]+\.pdf)">')


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Renders run niced: on a busy test machine they may take far longer than in service.
    return settings.model_copy(update={"pdf_timeout_seconds": 120.0})


def pdf_url(world: World) -> str:
    return f"/feedback/{world.application_id}/summary.pdf"


def poppler(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "summary.pdf"
    path.write_bytes(pdf)
    done = subprocess.run([tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout


def text_of(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text with line breaks and hyphenation undone, for phrase checks."""
    return " ".join(poppler("pdftotext", pdf, tmp_path).split())


def renderer(app: Starlette) -> PdfRenderer:
    found: PdfRenderer = app.state.portal.pdf
    return found


async def download(client: httpx.AsyncClient, world: World) -> httpx.Response:
    response = await client.get(pdf_url(world))
    assert response.status_code == 200, response.text
    return response


# --- what it shows ------------------------------------------------------------------------


async def test_feedback_page_links_to_its_pdf(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    page = await client.get(f"/feedback/{world.application_id}")
    links = LINK.findall(page.text)
    # With the page's actions at the top, and again at the end of the feedback.
    assert links == [pdf_url(world)] * 2
    response = await client.get(links[0])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


async def test_pdf_holds_the_feedback_shown_on_the_page(
    client: httpx.AsyncClient, sessions: Sessions, tmp_path: Path
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    response = await download(client, world)
    decided = (utcnow() - dt.timedelta(days=2)).date()
    assert response.headers["content-disposition"] == (
        f'attachment; filename="feedback-data-analyst-{decided.isoformat()}.pdf"'
    )
    text = text_of(response.content, tmp_path)
    order = [
        "Acme Corp",
        "Dana Scully",
        "Data Analyst",
        "Thank you, Dana",
        "You were not offered the Data Analyst role",
        "you reached the interviews",
        "Requirements: 1 met · 1 not yet met",
        "Thank you for interviewing for Data Analyst.",
        "A note from the recruiter",
        "It was a pleasure to meet you. — Sam",
        "How you matched the role's requirements",
        "SQL",
        "Your window-function answer was precise.",
        "Not yet met",
        "The power calculation was missing from the test design.",
        "What was strong",
        "Clear, well-commented queries.",
        "Where to grow, and how",
        "Designing experiments end to end.",
        "Trustworthy Online Controlled Experiments",
        "What happens next",
        "after 6 months",
        "Junior Analyst",
    ]
    positions = [text.index(phrase) for phrase in order]
    assert positions == sorted(positions)
    today = utcnow().date()
    assert f"Generated on {today.day} {today:%B %Y}" in text
    assert "Page 1 of 1" in text
    assert "INTERNAL" not in text and "seniority" not in text
    # Sections for parts of the view that do not exist yet are simply absent.
    assert "Your questions" not in text and "Talent pool" not in text


async def test_pdf_is_tagged_titled_and_embeds_every_font(
    client: httpx.AsyncClient, sessions: Sessions, tmp_path: Path
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    pdf = (await download(client, world)).content
    info = poppler("pdfinfo", pdf, tmp_path)
    assert re.search(r"^Title:\s+Feedback on your application: Data Analyst at Acme Corp$",
                     info, re.M)  # fmt: skip
    assert re.search(r"^Author:\s+Acme Corp$", info, re.M)
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    assert_fonts_embedded(pdf, tmp_path)


def assert_fonts_embedded(pdf: bytes, tmp_path: Path) -> None:
    rows = poppler("pdffonts", pdf, tmp_path).splitlines()[2:]
    assert rows, "no fonts listed"
    for row in rows:
        # name, type..., then the columns emb sub uni: the first "yes"/"no" is emb.
        emb = re.search(r"\s(yes|no)\s+(yes|no)\s+(yes|no)\s", row)
        assert emb and emb.group(1) == "yes", row


async def test_greek_and_cyrillic_names_survive(
    client: httpx.AsyncClient, sessions: Sessions, tmp_path: Path
) -> None:
    for name, email in (
        ("Ελένη Παπαδοπούλου", "eleni@example.com"),
        ("Дмитрий Соколов", "dmitri@example.com"),
    ):
        world = await make_world(sessions, name=name, email=email)
        client.cookies.clear()
        await sign_in(client, sessions, world)
        pdf = (await download(client, world)).content
        text = text_of(pdf, tmp_path)
        assert name in text
        assert f"Thank you, {name.split()[0]}" in text
        assert_fonts_embedded(pdf, tmp_path)


async def test_answered_questions_and_pool_status_appear_when_the_view_has_them(
    client: httpx.AsyncClient, sessions: Sessions, app: Starlette, tmp_path: Path
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    page = (await client.get(f"/feedback/{world.application_id}")).text
    assert "summary.pdf" in page
    plain = await _view(app, world)
    view = with_extras(
        plain,
        (
            AnsweredQuestion(
                "Which statistics book would you suggest?",
                "Start with Trustworthy Online Controlled Experiments.",
                dt.datetime(2026, 3, 4, tzinfo=dt.UTC),
            ),
        ),
        "You are in the talent pool until 4 March 2027.",
    )
    pdf = await renderer(app).summary(view, generated_on=utcnow().date())
    text = text_of(pdf.body, tmp_path)
    assert "Your questions, answered" in text
    assert "You asked: Which statistics book would you suggest?" in text
    assert "Acme Corp answered on 4 March 2026: Start with Trustworthy" in text
    assert "Talent pool You are in the talent pool until 4 March 2027." in text


async def test_the_downloaded_pdf_holds_the_answered_questions_and_the_pool_status(
    client: httpx.AsyncClient, sessions: Sessions, tmp_path: Path
) -> None:
    world = await make_world(sessions)
    await offer_pool(sessions, world)
    await add_member(sessions, world, joined_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
    async with unit_of_work(sessions) as db:
        job_id = await db.scalar(
            select(Application.job_id).where(Application.id == world.application_id)
        )
        assert job_id is not None
        thread = Thread(
            organization_id=world.organization_id,
            application_id=world.application_id,
            candidate_id=world.candidate_id,
            job_id=job_id,
            state="answered",
            waiting_since=utcnow(),
        )
        db.add(thread)
        await db.flush()
        answered_on = dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC)
        db.add_all(
            [
                Message(thread_id=thread.id, author_kind="candidate", body="Which SQL book?"),
                Message(
                    thread_id=thread.id,
                    author_kind="staff",
                    body="Start with <b>SQL Performance Explained</b>.",
                    sent_at=answered_on,
                ),
                Message(
                    thread_id=thread.id,
                    author_kind="staff",
                    body="A reply still waiting for approval.",
                    state="pending_approval",
                ),
                Message(thread_id=thread.id, author_kind="candidate", body="Still waiting."),
            ]
        )
    await sign_in(client, sessions, world)
    response = await client.get(f"/feedback/{world.application_id}/summary.pdf")
    assert response.status_code == 200
    text = text_of(response.content, tmp_path)
    assert "You asked: Which SQL book?" in text
    assert "answered on 3 November 2026: Start with <b>SQL Performance Explained</b>." in text
    assert "waiting for approval" not in text
    assert "Still waiting." not in text  # not answered yet
    assert "talent pool on 2 November 2026" in text

    # Staff download the same document from the application page.
    recruiter = await make_staff(sessions, organization_id=world.organization_id)
    client.cookies.clear()
    client.cookies.set("afterword_session", await open_session(sessions, staff_user_id=recruiter))
    application = await client.get(f"/staff/applications/{world.application_id}")
    assert f"/staff/applications/{world.application_id}/summary.pdf" in application.text
    staff_copy = await client.get(f"/staff/applications/{world.application_id}/summary.pdf")
    assert staff_copy.status_code == 200
    staff_text = text_of(staff_copy.content, tmp_path)
    assert "You asked: Which SQL book?" in staff_text
    assert "talent pool on 2 November 2026" in staff_text
    assert staff_copy.headers["etag"] == response.headers["etag"]


async def _view(app: Starlette, world: World) -> FeedbackView:
    actor = Candidate(world.candidate_id, world.organization_id, "", b"")
    async with unit_of_work(app.state.portal.sessions) as db:
        view = await load_feedback_view(db, actor=actor, application_id=world.application_id)
    assert view is not None
    return view


def test_file_name_is_the_role_in_ascii_and_the_decision_day() -> None:
    @dataclasses.dataclass
    class View:
        job_title: str
        decided_at: dt.datetime | None

    today = dt.date(2026, 11, 22)
    decided = dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC)
    assert summary_filename(View("Señor Data Engineer (m/f/d)", decided), generated_on=today) == (
        "feedback-senor-data-engineer-m-f-d-2026-05-01.pdf"
    )
    assert summary_filename(View("Инженер", None), generated_on=today) == (
        "feedback-role-2026-11-22.pdf"
    )
    assert summary_filename(View('a"; b.pdf\r\nX: y', None), generated_on=today) == (
        "feedback-a-b-pdf-x-y-2026-11-22.pdf"
    )


# --- who may have it ----------------------------------------------------------------------


async def test_another_candidates_pdf_is_not_found(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    mine = await make_world(sessions)
    theirs = await make_world(sessions, email="fox@example.com", name="Fox Mulder")
    await sign_in(client, sessions, mine)
    await sign_in(other_client, sessions, theirs)
    assert (await client.get(pdf_url(theirs))).status_code == 404
    assert (await other_client.get(pdf_url(mine))).status_code == 404
    assert (await other_client.get(pdf_url(theirs))).status_code == 200


async def test_no_session_no_pdf(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    response = await client.get(pdf_url(world))
    assert response.status_code == 401
    assert "Sign in" in response.text
    assert "application/pdf" not in response.headers["content-type"]


async def test_nothing_published_no_pdf(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    draft = await make_world(sessions, job_title="Data Engineer", published=False)
    await sign_in(client, sessions, world)
    assert (await client.get(pdf_url(draft))).status_code == 404


# --- what it may fetch --------------------------------------------------------------------


@pytest.fixture
def hits() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request it gets."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("content-type", "image/png")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


async def test_text_cannot_make_the_renderer_fetch_anything(
    client: httpx.AsyncClient,
    sessions: Sessions,
    app: Starlette,
    tmp_path: Path,
    hits: tuple[str, list[str]],
) -> None:
    origin, seen = hits
    world = await make_world(sessions)
    image = f'<img src="{origin}/img.png">'
    markdown = f"![x]({origin}/md.png)"
    stylesheet = f'<link rel="stylesheet" href="{origin}/style.css">'
    passwd = '<img src="file:///etc/passwd">'
    imported = f"<style>@import url({origin}/import.css);</style>"
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Feedback)
            .where(Feedback.application_id == world.application_id)
            .values(decision_summary=image, personal_note=f"{markdown} {passwd}")
        )
        await db.execute(
            update(FeedbackItem).where(FeedbackItem.kind == "strength").values(body=stylesheet)
        )
        await db.execute(
            update(Organization)
            .where(Organization.id == world.organization_id)
            .values(display_name=imported, accent_colour="red}p{x")
        )
    await sign_in(client, sessions, world)
    response = await download(client, world)
    text = text_of(response.content, tmp_path).replace(" ", "")
    for shown in (image, markdown, stylesheet, passwd, imported):
        assert shown.replace(" ", "") in text
    assert seen == []
    assert b"root:x:0:0" not in response.content


async def test_the_fetcher_serves_static_files_and_refuses_everything_else(
    hits: tuple[str, list[str]],
) -> None:
    origin, seen = hits
    fetcher = StaticAssetFetcher(STATIC_DIR)
    css = fetcher.fetch("https://afterword.invalid/static/css/summary.css")
    assert b"@page" in css.read()
    assert css.content_type == "text/css"
    refused = [
        f"{origin}/x.png",
        origin.replace("http:", "https:") + "/static/css/summary.css",
        "file:///etc/passwd",
        "data:text/css,body{}",
        "https://afterword.invalid/static/../pyproject.toml",
        "https://afterword.invalid/static/%2e%2e/pyproject.toml",
        "https://afterword.invalid/templates/pdf/summary.html",
        "https://afterword.invalid/static/css/",
    ]
    for url in refused:
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    # And markup that reaches WeasyPrint itself fetches nothing either.
    from portal.pdf.document import render_pdf

    pdf = await asyncio.to_thread(
        render_pdf,
        f'<html lang="en"><title>t</title><link rel="stylesheet" href="{origin}/a.css">'
        f'<img src="{origin}/b.png"><img src="file:///etc/passwd">'
        f"<style>@import url({origin}/c.css); p {{ background: url({origin}/d.png) }}</style>"
        "<p>text</p></html>",
    )
    assert pdf.startswith(b"%PDF-")
    assert seen == []


# --- how it is served ---------------------------------------------------------------------


async def test_second_download_comes_from_the_cache_and_304_when_unchanged(
    client: httpx.AsyncClient, sessions: Sessions, app: Starlette
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    first = await download(client, world)
    second = await download(client, world)
    assert renderer(app).renders == 1
    assert second.content == first.content
    etag = first.headers["etag"]
    assert second.headers["etag"] == etag
    assert "private" in first.headers["cache-control"]
    unchanged = await client.get(pdf_url(world), headers={"if-none-match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    assert renderer(app).renders == 1
    stale = await client.get(pdf_url(world), headers={"if-none-match": '"something-else"'})
    assert stale.status_code == 200


async def test_changed_feedback_changes_the_pdf_and_its_etag(
    client: httpx.AsyncClient, sessions: Sessions, app: Starlette, tmp_path: Path
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    before = await download(client, world)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Feedback)
            .where(Feedback.application_id == world.application_id)
            .values(personal_note="Do keep in touch. — Sam")
        )
    after = await client.get(pdf_url(world), headers={"if-none-match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert "Do keep in touch. — Sam" in text_of(after.content, tmp_path)
    assert renderer(app).renders == 2


async def test_concurrent_downloads_render_once(
    client: httpx.AsyncClient, sessions: Sessions, app: Starlette
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    responses = await asyncio.gather(*(client.get(pdf_url(world)) for _ in range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    assert len({r.content for r in responses}) == 1
    assert renderer(app).renders == 1


@pytest.fixture
def slow_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"pdf_timeout_seconds": 0.001})


async def test_a_render_that_takes_too_long_gives_a_clear_page(
    sessions: Sessions, slow_settings: Settings
) -> None:
    from portal.app import create_app

    app = create_app(slow_settings, run_worker=False)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            world = await make_world(sessions)
            await sign_in(client, sessions, world)
            response = await client.get(pdf_url(world))
            assert response.status_code == 503
            assert "Your PDF is taking too long" in response.text
            assert "try again in a minute" in response.text
            # Nothing half-made was kept: the next try renders again.
            assert (await client.get(pdf_url(world))).status_code == 503
            assert app.state.portal.pdf.renders == 2
    finally:
        await app.state.portal.pdf.aclose()
        await app.state.portal.engine.dispose()


def crash_first_time(marker: str) -> str:
    """A pool task that kills its process the first time it runs."""
    if not os.path.exists(marker):
        Path(marker).touch()
        os._exit(1)
    return "survived"


async def test_a_crashed_render_process_is_replaced(
    client: httpx.AsyncClient, sessions: Sessions, app: Starlette, tmp_path: Path
) -> None:
    pdf = renderer(app)
    assert await pdf.run(crash_first_time, str(tmp_path / "crashed")) == "survived"
    with pytest.raises(ProcessExpired):  # died twice: given up
        await pdf.run(os._exit, 1)
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    assert (await download(client, world)).content.startswith(b"%PDF-")


def test_pdf_settings_are_read_and_checked() -> None:
    settings = Settings.from_env(
        {"PORTAL_PDF_WORKERS": "3", "PORTAL_PDF_TIMEOUT_SECONDS": "2.5", "PORTAL_PDF_CACHE_MB": "0"}
    )
    assert (settings.pdf_workers, settings.pdf_timeout_seconds, settings.pdf_cache_mb) == (
        3,
        2.5,
        0,
    )
    with pytest.raises(SettingsError, match="PORTAL_PDF_TIMEOUT_SECONDS must be a number"):
        Settings.from_env({"PORTAL_PDF_TIMEOUT_SECONDS": "soon"})
    for name, value in (("PORTAL_PDF_WORKERS", "0"), ("PORTAL_PDF_TIMEOUT_SECONDS", "0")):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: value})
