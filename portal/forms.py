"""Input models: what a form (or a JSON body) may contain, and messages people can act on.

A domain declares its input in `<domain>/forms.py` as an `InputModel` whose
string fields all carry a length limit (`Text(...)`, `Email`). `validate_input`
checks submitted values against it and answers either the model or a
`FormState` with every value as typed and one human message per bad field.
Handlers read a posted form with `read_form` (or `read_upload`, for a file):
the body read with a limit on its fields, then validated; `portal.web.parse_form`
does the same and re-renders the page on an error.

Every field of every input model refuses control characters (see
`portal.characters`): one check here, before the field's own validation, so no
form, query-string filter or row of a form can let a NUL through to the database.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticCustomError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request

from portal.characters import control_character_problem
from portal.db import MAX_ID
from portal.formats import time_zone_name

EMAIL_MAX = 320
# Deliberately loose: one @, something either side, a dot in the domain.
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class InputModel(BaseModel):
    """Base of every input model: trimmed strings, unknown fields (the CSRF token) ignored."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        # Before anything else (stripping, parsing): the message counts characters
        # as typed. Rows of a form are input models themselves, checked by their own.
        for text in _texts(value):
            problem = control_character_problem(text)
            if problem:
                raise PydanticCustomError("control_character", problem)
        return value


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _texts(item)


@dataclass(frozen=True)
class Say:
    """Field metadata: what to tell a person who left it empty or filled it wrongly."""

    missing: str | None = None
    invalid: str | None = None


def _email_shape(value: str) -> str:
    if value and not EMAIL_SHAPE.match(value):
        raise PydanticCustomError("email", "Enter an email address like name@example.com.")
    return value


Email = Annotated[
    str, StringConstraints(max_length=EMAIL_MAX, min_length=1), AfterValidator(_email_shape)
]
# The same, where leaving it empty is fine.
OptionalEmail = Annotated[
    str, StringConstraints(max_length=EMAIL_MAX), AfterValidator(_email_shape)
]

# Line breaks, tabs and other control characters (C0, DEL, C1, Unicode line and
# paragraph separators): a one-line value, such as a name that goes into an email
# header, must hold none.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError(
            "one_line",
            "Keep this to one line of text: no line breaks, tabs or other control characters.",
        )
    return value


# A validator for a one-line text field: `Annotated[str, Field(...), OneLine]`.
OneLine = AfterValidator(_one_line)

# Every whole number a request gives (a form, a query string) that reaches the
# database: one the INTEGER columns (ids, versions) hold. A larger one would name
# nothing, and sent to the database it would be an error rather than a miss.
DbInt = Annotated[int, Field(ge=0, le=MAX_ID)]
# A record's id (ids start at 1). Path parameters use the `{name:id}` convertor
# (portal.routing), with the same range.
Id = Annotated[DbInt, Field(ge=1)]


def parse_number(text: str, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """`text` as a number from `low` to `high` (by default, an id), or None when it is
    not one: for numbers from a request that are ignored rather than refused when
    wrong (a query parameter, a row number in a field's name). Only ASCII digits:
    `int` refuses "²", which `str.isdigit` accepts, and numbers of thousands of digits."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    value = int(text)
    return value if low <= value <= high else None


URL_MAX = 500


def _web_address(value: str) -> str:
    if value and (not WEB_ADDRESS.match(value) or len(value) > URL_MAX):
        raise PydanticCustomError(
            "url",
            "Enter a web address that starts with https://, like https://example.com/privacy.",
        )
    return value


WEB_ADDRESS = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
# A web page's address (http or https only: it becomes a link), or nothing.
WebAddress = Annotated[str, StringConstraints(max_length=URL_MAX), AfterValidator(_web_address)]


ZONE_MAX = 64


def _time_zone(value: str) -> str:
    if not value:
        return value
    name = time_zone_name(value)
    if name is None:
        raise PydanticCustomError(
            "time_zone",
            "Enter a time zone by its region and city, like Europe/Berlin, America/New_York "
            "or UTC.",
        )
    return name


# A time zone of the tz database, as written there ("europe/berlin" becomes
# "Europe/Berlin"); empty for none.
OptionalTimeZone = Annotated[
    str, StringConstraints(max_length=ZONE_MAX), AfterValidator(_time_zone)
]
TimeZone = Annotated[
    str, StringConstraints(min_length=1, max_length=ZONE_MAX), AfterValidator(_time_zone)
]


@dataclass
class FormState:
    """A form as the person left it: the values they typed and what is wrong with them."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # False where an error summary above the fields takes the focus instead.
    focus: bool = True

    def without_focus(self) -> FormState:
        """The same form, none of whose fields takes the page's focus (`autofocus`):
        for pages whose error summary takes it (HTML allows one per page)."""
        return dataclasses.replace(self, focus=False)

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def error(self, name: str) -> str:
        return self.errors.get(name, "")

    def focused(self, name: str) -> bool:
        """Whether the field takes the page's focus (`autofocus`): the first one with an
        error, in the model's order (HTML allows one autofocus per page)."""
        return self.focus and next(iter(self.errors), None) == name


Model = TypeVar("Model", bound=InputModel)


def validate_input(
    model: type[Model], submitted: Mapping[str, Any]
) -> tuple[Model | None, FormState]:
    """The valid model (or None) and the form's state for re-rendering it."""
    values = {
        name: str(submitted[name]) for name in model.model_fields if submitted.get(name) is not None
    }
    form = FormState(values=values)
    try:
        return model.model_validate(values), form
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            if name in model.model_fields and name not in form.errors:
                form.errors[name] = human_message(error, model.model_fields[name])
        return None, form


def row_models(model: type[InputModel]) -> dict[str, type[InputModel]]:
    """The model's list fields whose items are input models themselves (rows)."""
    found: dict[str, type[InputModel]] = {}
    for name, info in model.model_fields.items():
        if typing.get_origin(info.annotation) is list:
            (item,) = typing.get_args(info.annotation)
            if isinstance(item, type) and issubclass(item, InputModel):
                found[name] = item
    return found


MAX_ROWS_INDEX = 9_999


def validate_rows(
    model: type[Model], submitted: Iterable[tuple[str, str]]
) -> tuple[Model | None, FormState]:
    """`validate_input` for a model with rows: lists of input models, posted as
    ``<list>-<n>-<field>`` (``strengths-0-body``), so a form can add and remove
    rows without JavaScript.

    Rows come in the order of their numbers, renumbered from 0; the `FormState`
    names them by their new numbers, and a bad row field's message is under its
    own name (``strengths-1-body``). Unknown names are ignored; of a name given
    twice the first counts.
    """
    rows_of = row_models(model)
    scalars: dict[str, str] = {}
    numbered: dict[str, dict[int, dict[str, str]]] = {name: {} for name in rows_of}
    for name, value in submitted:
        list_name, _, rest = name.partition("-")
        number, _, row_field = rest.partition("-")
        if list_name in rows_of:
            row_model = rows_of[list_name]
            position = parse_number(number, low=0, high=MAX_ROWS_INDEX)
            if position is not None and row_field in row_model.model_fields:
                numbered[list_name].setdefault(position, {}).setdefault(row_field, value)
        elif name in model.model_fields and name not in scalars:
            scalars[name] = value
    data: dict[str, Any] = dict(scalars)
    form = FormState(values=dict(scalars))
    for list_name, by_number in numbered.items():
        ordered = [by_number[number] for number in sorted(by_number)]
        if ordered:
            data[list_name] = ordered
        for index, row in enumerate(ordered):
            for row_field, value in row.items():
                form.values[f"{list_name}-{index}-{row_field}"] = value
    try:
        return model.model_validate(data), form
    except ValidationError as exc:
        for error in exc.errors():
            loc = error["loc"]
            if not loc or loc[0] not in model.model_fields:
                continue
            info = model.model_fields[str(loc[0])]
            name = str(loc[0])
            if len(loc) >= 3 and str(loc[0]) in rows_of and isinstance(loc[1], int):
                row_model = rows_of[str(loc[0])]
                if str(loc[2]) in row_model.model_fields:
                    info = row_model.model_fields[str(loc[2])]
                    name = f"{loc[0]}-{loc[1]}-{loc[2]}"
            if name not in form.errors:
                form.errors[name] = human_message(error, info)
        return None, form


def _constraint(info: FieldInfo, attribute: str) -> Any:
    # The last one given: a type narrowed further (`Id` from `DbInt`) says it last.
    for item in reversed(info.metadata):
        found = getattr(item, attribute, None)
        if found is not None:
            return found
    return None


def human_message(error: ErrorDetails, info: FieldInfo) -> str:
    """What to tell a person about one validation error, instead of pydantic's wording."""
    say = next((item for item in info.metadata if isinstance(item, Say)), Say())
    kind = error["type"]
    given = error.get("input")
    empty = given is None or (isinstance(given, str) and not given.strip())
    if kind == "control_character":
        return error["msg"]
    if kind == "missing" or (kind == "string_too_short" and empty):
        return say.missing or "Fill in this field."
    if say.invalid:
        return say.invalid
    context = error.get("ctx") or {}
    if kind == "string_too_long":
        return (
            f"Keep it to {context['max_length']:,} characters or fewer "
            f"(this has {len(str(given)):,})."
        )
    if kind == "string_too_short":
        return f"Use at least {context['min_length']:,} characters."
    if kind in ("int_parsing", "int_parsing_size", "int_type", "int_from_float"):
        return "Enter a whole number, like 12."
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        low, high = _constraint(info, "ge"), _constraint(info, "le")
        if low is not None and high is not None:
            return f"Enter a number from {low:,} to {high:,}."
        return "Enter a larger number." if kind.startswith("greater") else "Enter a smaller number."
    if kind in ("enum", "literal_error"):
        return "Choose one of the options."
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_type"):
        return "Enter a date like 2026-03-31."
    if kind == "bool_parsing":
        return "Choose yes or no."
    if kind == "string_pattern_mismatch":
        return "Check the format of this field."
    if kind in _OUR_OWN:
        return error["msg"]
    return "Check this field."


# Error types raised by our own validators, whose messages are already written for people.
_OUR_OWN = frozenset(
    {
        "email",
        "colour",
        "range_order",
        "mismatch",
        "choice",
        "url",
        "durations",
        "roles",
        "one_line",
        "slug",
        "time_zone",
        "send_window",
        "language_model",
    }
)


# Room for the CSRF token and a submit button's name beside a model's own fields.
EXTRA_FIELDS = 4
# How posted (name, value) pairs become the values to validate: by default the last
# value of each name, as a browser sends one per field.
Values = Callable[[list[tuple[str, str]]], Mapping[str, str]]


def field_limit(model: type[InputModel]) -> int:
    """How many fields a form for `model` may post: its fields (or its `MAX_FIELDS`,
    when a field may come several times), the CSRF token and a button or two."""
    return int(getattr(model, "MAX_FIELDS", len(model.model_fields))) + EXTRA_FIELDS


async def read_form(
    request: Request,
    model: type[Model],
    *,
    max_fields: int | None = None,
    values: Values = dict,
    blocking: bool = False,
) -> tuple[Model | None, FormState]:
    """The posted form as `model` (None when it is not valid) and the form as typed,
    with a message per bad field.

    At most `max_fields` fields (by default `field_limit(model)`) and no files: a
    form with more, or a field larger than the parser takes, is refused by Starlette
    with a 400 (`portal.web.bad_request` answers it). `values` turns the posted
    pairs into the values to check (a checkbox group joined, line breaks made one);
    a model with rows reads them as `validate_rows` does. `blocking`: the model's
    validators may block (ask a library that loads plugins or reaches a local
    server), so they run in a worker thread, off the event loop.
    """
    limit = field_limit(model) if max_fields is None else max_fields
    posted = await request.form(max_files=0, max_fields=limit)
    pairs = [(name, value) for name, value in posted.multi_items() if isinstance(value, str)]
    if row_models(model):
        return validate_rows(model, pairs)
    if blocking:
        return await run_in_threadpool(validate_input, model, values(pairs))
    return validate_input(model, values(pairs))


# Fields no person typed: never shown back as their text.
NOT_TYPED = frozenset({"csrftoken", "action", "version"})


async def read_typed_text(request: Request, *, max_fields: int = 200) -> list[tuple[str, str]]:
    """The text fields of a posted form that was refused before any handler read it
    (a stale CSRF token), to show the person what they typed: the non-empty ones,
    but not the token or buttons. Nothing for a form that cannot be read."""
    try:
        posted = await request.form(max_files=0, max_fields=max_fields)
    except Exception:  # any form Starlette will not parse: nothing to show
        return []
    return [
        (name, value)
        for name, value in posted.multi_items()
        if isinstance(value, str) and value.strip() and name not in NOT_TYPED
    ]


async def read_upload(
    request: Request, model: type[Model], *, file: str, max_fields: int
) -> tuple[Model | None, FormState, UploadFile | None]:
    """`read_form` for a form with one file, posted as the field named `file`: the
    other fields as `model`, the form as typed, and the file (None when none was
    chosen). The caller closes the file once read."""
    posted = await request.form(max_files=1, max_fields=max_fields)
    upload = posted.get(file)
    pairs = [(name, value) for name, value in posted.multi_items() if isinstance(value, str)]
    data, form = validate_input(model, dict(pairs))
    return data, form, upload if isinstance(upload, UploadFile) else None


def web_link(value: str | None) -> str | None:
    """`value` if it is an http(s) address to link to, else None (never a javascript:
    or data: URL, whatever was stored)."""
    if value and WEB_ADDRESS.match(value):
        return value
    return None
