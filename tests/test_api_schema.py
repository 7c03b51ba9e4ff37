"""Schemathesis over every operation of /api/v1, in-process, with all its checks:
the answers hold to the OpenAPI document the API serves (built from the same
models the handlers use), and no input makes it fail."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import ignored_auth
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api_support import make_key
from tests.factories import make_world

Sessions = async_sessionmaker[AsyncSession]
EXAMPLES = 25  # per operation and mode: enough to find a mismatch, quick enough for CI
# Every check, as configured by default, but for one thing no schema can say: a body
# valid by the schema may still name a job the organization lacks, a requirement its
# job lacks or a decision date in the future, which are 422 (each field named).
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2XX", "401", "403", "404", "409", "422"]
            }
        }
    }
)


def _cases(strategy: st.SearchStrategy[Any]) -> list[Any]:
    """Draw the cases first (Hypothesis runs synchronously), then send them on the
    test's own event loop, where the app and its database live."""
    found: list[Any] = []

    @given(strategy)
    @settings(
        max_examples=EXAMPLES,
        # The same cases on every run, so that a CI run fails for a change, not for
        # a draw; a wider search: raise EXAMPLES locally.
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def collect(case: Any) -> None:
        found.append(case)

    collect()
    return found


async def test_every_operation_holds_to_the_openapi_document(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    document = (await client.get("/api/v1/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document, config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) == 14
    for operation in operations:
        refused_without_key = False
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for case in _cases(operation.as_strategy(generation_mode=mode)):
                given = {name.lower() for name in (case.headers or {})}
                headers = {}
                # Positive cases use the real key; a negative one that breaks the
                # Authorization header keeps what it sent.
                if mode is GenerationMode.POSITIVE or "authorization" not in given:
                    headers["authorization"] = f"Bearer {key}"
                # Keys as generated (a negative case's bad one is kept); a fresh one
                # where the case has none.
                if case.method in ("POST", "PATCH") and "idempotency-key" not in given:
                    headers["idempotency-key"] = str(uuid.uuid4())
                kwargs = case.as_transport_kwargs(base_url=str(client.base_url), headers=headers)
                # Sent as bytes where a negative case put non-ASCII in a header.
                sent: dict[bytes, bytes] = {
                    name.encode(): value.encode()
                    for name, value in (kwargs.get("headers") or {}).items()
                }
                if kwargs.get("cookies"):  # the API reads none; sent as a browser would
                    cookies = "; ".join(f"{k}={v}" for k, v in kwargs["cookies"].items())
                    sent[b"cookie"] = cookies.encode()
                client.cookies.clear()
                response = await client.request(
                    kwargs["method"],
                    kwargs["url"],
                    headers=sent,
                    params=kwargs.get("params"),
                    json=kwargs.get("json"),
                    content=kwargs.get("data"),
                )
                case.validate_response(
                    response,
                    headers=headers,
                    transport_kwargs=kwargs,
                    excluded_checks=[ignored_auth],
                )
                if mode is GenerationMode.POSITIVE and not refused_without_key:
                    # What `ignored_auth` checks, sent here on the test's own loop (the
                    # check itself would send over the network): no key, or a wrong
                    # one, and the same request is refused.
                    for wrong in ({}, {"authorization": f"Bearer {key}x"}):
                        unsent = {k: v for k, v in sent.items() if k.lower() != b"authorization"}
                        wrong_key = {k.encode(): v.encode() for k, v in wrong.items()}
                        again = await client.request(
                            kwargs["method"],
                            kwargs["url"],
                            headers={**unsent, **wrong_key},
                            params=kwargs.get("params"),
                            json=kwargs.get("json"),
                            content=kwargs.get("data"),
                        )
                        assert again.status_code in (401, 413), (case.path, again.text)
                    refused_without_key = True
