"""`portal org create` and `portal org list`: an employer starts from nothing, without
the demo; its first admin follows the emailed (or printed) invitation and signs in."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.audit.models import AuditEvent
from portal.cli import main
from portal.db import unit_of_work
from portal.jobs.models import BackgroundJob
from portal.orgs.creation import DEFAULT_CONSENT_TEXT, slug_from_name
from portal.orgs.models import Organization
from portal.security.actors import StaffRole
from portal.settings import Settings
from portal.staff.models import StaffInvitation, StaffUser
from tests.factories import csrf_token, make_staff, make_world

Sessions = async_sessionmaker[AsyncSession]
ROOT = Path(__file__).resolve().parent.parent
BASE_URL = "http://testserver"
PASSWORD = "a long and unrelated passphrase"
COUNTED = (Organization, StaffUser, StaffInvitation, BackgroundJob, AuditEvent)


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PORTAL_BASE_URL", BASE_URL)
    monkeypatch.setenv("PORTAL_MAIL_DIR", settings.mail_dir)


async def portal(*args: str) -> int:
    # The command runs its own event loop: give it a thread of its own.
    return await asyncio.to_thread(main, list(args))


async def create(*args: str) -> int:
    return await portal("org", "create", *args)


async def counts(sessions: Sessions) -> dict[str, int]:
    async with sessions() as db:
        return {
            model.__tablename__: int(await db.scalar(select(func.count()).select_from(model)) or 0)
            for model in COUNTED
        }


async def _inbox(app: Starlette, settings: Settings) -> list[email.message.EmailMessage]:
    while await app.state.worker.run_once():
        pass
    found = []
    for path in sorted(Path(settings.mail_dir).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        found.append(message)
    return found


def _plain(message: email.message.EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    content: str = body.get_content()
    return content


# --- creating ------------------------------------------------------------------------------


@pytest.mark.usefixtures("env")
async def test_create_makes_the_organization_its_first_admin_and_an_invitation(
    sessions: Sessions, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await create("--name", "  Acme Corp ", "--admin-email", " Ada@Acme.Example ") == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "Created Acme Corp (slug acme-corp, id " in out
    assert "Its first admin, Ada <ada@acme.example>, is invited" in out
    printed = next(line.strip() for line in out.splitlines() if "/staff/l/" in line)
    assert printed.startswith(f"{BASE_URL}/staff/l/")

    async with sessions() as db:
        org = (await db.scalars(select(Organization))).one()
        assert (org.name, org.slug, org.display_name) == ("Acme Corp", "acme-corp", "Acme Corp")
        assert org.accent_colour == "#1f5f8b"
        assert (org.reply_promise_days, org.invitation_days) == (5, 14)
        assert org.consent_durations_months == [6, 12, 24]
        assert org.consent_text == DEFAULT_CONSENT_TEXT
        assert not org.replies_need_approval
        admin = (await db.scalars(select(StaffUser))).one()
        assert admin.organization_id == org.id
        assert (admin.email, admin.name, admin.role) == ("ada@acme.example", "Ada", StaffRole.ADMIN)
        assert admin.password_hash is None and admin.oidc_subject is None and admin.active
        invitation = (await db.scalars(select(StaffInvitation))).one()
        assert invitation.staff_user_id == admin.id and invitation.created_by_staff_id is None
        # Only the token's digest is kept.
        assert printed.rsplit("/", 1)[1].encode() != invitation.token_hash
        assert await db.scalar(select(func.count()).select_from(BackgroundJob)) == 1
        events = {
            event.action: event
            for event in (await db.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
        }
    assert set(events) == {"organization.created", "staff.invited"}
    created = events["organization.created"]
    assert (created.actor_kind, created.actor_id) == ("system", None)
    assert (created.organization_id, created.subject_type, created.subject_id) == (
        org.id,
        "organization",
        org.id,
    )
    assert created.details == {"source": "command line", "slug": "acme-corp", "name": "Acme Corp"}
    invited = events["staff.invited"]
    assert (invited.actor_kind, invited.organization_id) == ("system", org.id)
    assert (invited.subject_type, invited.subject_id) == ("staff_user", admin.id)
    assert invited.details == {"source": "command line", "role": "admin"}


@pytest.mark.usefixtures("env")
async def test_json_prints_exactly_one_line_with_the_organization_admin_and_link(
    sessions: Sessions, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await create(
        "--name",
        "Globex",
        "--slug",
        "globex-emea",
        "--admin-email",
        "hank@globex.example",
        "--admin-name",
        "Hank Scorpio",
        "--json",
    )
    assert code == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.endswith("\n") and out.count("\n") == 1
    payload = json.loads(out)
    async with sessions() as db:
        org_id = await db.scalar(select(Organization.id).where(Organization.slug == "globex-emea"))
        name = await db.scalar(select(StaffUser.name))
    assert name == "Hank Scorpio"
    assert set(payload) == {"organization", "admin", "invitation_url"}
    assert payload["organization"] == {"id": org_id, "slug": "globex-emea", "name": "Globex"}
    assert payload["admin"] == {"email": "hank@globex.example"}
    assert payload["invitation_url"].startswith(f"{BASE_URL}/staff/l/")


def test_slugs_are_made_from_names() -> None:
    assert slug_from_name("Acme Corp") == "acme-corp"
    assert slug_from_name("  Zoë's Café & Co.  ") == "zoes-cafe-co"
    assert slug_from_name("ACME -- Holdings (UK) Ltd") == "acme-holdings-uk-ltd"
    assert slug_from_name("日本") == ""
    long = slug_from_name("word " * 40)
    assert len(long) <= 63 and not long.endswith("-") and long.startswith("word-word")


# --- bad input: one line, exit 2, nothing written --------------------------------------------

ADMIN = ("--admin-email", "ada@acme.example")
BAD_INPUT = [
    pytest.param(["--name", "", *ADMIN], "--name: Give the organization's name", id="empty-name"),
    pytest.param(
        ["--name", "   ", *ADMIN], "--name: Give the organization's name", id="blank-name"
    ),
    pytest.param(["--name", "A" * 201, *ADMIN], "--name: Keep it to 200", id="long-name"),
    pytest.param(["--name", "Acme\nCorp", *ADMIN], "--name: Keep this to one line", id="newline"),
    pytest.param(["--name", "Acme\tCorp", *ADMIN], "--name: Keep this to one line", id="tab"),
    pytest.param(["--name", "Acme\x00", *ADMIN], "--name: This contains an invisible", id="nul"),
    pytest.param(["--name", "Acme\x1b[2J", *ADMIN], "--name: This contains an invisible", id="esc"),
    pytest.param(["--name", "日本", *ADMIN], "--name: no slug can be made", id="no-slug"),
    pytest.param(
        ["--name", "Acme", "--slug", "Acme Corp", *ADMIN],
        "--slug: That is not a valid slug",
        id="s1",
    ),
    pytest.param(["--name", "Acme", "--slug=-acme", *ADMIN], "--slug: That is not", id="s2"),
    pytest.param(["--name", "Acme", "--slug", "acme-", *ADMIN], "--slug: That is not", id="s3"),
    pytest.param(["--name", "Acme", "--slug", "ac--me", *ADMIN], "--slug: That is not", id="s4"),
    pytest.param(["--name", "Acme", "--slug", "ácme", *ADMIN], "--slug: That is not", id="s5"),
    pytest.param(["--name", "Acme", "--slug", "", *ADMIN], "--slug: Give a slug", id="s6"),
    pytest.param(["--name", "Acme", "--slug", "a" * 64, *ADMIN], "--slug: Keep it to 63", id="s7"),
    pytest.param(["--name", "Acme", "--admin-email", "ada"], "--admin-email: Enter an", id="e1"),
    pytest.param(
        ["--name", "Acme", "--admin-email", "ada@acme"], "--admin-email: Enter an", id="e2"
    ),
    pytest.param(
        ["--name", "Acme", "--admin-email", "a da@acme.example"], "--admin-email: Enter", id="e3"
    ),
    pytest.param(["--name", "Acme", "--admin-email", " "], "--admin-email: Give the", id="e4"),
    pytest.param(
        ["--name", "Acme", "--admin-email", "a" * 320 + "@x.example"],
        "--admin-email: Keep",
        id="e5",
    ),
    pytest.param(
        ["--name", "Acme", *ADMIN, "--admin-name", "Ada\nLovelace"],
        "--admin-name: Keep this to one line",
        id="admin-name",
    ),
    pytest.param(
        ["--name", "Acme", *ADMIN, "--admin-name", "  "], "--admin-name: Give the", id="blank-admin"
    ),
    pytest.param(
        ["--name", "Acme", "--admin-email", "a" * 201 + "@x.example"],
        "--admin-name: not given, and the part of the address before the @ cannot serve as a "
        "name: Keep it to 200 characters or fewer (this has 201).",
        id="unnamed-admin",
    ),
]


@pytest.mark.anyio  # before collection ends: parametrized, it needs the marker early
@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(("args", "problem"), BAD_INPUT)
async def test_bad_input_is_refused_in_one_line_and_nothing_is_created(
    sessions: Sessions, capsys: pytest.CaptureFixture[str], args: list[str], problem: str
) -> None:
    await make_world(sessions)  # something there already, which must stay as it was
    before = await counts(sessions)
    assert await create(*args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"portal: {problem}")
    assert err.endswith("\n") and err.count("\n") == 1
    assert "\x1b" not in err and "\x00" not in err
    assert await counts(sessions) == before


@pytest.mark.usefixtures("env")
async def test_a_taken_slug_is_refused_and_nothing_is_created(
    sessions: Sessions, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await create("--name", "Acme", *ADMIN) == 0
    capsys.readouterr()
    before = await counts(sessions)
    # Another organization, another admin: the slug made from its name is taken.
    assert await create("--name", "ACME", "--admin-email", "bob@elsewhere.example") == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        'portal: --slug: "acme" is already taken by another organization; '
        "choose another with --slug.\n"
    )
    assert await counts(sessions) == before
    assert await create("--name", "ACME", "--slug", "acme-2", *ADMIN) == 0


@pytest.mark.usefixtures("env")
async def test_two_creations_racing_for_one_slug_end_in_the_same_clean_error(
    sessions: Sessions, capsys: pytest.CaptureFixture[str]
) -> None:
    async with sessions() as db, db.begin():
        # The other creation has written its row but not committed yet: this one
        # waits on it (the unique index), then finds the slug taken.
        db.add(Organization(name="Initech", slug="initech", display_name="Initech"))
        await db.flush()
        racing = asyncio.create_task(create("--name", "Initech", *ADMIN))
        await _until_waiting(db, racing)
    assert await racing == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        'portal: --slug: "initech" is already taken by another organization; '
        "choose another with --slug.\n"
    )
    counted = await counts(sessions)
    assert (counted["organizations"], counted["staff_users"], counted["audit_events"]) == (1, 0, 0)


async def _until_waiting(db: AsyncSession, racing: asyncio.Task[int]) -> None:
    """Until the racing command waits for this transaction (PostgreSQL says so; on
    SQLite, a moment for it to reach the lock: either way it must lose)."""
    if db.get_bind().dialect.name != "postgresql":
        await asyncio.sleep(0.5)
        return
    for _ in range(100):
        # A transaction sees one snapshot of the statistics unless it asks for a new one.
        await db.execute(text("SELECT pg_stat_clear_snapshot()"))
        waiting = await db.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
        if waiting or racing.done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the racing command never waited for the first one")


# --- the first admin's invitation, end to end ------------------------------------------------


@pytest.mark.usefixtures("env")
async def test_the_first_admin_follows_the_emailed_link_sets_a_password_and_lands_signed_in(
    app: Starlette,
    client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await make_world(sessions)  # another organization, whose pages stay out of reach
    code = await create(
        "--name", "Umbrella Health", *ADMIN, "--admin-name", "Ada Lovelace", "--json"
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    org_id = printed["organization"]["id"]

    (message,) = await _inbox(app, settings)
    assert message["To"] == "ada@acme.example"
    assert message["Subject"] == "Set up Umbrella Health on Afterword"
    body = _plain(message)
    assert "you are its first admin" in body
    link = next(word for word in body.split() if word.startswith(f"{BASE_URL}/staff/l/"))
    assert link == printed["invitation_url"]
    path = link.removeprefix(BASE_URL)

    page = await client.get(path)
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "Welcome, Ada Lovelace" in page.text and "Umbrella Health" in page.text
    token = await csrf_token(client, path)
    done = await client.post(
        path, data={"csrftoken": token, "password": PASSWORD, "confirm": PASSWORD}
    )
    assert done.status_code == 303 and done.headers["location"].endswith("/staff/")
    home = await client.get("/staff/")
    assert home.status_code == 200
    assert "Ada Lovelace" in home.text and "Administrator" in home.text
    # An admin of their own organization, and of no other.
    assert (await client.get("/staff/settings")).status_code == 200
    people = await client.get("/staff/people")
    assert people.status_code == 200 and "Ada Lovelace" in people.text
    assert "Dana" not in (await client.get("/staff/applications")).text

    async with sessions() as db:
        admin = (
            await db.scalars(select(StaffUser).where(StaffUser.organization_id == org_id))
        ).one()
        assert admin.password_hash is not None
        accepted = await db.scalar(
            select(AuditEvent.action).where(
                AuditEvent.action == "staff.invitation_accepted",
                AuditEvent.organization_id == org_id,
            )
        )
    assert accepted == "staff.invitation_accepted"
    # The link works once.
    client.cookies.clear()
    again = await client.get(path)
    assert again.status_code == 404


# --- listing ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("env")
async def test_org_list_shows_a_table_or_one_json_array(
    sessions: Sessions, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await portal("org", "list") == 0
    assert "No organizations yet. Create one with: portal org create" in capsys.readouterr().out
    assert await portal("org", "list", "--json") == 0
    assert capsys.readouterr().out == "[]\n"

    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id)
    await make_staff(
        sessions, organization_id=world.organization_id, email="gone@acme.example", active=False
    )
    assert await create("--name", "Zoë's Café", *ADMIN, "--json") == 0
    capsys.readouterr()

    assert await portal("org", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "SLUG", "NAME", "STAFF", "CREATED", "(UTC)"]
    assert lines[1].split()[1:4] == ["acme", "Acme", "1"]
    assert lines[2].split()[1:5] == ["zoes-cafe", "Zoë's", "Café", "1"]
    assert len(lines) == 3

    assert await portal("org", "list", "--json") == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    listed = json.loads(out)
    assert [(o["slug"], o["name"], o["staff_count"]) for o in listed] == [
        ("acme", "Acme", 1),
        ("zoes-cafe", "Zoë's Café", 1),
    ]
    assert set(listed[0]) == {"id", "slug", "name", "staff_count", "created_at"}
    assert listed[0]["id"] == world.organization_id
    assert listed[1]["created_at"].endswith("+00:00")  # ISO 8601, in UTC


# --- the command itself -----------------------------------------------------------------------


def _portal_process(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def test_help_explains_the_commands() -> None:
    done = _portal_process("org", "create", "--help")
    assert done.returncode == 0, done.stderr
    for words in ("--name NAME", "--slug SLUG", "--admin-email EMAIL", "--admin-name NAME"):
        assert words in done.stdout
    assert "PORTAL_BASE_URL" in done.stdout and "Exit status" in done.stdout
    listed = _portal_process("org", "list", "--help")
    assert listed.returncode == 0 and "--json" in listed.stdout
    assert "org" in _portal_process("--help").stdout
    # What serving needs, said where an operator looks first.
    serve = " ".join(_portal_process("serve", "--help").stdout.split())
    for words in (
        "portal db upgrade",
        "PORTAL_DATABASE_URL",
        "PORTAL_SECRET_KEY",
        "PORTAL_BASE_URL",
    ):
        assert words in serve
    worker = " ".join(_portal_process("worker", "--help").stdout.split())
    for words in ("PORTAL_SMTP_URL", "PORTAL_SECRET_KEY", "PORTAL_BASE_URL", "PORTAL_DATABASE_URL"):
        assert words in worker


async def test_a_bad_slug_in_a_real_process_prints_one_line(
    database_url: str, app: Starlette
) -> None:
    # No PORTAL_BASE_URL: its warning must not add a line to the error either.
    env = {"PORTAL_DATABASE_URL": database_url, "PORTAL_BASE_URL": ""}
    done = await asyncio.to_thread(
        _portal_process, "org", "create", "--name", "Acme", "--slug", "Acme!", *ADMIN, env=env
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "portal: --slug: That is not a valid slug: use lower-case letters a-z and digits, in "
        "words joined by single hyphens, at most 63 characters, like acme-corp.\n"
    )
    async with unit_of_work(app.state.portal.sessions) as db:
        assert await db.scalar(select(func.count()).select_from(Organization)) == 0


# --- inviting an admin again ------------------------------------------------------------------


async def invite_admin(*args: str) -> int:
    return await portal("org", "invite-admin", *args)


@pytest.mark.usefixtures("env")
async def test_invite_admin_replaces_a_lost_first_invitation_and_the_old_link_stops_working(
    app: Starlette,
    client: httpx.AsyncClient,
    sessions: Sessions,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await create("--name", "Acme Corp", *ADMIN, "--json") == 0
    first = json.loads(capsys.readouterr().out)["invitation_url"].removeprefix(BASE_URL)

    assert (
        await invite_admin("--organization", "acme-corp", "--admin-email", "ADA@acme.example") == 0
    )
    out, err = capsys.readouterr()
    assert err == "" and "ada@acme.example is invited" in out
    second = next(line.strip() for line in out.splitlines() if "/staff/l/" in line)
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(StaffUser)) == 1
        reinvited = (
            await db.scalars(select(AuditEvent).where(AuditEvent.action == "staff.reinvited"))
        ).one()
    assert reinvited.actor_kind == "system" and reinvited.details == {"source": "command line"}

    assert (await client.get(first)).status_code == 404
    path = second.removeprefix(BASE_URL)
    token = await csrf_token(client, path)
    done = await client.post(
        path, data={"csrftoken": token, "password": PASSWORD, "confirm": PASSWORD}
    )
    assert done.status_code == 303 and done.headers["location"].endswith("/staff/")

    # Signed in now: the operator cannot take the account over with a new link.
    before = await counts(sessions)
    capsys.readouterr()
    assert (
        await invite_admin("--organization", "acme-corp", "--admin-email", "ada@acme.example") == 2
    )
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert "can sign in already" in err
    assert await counts(sessions) == before


@pytest.mark.usefixtures("env")
async def test_invite_admin_with_a_new_address_creates_another_admin(
    sessions: Sessions, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await create("--name", "Acme Corp", *ADMIN) == 0
    capsys.readouterr()
    code = await invite_admin(
        "--organization", "acme-corp", "--admin-email", "grace@acme.example",
        "--admin-name", "Grace Hopper", "--json",
    )  # fmt: skip
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["admin"] == {"email": "grace@acme.example", "new": True}
    async with sessions() as db:
        grace = (
            await db.scalars(select(StaffUser).where(StaffUser.email == "grace@acme.example"))
        ).one()
    assert (grace.name, grace.role, grace.password_hash) == ("Grace Hopper", StaffRole.ADMIN, None)


@pytest.mark.anyio  # before collection ends: parametrized, it needs the marker early
@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(
    ("given", "says"),
    [
        (["--organization", "nobody", "--admin-email", "ada@acme.example"], "no organization"),
        (["--organization", "Not A Slug", "--admin-email", "ada@acme.example"], "--organization"),
        (["--organization", "acme-corp", "--admin-email", "not-an-address"], "--admin-email"),
        (
            [
                "--organization",
                "acme-corp",
                "--admin-email",
                "bo@acme.example",
                "--admin-name",
                "Bo\x07",
            ],
            "--admin-name",
        ),
    ],
)
async def test_invite_admin_refuses_bad_input_in_one_line(
    sessions: Sessions, capsys: pytest.CaptureFixture[str], given: list[str], says: str
) -> None:
    assert await create("--name", "Acme Corp", *ADMIN) == 0
    capsys.readouterr()
    before = await counts(sessions)
    assert await invite_admin(*given) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and says in err
    assert await counts(sessions) == before


@pytest.mark.usefixtures("env")
async def test_invite_admin_refuses_a_recruiter_and_a_deactivated_admin(
    sessions: Sessions, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await create("--name", "Acme Corp", *ADMIN, "--json") == 0
    org_id = json.loads(capsys.readouterr().out)["organization"]["id"]
    async with unit_of_work(sessions) as db:
        db.add(StaffUser(organization_id=org_id, email="rae@acme.example", name="Rae"))
        ada = (
            await db.scalars(select(StaffUser).where(StaffUser.email == "ada@acme.example"))
        ).one()
        ada.active = False
    for address in ("rae@acme.example", "ada@acme.example"):
        assert await invite_admin("--organization", "acme-corp", "--admin-email", address) == 2
        assert "not an admin" in capsys.readouterr().err
