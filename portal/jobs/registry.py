"""Job kinds: what a domain's `jobs.py` declares, and the registry the worker reads.

A kind has a name, a pydantic model for its payload, and either `run` (one job
in its own transaction, committed together with the job's completion, so work
that only touches the database happens exactly once) or `run_batch` (many jobs
at once, for work outside the database such as SMTP, reported job by job).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from portal.settings import Settings

if TYPE_CHECKING:
    from portal.jobs.worker import Batch

P = TypeVar("P", bound=BaseModel)

DEFAULT_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    now: dt.datetime


def _default_attempts(settings: Settings) -> int:
    return DEFAULT_MAX_ATTEMPTS


@dataclass(frozen=True, eq=False)
class JobKind(Generic[P]):
    name: str
    payload: type[P]
    run: Callable[[AsyncSession, P, JobContext], Awaitable[None]] | None = None
    run_batch: Callable[[Batch[P]], Awaitable[None]] | None = None
    # Periodic kinds: exactly one pending row each, rescheduled `every` after it ran.
    every: dt.timedelta | None = None
    max_attempts: Callable[[Settings], int] = _default_attempts
    # What stays of a finished job (a record for `portal mail status`); None deletes it.
    keep: Callable[[P], dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        if (self.run is None) == (self.run_batch is None):
            raise ValueError(f"job kind {self.name!r} needs exactly one of run or run_batch")
        if self.every is not None and self.run is None:
            raise ValueError(f"periodic job kind {self.name!r} must use run")

    @property
    def periodic_key(self) -> str:
        return f"periodic:{self.name}"


class Registry:
    """Every job kind by name. Domains add theirs when their `jobs.py` is imported."""

    def __init__(self) -> None:
        self._kinds: dict[str, JobKind[Any]] = {}

    def add(self, kind: JobKind[P]) -> JobKind[P]:
        if kind.name in self._kinds:
            raise ValueError(f"job kind {kind.name!r} is already registered")
        self._kinds[kind.name] = kind
        return kind

    def get(self, name: str) -> JobKind[Any] | None:
        return self._kinds.get(name)

    def __iter__(self) -> Iterator[JobKind[Any]]:
        return iter(list(self._kinds.values()))

    def periodic(self) -> list[JobKind[Any]]:
        return [kind for kind in self if kind.every is not None]


registry = Registry()
