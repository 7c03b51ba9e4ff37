"""Driving the job pages as a signed-in staff member, for the job and library tests."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.candidates.models import Application, Requirement
from portal.db import unit_of_work
from tests.factories import World, csrf_token, make_staff, make_world, open_session

Sessions = async_sessionmaker[AsyncSession]
COOKIE = "afterword_session"
REQUIREMENT_ITEM = re.compile(r'<li id="requirement-(\d+)">\s*<p><span class="req-name">([^<]*)<')


@dataclass
class Desk:
    """A browser signed in as one staff member, with the CSRF token its forms carry."""

    client: httpx.AsyncClient
    token: str
    staff_id: int
    world: World

    @property
    def organization_id(self) -> int:
        return self.world.organization_id

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path)

    async def post(self, path: str, **data: str) -> httpx.Response:
        return await self.client.post(path, data={"csrftoken": self.token, **data})


async def desk(
    client: httpx.AsyncClient,
    sessions: Sessions,
    *,
    role: str = "recruiter",
    world: World | None = None,
    slug: str = "acme",
    email: str | None = None,
) -> Desk:
    """A staff member of `world`'s organization (a new one of `slug` by default),
    signed in on `client`."""
    if world is None:
        world = await make_world(sessions, slug=slug, email=f"dana@{slug}.example")
    staff_id = await make_staff(
        sessions,
        organization_id=world.organization_id,
        email=email or f"{role}@{slug}.example",
        name=f"{role.title()} of {slug}",
        role=role,
    )
    client.cookies.clear()
    client.cookies.set(COOKIE, await open_session(sessions, staff_user_id=staff_id))
    token = await csrf_token(client, "/staff/jobs")
    return Desk(client, token, staff_id, world)


async def job_of(sessions: Sessions, world: World) -> int:
    async with unit_of_work(sessions) as db:
        return (await db.get_one(Application, world.application_id)).job_id


async def requirement_id(sessions: Sessions, job_id: int, name: str) -> int:
    async with unit_of_work(sessions) as db:
        found = await db.scalar(
            select(Requirement.id).where(
                Requirement.job_id == job_id,
                Requirement.name == name,
                Requirement.retired_at.is_(None),
            )
        )
    assert found is not None, name
    return found


def listed_requirements(page: str) -> list[str]:
    """The requirement names a job's page lists, in order."""
    return [name for _, name in REQUIREMENT_ITEM.findall(page)]


async def actions(sessions: Sessions, organization_id: int) -> list[str]:
    async with unit_of_work(sessions) as db:
        found = await db.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.organization_id == organization_id)
            .order_by(AuditEvent.id)
        )
        return list(found)


async def create_job(d: Desk, title: str = "Platform Engineer", **fields: str) -> int:
    response = await d.post("/staff/jobs", title=title, **fields)
    assert response.status_code == 303, response.text
    match = re.match(r"/staff/jobs/(\d+)\?", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


async def add_requirement(d: Desk, job_id: int, name: str, description: str = "") -> None:
    response = await d.post(
        f"/staff/jobs/{job_id}/requirements", name=name, description=description
    )
    assert response.status_code == 303, response.text
