"""Fixtures: a migrated database per run, a clean one per test, an app and a client.

SQLite by default; PostgreSQL when PORTAL_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from argon2 import profiles
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal import migrate, urls
from portal.app import create_app, route_table
from portal.db import async_url, create_engine
from portal.models import Base
from portal.settings import Settings
from portal.staff import passwords

BASE_URL = "http://testserver"


def pytest_configure(config: pytest.Config) -> None:
    # The suite makes hundreds of staff password hashes: at argon2's production cost
    # (64 MiB each) they take minutes. test_passwords.py checks the production ones.
    passwords.use_parameters(profiles.CHEAPEST)
    # Services that write email build links from the app's routes, as in the app.
    urls.use_routes(route_table())
    # The `llm` library (portal.llm) keeps keys and settings in its user directory:
    # never the person's own in tests (tests/test_language_model.py sets one per test).
    if "LLM_USER_PATH" not in os.environ:
        os.environ["LLM_USER_PATH"] = tempfile.mkdtemp(prefix="afterword-llm-")


def _on_postgres() -> bool:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    return url is not None and async_url(url).get_backend_name() == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.obj):
            item.add_marker(pytest.mark.anyio)
    if _on_postgres():
        # On PostgreSQL, only the tests that reach the database (through the
        # `database_url` fixture, which every database fixture builds on): the others
        # ran on SQLite and would only run again.
        keep = [item for item in items if "database_url" in getattr(item, "fixturenames", ())]
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


async def _fresh_postgres(url: str, worker: str | None) -> str:
    """The URL of an empty database: `url`'s own, or, for a pytest-xdist worker, one
    beside it named after the worker (created the first time)."""
    if worker is not None:
        base = make_url(url)
        name = f"{base.database}_{worker}"
        engine = create_engine(Settings(database_url=url), pool_size=1)
        try:
            async with engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                exists = await connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                )
                if not exists:
                    await connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await engine.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(Settings(database_url=url), pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if url:
        if _on_postgres():
            # Each pytest-xdist worker ("gw0", "gw1", ...) gets a database of its own.
            url = asyncio.run(_fresh_postgres(url, os.environ.get("PYTEST_XDIST_WORKER")))
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.db'}"
    migrate.upgrade(Settings(database_url=url))
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        base_url=BASE_URL,
        mail_dir=str(tmp_path / "mail"),
        run_worker=False,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(settings, run_worker=False)
    yield app
    engine = app.state.portal.engine
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())
    await engine.dispose()
    await app.state.portal.pdf.aclose()


@pytest.fixture
def sessions(app: Starlette) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = app.state.portal.sessions
    return factory


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
async def other_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser: another person, with their own cookies."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client
