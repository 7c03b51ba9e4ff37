"""Two of everything: two `portal serve` processes and two `portal worker` processes on
one PostgreSQL database behave as one, through a killed worker and a database outage.

PostgreSQL only (several processes need it). The processes reach the database
through a proxy the test controls (`tests/tcpproxy.py`), and deliver mail to test
SMTP servers (`tests/mailserver.py`), one per worker, so the test knows which
worker sent what.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.db import unit_of_work, utcnow
from portal.jobs.models import BackgroundJob, JobState
from portal.mail import service as mail
from portal.mail.jobs import MAIL_SEND
from portal.security.ratelimit import LIMITS
from portal.settings import Settings
from tests.factories import CSRF_FIELD, invitation, make_world
from tests.mailserver import MailServer, Recorder
from tests.processes import stop
from tests.tcpproxy import TcpProxy

Sessions = async_sessionmaker[AsyncSession]
ROOT = Path(__file__).resolve().parent.parent
SERVING = re.compile(r"serving on (http://127\.0\.0\.1:\d+)")
LEASE_SECONDS = 5
START_SECONDS = 90  # a busy machine starts four processes slowly
HOLD_AT = 11  # the message held in flight when its worker is killed


@dataclass
class Counting:
    """What both test SMTP servers share: how many DATA commands they saw, and the one
    held in flight (not yet accepted) until the test has killed its sender."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    seen: int = 0
    held: threading.Event = field(default_factory=threading.Event)
    held_by: int | None = None  # which server (so: which worker) sent it
    release: threading.Event = field(default_factory=threading.Event)


class HoldingRecorder(Recorder):
    def __init__(self, counting: Counting, index: int) -> None:
        super().__init__()
        self.counting = counting
        self.index = index

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        counting = self.counting
        with counting.lock:
            counting.seen += 1
            hold = counting.seen == HOLD_AT
        if hold:
            counting.held_by = self.index
            counting.held.set()
            await asyncio.to_thread(counting.release.wait, 60)
            # Its sender died before the message was accepted: like a real server whose
            # client vanished mid-transaction, this one does not take it.
            return "451 4.4.2 Connection lost before the end of the transaction"
        return await super().handle_DATA(server, session, envelope)


def _on_postgres(settings: Settings) -> bool:
    return settings.database_url.startswith("postgresql")


@dataclass
class Process:
    popen: subprocess.Popen[bytes]
    stderr: Path

    def log(self) -> str:
        return self.stderr.read_text(errors="replace")


def _start(command: list[str], env: dict[str, str], stderr_path: Path) -> Process:
    with stderr_path.open("wb") as stderr:
        popen = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", *command],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    return Process(popen, stderr_path)


async def _wait_for(process: Process, pattern: re.Pattern[str] | str, deadline: float) -> str:
    while True:
        found = re.search(pattern, process.log())
        if found:
            return found.group(1) if found.groups() else found.group(0)
        if process.popen.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(process.log())
        await asyncio.sleep(0.1)


async def _until(check: Any, deadline: float, what: str) -> None:
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


@pytest.fixture
async def proxy(settings: Settings) -> AsyncIterator[TcpProxy]:
    if not _on_postgres(settings):
        pytest.skip("several processes on one database need PostgreSQL")
    url = make_url(settings.database_url)
    tcp = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await tcp.start()
    yield tcp
    await tcp.close()


async def test_two_app_processes_and_two_workers_behave_as_one(
    settings: Settings, sessions: Sessions, proxy: TcpProxy, tmp_path: Path
) -> None:
    counting = Counting()
    smtp = [MailServer(), MailServer()]
    for index, server in enumerate(smtp):
        server.recorder = HoldingRecorder(counting, index)
        server.start()
    processes: list[Process] = []
    try:
        await _two_of_everything(settings, sessions, proxy, tmp_path, smtp, counting, processes)
    finally:
        counting.release.set()
        for process in processes:  # all at once: each finishes what it was doing
            if process.popen.poll() is None:
                process.popen.terminate()
        for process in processes:
            stop(process.popen)
        for server in smtp:
            server.stop()


async def _two_of_everything(
    settings: Settings,
    sessions: Sessions,
    proxy: TcpProxy,
    tmp_path: Path,
    smtp: list[MailServer],
    counting: Counting,
    processes: list[Process],
) -> None:
    proxied = make_url(settings.database_url).set(host="127.0.0.1", port=proxy.port)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=proxied.render_as_string(hide_password=False),
        PORTAL_MAIL_DIR=str(tmp_path / "mail"),
        PORTAL_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
        PORTAL_DB_ACQUIRE_TIMEOUT_SECONDS="2",
        PORTAL_PDF_WORKERS="1",
        PYTHONUNBUFFERED="1",
    )
    deadline = time.monotonic() + START_SECONDS
    for n in range(2):
        processes.append(
            _start(["serve", "--port", "0", "--no-worker"], env, tmp_path / f"app{n}.txt")
        )
    for n in range(2):
        processes.append(
            _start(["worker"], {**env, "PORTAL_SMTP_URL": smtp[n].url}, tmp_path / f"w{n}.txt")
        )
    apps = [await _wait_for(process, SERVING, deadline) for process in processes[:2]]
    workers = processes[2:]
    for process in workers:
        await _wait_for(process, "worker started", deadline)

    async with httpx.AsyncClient(timeout=30) as client:
        for app in apps:
            await _until(
                lambda app=app: _status(client, f"{app}/readyz", 200), deadline, "readiness"
            )
        await _alternating_candidate(client, apps, sessions)
        await _link_limit_across_processes(client, apps)
        await _killed_worker(sessions, settings, smtp, counting, workers)
        await _database_outage(client, apps, proxy)
        await _worker_after_the_outage(sessions, settings)

    # Nothing was restarted: every process but the killed worker still runs.
    assert sum(process.popen.poll() is None for process in processes) == 3


async def _status(client: httpx.AsyncClient, url: str, status: int) -> bool:
    try:
        return (await client.get(url)).status_code == status
    except httpx.TransportError:
        return False


def _csrf(page: httpx.Response) -> str:
    found = CSRF_FIELD.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


async def _alternating_candidate(
    client: httpx.AsyncClient, apps: list[str], sessions: Sessions
) -> None:
    """Signed in on one process, the candidate reads and asks on the other, and the
    question limit counts requests to both."""
    world = await make_world(sessions)
    link = await invitation(sessions, world)
    a, b = apps
    page = await client.get(f"{a}{link}")
    assert page.status_code == 200
    signed_in = await client.post(f"{a}{link}", data={"csrftoken": _csrf(page)})
    assert signed_in.status_code == 303, signed_in.text
    feedback_path = f"/feedback/{world.application_id}"
    page = await client.get(f"{b}{feedback_path}")
    assert page.status_code == 200 and "Data Analyst" in page.text
    allowed = LIMITS["question"].amount
    answers = []
    for n in range(allowed + 2):
        server = apps[n % 2]
        page = await client.get(f"{server}{feedback_path}")
        assert page.status_code == 200
        answer = await client.post(
            f"{server}{feedback_path}/questions",
            data={"csrftoken": _csrf(page), "body": f"Question number {n} about SQL?"},
        )
        answers.append(answer.status_code)
    assert answers == [303] * allowed + [429, 429]
    # Every accepted question shows on either process; the refused ones nowhere.
    for server in apps:
        page = await client.get(f"{server}{feedback_path}")
        for n in range(allowed):
            assert f"Question number {n} about SQL?" in page.text
        assert f"Question number {allowed} about SQL?" not in page.text


async def _link_limit_across_processes(client: httpx.AsyncClient, apps: list[str]) -> None:
    """Guessing links from one address: the documented limit, whichever process answers."""
    allowed = LIMITS["link_confirm"].amount
    # The test talks to the processes from loopback, which they trust to say who the
    # client is (as they trust the reverse proxy in front of them).
    headers = {"x-forwarded-for": "198.51.100.77"}
    token = _csrf(await client.get(f"{apps[0]}/signin"))
    answers = []
    for n in range(allowed + 2):
        answer = await client.post(
            f"{apps[n % 2]}/l/not-a-real-token-{n}", data={"csrftoken": token}, headers=headers
        )
        answers.append(answer.status_code)
    assert 429 not in answers[:allowed], answers
    assert answers[allowed:] == [429, 429]
    # Another address is not held back by this one.
    other = await client.post(
        f"{apps[1]}/l/not-a-real-token",
        data={"csrftoken": token},
        headers={"x-forwarded-for": "198.51.100.78"},
    )
    assert other.status_code != 429


async def _killed_worker(
    sessions: Sessions,
    settings: Settings,
    smtp: list[MailServer],
    counting: Counting,
    workers: list[Process],
) -> None:
    """A worker killed (SIGKILL) with a message in flight loses and doubles nothing:
    the other worker takes its rows when the lease runs out."""
    queued = 40
    async with unit_of_work(sessions) as db:
        before = await _sent_count(db)
        for n in range(queued):
            await mail.enqueue_email(
                db,
                settings=settings,
                to_address=f"person{n}@example.com",
                template="sign_in",
                context={"name": f"Person {n}", "minutes": 10},
                link=f"http://testserver/l/t{n}",
                idempotency_key=f"scale:{n}",
                now=utcnow(),
            )
    assert await asyncio.to_thread(counting.held.wait, 60), "no message was held"
    assert counting.held_by is not None
    killed = workers[counting.held_by]
    killed.popen.send_signal(signal.SIGKILL)
    killed.popen.wait(timeout=10)
    counting.release.set()
    survivor = workers[1 - counting.held_by]

    async def all_sent() -> bool:
        async with unit_of_work(sessions) as db:
            return await _sent_count(db) == before + queued

    await _until(all_sent, time.monotonic() + 60, "the survivor to send the rest")
    ids = [
        int(found.group(1))
        for server in smtp
        for message_id in server.recorder.message_ids()
        if (found := OUTBOX_ID.match(message_id))
    ]
    assert len(ids) == len(set(ids)), "an email was sent twice"
    async with unit_of_work(sessions) as db:
        assert set(ids) == await _sent_ids(db)  # every one sent, none lost
    # The survivor sent what the killed worker had claimed and not sent.
    assert smtp[1 - counting.held_by].recorder.messages
    assert survivor.popen.poll() is None


async def _database_outage(client: httpx.AsyncClient, apps: list[str], proxy: TcpProxy) -> None:
    """The database goes away under load: friendly 503 pages, then service again by
    itself; no request fails any other way."""
    answers: dict[str, list[int]] = {app: [] for app in apps}
    loading = True

    async def load(app: str) -> None:
        while loading:
            page = await client.get(f"{app}/feedback")
            answers[app].append(page.status_code)
            if page.status_code == 503:
                assert "Please try again shortly" in page.text
            await asyncio.sleep(0.05)

    load_tasks = [asyncio.create_task(load(app)) for app in apps]
    await asyncio.sleep(0.5)
    await proxy.drop()
    for app in apps:
        for path in ("/feedback", "/readyz"):
            page = await client.get(f"{app}{path}")
            assert page.status_code == 503, (path, page.text[:300])
        page = await client.get(f"{app}/feedback")
        assert "Please try again shortly" in page.text
        assert page.headers["retry-after"] == "5"
        assert (await client.get(f"{app}/healthz")).status_code == 200  # the process lives

    # The database stays away until the load has met the outage on both processes (a
    # restart takes a while; refused connections answer in milliseconds).
    async def both_met_it() -> bool:
        return all(503 in seen for seen in answers.values())

    await _until(both_met_it, time.monotonic() + 15, "the load to meet the outage")
    await proxy.restore()
    deadline = time.monotonic() + 30
    for app in apps:
        # The first request on a connection the outage cut may still answer 503.
        await _until(lambda app=app: _status(client, f"{app}/readyz", 200), deadline, "ready")
        assert (await client.get(f"{app}/feedback")).status_code == 303
    loading = False
    await asyncio.gather(*load_tasks)
    # To the candidate's one application, or "try again": nothing else.
    for seen in answers.values():
        assert set(seen) <= {303, 503}, seen
        assert 503 in seen and seen[-1] == 303


async def _worker_after_the_outage(sessions: Sessions, settings: Settings) -> None:
    """The surviving worker, whose connections the outage cut too, delivers new email
    without being restarted."""
    async with unit_of_work(sessions) as db:
        before = await _sent_count(db)
        await mail.enqueue_email(
            db,
            settings=settings,
            to_address="after.the.outage@example.com",
            template="sign_in",
            context={"name": "After", "minutes": 10},
            link="http://testserver/l/after",
            idempotency_key="scale:after-the-outage",
            now=utcnow(),
        )

    async def sent() -> bool:
        async with unit_of_work(sessions) as db:
            return await _sent_count(db) == before + 1

    await _until(sent, time.monotonic() + 60, "the worker to deliver after the outage")


OUTBOX_ID = re.compile(r"<outbox\.(\d+)@")


async def _sent_count(db: AsyncSession) -> int:
    status = await mail.outbox_status(db)
    return status.counts.get("sent", 0)


async def _sent_ids(db: AsyncSession) -> set[int]:
    rows = await db.scalars(
        select(BackgroundJob.id).where(
            BackgroundJob.kind == MAIL_SEND.name, BackgroundJob.state == JobState.DONE
        )
    )
    return set(rows)
