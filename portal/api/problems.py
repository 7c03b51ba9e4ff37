"""Errors as RFC 9457 problem details (`application/problem+json`).

Every error the API answers is one: `type` (a URI naming the kind of problem;
`about:blank` when the status says it all), `title`, `status`, `detail` and
`instance` (the request's path), and for invalid input `errors`, one entry per
field (`{"field": "feedback.strengths.0.body", "message": "..."}`). The kinds are
listed in docs/api.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from pydantic import ValidationError
from starlette.responses import JSONResponse

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:afterword:problem:"


class ApiProblem(Exception):
    """Raised by an API handler (or its service calls) to answer with a problem; the
    request's transaction is rolled back first."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        kind: str | None = None,
        title: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title or str(status))
        self.status = status
        self.detail = detail
        self.kind = kind
        self.title = title
        self.errors = list(errors)
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self, instance: str) -> dict[str, Any]:
        return problem_body(
            self.status,
            detail=self.detail,
            kind=self.kind,
            title=self.title,
            instance=instance,
            errors=self.errors,
            extra=self.extra,
        )


def problem_body(
    status: int,
    *,
    detail: str | None = None,
    kind: str | None = None,
    title: str | None = None,
    instance: str | None = None,
    errors: Sequence[Mapping[str, Any]] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + kind if kind else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    body.update(extra or {})
    return body


def problem_response(
    status: int,
    *,
    detail: str | None = None,
    kind: str | None = None,
    title: str | None = None,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, detail=detail, kind=kind, title=title, instance=instance),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers={"cache-control": "no-store", **(headers or {})},
    )


def field_errors(exc: ValidationError, *, prefix: str = "") -> list[dict[str, str]]:
    """One entry per invalid field, named by its dotted path in the body."""
    found = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"])
        found.append(
            {
                "field": prefix + path if path else prefix.rstrip(".") or "body",
                "message": error["msg"],
            }
        )
    return found


def invalid(exc: ValidationError) -> ApiProblem:
    return ApiProblem(
        422,
        "Some fields are invalid: see errors.",
        kind="invalid-fields",
        title="Invalid fields",
        errors=field_errors(exc),
    )
