"""`portal serve` on a real socket: keep-alive connections and the request head limit."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.cli.serving import bind_socket
from portal.security.bodylimit import MAX_HEAD_BYTES
from tests.processes import stop

ROOT = Path(__file__).resolve().parent.parent
SERVING = re.compile(r"serving on http://127\.0\.0\.1:(\d+)")


@pytest.fixture(scope="module")
def server_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    workdir = tmp_path_factory.mktemp("serve")
    stderr_path = workdir / "stderr.txt"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=f"sqlite:///{workdir / 'portal.db'}",
        PORTAL_MAIL_DIR=str(workdir / "mail"),
        PYTHONUNBUFFERED="1",
    )
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "serve", "--port", "0", "--no-worker"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 30
        port = None
        while port is None:
            found = SERVING.search(stderr_path.read_text(errors="replace"))
            if found:
                port = int(found.group(1))
            elif process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(stderr_path.read_text(errors="replace"))
            else:
                time.sleep(0.05)
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield port
    finally:
        stop(process)


def test_keep_alive_requests_are_answered_on_one_connection(server_port: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server_port, timeout=60)
    used = set()
    for path in ["/signin", "/healthz", "/static/css/portal.css"] * 10:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, path
        assert not response.will_close, path
        assert connection.sock is not None
        used.add(connection.sock.getsockname())
    connection.close()
    assert len(used) == 1  # http.client would have opened another had the server closed it


async def _accepted_socket_option(sock: socket.socket, level: int, option: int) -> int:
    """`option` of the server's side of a connection accepted from `sock` by asyncio."""
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result(writer.get_extra_info("socket").getsockopt(level, option))
        writer.close()

    server = await asyncio.start_server(handle, sock=sock)
    try:
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        value = await accepted
        writer.close()
        return value
    finally:
        server.close()


def test_connections_to_portal_serve_send_small_writes_at_once() -> None:
    # Nagle's algorithm held each keep-alive response written in two parts until the
    # client's delayed ACK (~40 ms). asyncio turns it off (TCP_NODELAY) on accepted
    # sockets only when the listening socket names its protocol, as bind_socket's does.
    sock = bind_socket("127.0.0.1", 0)
    nodelay = asyncio.run(_accepted_socket_option(sock, socket.IPPROTO_TCP, socket.TCP_NODELAY))
    assert nodelay != 0


def _raw_request(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        # Refused part-way through sending: the answer is already waiting.
        with contextlib.suppress(OSError):
            sock.sendall(head)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except OSError:
            pass
    return b"".join(chunks)


def _refused(answer: bytes) -> bool:
    """431, or the connection closed without an answer."""
    return answer == b"" or answer.startswith(b"HTTP/1.1 431 ")


def test_an_oversized_request_head_is_refused(server_port: int) -> None:
    # 100 KB of headers, sent at once.
    filler = b"x" * 1000
    many = b"".join(b"X-Filler-%d: %s\r\n" % (n, filler) for n in range(100))
    answer = _raw_request(
        server_port, b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n" + many + b"\r\n"
    )
    assert _refused(answer), answer[:200]
    # Just over the limit, as cookies.
    cookies = b"Cookie: " + b"; ".join(b"c%d=%s" % (n, filler) for n in range(34)) + b"\r\n"
    answer = _raw_request(
        server_port, b"GET /signin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n" + cookies + b"\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"Request too large" in answer
    # A long URL counts too.
    long_url = (
        b"GET /healthz?"
        + b"q" * MAX_HEAD_BYTES
        + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    )
    assert _refused(_raw_request(server_port, long_url))


def test_a_head_within_the_limit_and_a_large_body_are_accepted(server_port: int) -> None:
    cookie = b"Cookie: other_app=" + b"c" * 8000 + b"\r\n"
    answer = _raw_request(
        server_port, b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n" + cookie + b"\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    # A body far larger than the head limit, sent with its head in one write: not a 431.
    body = b"email=" + b"a" * (200 * 1024)
    request = (
        b"POST /signin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    ) + body
    answer = _raw_request(server_port, request)
    assert answer.startswith(b"HTTP/1.1 403 "), answer[:200]  # no CSRF cookie: refused by CSRF
