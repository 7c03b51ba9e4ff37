"""Prometheus metrics at /metrics: off by default, behind a bearer token when one is set."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.app import create_app
from portal.db import unit_of_work, utcnow
from portal.mail import service as mail
from portal.metrics import MULTIPROCESS
from portal.settings import Settings
from tests.conftest import BASE_URL
from tests.factories import make_world

Sessions = async_sessionmaker[AsyncSession]
TOKEN = "s3cret-metrics-token-for-the-scraper"


@pytest.fixture
async def metered(settings: Settings, app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    # `app` (the default app) cleans the database afterwards.
    enabled = create_app(
        settings.model_copy(update={"metrics_enabled": True, "metrics_token": SecretStr(TOKEN)}),
        run_worker=False,
    )
    transport = httpx.ASGITransport(app=enabled)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client
    await enabled.state.portal.engine.dispose()


async def test_metrics_are_off_by_default(client: httpx.AsyncClient) -> None:
    answer = await client.get("/metrics")
    assert answer.status_code == 404
    assert "portal_request" not in answer.text


async def test_metrics_need_the_token_when_one_is_set(metered: httpx.AsyncClient) -> None:
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}):
        answer = await metered.get("/metrics", headers=headers)
        assert answer.status_code == 401
        assert "portal_" not in answer.text
        assert answer.headers["www-authenticate"] == 'Bearer realm="metrics"'


async def test_latency_by_route_name_and_queue_depths(
    metered: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    for _ in range(3):
        assert (await metered.get("/healthz")).status_code == 200
    assert (await metered.get(f"/l/{'x' * 43}")).status_code in (200, 404, 410)
    assert (await metered.get("/no/such/page")).status_code == 404
    async with unit_of_work(sessions) as db:
        for n, when in enumerate((utcnow(), utcnow() + dt.timedelta(hours=1))):
            await mail.enqueue_email(
                db,
                settings=settings,
                to_address=world.email,
                template="sign_in",
                context={"name": "Dana", "minutes": 10},
                link="http://testserver/l/t",
                idempotency_key=f"metrics:{n}",
                now=when,
            )
    answer = await metered.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    families = {family.name: family for family in text_string_to_metric_families(answer.text)}
    counts = {
        (sample.labels["route"], sample.labels["status"]): sample.value
        for sample in families["portal_request_duration_seconds"].samples
        if sample.name.endswith("_count")
    }
    assert counts[("ops.healthz", "2xx")] == 3
    assert counts[("none", "4xx")] == 1  # no route: never the path itself
    assert not any("/" in route or "x" * 43 in route for route, _ in counts)
    jobs = {
        (sample.labels["kind"], sample.labels["state"]): sample.value
        for sample in families["portal_jobs"].samples
    }
    assert jobs[("mail.send", "due")] == 1
    assert jobs[("mail.send", "waiting")] == 1


def test_one_scrape_answers_for_every_process_sharing_a_multiprocess_directory(
    tmp_path: Path,
) -> None:
    # Under `portal serve --workers N` a scrape reaches any one process: with
    # PROMETHEUS_MULTIPROC_DIR set (before prometheus_client is imported, as in a
    # process started with it), each records to the directory and any one reports all.
    env = {**os.environ, MULTIPROCESS: str(tmp_path)}
    record = (
        "from portal.metrics import Metrics\n"
        "Metrics().requests.labels('candidate.feedback', 'GET', '2xx').observe(0.02)\n"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", record], env=env, check=True, timeout=60)
    scrape = (
        "import sys\n"
        "from portal.metrics import Metrics\n"
        "sys.stdout.write(Metrics().exposition([('mail.send', 'due', 4)]).decode())\n"
    )
    text = subprocess.run(
        [sys.executable, "-c", scrape],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    labels = (("method", "GET"), ("route", "candidate.feedback"), ("status", "2xx"))
    assert samples[("portal_request_duration_seconds_count", labels)] == 2
    assert samples[("portal_jobs", (("kind", "mail.send"), ("state", "due")))] == 4
