"""Reading a posted form or a query into its input model, and the pages that
answer bad input (422) and concurrent edits (409)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from portal.concurrency import Conflict
from portal.forms import FormState, InputModel, read_form, validate_input
from portal.web.templates import render

if TYPE_CHECKING:
    pass


Model = TypeVar("Model", bound=InputModel)


async def parse_form(
    request: Request,
    model: type[Model],
    *,
    template: str,
    block: str | None = None,
    context: dict[str, Any] | None = None,
) -> Model | Response:
    """The posted form as `model`, or the page re-rendered to be corrected.

    On a validation error the page's `template` is rendered again with status 422
    and `form` (a `FormState`: every value as typed, a message per bad field) in
    its context; htmx gets only `block`, swapped in place. A form with more fields
    than the model, or a field larger than the parser takes, gets the 400 page.
    """
    # Beyond the model's fields (or a part too large), Starlette raises a 400,
    # answered by `bad_request`.
    data, form = await read_form(request, model)
    if data is not None:
        return data
    return render(
        request,
        template,
        {**(context or {}), "form": form},
        status_code=422,
        block=block,
        headers={"cache-control": "no-store"},
    )


def parse_query(request: Request, model: type[Model]) -> tuple[Model, FormState, int]:
    """A page's query string (search, filters, page) as `model`: the model, the form as
    typed (a message per bad field) and the status to answer (422 when some of it
    could not be used, in which case the model's defaults stand in). An empty field
    filters nothing; a field given twice counts once."""
    given = {name: value for name, value in request.query_params.items() if value.strip()}
    data, form = validate_input(model, given)
    if data is None:
        return model(), form, 422
    return data, form, 200


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


def conflict_page(
    request: Request,
    *,
    conflict: Conflict,
    submitted: InputModel | Mapping[str, str],
    labels: dict[str, str],
    action: str,
    back: str,
) -> Response:
    """409: someone saved the same record while this person was writing.

    Shows, field by field, what they typed next to what is there now, and offers
    to save theirs over it (the form carries the current version) or to go back;
    nothing they typed is lost. `submitted` is the validated form, or for a form with
    rows its fields by posted name (``strengths-0-body``), as `conflict.current` is.
    """
    given = submitted.model_dump() if isinstance(submitted, InputModel) else submitted
    yours = {name: _shown(value) for name, value in given.items()}
    current = {name: _shown(value) for name, value in (conflict.current or {}).items()}
    changes = [
        {"name": name, "label": label, "yours": yours.get(name, ""), "theirs": current[name]}
        for name, label in labels.items()
        if name in current and yours.get(name, "") != current[name]
    ]
    # Saving again is a deliberate overwrite of the version shown here.
    kept = {**yours, "version": _shown(conflict.version)}
    return render(
        request,
        "conflict.html",
        {"changes": changes, "kept": kept, "action": action, "back": back},
        status_code=409,
        headers={"cache-control": "no-store"},
        block="main",
    )
