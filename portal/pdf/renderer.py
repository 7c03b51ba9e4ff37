"""Rendering PDFs away from the event loop: a process pool, single flight and a cache.

PDF layout takes tens of milliseconds of CPU per page, which would stall every
other request if it ran on the event loop or its thread pool (the GIL). It runs
in a Pebble `ProcessPool` instead, sized by `PORTAL_PDF_WORKERS` and started
with the app; each process is replaced after `RENDERS_PER_PROCESS` renders so
that memory cannot creep. WeasyPrint is imported only in those processes
(portal.pdf.document).

A render's deadline (`PORTAL_PDF_TIMEOUT_SECONDS`) runs from the moment it
starts in a process, not while it waits for one; at most
`PORTAL_PDF_QUEUE_PER_WORKER` renders per process may wait, and beyond that a
download is turned away at once (`RenderBusy`, a 503 asking to come back in a
minute) rather than waiting longer than its deadline. A render stuck past its
deadline costs only its own process, which the pool replaces: Pebble stops the
one process running a task past its timeout, where `ProcessPoolExecutor` can
only break the whole pool (and everyone's renders in it).

Results are cached in this process's memory (bounded by `PORTAL_PDF_CACHE_MB`,
least recently used first out) under a hash of what they show; several app
processes each keep their own cache.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import multiprocessing
import os
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import cache
from typing import Any

from pebble import ProcessExpired, ProcessPool

from portal.paths import STATIC_DIR, TEMPLATES_DIR
from portal.settings import Settings

log = logging.getLogger(__name__)

TEMPLATE = "pdf/summary.html"  # under templates/
STYLESHEET = "css/summary.css"  # under static/
RENDERS_PER_PROCESS = 200
RENDER_NICENESS = 5
# The pool's own deadline comes this long after the render's: a render stuck in C
# code that never returns to Python (where the render's own alarm fires) is stopped.
KILL_GRACE_SECONDS = 2.0


class RenderTimeout(Exception):
    """The PDF took longer than `PORTAL_PDF_TIMEOUT_SECONDS` once it had started."""


class RenderBusy(Exception):
    """Too many PDFs are waiting for a render process (`PORTAL_PDF_QUEUE_PER_WORKER`)."""


@dataclass(frozen=True)
class RenderedPdf:
    etag: str  # quoted, as sent in the ETag header
    body: bytes


# --- what runs in the pool's processes ---------------------------------------------------
# Module-level functions (the pool pickles them by name) that import WeasyPrint's side
# there, not here; the pool's processes have it preloaded.


def _render_summary(view: Any, generated_on: dt.date, seconds: float) -> bytes:
    from portal.pdf import document

    return document.render_summary(view, generated_on, seconds)


def _warm_up() -> None:
    from portal.pdf import document

    # Renders yield the CPU to the app's requests: a PDF can wait a little, a page view
    # should not.
    os.nice(RENDER_NICENESS)
    document.warm_up()


def _ready() -> None:
    """A task that does nothing: submitting it starts the pool's processes."""


def _process_context() -> Any:
    # forkserver: new pool processes fork from a server that has WeasyPrint imported
    # already (a second saved per process), and not from the app with its threads.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["portal.pdf.document"])
    return context


# --- the renderer ------------------------------------------------------------------------


def _started(starting: asyncio.Future[ProcessPool]) -> ProcessPool | None:
    """The pool a start made, or None while it runs or when it failed."""
    if not starting.done() or starting.cancelled() or starting.exception() is not None:
        return None
    return starting.result()


RenderFunction = Callable[[Any, dt.date, float], bytes]


class PdfRenderer:
    """Renders summaries in a process pool, once per content, and remembers the result.

    `render` is what runs in a pool process for a summary: `(view, generated_on,
    seconds) -> bytes`, a module-level function (it is pickled by name).
    """

    def __init__(self, settings: Settings, *, render: RenderFunction = _render_summary) -> None:
        self.workers = max(1, settings.pdf_workers)
        self.time_limit = settings.pdf_timeout_seconds
        self.max_waiting = settings.pdf_queue_per_worker * self.workers
        self.cache_bytes = settings.pdf_cache_mb * 1024 * 1024
        self.render = render
        self._starting: asyncio.Future[ProcessPool] | None = None
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        # Which cached PDFs are of which application, so that erasing one forgets them.
        self._of_application: dict[int, set[str]] = {}
        self._cached_bytes = 0
        self._in_flight: dict[str, asyncio.Future[bytes]] = {}
        # For tests and the benchmark:
        self.renders = 0  # renders started
        self.refused = 0  # downloads turned away because too many were waiting
        self.pool_starts = 0

    def start(self) -> asyncio.Future[ProcessPool]:
        """Start the pool's processes unless they are started or starting (the app's
        lifespan calls this, so that the first download does not wait for them).

        Starting blocks (a process start waits for the fork server, which imports
        WeasyPrint first), so it happens in a thread. Each process then loads its fonts
        in the background; a render sent before that waits for it, but its deadline
        does not run meanwhile."""
        if self._starting is None:
            self.pool_starts += 1
            starting = asyncio.ensure_future(asyncio.to_thread(self._new_pool))
            starting.add_done_callback(self._forget_failed_start)
            self._starting = starting
        return self._starting

    def _forget_failed_start(self, starting: asyncio.Future[ProcessPool]) -> None:
        if _started(starting) is None:
            error = None if starting.cancelled() else starting.exception()
            log.error("the PDF render processes did not start", exc_info=error)
            if self._starting is starting:
                self._starting = None  # the next download tries again

    def _new_pool(self) -> ProcessPool:
        pool = ProcessPool(
            max_workers=self.workers,
            max_tasks=RENDERS_PER_PROCESS,
            initializer=_warm_up,
            context=_process_context(),
        )
        # Pebble starts every process at the first submission: here, in this thread, and
        # not on the event loop at the first download.
        pool.schedule(_ready)
        return pool

    async def _pool(self) -> ProcessPool:
        # shield: a download given up must not cancel the start others wait for.
        return await asyncio.shield(self.start())

    async def _retire(self, pool: ProcessPool) -> None:
        """Stop a pool that cannot go on (its manager failed); the next render starts a
        new one."""
        if self._starting is not None and _started(self._starting) is pool:
            self._starting = None
        pool.stop()  # type: ignore[no-untyped-call]
        await asyncio.to_thread(pool.join)

    async def aclose(self) -> None:
        """Stop the pool's processes. The server has answered its requests by now, so a
        render still under way has no one waiting for it."""
        starting, self._starting = self._starting, None
        if starting is None:
            return
        try:
            pool = await starting
        except Exception:
            return
        pool.stop()  # type: ignore[no-untyped-call]
        await asyncio.to_thread(pool.join)
        for pending in list(self._in_flight.values()):
            pending.cancel()

    async def run(self, task: Callable[..., Any], *args: Any) -> Any:
        """`task(*args)` in a pool process. It is stopped, with its process,
        `time_limit` + `KILL_GRACE_SECONDS` after it starts there, however long it
        waited for a process. A process that dies takes only its own task with it; that
        task is tried once more."""
        for attempt in (1, 2):
            pool = await self._pool()
            try:
                future = pool.schedule(
                    task, args=args, timeout=self.time_limit + KILL_GRACE_SECONDS
                )
                return await asyncio.wrap_future(future)
            except TimeoutError:
                log.warning("a PDF render ignored its time limit; its process was stopped")
                raise RenderTimeout from None
            except ProcessExpired as died:
                log.warning("a PDF process died (exit code %s, attempt %d)", died.exitcode, attempt)
                if attempt == 2:
                    raise
            except (BrokenProcessPool, RuntimeError) as broken:
                # RuntimeError: Pebble refusing new work from a pool whose manager failed.
                if pool.active:
                    raise
                log.warning("the PDF pool failed (%s); starting a new one", broken)
                await self._retire(pool)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def etag_for(self, view: Any, *, generated_on: dt.date) -> str:
        return f'"{content_hash(view, generated_on=generated_on)[:40]}"'

    async def summary(
        self, view: Any, *, generated_on: dt.date, etag: str | None = None
    ) -> RenderedPdf:
        """The view's PDF: from the cache, from a render already under way, or rendered;
        `RenderBusy` when too many are waiting, `RenderTimeout` when it took too long.

        `etag` is `etag_for(view, generated_on=generated_on)` when the caller has it.
        """
        etag = etag or self.etag_for(view, generated_on=generated_on)
        application_id = getattr(view, "application_id", None)
        if isinstance(application_id, int):
            self._of_application.setdefault(application_id, set()).add(etag)
        body = self._cache.get(etag)
        if body is not None:
            self._cache.move_to_end(etag)
            return RenderedPdf(etag, body)
        pending = self._in_flight.get(etag)
        if pending is None:
            # Every render in flight holds a process or waits for one; past the queue's
            # size a new one would wait longer than is worth it.
            if len(self._in_flight) >= self.workers + self.max_waiting:
                self.refused += 1
                raise RenderBusy
            pending = asyncio.ensure_future(self._render(etag, view, generated_on))
            self._in_flight[etag] = pending
        # shield: one visitor leaving must not cancel the render the others wait for.
        return RenderedPdf(etag, await asyncio.shield(pending))

    async def _render(self, etag: str, view: Any, generated_on: dt.date) -> bytes:
        try:
            self.renders += 1
            body: bytes = await self.run(self.render, view, generated_on, self.time_limit)
            self._remember(etag, body)
            return body
        finally:
            del self._in_flight[etag]

    def forget_applications(self, application_ids: Iterable[int]) -> int:
        """Drop this process's cached PDFs of these applications (their candidate was
        erased). Returns how many were dropped."""
        dropped = 0
        for application_id in application_ids:
            for etag in self._of_application.pop(application_id, set()):
                body = self._cache.pop(etag, None)
                if body is not None:
                    self._cached_bytes -= len(body)
                    dropped += 1
        return dropped

    def _remember(self, etag: str, body: bytes) -> None:
        if len(body) > self.cache_bytes:
            return
        self._cache[etag] = body
        self._cached_bytes += len(body)
        while self._cached_bytes > self.cache_bytes:
            _, dropped = self._cache.popitem(last=False)
            self._cached_bytes -= len(dropped)


@cache
def _design_fingerprint() -> str:
    """Changes with the template and the stylesheet, so that cached PDFs follow them."""
    digest = hashlib.sha256()
    digest.update((TEMPLATES_DIR / TEMPLATE).read_bytes())
    digest.update((STATIC_DIR / STYLESHEET).read_bytes())
    return digest.hexdigest()


def content_hash(view: Any, *, generated_on: dt.date) -> str:
    """A hash of everything the PDF shows: the view, the day it is made and the design."""
    shown = dataclasses.asdict(view)
    payload = json.dumps(
        [_design_fingerprint(), generated_on.isoformat(), shown],
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weak or strong, or `*`)."""
    if not if_none_match:
        return False
    candidates = {part.strip().removeprefix("W/") for part in if_none_match.split(",")}
    return etag in candidates or "*" in candidates


def summary_filename(view: Any, *, generated_on: dt.date) -> str:
    """`feedback-<job>-<date>.pdf`: the role in ASCII words and the day it was decided."""
    title = unicodedata.normalize("NFKD", view.job_title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].rstrip("-") or "role"
    day = view.decided_at.date() if view.decided_at else generated_on
    return f"feedback-{slug}-{day.isoformat()}.pdf"
