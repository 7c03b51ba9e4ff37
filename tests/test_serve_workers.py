"""`portal serve --workers N`: N processes under uvicorn's manager, replaced one at a
time on SIGHUP without a refused request, stopped gracefully on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from portal.settings import Settings
from tests.processes import stop

ROOT = Path(__file__).resolve().parent.parent
SERVING = re.compile(r"serving on (http://127\.0\.0\.1:\d+)")
STARTED = re.compile(r"Started server process \[(\d+)\]")


def _env(**settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(PYTHONUNBUFFERED="1", **settings)
    return env


def _serve_two(settings: Settings, tmp_path: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "serve", "--port", "0", "--workers", "2"],
            cwd=ROOT,
            env=_env(
                PORTAL_DATABASE_URL=settings.database_url,
                PORTAL_RUN_WORKER="false",
                PORTAL_MAIL_DIR=str(tmp_path / "mail"),
                PORTAL_PDF_WORKERS="1",
            ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def test_several_processes_need_postgresql(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", "serve", "--port", "0", "--workers", "2"],
        cwd=ROOT,
        env=_env(PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'portal.db'}"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "several processes (--workers) need PostgreSQL" in result.stderr


def test_workers_must_be_one_or_more() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", "serve", "--workers", "0"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "must be 1 or more" in result.stderr


async def test_processes_are_replaced_one_at_a_time_and_stop_gracefully(
    settings: Settings, tmp_path: Path
) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("several processes need PostgreSQL")
    log = tmp_path / "serve.txt"
    server = _serve_two(settings, tmp_path, log)
    try:
        deadline = time.monotonic() + 150

        async def logged(pattern: re.Pattern[str], count: int) -> list[str]:
            while len(found := pattern.findall(log.read_text(errors="replace"))) < count:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.1)
            return found

        base = (await logged(SERVING, 1))[0]
        first = set(await logged(STARTED, 2))
        assert len(first) == 2  # two processes, one socket
        # A new connection per request, as a proxy opens to a process it has not used
        # lately: a stopping process closes its idle keep-alive connections, and a
        # request racing that close on a reused one fails whatever the server does
        # (proxies retry those; docs/admin/deployment.md).
        fresh = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=10, limits=fresh) as client:
            while (await client.get(f"{base}/readyz")).status_code != 200:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            # A reload replaces both, each new one serving before an old one stops:
            # requests made all the while are all answered.
            server.send_signal(signal.SIGHUP)
            answers = []
            while len(set(STARTED.findall(log.read_text(errors="replace")))) < 4:
                assert time.monotonic() < deadline, log.read_text()
                answers.append((await client.get(f"{base}/healthz")).status_code)
            await asyncio.sleep(1)  # the last old process stopping
            answers.append((await client.get(f"{base}/readyz")).status_code)
        assert answers and set(answers) == {200}, answers
        # SIGTERM: every process finishes and the server exits cleanly.
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0, log.read_text()
        assert "Received SIGTERM" in log.read_text()
    finally:
        stop(server)


def test_a_request_on_its_way_when_the_process_stops_is_answered(tmp_path: Path) -> None:
    # A connection the process holds with no request in hand when SIGTERM comes (a proxy
    # reusing an idle keep-alive connection, or a client that has just connected), whose
    # next request arrives a moment later: it is answered, then the process exits cleanly.
    log = tmp_path / "serve.txt"
    with log.open("wb") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "serve", "--port", "0", "--no-worker"],
            cwd=ROOT,
            env=_env(PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'portal.db'}"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 90
        while not (found := SERVING.search(log.read_text(errors="replace"))):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        host, port = httpx.URL(found.group(1)).host, httpx.URL(found.group(1)).port
        assert port is not None
        request = b"GET /healthz HTTP/1.1\r\nHost: portal\r\n\r\n"
        with socket.create_connection((host, port), timeout=10) as connection:
            # A first answer proves the process holds the connection, now idle.
            connection.sendall(request)
            first = b""
            while not first.endswith(b"ok"):
                chunk = connection.recv(4096)
                assert chunk, first
                first += chunk
            server.send_signal(signal.SIGTERM)
            time.sleep(0.1)  # the process is stopping
            connection.sendall(request)
            answer = b""
            while chunk := connection.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 "), answer
        assert answer.endswith(b"ok")
        # Stopped cleanly: uvicorn, its shutdown done, ends by the signal it was sent
        # (which service managers count as a clean stop).
        assert server.wait(timeout=60) in (0, -signal.SIGTERM), log.read_text()
        assert "Application shutdown complete" in log.read_text()
    finally:
        stop(server)
