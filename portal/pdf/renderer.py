"""Rendering PDFs away from the event loop: a process pool, single flight and a cache.

PDF layout takes tens of milliseconds of CPU per page, which would stall every
other request if it ran on the event loop or its thread pool (the GIL). It runs
in a `ProcessPoolExecutor` instead, sized by `PORTAL_PDF_WORKERS`; each process
is replaced after `RENDERS_PER_PROCESS` renders so that memory cannot creep,
and a pool whose process crashed is replaced by a fresh one. WeasyPrint is
imported only in those processes (portal.pdf.document).

Results are cached in this process's memory (bounded by `PORTAL_PDF_CACHE_MB`,
least recently used first out) under a hash of what they show; several app
processes each keep their own cache.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import cache
from typing import Any

from portal.paths import STATIC_DIR, TEMPLATES_DIR
from portal.settings import Settings

log = logging.getLogger(__name__)

TEMPLATE = "pdf/summary.html"  # under templates/
STYLESHEET = "css/summary.css"  # under static/
RENDERS_PER_PROCESS = 200
RENDER_NICENESS = 5
# The pool's own deadline comes this long after the render's: a render stuck in C
# code that never returns to Python (where the render's own alarm fires) is killed.
KILL_GRACE_SECONDS = 2.0


class RenderTimeout(Exception):
    """The PDF took longer than `PORTAL_PDF_TIMEOUT_SECONDS`."""


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
    """A task that does nothing: submitted once per process to start the pool."""


def _process_context() -> Any:
    # forkserver: new pool processes fork from a server that has WeasyPrint imported
    # already (a second saved per process); fork is refused with max_tasks_per_child.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["portal.pdf.document"])
    return context


def _kill(pool: Executor) -> None:
    # ProcessPoolExecutor offers no way to stop a running task (terminate_workers()
    # arrives in Python 3.14); its processes are the only handle.
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        with contextlib.suppress(Exception):
            process.kill()


# --- the renderer ------------------------------------------------------------------------


class PdfRenderer:
    """Renders summaries in a process pool, once per content, and remembers the result."""

    def __init__(self, settings: Settings) -> None:
        self.workers = max(1, settings.pdf_workers)
        self.time_limit = settings.pdf_timeout_seconds
        self.cache_bytes = settings.pdf_cache_mb * 1024 * 1024
        self._executor: ProcessPoolExecutor | None = None
        self._starting = asyncio.Lock()
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cached_bytes = 0
        self._in_flight: dict[str, asyncio.Future[bytes]] = {}
        self.renders = 0  # renders started, for tests and the benchmark

    async def _pool(self) -> ProcessPoolExecutor:
        """The pool, its processes started. Starting one blocks (a process start waits for
        the fork server, which imports WeasyPrint first), so it happens in a thread."""
        if self._executor is not None:
            return self._executor
        async with self._starting:
            if self._executor is None:
                self._executor = await asyncio.to_thread(self._new_pool)
            return self._executor

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=_process_context(),
            initializer=_warm_up,
            max_tasks_per_child=RENDERS_PER_PROCESS,
        )
        # Each submission starts one more process, up to `workers`; once all are up,
        # submitting from the event loop never waits for a process to start.
        for _ in range(self.workers):
            pool.submit(_ready)
        return pool

    def _replace_pool(self, broken: Executor) -> None:
        if self._executor is broken:
            self._executor = None
        _kill(broken)
        broken.shutdown(wait=False, cancel_futures=True)

    async def aclose(self) -> None:
        pool, self._executor = self._executor, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    async def run(self, task: Callable[..., Any], *args: Any) -> Any:
        """`task(*args)` in a pool process, within the time limit. When a process dies the
        pool is replaced and the task tried once more on the new one."""
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            pool = await self._pool()
            try:
                future = loop.run_in_executor(pool, task, *args)
                return await asyncio.wait_for(future, self.time_limit + KILL_GRACE_SECONDS)
            except TimeoutError:
                log.warning("a PDF render ignored its time limit; replacing the pool")
                self._replace_pool(pool)
                raise RenderTimeout from None
            except BrokenProcessPool:
                log.warning("a PDF process died; replacing the pool (attempt %d)", attempt)
                self._replace_pool(pool)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def etag_for(self, view: Any, *, generated_on: dt.date) -> str:
        return f'"{content_hash(view, generated_on=generated_on)[:40]}"'

    async def summary(
        self, view: Any, *, generated_on: dt.date, etag: str | None = None
    ) -> RenderedPdf:
        """The view's PDF: from the cache, from a render already under way, or rendered.

        `etag` is `etag_for(view, generated_on=generated_on)` when the caller has it.
        """
        etag = etag or self.etag_for(view, generated_on=generated_on)
        body = self._cache.get(etag)
        if body is not None:
            self._cache.move_to_end(etag)
            return RenderedPdf(etag, body)
        pending = self._in_flight.get(etag)
        if pending is None:
            pending = asyncio.ensure_future(self._render(etag, view, generated_on))
            self._in_flight[etag] = pending
        # shield: one visitor leaving must not cancel the render the others wait for.
        return RenderedPdf(etag, await asyncio.shield(pending))

    async def _render(self, etag: str, view: Any, generated_on: dt.date) -> bytes:
        try:
            self.renders += 1
            body: bytes = await self.run(_render_summary, view, generated_on, self.time_limit)
            self._remember(etag, body)
            return body
        finally:
            del self._in_flight[etag]

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
