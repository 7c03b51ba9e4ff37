"""A burst of PDF downloads: bounded waiting, deadlines from the start of a render, and a
pool that a stuck render cannot take down for everyone."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.app import create_app
from portal.pdf.renderer import PdfRenderer
from portal.settings import Settings, SettingsError
from tests.factories import World, make_world, open_session

Sessions = async_sessionmaker[AsyncSession]
BURST = 60
STUCK = "Stuck Render"
# Bounds for the test's own waiting, so that it stops by itself whatever happens.
GATE_WAIT_SECONDS = 60.0
BURST_WAIT_SECONDS = 120.0


# --- render functions run in the pool's processes (module level: pickled by name) -------


def render_when_released(gate: str, view: Any, generated_on: dt.date, seconds: float) -> bytes:
    """The real render, once the file `gate` exists: renders stay in flight until then."""
    from portal.pdf import document

    waited_until = time.monotonic() + GATE_WAIT_SECONDS
    while not Path(gate).exists() and time.monotonic() < waited_until:
        time.sleep(0.02)
    return document.render_summary(view, generated_on, seconds)


def render_or_get_stuck(started: str, view: Any, generated_on: dt.date, seconds: float) -> bytes:
    """Half a second of work for most; for STUCK, a render that never finishes and never
    looks at its own deadline (as one stuck in C code would not)."""
    if view.candidate_name == STUCK:
        Path(started).touch()
        time.sleep(3600)
    time.sleep(0.5)
    return f"%PDF-1.7 {view.candidate_name}".encode()


# --- helpers -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serving(settings: Settings, **changes: Any) -> AsyncIterator[Starlette]:
    """An app with two render processes and `changes` to the settings."""
    changes = {"pdf_workers": 2, **changes}
    app = create_app(settings.model_copy(update=changes), run_worker=False)
    try:
        yield app
    finally:
        await app.state.portal.pdf.aclose()
        await app.state.portal.engine.dispose()


def renderer(app: Starlette) -> PdfRenderer:
    found: PdfRenderer = app.state.portal.pdf
    return found


async def candidates(sessions: Sessions, count: int, *, first: str = "") -> list[World]:
    """`count` candidates with feedback of their own, so that no two share a PDF."""
    return [
        await make_world(
            sessions,
            email=f"candidate{n}@example.com",
            name=first if n == 0 and first else f"Candidate {n}",
            job_title=f"Analyst {n}",
        )
        for n in range(count)
    ]


async def download(client: httpx.AsyncClient, sessions: Sessions, world: World) -> httpx.Response:
    token = await open_session(sessions, candidate_id=world.candidate_id)
    return await client.get(
        f"/feedback/{world.application_id}/summary.pdf",
        headers={"cookie": f"afterword_session={token}"},
    )


def client_of(app: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def until_done(tasks: list[asyncio.Task[httpx.Response]], count: int) -> None:
    """Wait until `count` of `tasks` have finished."""
    async with asyncio.timeout(BURST_WAIT_SECONDS):
        while sum(task.done() for task in tasks) < count:
            await asyncio.wait(
                [task for task in tasks if not task.done()], return_when=asyncio.FIRST_COMPLETED
            )


def assert_try_again_later(response: httpx.Response, title: str) -> None:
    assert response.status_code == 503
    assert response.headers["retry-after"] == "60"
    assert title in response.text
    assert "try again in a minute" in response.text


# --- the attacks ---------------------------------------------------------------------------


async def test_a_burst_of_pdfs_is_served_or_asked_to_come_back_never_failed(
    settings: Settings, sessions: Sessions, tmp_path: Path
) -> None:
    # A deadline the held renders cannot reach on the slowest machine: this is about
    # how many wait, not how long.
    async with serving(settings, pdf_timeout_seconds=GATE_WAIT_SECONDS) as app:
        await burst(app, sessions, tmp_path)


async def burst(app: Starlette, sessions: Sessions, tmp_path: Path) -> None:
    pdf = renderer(app)
    gate = tmp_path / "released"
    pdf.render = functools.partial(render_when_released, str(gate))
    admitted = pdf.workers + pdf.max_waiting
    assert admitted < BURST
    worlds = await candidates(sessions, BURST)
    async with client_of(app) as client:
        burst = [asyncio.create_task(download(client, sessions, world)) for world in worlds]
        try:
            # Every render is held in flight: all beyond the pool and its queue are
            # answered at once...
            await until_done(burst, BURST - admitted)
            # ...and the pages go on being served meanwhile.
            page = await client.get(
                f"/feedback/{worlds[0].application_id}",
                headers={
                    "cookie": "afterword_session="
                    + await open_session(sessions, candidate_id=worlds[0].candidate_id)
                },
            )
            assert page.status_code == 200
            assert "Analyst 0" in page.text
        finally:
            gate.touch()
        responses = await asyncio.gather(*burst)

    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) == admitted
    assert pdf.renders == admitted and pdf.refused == BURST - admitted
    for response in responses:
        if response.status_code == 200:
            assert response.content.startswith(b"%PDF-")
        else:
            assert_try_again_later(response, "Many PDFs are being made right now")


async def test_a_stuck_render_fails_only_itself(
    settings: Settings, sessions: Sessions, tmp_path: Path
) -> None:
    # The pool stops a render KILL_GRACE_SECONDS after its own deadline.
    async with serving(settings, pdf_timeout_seconds=1.0) as app:
        await stuck_among_others(app, sessions, tmp_path)


async def stuck_among_others(app: Starlette, sessions: Sessions, tmp_path: Path) -> None:
    pdf = renderer(app)
    started = tmp_path / "stuck-started"
    pdf.render = functools.partial(render_or_get_stuck, str(started))
    worlds = await candidates(sessions, 9, first=STUCK)
    async with client_of(app) as client:
        stuck = asyncio.create_task(download(client, sessions, worlds[0]))
        async with asyncio.timeout(GATE_WAIT_SECONDS):
            while not started.exists():  # noqa: ASYNC110 (made by another process)
                await asyncio.sleep(0.02)
        # Eight renders of half a second each wait for the one process left: together
        # longer than a render's deadline, which runs only once each has started.
        others = await asyncio.gather(*(download(client, sessions, w) for w in worlds[1:]))
        stopped = await stuck

    assert [response.status_code for response in others] == [200] * 8
    assert [response.content for response in others] == [
        f"%PDF-1.7 Candidate {n}".encode() for n in range(1, 9)
    ]
    assert_try_again_later(stopped, "Your PDF is taking too long")
    # The pool that served them is the one that was started: never replaced.
    assert pdf.pool_starts == 1
    assert pdf.renders == 9


async def test_the_render_pool_starts_with_the_app(settings: Settings, sessions: Sessions) -> None:
    app = create_app(settings, run_worker=False)
    pdf = renderer(app)
    async with app.router.lifespan_context(app):
        assert pdf.pool_starts == 1  # before any request
        world = (await candidates(sessions, 1))[0]
        async with client_of(app) as client:
            response = await download(client, sessions, world)
        assert response.status_code == 200
        assert response.content.startswith(b"%PDF-")
        assert pdf.pool_starts == 1  # the download used the pool the app started


def test_the_pdf_queue_setting_is_read_and_checked() -> None:
    settings = Settings.from_env({"PORTAL_PDF_WORKERS": "3", "PORTAL_PDF_QUEUE_PER_WORKER": "0"})
    assert PdfRenderer(settings).max_waiting == 0
    assert PdfRenderer(Settings.from_env({"PORTAL_PDF_WORKERS": "3"})).max_waiting == 24
    with pytest.raises(SettingsError, match="PORTAL_PDF_QUEUE_PER_WORKER"):
        Settings.from_env({"PORTAL_PDF_QUEUE_PER_WORKER": "-1"})
