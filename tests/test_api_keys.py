"""API keys: the admins' page and the `portal api-key` command."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.api.models import ApiKey as ApiKeyRow
from portal.audit.models import AuditEvent
from portal.cli import main
from portal.db import unit_of_work
from portal.settings import Settings
from tests.api_support import auth, make_key
from tests.factories import csrf_token, make_staff, make_world, open_session

Sessions = async_sessionmaker[AsyncSession]
COOKIE = "afterword_session"


async def _as_staff(
    client: httpx.AsyncClient, sessions: Sessions, organization_id: int, role: str = "admin"
) -> int:
    staff_id = await make_staff(
        sessions, organization_id=organization_id, role=role, email=f"{role}@acme.example"
    )
    client.cookies.set(COOKIE, await open_session(sessions, staff_user_id=staff_id))
    return staff_id


async def test_an_admin_creates_a_key_sees_it_once_and_revokes_it(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    admin = await _as_staff(client, sessions, world.organization_id)
    settings = await client.get("/staff/settings")
    assert 'href="/staff/api-keys"' in settings.text
    page = await client.get("/staff/api-keys")
    assert page.status_code == 200 and "No API keys yet" in page.text
    token = await csrf_token(client, "/staff/api-keys")
    form = urlencode(
        [
            ("csrftoken", token),
            ("name", "Greenhouse sync"),
            ("scopes", "applications:write"),
            ("scopes", "applications:read"),
        ]
    )
    created = await client.post(
        "/staff/api-keys",
        content=form,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    key = created.text.split('id="new-key">')[1].split("<")[0]
    assert key.startswith("aw_") and len(key) > 40
    # The key works, and the page never shows it again (only its start).
    client.cookies.clear()
    assert (await client.get("/api/v1/jobs", headers=auth(key))).status_code == 200
    client.cookies.set(COOKIE, await open_session(sessions, staff_user_id=admin))
    listed = await client.get("/staff/api-keys")
    assert key not in listed.text and key[:11] in listed.text
    async with unit_of_work(sessions) as db:
        row = await db.scalar(select(ApiKeyRow))
        assert row is not None and row.key_hash != key.encode()
    confirm = await client.get(f"/staff/api-keys/{row.id}/revoke")
    assert confirm.status_code == 200 and "Revoke" in confirm.text
    token = await csrf_token(client, f"/staff/api-keys/{row.id}/revoke")
    revoked = await client.post(f"/staff/api-keys/{row.id}/revoke", data={"csrftoken": token})
    assert revoked.status_code == 303
    client.cookies.clear()
    assert (await client.get("/api/v1/jobs", headers=auth(key))).status_code == 401
    async with unit_of_work(sessions) as db:
        actions = (await db.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all()
    assert "api_key.created" in actions and "api_key.revoked" in actions


async def test_a_key_needs_a_name_and_a_scope_and_keeps_what_was_typed(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await _as_staff(client, sessions, world.organization_id)
    token = await csrf_token(client, "/staff/api-keys")
    refused = await client.post(
        "/staff/api-keys", data={"csrftoken": token, "name": "<script>x</script>"}
    )
    assert refused.status_code == 422
    assert "Choose at least one" in refused.text
    assert "&lt;script&gt;x&lt;/script&gt;" in refused.text and "<script>x" not in refused.text
    async with unit_of_work(sessions) as db:
        assert await db.scalar(select(ApiKeyRow)) is None


async def test_recruiters_and_other_organizations_cannot_see_or_revoke_keys(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    other = await make_world(sessions, slug="globex", email="bo@example.com")
    await make_key(sessions, world.organization_id)
    async with unit_of_work(sessions) as db:
        key_id = await db.scalar(select(ApiKeyRow.id))
    await _as_staff(client, sessions, world.organization_id, role="recruiter")
    assert (await client.get("/staff/api-keys")).status_code == 404
    await _as_staff(client, sessions, other.organization_id)
    assert (await client.get(f"/staff/api-keys/{key_id}/revoke")).status_code == 404
    token = await csrf_token(client, "/staff/api-keys")
    answer = await client.post(f"/staff/api-keys/{key_id}/revoke", data={"csrftoken": token})
    assert answer.status_code == 404
    # Without the CSRF token, nothing either.
    assert (await client.post(f"/staff/api-keys/{key_id}/revoke")).status_code == 403
    async with unit_of_work(sessions) as db:
        assert await db.scalar(select(ApiKeyRow.revoked_at)) is None


# --- the command line -------------------------------------------------------------------


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PORTAL_BASE_URL", "http://testserver")


async def portal(*args: str) -> int:
    return await asyncio.to_thread(main, list(args))


@pytest.mark.usefixtures("env")
async def test_the_command_creates_lists_and_revokes_keys(
    client: httpx.AsyncClient, sessions: Sessions, capsys: pytest.CaptureFixture[str]
) -> None:
    world = await make_world(sessions)
    assert await portal("api-key", "list", "--organization", "acme") == 0
    assert "No API keys yet" in capsys.readouterr().out
    assert (
        await portal(
            "api-key",
            "create",
            "--organization",
            "acme",
            "--name",
            "Lever",
            "--json",
            "--scope",
            "applications:read",
            "--scope",
            "pool:read",
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    created = json.loads(out)
    assert set(created) == {"id", "name", "prefix", "scopes", "key"}
    assert created["scopes"] == ["applications:read", "pool:read"]
    key = created["key"]
    assert (await client.get("/api/v1/jobs", headers=auth(key))).status_code == 200
    assert await portal("api-key", "create", "--organization", "acme", "--name", "Text") == 0
    text = capsys.readouterr().out
    assert "shown only this once" in text and "aw_" in text
    assert await portal("api-key", "list", "--organization", "acme", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [k["name"] for k in listed] == ["Text", "Lever"]
    assert all("key" not in k for k in listed) and listed[1]["last_used_at"] is not None
    assert (
        await portal("api-key", "revoke", "--organization", "acme", "--id", str(created["id"])) == 0
    )
    assert (await client.get("/api/v1/jobs", headers=auth(key))).status_code == 401
    async with unit_of_work(sessions) as db:
        sources = (
            await db.scalars(
                select(AuditEvent.actor_kind).where(AuditEvent.action.like("api_key.%"))
            )
        ).all()
    assert set(sources) == {"cli"}
    assert world.organization_id


@pytest.mark.usefixtures("env")
async def test_the_command_refuses_bad_input_in_one_line(
    sessions: Sessions, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_world(sessions)
    assert await portal("api-key", "create", "--organization", "nope", "--name", "x") == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert await portal("api-key", "create", "--organization", "acme", "--name", " ") == 2
    assert "--name" in capsys.readouterr().err
    assert await portal("api-key", "revoke", "--organization", "acme", "--id", "999") == 2
    async with unit_of_work(sessions) as db:
        assert await db.scalar(select(ApiKeyRow)) is None


def test_help_explains_the_api_key_commands() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "portal.cli", "api-key", "create", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for words in ("--organization SLUG", "--name NAME", "--scope SCOPE", "--json", "Exit status"):
        assert words in done.stdout
