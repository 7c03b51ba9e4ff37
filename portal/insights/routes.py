"""The insights dashboard (/staff/insights) and a CSV download of each of its tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import staff_of
from portal.csvexport import Cell, csv_response
from portal.db import utcnow
from portal.insights import service
from portal.insights.anonymity import COMMENTS_MINIMUM, RATINGS_MINIMUM
from portal.insights.forms import InsightsFilter
from portal.web import db_session, parse_query, render

NO_STORE = {"cache-control": "no-store"}


async def _dashboard(
    request: Request, *, all_comments: bool = False
) -> tuple[service.Dashboard, Any, int]:
    actor = staff_of(request)
    filters, form, status = parse_query(request, InsightsFilter)
    async with db_session(request) as db:
        board = await service.dashboard(
            db,
            actor=actor,
            job_id=filters.job,
            period=filters.period,
            now=utcnow(),
            all_comments=all_comments,
        )
    if board is None:  # another organization's job, or a month the page does not offer
        raise HTTPException(404)
    return board, form, status


async def insights(request: Request) -> Response:
    board, form, status = await _dashboard(request)
    context = {
        "staff": staff_of(request),
        "board": board,
        "form": form,
        "query": request.url.query,
        "ratings_minimum": RATINGS_MINIMUM,
        "comments_minimum": COMMENTS_MINIMUM,
    }
    return render(request, "staff/insights.html", context, status_code=status, headers=NO_STORE)


def _hours(value: int | None) -> Cell:
    return "" if value is None else value


def summary_rows(board: service.Dashboard) -> tuple[Sequence[str], list[Sequence[Cell]]]:
    f = board.figures
    return ("measure", "value"), [
        ("applications decided", f.decided),
        ("candidates told", f.told),
        ("hours from decision to feedback sent, median", _hours(f.send_median)),
        ("hours from decision to feedback sent, 90th percentile", _hours(f.send_p90)),
        ("feedback opened", f.opened),
        ("questions asked", f.asked),
        ("questions answered", f.answered),
        ("reply promise, working days", board.reply_promise_days),
        ("answered within the reply promise", f.answered_in_promise),
        ("hours to the first reply, median", _hours(f.reply_median)),
        ("talent-pool joins", f.pool_joins),
    ]


def job_rows(board: service.Dashboard) -> tuple[Sequence[str], list[Sequence[Cell]]]:
    header = ("job", "decided", "told", "median hours to send", "opened", "questions", "pool joins")
    return header, [
        (
            row.title,
            row.figures.decided,
            row.figures.told,
            _hours(row.figures.send_median),
            row.figures.opened,
            row.figures.asked,
            row.figures.pool_joins,
        )
        for row in board.per_job
    ]


def rating_rows(board: service.Dashboard) -> tuple[Sequence[str], list[Sequence[Cell]]]:
    ratings = board.ratings
    if not ratings.shown:
        return ("rating", "helpfulness", "fairness"), []
    return ("rating", "helpfulness", "fairness"), [
        (rating, ratings.helpfulness[rating], ratings.fairness[rating]) for rating in range(1, 6)
    ]


def unmet_rows(board: service.Dashboard) -> tuple[Sequence[str], list[Sequence[Cell]]]:
    return ("job", "requirement", "assessed not yet met"), [
        (title, requirement, count) for title, top in board.unmet for requirement, count in top
    ]


def findings_rows(board: service.Dashboard) -> tuple[Sequence[str], list[Sequence[Cell]]]:
    header = ("writer", "versions published", "risky", "vague", "tone", "most common rules")
    return header, [
        (
            row.name,
            row.published,
            row.risky,
            row.vague,
            row.tone,
            ", ".join(f"{rule} ({n})" for rule, n in row.top_rules),
        )
        for row in board.findings
    ]


def comment_rows(board: service.Dashboard) -> tuple[Sequence[str], Iterable[Sequence[Cell]]]:
    return ("comment",), [(comment,) for comment in board.ratings.comments or []]


TABLES = {
    "summary": summary_rows,
    "jobs": job_rows,
    "ratings": rating_rows,
    "unmet": unmet_rows,
    "findings": findings_rows,
    "comments": comment_rows,
}


async def insights_csv(request: Request) -> Response:
    table = TABLES.get(request.path_params["table"])
    if table is None:
        raise HTTPException(404)
    board, _form, status = await _dashboard(request, all_comments=table is comment_rows)
    if status != 200:
        raise HTTPException(404)
    header, rows = table(board)
    name = request.path_params["table"]
    return csv_response(f"insights-{name}-{board.period}.csv", header, rows)


routes = [
    Route("/insights", insights, methods=["GET"], name="staff.insights"),
    Route("/insights/{table:str}.csv", insights_csv, methods=["GET"], name="staff.insights_csv"),
]
