"""The API's OpenAPI 3.1 document, built from its routes and the pydantic models
their handlers validate with and answer (`@documented`), so the document cannot
drift from the code: a handler's body model is the one `body_model` reads, its
answers the models it dumps, its scope the one its area's guard checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.routing import BaseRoute, Route

from portal.api.forms import Problem
from portal.api.idempotency import KEY_MAX, KEY_PATTERN
from portal.db import MAX_ID

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_OPERATION = "api_operation"
REF = "#/components/schemas/{model}"
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    schema: dict[str, Any]


PAGE = (
    Query(
        "limit", "Items per page (default 50).", {"type": "integer", "minimum": 1, "maximum": 200}
    ),
    Query(
        "cursor",
        "Where the page starts: the `next` link of the previous page holds it (opaque).",
        {"type": "string", "pattern": "^c1[0-9a-f]{8}$"},
    ),
)


@dataclass(frozen=True)
class Operation:
    summary: str
    answers: dict[int, type[BaseModel]]
    body: type[BaseModel] | None = None
    query: Sequence[Query] = ()
    # Errors beyond those every operation may answer (400, 401, 403, 413, 415).
    errors: dict[int, str] = field(default_factory=dict)
    description: str = ""


def documented(operation: Operation) -> Callable[[Endpoint], Endpoint]:
    """Declare what a handler takes and answers, for the OpenAPI document."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _OPERATION, operation)
        return endpoint

    return mark


COMMON_ERRORS = {
    400: "Malformed: bad JSON, a bad cursor or limit, or no Idempotency-Key.",
    401: "No API key, or not a valid one (revoked, unknown).",
    403: "The key lacks the scope this needs.",
    413: "The body is larger than the limit.",
    415: "The body is not JSON.",
}


Refs = Mapping[tuple[Any, Any], Any]


def _problem_response(description: str, refs: Refs) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM: {"schema": refs[(Problem, "serialization")]}},
    }


def openapi_document(routes: Sequence[BaseRoute], *, prefix: str, version: str) -> dict[str, Any]:
    operations: list[tuple[str, str, Route, Operation]] = []
    models: list[tuple[type[BaseModel], Any]] = [(Problem, "serialization")]
    for route in routes:
        if not isinstance(route, Route):
            continue
        operation: Operation | None = getattr(route.endpoint, _OPERATION, None)
        if operation is None:
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            operations.append((method.lower(), route.path, route, operation))
        if operation.body is not None:
            models.append((operation.body, "validation"))
        models.extend((model, "serialization") for model in operation.answers.values())
    unique = list(dict.fromkeys(models))
    refs, definitions = models_json_schema(unique, ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for method, path, route, operation in operations:
        paths.setdefault(prefix + path.replace(":id}", "}"), {})[method] = _operation(
            method, route, operation, refs
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Afterword API",
            "version": version,
            "description": "Jobs, rejected applications with their feedback, publishing, "
            "candidates' links, and where questions and the talent pool stand. Every "
            "request sends an API key (`Authorization: Bearer <key>`); every POST and "
            "PATCH an `Idempotency-Key`. Errors are RFC 9457 problem details.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key of your organization (/staff/api-keys).",
                }
            },
        },
        "security": [{"apiKey": []}],
    }


def _operation(method: str, route: Route, operation: Operation, refs: Refs) -> dict[str, Any]:
    scope = getattr(route.endpoint, "api_scope", "")
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        }
        for name in route.param_convertors
    ]
    parameters += [
        {
            "name": q.name,
            "in": "query",
            "required": False,
            "description": q.description,
            "schema": q.schema,
        }
        for q in operation.query
    ]
    writes = method in ("post", "patch")
    if writes:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "description": "A unique string per request; a retry with the same key gets "
                "the first answer back (kept 24 hours).",
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": KEY_MAX,
                    "pattern": KEY_PATTERN,
                },
            }
        )
    responses: dict[str, Any] = {}
    for status, model in operation.answers.items():
        responses[str(status)] = {
            "description": HTTPStatus(status).phrase,
            "content": {"application/json": {"schema": refs[(model, "serialization")]}},
        }
    errors = dict(COMMON_ERRORS)
    if route.param_convertors:
        errors[404] = "No such record of your organization."
    if writes:
        errors[409] = "A conflict: the Idempotency-Key's first request still runs, or another."
        errors[422] = "Invalid fields (each named), or an Idempotency-Key reused."
    errors.update(operation.errors)
    if not writes:
        errors.pop(413)
        errors.pop(415)
    for status, description in sorted(errors.items()):
        responses[str(status)] = _problem_response(description, refs)
    found: dict[str, Any] = {
        "operationId": route.name,
        "summary": operation.summary,
        "description": (operation.description + "\n\n" if operation.description else "")
        + f"Needs the scope `{scope}`.",
        "parameters": parameters,
        "responses": responses,
        "security": [{"apiKey": [scope]}],
    }
    if operation.body is not None:
        found["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(operation.body, "validation")]}},
        }
    return found


# --- the reference page in the documentation (docs/api-reference.md) --------------------


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema:
        return " or ".join(_type_of(option) for option in schema["anyOf"])
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    if schema.get("type") == "array":
        return f"list of {_type_of(schema.get('items', {}))}"
    if schema.get("type") == "object" and "additionalProperties" in schema:
        return f"map to {_type_of(schema['additionalProperties'])}"
    kind = str(schema.get("type", "any"))
    if "format" in schema:
        kind += f" ({schema['format']})"
    return kind


def _limits(schema: dict[str, Any]) -> str:
    words = []
    for key, say in (
        ("minLength", "at least {} characters"),
        ("maxLength", "at most {} characters"),
        ("minimum", "from {}"),
        ("maximum", "up to {}"),
        ("maxItems", "at most {} items"),
        ("pattern", "matching `{}`"),
    ):
        if key in schema:
            words.append(say.format(schema[key]))
    for option in schema.get("anyOf", ()):
        words.extend(_limits(option).split("; ") if _limits(option) else [])
    return "; ".join(words)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def reference_markdown(document: dict[str, Any]) -> str:
    """The document as a Markdown page: each operation, then each schema."""
    lines: list[str] = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            lines += [f"### {operation['summary']}", "", f"`{method.upper()} {path}`", ""]
            lines += [operation["description"], ""]
            if operation["parameters"]:
                lines += ["| parameter | in | required | type |", "|---|---|---|---|"]
                for parameter in operation["parameters"]:
                    limits = _limits(parameter["schema"])
                    described = parameter.get("description", "")
                    lines.append(
                        f"| `{parameter['name']}` | {parameter['in']} | "
                        f"{'yes' if parameter['required'] else 'no'} | "
                        + _cell(
                            f"{_type_of(parameter['schema'])}"
                            + (f", {limits}" if limits else "")
                            + (f". {described}" if described else "")
                        )
                        + " |"
                    )
                lines.append("")
            if "requestBody" in operation:
                body = operation["requestBody"]["content"]["application/json"]["schema"]
                lines += [f"Body: {_type_of(body)}", ""]
            lines += ["| status | answer |", "|---|---|"]
            for status, response in operation["responses"].items():
                content: dict[str, Any] = response.get("content", {})
                first: dict[str, Any] = next(iter(content.values()), {})
                schema = first.get("schema", {})
                lines.append(
                    f"| {status} | {_cell(response['description'])} ({_type_of(schema)}) |"
                )
            lines.append("")
    lines += ["## Schemas", ""]
    for name, schema in sorted(document["components"]["schemas"].items()):
        lines += [f"### {name}", ""]
        if schema.get("description"):
            lines += [_cell(schema["description"]), ""]
        if "enum" in schema:
            lines += ["One of " + ", ".join(f"`{value}`" for value in schema["enum"]) + ".", ""]
            continue
        required = set(schema.get("required", ()))
        properties = schema.get("properties", {})
        if not properties:
            lines += ["An empty object: `{}`.", ""]
            continue
        lines += ["| field | type | required | notes |", "|---|---|---|---|"]
        for field_name, field_schema in properties.items():
            notes = "; ".join(
                part
                for part in (field_schema.get("description", ""), _limits(field_schema))
                if part
            )
            lines.append(
                f"| `{field_name}` | {_cell(_type_of(field_schema))} | "
                f"{'yes' if field_name in required else 'no'} | {_cell(notes)} |"
            )
        lines.append("")
    return "\n".join(lines)
