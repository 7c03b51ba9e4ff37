"""`portal import FILE.csv`: exit codes, messages, dry run and publishing from the command line."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.candidates.models import Application, Candidate
from portal.cli import main
from portal.db import utcnow
from portal.feedback.models import Feedback
from portal.imports.forms import EXAMPLE_EMAIL
from portal.jobs.models import BackgroundJob
from portal.settings import Settings
from tests.factories import make_world
from tests.test_import import DATED, csv_bytes, row

Sessions = async_sessionmaker[AsyncSession]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PORTAL_BASE_URL", "https://feedback.example.com")


async def portal_import(*args: str) -> int:
    # The command runs its own event loop: give it a thread of its own.
    return await asyncio.to_thread(main, ["import", *args])


async def versions(sessions: Sessions) -> int:
    async with sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(Feedback)) or 0)


@pytest.mark.usefixtures("env")
async def test_import_dry_run_publish_and_exit_codes(
    sessions: Sessions, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_world(sessions, published=False)
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([row(), row("kim@example.com")]))

    assert await portal_import(str(good), "--dry-run") == 0
    out = capsys.readouterr().out
    assert "Dry run, nothing written. Would import: 2 row(s) read" in out
    assert await versions(sessions) == 1

    assert await portal_import(str(good), "--organization", "acme") == 0
    assert "Imported: 2 row(s) read, 2 new candidate(s)" in capsys.readouterr().out
    assert await versions(sessions) == 3
    assert await portal_import(str(good)) == 0
    assert "2 row(s) already imported, unchanged" in capsys.readouterr().out
    assert await versions(sessions) == 3

    assert await portal_import(str(good), "--publish") == 0
    assert "2 invitation email(s) queued" in capsys.readouterr().out
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(BackgroundJob)) == 2

    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_bytes([row("broken"), row(decision_summary="Thanks. At your age it would be hard.")])
    )
    assert await portal_import(str(bad), "--publish") == 1
    out = capsys.readouterr().out
    assert 'row 2, column "email": error: "broken" is not an email address.' in out
    assert 'row 3, column "decision_summary": risky: "your age": ' in out
    assert "nothing was imported" in out and "publishing is refused" in out

    latin = tmp_path / "latin.csv"
    latin.write_bytes("email,name\nzoë@example.com,Zoë\n".encode("latin-1"))
    assert await portal_import(str(latin)) == 1
    assert "not UTF-8 text (line 2" in capsys.readouterr().err
    assert await versions(sessions) == 5


@pytest.mark.usefixtures("env")
async def test_usage_errors_exit_two(
    sessions: Sessions, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_world(sessions, slug="acme")
    await make_world(sessions, slug="globex", email="b@example.com")
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([row()]))
    assert await portal_import(str(good)) == 2
    assert "several organizations: name one with --organization (acme, globex)" in (
        capsys.readouterr().err
    )
    assert await portal_import(str(good), "--organization", "initech") == 2
    assert 'no organization "initech"' in capsys.readouterr().err
    assert await portal_import(str(tmp_path / "missing.csv"), "--organization", "acme") == 2
    assert "cannot read" in capsys.readouterr().err


def _portal(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def test_help_explains_the_columns_and_exit_status() -> None:
    done = _portal("import", "--help")
    assert done.returncode == 0
    for words in ("--dry-run", "--publish", "--organization SLUG", "Exit status: 0", "row 1"):
        assert words in done.stdout
    assert _portal("import").returncode == 2


@pytest.mark.usefixtures("env")
async def test_decided_on_the_example_row_and_a_missing_job_on_the_command_line(
    sessions: Sessions, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_world(sessions, published=False)
    today = utcnow().date()
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_bytes(
            [
                row(decided_on="2026-13-01"),
                row("kim@example.com", decided_on=tomorrow),
                row(EXAMPLE_EMAIL),
                row("ray@example.com", job="Welder"),
            ],
            DATED,
        )
    )
    assert await portal_import(str(bad)) == 1
    out = capsys.readouterr().out
    assert (
        'row 2, column "decided_on": error: "2026-13-01" is not a date: write it as YYYY-MM-DD'
        in out
    )
    assert f'row 3, column "decided_on": error: {tomorrow} is in the future' in out
    assert 'row 4, column "email": error: This is the template\'s example row' in out
    assert 'row 5, column "job": error: Acme Corp has no job "Welder". Add the job first' in out
    assert await versions(sessions) == 1

    good = tmp_path / "good.csv"
    ten_days_ago = today - dt.timedelta(days=10)
    good.write_bytes(
        csv_bytes([row(decided_on=ten_days_ago.isoformat()), row("kim@example.com")], DATED)
    )
    assert await portal_import(str(good)) == 0
    assert "0 decision date change(s)" in capsys.readouterr().out
    async with sessions() as db:
        found = await db.execute(
            select(Candidate.email, Application.decided_at).join(
                Application, Application.candidate_id == Candidate.id
            )
        )
        dates = {found_row.email: found_row.decided_at for found_row in found}
    assert dates["lee@example.com"] == dt.datetime.combine(ten_days_ago, dt.time(), dt.UTC)
    kim = dates["kim@example.com"]
    assert kim is not None and kim.date() == today  # left empty: the day of the import
