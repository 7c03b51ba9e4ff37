"""The `portal` command."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import httpx
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.db import create_engine
from portal.demo.agency import AGENCY
from portal.demo.content import DEMO_STAFF_PASSWORD, ORGANIZATION
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


# --- the demo -------------------------------------------------------------------------------

DEMO_TIMEOUT = 90.0


class RunningDemo:
    """`portal demo` in a subprocess on a fresh SQLite file, until stopped."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.mail_dir = tmp_path / "mail"
        self.stdout_path, self.stderr_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        env.update(
            PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}",
            PORTAL_MAIL_DIR=str(self.mail_dir),
            PYTHONUNBUFFERED="1",
        )
        with self.stdout_path.open("wb") as stdout, self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "portal.cli", "demo", "--port", "0", *args],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_for_stdout(self, ending: str) -> str:
        deadline = time.monotonic() + DEMO_TIMEOUT
        while True:
            text = self.stdout_path.read_text(encoding="utf-8", errors="replace")
            if ending in text:
                return text
            assert self.process.poll() is None, f"the demo exited early:\n{self.stderr}"
            assert time.monotonic() < deadline, f"the demo printed no {ending!r}:\n{self.stderr}"
            time.sleep(0.05)

    def wait_for_mail(self, count: int) -> list[Path]:
        deadline = time.monotonic() + DEMO_TIMEOUT
        while len(found := sorted(self.mail_dir.glob("*.eml"))) < count:
            assert time.monotonic() < deadline, f"{len(found)} of {count} emails written"
            time.sleep(0.1)
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


@contextlib.contextmanager
def running_demo(tmp_path: Path, *args: str) -> Iterator[RunningDemo]:
    demo = RunningDemo(tmp_path, *args)
    try:
        yield demo
    finally:
        demo.stop()


def assert_quiet_start(stderr: str) -> None:
    chatter = (
        "alembic",
        "Started server process",
        "Application startup",
        "wrote email",
        "CSRF checks are off",
    )
    for line in chatter:
        assert line not in stderr, stderr


def test_demo_json_lists_both_organizations_candidates_and_staff(tmp_path: Path) -> None:
    with running_demo(tmp_path, "--json") as demo:
        data = json.loads(demo.wait_for_stdout("\n").split("\n", 1)[0])
        assert set(data) == {"base_url", "candidates", "staff"}
        base_url = data["base_url"]
        assert base_url.startswith("http://127.0.0.1:")
        candidates, staff = data["candidates"], data["staff"]
        for entry in candidates:
            assert list(entry) == ["name", "email", "job", "organization", "link"]
            assert entry["link"].startswith(f"{base_url}/l/")
        assert {c["organization"] for c in candidates} == {ORGANIZATION.name, AGENCY.name}
        priya = [c["job"] for c in candidates if c["email"] == "priya.raman@example.com"]
        assert sorted(priya) == ["Customer Success Manager", "Senior Data Analyst"]
        for entry in staff:
            assert list(entry) == ["email", "password", "name", "role", "organization"]
            assert entry["password"] == DEMO_STAFF_PASSWORD
        roles = {(s["organization"], s["role"]) for s in staff}
        for organization in (ORGANIZATION.name, AGENCY.name):
            assert {(organization, "admin"), (organization, "recruiter")} <= roles

        # The in-process worker writes every invitation to the mail folder.
        emails = demo.wait_for_mail(len(candidates))
        addresses = Counter(
            str(message_from_bytes(p.read_bytes(), policy=policy.default)["To"]) for p in emails
        )
        assert addresses == Counter(c["email"] for c in candidates)
        assert_quiet_start(demo.stderr)


def test_demo_prints_a_guide_a_newcomer_can_follow(tmp_path: Path) -> None:
    with running_demo(tmp_path) as demo:
        text = demo.wait_for_stdout("Press Ctrl+C to stop.")
        assert "Afterword demo running at http://127.0.0.1:" in text
        for organization in (ORGANIZATION, AGENCY):
            assert f"{organization.name} ({organization.kind})" in text
        # Addresses for /signin, with the candidates who have two applications pointed out.
        assert "/signin" in text
        priya = next(line for line in text.splitlines() if "priya.raman@example.com" in line)
        assert "two applications: Senior Data Analyst and Customer Success Manager" in priya
        leila = next(line for line in text.splitlines() if "leila.haddad@example.com" in line)
        assert "two applications" in leila
        amara = next(line for line in text.splitlines() if "amara.okafor@example.com" in line)
        assert "two applications" not in amara
        # Staff accounts with their password, and where mail goes, and what to try.
        assert DEMO_STAFF_PASSWORD in text
        assert "/staff/signin" in text
        for member in ("joana.ferreira@northwind.example", "sam.whitfield@harbourline.example"):
            assert member in text
        assert f"Email goes to {demo.mail_dir}/" in text
        assert "Things to try" in text
        assert "/staff/signin, open Applications" in text
        links = [word for word in text.split() if "/l/" in word]
        assert len(links) == len(set(links)) >= 10
        demo.wait_for_mail(len(links))
        assert_quiet_start(demo.stderr)


async def test_demo_on_a_busy_port_suggests_port_0(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = await portal(
            "demo", "--port", port, env={"PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}
        )
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port 0" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_help_loads_no_application_code() -> None:
    # `portal --help` must answer at once, on a loaded machine too: parsing the command
    # line imports argparse and nothing of the app, its database or its web framework.
    probe = (
        "import sys; from portal.cli import build_parser; build_parser(); "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sqlalchemy', 'starlette', 'uvicorn', 'alembic', 'pydantic', 'weasyprint'} "
        "or m in {'portal.app', 'portal.settings', 'portal.db'}); print(heavy)"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert found.stdout.strip() == "[]"
