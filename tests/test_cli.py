"""The `portal` command."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.db import create_engine
from portal.settings import Settings
from tests.factories import make_world, open_link

ROOT = Path(__file__).resolve().parent.parent


async def portal(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "portal.cli", *args],
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=ROOT,
        )

    return await asyncio.to_thread(run)


async def test_every_command_explains_itself() -> None:
    for command in (
        ["--help"],
        ["demo", "--help"],
        ["serve", "--help"],
        ["worker", "--help"],
        ["db", "upgrade", "--help"],
        ["links", "issue", "--help"],
    ):
        result = await portal(*command)
        assert result.returncode == 0, command
        assert "usage: portal" in result.stdout
    assert "fresh invitation link" in (await portal("links", "issue", "--help")).stdout


async def test_links_issue_prints_a_working_link(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    world = await make_world(sessions)
    result = await portal(
        "links",
        "issue",
        "--application",
        str(world.application_id),
        env={"PORTAL_DATABASE_URL": database_url, "PORTAL_BASE_URL": "http://testserver"},
    )
    assert result.returncode == 0, result.stderr
    link = result.stdout.strip()
    assert link.startswith("http://testserver/l/")
    response = await open_link(client, link.removeprefix("http://testserver"))
    assert response.status_code == 303


async def test_links_issue_for_an_unknown_application_fails_clearly(database_url: str) -> None:
    result = await portal(
        "links", "issue", "--application", "424242", env={"PORTAL_DATABASE_URL": database_url}
    )
    assert result.returncode == 1
    assert "no application with id 424242" in result.stderr


async def test_db_upgrade_creates_a_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'portal.db'}"
    result = await portal("db", "upgrade", env={"PORTAL_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()
    assert {"applications", "feedback", "access_links", "sessions"} <= set(tables)
