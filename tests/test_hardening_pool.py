"""What an attack pass broke in the talent pool: a leaked unsubscribe link that renewed
consent, mangled one-click headers, invitation races and a double-clicked join."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select, text

from portal.candidates.models import Job
from portal.db import unit_of_work
from tests.factories import make_world, sign_in
from tests.pool_support import (
    JOIN,
    Sessions,
    memberships,
    offer_pool,
    page_token,
)


async def test_a_double_clicked_join_makes_one_membership_and_no_error(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await offer_pool(sessions, world)
    await sign_in(client, sessions, world)
    token = await page_token(client, f"/feedback/{world.application_id}")
    data = {**JOIN, "csrftoken": token}
    answers = await asyncio.gather(
        *(client.post(f"/feedback/{world.application_id}/pool", data=data) for _ in range(2))
    )
    assert [a.status_code for a in answers] == [303, 303], [a.text[:300] for a in answers]
    assert [m.state for m in await memberships(sessions, world)] == ["active"]


# --- SQLite: savepoints inside the request's transaction --------------------------------


async def test_a_released_savepoint_rolls_back_with_its_transaction(sessions: Sessions) -> None:
    world = await make_world(sessions)
    with pytest.raises(RuntimeError):
        async with unit_of_work(sessions) as db:
            async with db.begin_nested():
                db.add(
                    Job(organization_id=world.organization_id, title="Ghost", team="", location="")
                )
                await db.flush()
            raise RuntimeError("the request fails after its savepoint")
    async with sessions() as db:
        assert await db.scalar(select(Job.id).where(Job.title == "Ghost")) is None


async def test_sqlite_connections_keep_their_settings(sessions: Sessions) -> None:
    async with sessions() as db:
        if db.get_bind().dialect.name != "sqlite":
            pytest.skip("SQLite's connection settings")
        pragmas = [
            (await db.execute(text(f"PRAGMA {name}"))).scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        ]
    assert pragmas == ["wal", 1, 5000, 1]
