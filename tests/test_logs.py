"""Logs as JSON lines in production: one object a line, the access log's fields apart,
uvicorn's own messages included, link tokens never written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from portal.logs import configure_logging
from portal.settings import Settings

WATCHED = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


@pytest.fixture
def json_logging() -> Iterator[io.StringIO]:
    loggers = [logging.getLogger(name) for name in WATCHED]
    saved = [(lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in loggers]
    configure_logging(json_lines=True)
    (handler,) = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    written = io.StringIO()
    handler.setStream(written)  # standard error, but for this test
    try:
        yield written
    finally:
        for lg, (handlers, level, propagate, disabled) in zip(loggers, saved, strict=True):
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate = propagate
            lg.disabled = disabled


def _lines(written: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in written.getvalue().splitlines()]


def test_production_logs_json_lines_unless_told_otherwise() -> None:
    production = Settings(env="production", database_url="postgresql://h/db")
    assert production.json_logs
    assert not production.model_copy(update={"log_format": "text"}).json_logs
    assert not Settings(database_url="postgresql://h/db").json_logs


async def test_every_line_is_one_json_object_and_tokens_stay_out(
    json_logging: io.StringIO, client: httpx.AsyncClient
) -> None:
    token = "x" * 43
    await client.get(f"/l/{token}")
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 4242)
    # The test's own HTTP client logs the URL it asked for; the portal's lines are checked.
    lines = [line for line in _lines(json_logging) if line["logger"] != "httpx"]
    access = [line for line in lines if line["logger"] == "portal.access"]
    assert len(access) == 1
    assert access[0]["method"] == "GET"
    assert access[0]["path"] == "/l/[redacted]"
    assert isinstance(access[0]["status"], int)
    assert isinstance(access[0]["duration_ms"], float)
    assert {"time", "level", "logger", "message"} <= access[0].keys()
    started = [line for line in lines if line["logger"] == "uvicorn.error"]
    assert started and started[0]["message"] == "Started server process [4242]"
    assert all(token not in json.dumps(line) for line in lines)
