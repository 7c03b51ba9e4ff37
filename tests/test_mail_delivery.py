"""Delivering the outbox over real SMTP, through the faults that happen in real life."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.db import create_engine, session_factory, unit_of_work, utcnow
from portal.mail import service as mail
from portal.mail.models import OutboxEmail
from portal.mail.worker import LEASE, Worker
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


def _worker(settings: Settings, sessions: Sessions, smtp: MailServer, clock: Clock) -> Worker:
    return Worker(
        settings=settings.model_copy(update={"smtp_url": smtp.url}), sessions=sessions, clock=clock
    )


async def _queue(sessions: Sessions, settings: Settings, count: int, **extra: object) -> None:
    async with unit_of_work(sessions) as db:
        for n in range(count):
            await mail.enqueue_email(
                db,
                settings=settings,
                to_address=f"person{n}@example.com",
                template="sign_in",
                context={"name": f"Person {n}", "link": f"http://testserver/l/t{n}", "minutes": 10},
                idempotency_key=f"test:{n}",
                now=utcnow() - dt.timedelta(seconds=1),
                **extra,  # type: ignore[arg-type]
            )


async def _states(sessions: Sessions) -> dict[str, int]:
    async with unit_of_work(sessions) as db:
        rows = await db.execute(select(OutboxEmail.state, func.count()).group_by(OutboxEmail.state))
        return {state: count for state, count in rows}


async def test_a_sign_in_email_arrives_over_smtp_with_a_working_link(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings, smtp: MailServer
) -> None:
    world = await make_world(sessions)
    worker = _worker(settings, sessions, smtp, Clock())
    await client.post("/signin", data={"csrftoken": await csrf_token(client), "email": world.email})
    await worker.run_once()

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
        errors = (await db.scalars(select(OutboxEmail.last_error))).all()
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
        failed = await db.scalar(select(OutboxEmail).where(OutboxEmail.state == "failed"))
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
    claimed = await dying._claim_mail()  # claims the batch, then dies without sending
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
