"""Delivering the outbox over real SMTP, through the faults that happen in real life."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.access.jobs import FRESH_LINK, SIGN_IN
from portal.access.models import AccessLink
from portal.db import create_engine, session_factory, unit_of_work, utcnow
from portal.jobs.models import BackgroundJob
from portal.jobs.registry import Registry
from portal.jobs.worker import LEASE, Worker
from portal.mail import service as mail
from portal.mail.jobs import MAIL_SEND
from portal.orgs.models import Organization
from portal.security.tokens import token_digest
from portal.settings import Settings
from tests.factories import csrf_token, make_world, open_link
from tests.mailserver import MailServer

Sessions = async_sessionmaker[AsyncSession]


class Clock:
    """Real time, moved forward by the test instead of waiting."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    @property
    def now(self) -> dt.datetime:
        return utcnow() + self.offset

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.offset += dt.timedelta(**delta)


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    server = MailServer()
    server.start()
    yield server
    server.stop()


# The kinds these tests drive, without the periodic ones (due whenever a test moves
# its clock by hours), so that a pass's count is the email it took.
KINDS = Registry()
KINDS.add(MAIL_SEND)
KINDS.add(SIGN_IN)
KINDS.add(FRESH_LINK)


def _worker(settings: Settings, sessions: Sessions, smtp: MailServer, clock: Clock) -> Worker:
    return Worker(
        settings=settings.model_copy(update={"smtp_url": smtp.url}),
        sessions=sessions,
        clock=clock,
        kinds=KINDS,
    )


async def _queue_one(db: AsyncSession, settings: Settings, n: int, **extra: object) -> bool:
    """Queue a sign-in email to person<n> with key test:<n> (or `idempotency_key=`)."""
    options: dict[str, object] = {"idempotency_key": f"test:{n}", **extra}
    return await mail.enqueue_email(
        db,
        settings=settings,
        to_address=f"person{n}@example.com",
        template="sign_in",
        context={"name": f"Person {n}", "minutes": 10},
        link=f"http://testserver/l/t{n}",
        now=utcnow() - dt.timedelta(seconds=1),
        **options,  # type: ignore[arg-type]
    )


async def _queue(sessions: Sessions, settings: Settings, count: int, **extra: object) -> None:
    async with unit_of_work(sessions) as db:
        for n in range(count):
            await _queue_one(db, settings, n, **extra)


async def _states(sessions: Sessions) -> dict[str, int]:
    async with unit_of_work(sessions) as db:
        status = await mail.outbox_status(db)
    return {state: count for state, count in status.counts.items() if count}


async def test_a_sign_in_email_arrives_over_smtp_with_a_working_link(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    world = await make_world(sessions)
    worker = _worker(settings, sessions, smtp, Clock())
    await client.post("/signin", data={"csrftoken": await csrf_token(client), "email": world.email})
    assert await worker.run_once() == 2  # the request, then the email it queued

    [message] = smtp.recorder.messages
    assert message["To"] == "dana@example.com"
    assert message["From"] == "Acme Corp <feedback@afterword.localhost>"
    assert message["Subject"] == "Your sign-in link for Acme Corp"
    assert message["Date"] and message["Message-ID"].endswith("@afterword.localhost>")
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    link = next(w for w in text.get_content().split() if w.startswith("http://testserver/l/"))
    assert link in html.get_content()
    response = await open_link(client, link.removeprefix("http://testserver"))
    assert response.status_code == 303


async def test_the_same_event_never_queues_two_emails(
    sessions: Sessions, settings: Settings
) -> None:
    await _queue(sessions, settings, 1)
    await _queue(sessions, settings, 1)
    assert await _states(sessions) == {"pending": 1}


async def test_an_organizations_own_sender_is_used(
    sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    from sqlalchemy import update

    from portal.orgs.models import Organization

    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Organization).values(
                mail_from_address="careers@acme.example", mail_from_name="Acme Careers"
            )
        )
    await _queue(sessions, settings, 1, organization_id=world.organization_id)
    await _worker(settings, sessions, smtp, Clock()).run_once()
    [message] = smtp.recorder.messages
    assert message["From"] == "Acme Careers <careers@acme.example>"
    assert message["Message-ID"].endswith("@acme.example>")


async def test_a_sender_name_saved_with_a_line_break_still_sends_on_one_line(
    sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    # Saved before the settings form refused line breaks: the header stays one line
    # (no injected Bcc) and the message is delivered.
    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        organization = await db.get(Organization, world.organization_id)
        assert organization is not None
        organization.mail_from_name = "Acme\r\nBcc: everyone@example.com"
    await _queue(sessions, settings, 1, organization_id=world.organization_id)
    await _worker(settings, sessions, smtp, Clock()).run_once()
    [message] = smtp.recorder.messages
    assert message["From"] == '"Acme Bcc: everyone@example.com" <feedback@afterword.localhost>'
    assert message["Bcc"] is None
    assert await _states(sessions) == {"sent": 1}


async def test_pool_mail_carries_one_click_unsubscribe_headers(
    sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    await _queue(sessions, settings, 1, unsubscribe_url="http://testserver/pool/leave/abc")
    await _worker(settings, sessions, smtp, Clock()).run_once()
    [message] = smtp.recorder.messages
    assert message["List-Unsubscribe"] == "<http://testserver/pool/leave/abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_server_down_then_back_delivers_everything_once(
    sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    clock = Clock()
    worker = _worker(settings, sessions, smtp, clock)
    await _queue(sessions, settings, 5)
    smtp.stop()
    assert await worker.run_once() == 5
    assert await _states(sessions) == {"pending": 5}
    async with unit_of_work(sessions) as db:
        errors = (
            await db.scalars(
                select(BackgroundJob.last_error).where(BackgroundJob.kind == "mail.send")
            )
        ).all()
    assert all(errors)

    smtp.start()
    assert await worker.run_once() == 0  # backing off
    clock.advance(minutes=2)
    assert await worker.run_once() == 5
    assert await _states(sessions) == {"sent": 5}
    assert len(smtp.recorder.messages) == 5
    assert len(set(smtp.recorder.message_ids())) == 5


async def test_a_temporary_refusal_is_retried(
    sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    clock = Clock()
    worker = _worker(settings, sessions, smtp, clock)
    await _queue(sessions, settings, 1)
    smtp.recorder.replies = ["451 4.3.0 Try again later"]
    await worker.run_once()
    assert await _states(sessions) == {"pending": 1}
    clock.advance(minutes=2)
    await worker.run_once()
    assert await _states(sessions) == {"sent": 1}
    assert len(smtp.recorder.messages) == 1


async def test_a_permanent_refusal_fails_at_once_and_keeps_the_error(
    sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    clock = Clock()
    worker = _worker(settings, sessions, smtp, clock)
    await _queue(sessions, settings, 2)
    smtp.recorder.replies = ["550 5.1.1 No such user"]
    await worker.run_once()
    assert await _states(sessions) == {"failed": 1, "sent": 1}
    async with unit_of_work(sessions) as db:
        failed = await db.scalar(select(BackgroundJob).where(BackgroundJob.state == "failed"))
        assert failed is not None and "No such user" in (failed.last_error or "")
        assert failed.attempts == 1
    clock.advance(days=2)
    assert await worker.run_once() == 0  # not retried forever

    async with unit_of_work(sessions) as db:
        status = await mail.outbox_status(db)
        assert status.counts == {"pending": 0, "sent": 1, "failed": 1}
        assert await mail.requeue(db, now=clock.now, failed=True) == 1
    await worker.run_once()
    assert await _states(sessions) == {"sent": 2}


async def test_the_last_attempt_marks_an_email_failed(
    sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    clock = Clock()
    worker = _worker(settings.model_copy(update={"mail_max_attempts": 3}), sessions, smtp, clock)
    await _queue(sessions, settings, 1)
    smtp.stop()
    for _ in range(3):
        await worker.run_once()
        clock.advance(hours=7)
    assert await _states(sessions) == {"failed": 1}
    smtp.start()


async def test_a_worker_killed_mid_batch_releases_its_rows_after_the_lease(
    sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    clock = Clock()
    await _queue(sessions, settings, 7)
    dying = _worker(settings, sessions, smtp, clock)
    claimed, _ = await dying._claim()  # claims the batch, then dies without sending
    assert len(claimed) == 7

    survivor = _worker(settings, sessions, smtp, clock)
    assert await survivor.run_once() == 0  # the lease still holds
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await survivor.run_once() == 7
    assert await _states(sessions) == {"sent": 7}
    assert len(set(smtp.recorder.message_ids())) == 7


async def test_two_workers_deliver_a_thousand_emails_exactly_once(
    sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("several workers run only on PostgreSQL")
    await _queue(sessions, settings, 1000)
    engines = [create_engine(settings, pool_size=2) for _ in range(2)]
    try:
        workers = [
            Worker(
                settings=settings.model_copy(update={"smtp_url": smtp.url}),
                sessions=session_factory(engine),
            )
            for engine in engines
        ]

        async def drain(worker: Worker) -> int:
            total = 0
            while done := await worker.run_once():
                total += done
            return total

        shares = await asyncio.gather(*(drain(worker) for worker in workers))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(shares) == 1000
    assert all(share > 0 for share in shares), shares
    ids = smtp.recorder.message_ids()
    assert len(ids) == 1000 and len(set(ids)) == 1000
    assert await _states(sessions) == {"sent": 1000}


async def test_an_invitation_email_leads_to_the_feedback(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    from portal.access.service import send_invitation

    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        await send_invitation(
            db, application_id=world.application_id, settings=settings, now=utcnow()
        )
    await _worker(settings, sessions, smtp, Clock()).run_once()
    [message] = smtp.recorder.messages
    assert message["Subject"] == "Feedback on your application to Acme Corp"
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    body = text.get_content()
    assert "Data Analyst" in body
    assert "ask us a question" not in body  # not promised until candidates can ask
    link = next(w for w in body.split() if w.startswith("http://testserver/l/"))
    response = await open_link(client, link.removeprefix("http://testserver"))
    assert response.headers["location"].endswith(f"/feedback/{world.application_id}")


async def test_a_message_that_cannot_be_built_fails_alone_and_at_once(
    sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    from sqlalchemy import update

    from portal.orgs.models import Organization

    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        # A sender address with a line break (names are read as one line; addresses are
        # checked by the settings form, but not when written straight to the table).
        await db.execute(
            update(Organization).values(
                mail_from_address="careers@acme.example\r\nBcc: x@evil.example"
            )
        )
    await _queue(sessions, settings, 1)
    async with unit_of_work(sessions) as db:
        await _queue_one(
            db, settings, 9, idempotency_key="broken", organization_id=world.organization_id
        )
    await _queue(sessions, settings, 2)  # keys test:0 (taken) and test:1: one more email

    assert await _worker(settings, sessions, smtp, Clock()).run_once() == 3
    assert len(smtp.recorder.messages) == 2
    assert await _states(sessions) == {"sent": 2, "failed": 1}
    async with unit_of_work(sessions) as db:
        failed = await db.scalar(select(BackgroundJob).where(BackgroundJob.state == "failed"))
    assert failed is not None and failed.attempts == 1
    assert "linefeed" in (failed.last_error or "")


async def test_concurrent_enqueue_of_one_key_creates_one_row(
    sessions: Sessions, settings: Settings
) -> None:
    async def enqueue() -> bool:
        async with unit_of_work(sessions) as db:
            return await _queue_one(db, settings, 0, idempotency_key="one-event")

    results = await asyncio.gather(*(enqueue() for _ in range(8)))
    assert sorted(results) == [False] * 7 + [True]
    async with unit_of_work(sessions) as db:
        assert await db.scalar(select(func.count()).select_from(BackgroundJob)) == 1


def _on_postgres(settings: Settings) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("several workers and a droppable connection need PostgreSQL")


async def test_a_batch_slower_than_its_lease_is_delivered_exactly_once_by_two_workers(
    sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    _on_postgres(settings)
    await _queue(sessions, settings, 12)
    smtp.recorder.delay = 0.25  # 12 sends take 3 s; the lease is 1 s
    lease = dt.timedelta(seconds=1)
    engines = [create_engine(settings, pool_size=3) for _ in range(2)]
    try:
        workers = [
            Worker(
                settings=settings.model_copy(update={"smtp_url": smtp.url}),
                sessions=session_factory(engine),
                lease=lease,
            )
            for engine in engines
        ]

        async def keep_working(worker: Worker) -> None:
            stop = asyncio.get_running_loop().time() + 4.5
            while asyncio.get_running_loop().time() < stop:
                if not await worker.run_once():
                    await asyncio.sleep(0.05)

        await asyncio.gather(*(keep_working(worker) for worker in workers))
    finally:
        for engine in engines:
            await engine.dispose()
    ids = smtp.recorder.message_ids()
    assert len(ids) == 12 and len(set(ids)) == 12
    assert await _states(sessions) == {"sent": 12}


async def test_a_database_drop_after_smtp_accepted_a_batch_costs_no_second_send(
    sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    from sqlalchemy.engine import make_url

    from tests.tcpproxy import TcpProxy

    _on_postgres(settings)
    await _queue(sessions, settings, 5)
    url = make_url(settings.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    clock = Clock()
    engine = create_engine(settings.model_copy(update={"database_url": proxied}), pool_size=2)
    loop = asyncio.get_running_loop()
    dropped = asyncio.Event()

    def cut_the_database_after_the_last(count: int) -> None:
        if count == 5:  # the SMTP server has accepted the whole batch
            loop.call_soon_threadsafe(dropped.set)

    async def drop_then_restore() -> None:
        await dropped.wait()
        await proxy.drop()
        await asyncio.sleep(1.5)
        await proxy.restore()

    smtp.recorder.accepted = cut_the_database_after_the_last
    try:
        worker = Worker(
            settings=settings.model_copy(update={"smtp_url": smtp.url}),
            sessions=session_factory(engine),
            clock=clock,
        )
        outage = asyncio.create_task(drop_then_restore())
        assert await worker.run_once() == 5  # returns once the outcomes are recorded
        await outage
        assert await _states(sessions) == {"sent": 5}
        clock.advance(seconds=LEASE.total_seconds() + 1)
        assert await worker.run_once() == 0
    finally:
        await engine.dispose()
        await proxy.drop()
    ids = smtp.recorder.message_ids()
    assert len(ids) == 5 and len(set(ids)) == 5


TOKEN_RUN = re.compile(r"[A-Za-z0-9_-]{43,}")


async def _usable_tokens(sessions: Sessions, texts: list[str]) -> set[str]:
    """Every substring of `texts` that is a link token the portal would accept."""
    async with unit_of_work(sessions) as db:
        stored = set((await db.scalars(select(AccessLink.token_hash))).all())
    found = set()
    for text in texts:
        for run in TOKEN_RUN.findall(text):
            for start in range(len(run) - 42):
                if token_digest(run[start : start + 43]) in stored:
                    found.add(run[start : start + 43])
    return found


async def _job_table_text(sessions: Sessions) -> list[str]:
    """Every column of every row of the job table, as text (JSON for JSON)."""
    async with unit_of_work(sessions) as db:
        rows = (await db.execute(select(BackgroundJob.__table__))).all()
    return [
        json.dumps(value) if isinstance(value, dict | list) else str(value)
        for row in rows
        for value in row
    ]


async def test_no_row_of_the_job_table_holds_a_link_that_signs_in(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    from portal.access.service import answer_sign_in_request, send_invitation

    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        await answer_sign_in_request(db, email=world.email, settings=settings, now=utcnow())
        await send_invitation(
            db, application_id=world.application_id, settings=settings, now=utcnow()
        )
    worker = _worker(settings, sessions, smtp, Clock())
    # Two emails wait, each with a link.
    async with unit_of_work(sessions) as db:
        assert (await mail.outbox_status(db)).counts["pending"] == 2
    assert await _usable_tokens(sessions, await _job_table_text(sessions)) == set()

    await worker.run_once()  # sends them
    assert await _states(sessions) == {"sent": 2}
    assert await _usable_tokens(sessions, await _job_table_text(sessions)) == set()

    # The same search finds the links where they belong, in the delivered email.
    bodies = []
    for message in smtp.recorder.messages:
        text, html = (message.get_body(preferencelist=(kind,)) for kind in ("plain", "html"))
        assert text is not None and html is not None
        bodies += [text.get_content(), html.get_content()]
    tokens = await _usable_tokens(sessions, bodies)
    assert len(tokens) == 2
    for token in tokens:
        assert (await open_link(client, f"/l/{token}")).status_code == 303
