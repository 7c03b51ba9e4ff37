"""Which groups of survey answers staff may see (pure functions).

The page offers groups of answers by job (one, or all) and by period (one month
that has ended, or the last twelve): every group it can show is a union of
cells, the answers of one job in one month. A difference of two groups, or any
sum and difference of several, is then a union of whole cells too. So a group is
shown only when it holds at least `minimum` answers and none of its cells holds
between 1 and `minimum - 1`: whatever views someone puts side by side, the
smallest set of answers they can isolate is a whole cell of at least `minimum`.
Only months that have ended are offered, and an answer can be changed only in
the month it was given, so a cell never changes once it can be seen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

RATINGS_MINIMUM = 5
COMMENTS_MINIMUM = 10

Cell = tuple[int, dt.date]  # (job id, first day of the month)


def group_cells(
    counts: Mapping[Cell, int], *, job_id: int | None, months: Iterable[dt.date]
) -> dict[Cell, int]:
    chosen = set(months)
    return {
        cell: n
        for cell, n in counts.items()
        if n and cell[1] in chosen and (job_id is None or cell[0] == job_id)
    }


def may_show(
    counts: Mapping[Cell, int], *, job_id: int | None, months: Iterable[dt.date], minimum: int
) -> bool:
    cells = group_cells(counts, job_id=job_id, months=months)
    return sum(cells.values()) >= minimum and all(n >= minimum for n in cells.values())
