"""`portal serve`, `portal worker` and `portal db upgrade`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from portal.app import create_app
from portal.cli import DEFAULT_HOST, DEFAULT_PORT
from portal.cli.common import with_engine
from portal.jobs.worker import Worker
from portal.logs import configure_logging
from portal.settings import Settings

log = logging.getLogger("portal")

WORKER_START_SECONDS = 60
# How long a stopping process keeps a connection with no request in hand open.
STOPPING_GRACE_SECONDS = 1.0


class StoppingGracefully(HttpToolsProtocol):
    """uvicorn's httptools protocol, except that a stopping process keeps a connection
    with no request in hand open a moment longer before closing it.

    Processes sharing one socket (`--workers N`, and each reload's replacements) take
    turns accepting its connections. uvicorn, stopping, closes at once every
    connection not answering a request, including one it accepted a moment before
    whose request is still on its way: that client gets no answer at all. Kept open
    a moment, such a connection's request arrives and is answered (and the connection
    then closed), so stopping or reloading a process drops no request. uvicorn does
    not do this itself (Kludex/uvicorn#2757, open); tests/test_serve_workers.py fails
    without it, so an upgrade that changes `shutdown` is caught."""

    def shutdown(self) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self.loop.call_later(STOPPING_GRACE_SECONDS, super().shutdown)
        else:
            super().shutdown()


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0 picks a free one).

    The protocol must be named: asyncio sets TCP_NODELAY only on sockets whose
    `proto` is IPPROTO_TCP, and an accepted socket inherits it from this one.
    Without it, every keep-alive response written in two parts waited ~40 ms
    for the client's delayed ACK (Nagle's algorithm).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def base_url_for(settings: Settings, sock: socket.socket, host: str) -> Settings:
    if settings.base_url:
        return settings
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return settings.with_base_url(f"http://{shown}:{port}")


def serve(
    settings: Settings,
    sock: socket.socket,
    *,
    run_worker: bool,
    on_ready: Callable[[], None] | None = None,
    graceful_timeout: int = 30,
) -> None:
    app = create_app(settings, run_worker=run_worker)
    config = _config(app, graceful_timeout=graceful_timeout)
    server = uvicorn.Server(config)

    async def main() -> None:
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.02)
        if server.started and on_ready is not None:
            on_ready()
        await serving

    asyncio.run(main())


def _config(app: Starlette | str, *, graceful_timeout: int, **options: Any) -> uvicorn.Config:
    # httptools bounds neither a request head's size nor how much of one it
    # buffers (uvicorn's only such option, h11_max_incomplete_event_size, is h11's,
    # and h11 costs the busiest page a good share of its throughput): the app
    # refuses heads over 32 KiB with 431 (portal.security.bodylimit), and the
    # reverse proxy in front caps them before they arrive (docs/admin/production.md).
    # On SIGTERM (or SIGINT) uvicorn stops accepting connections, lets the requests
    # in progress finish (for up to `graceful_timeout` seconds), closes idle
    # keep-alive connections, then runs the app's shutdown.
    return uvicorn.Config(
        app,
        http=f"{__name__}:StoppingGracefully",
        log_config=None,
        access_log=False,
        proxy_headers=True,
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=graceful_timeout,
        **options,
    )


def app_from_environment() -> Starlette:
    """The app of one of `portal serve --workers N`'s processes: uvicorn starts each
    afresh (spawned), and each reads the settings from the environment it inherits."""
    settings = Settings.from_env()
    configure_logging(json_lines=settings.json_logs)
    return create_app(settings)


def serve_processes(
    settings: Settings,
    sock: socket.socket,
    *,
    workers: int,
    run_worker: bool,
    graceful_timeout: int,
) -> None:
    """Serve with `workers` processes on one socket, under uvicorn's own process
    manager: it restarts a process that dies, replaces them one at a time on SIGHUP
    (each new one serving before an old one stops), adds or removes one on SIGTTIN /
    SIGTTOU, and on SIGTERM or SIGINT stops them all gracefully."""
    # Each process reads its settings from the environment, as this one did, with
    # what `portal serve` decided on top.
    os.environ["PORTAL_BASE_URL"] = settings.base_url
    os.environ["PORTAL_RUN_WORKER"] = "true" if run_worker else "false"
    config = _config(
        f"{__name__}:app_from_environment",
        graceful_timeout=graceful_timeout,
        factory=True,
        workers=workers,
        # How long a new process may take to start serving (importing the app takes a
        # few seconds, more on a busy machine) before a reload gives up on it and keeps
        # the old one; and how long a process may not answer its manager's ping.
        timeout_worker_healthcheck=WORKER_START_SECONDS,
    )
    Multiprocess(config, sockets=[sock]).run()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if args.workers > 1 and not settings.database_url.startswith("postgresql"):
        log.error("several processes (--workers) need PostgreSQL; SQLite serves one")
        return 2
    sock = bind_socket(args.host, args.port)
    settings = base_url_for(settings, sock, args.host)
    run_worker = settings.run_worker and not args.no_worker
    log.info("serving on %s", settings.base_url)
    if args.workers > 1:
        serve_processes(
            settings,
            sock,
            workers=args.workers,
            run_worker=run_worker,
            graceful_timeout=args.graceful_timeout,
        )
    else:
        serve(settings, sock, run_worker=run_worker, graceful_timeout=args.graceful_timeout)
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    settings = (
        settings
        if settings.base_url
        else settings.with_base_url(f"http://{DEFAULT_HOST}:{DEFAULT_PORT}")
    )

    async def work(sessions: Any) -> None:
        worker = Worker(settings=settings, sessions=sessions)
        if args.once:
            done = await worker.run_once()
            log.info("worker pass done: %d item(s)", done)
        else:
            log.info("worker started")
            # SIGTERM (a service manager stopping it) or SIGINT: finish and record the
            # batch in hand, then exit.
            loop = asyncio.get_running_loop()
            for stopping in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(stopping, worker.stop)
            await worker.run_forever()
            log.info("worker stopped")

    with contextlib.suppress(KeyboardInterrupt):
        with_engine(settings, work)
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from portal import migrate  # alembic only for this command

    migrate.upgrade(settings, args.revision)
    log.info("database at %s", args.revision)
    return 0
