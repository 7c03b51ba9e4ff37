"""The feedback-page benchmark's baseline must keep rendering the real template.

`bench/baseline_app.py` renders `candidate/feedback.html` outside the portal, so a
link or a field added to the page without the baseline knowing breaks the
benchmark (a 500 in the baseline) without failing any other test.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import httpx
import pytest


async def test_the_baseline_renders_the_feedback_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_APPLICATIONS", "10")
    monkeypatch.setenv("BENCH_APPLICATION_INDEX", "5")
    sys.modules.pop("bench.baseline_app", None)
    baseline = importlib.import_module("bench.baseline_app")
    try:
        transport = httpx.ASGITransport(app=baseline.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            response = await client.get("/feedback/6")
        assert response.status_code == 200, response.text[-2000:]
        assert baseline.PAGE.job_title in response.text
    finally:
        sys.modules.pop("bench.baseline_app", None)


def test_the_render_cost_compares_the_same_page_before_and_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bench import render_cost

    known = subprocess.run(
        ["git", "-C", str(render_cost.ROOT), "cat-file", "-e", render_cost.TEMPLATES_BEFORE_COMMIT],
        capture_output=True,
        check=False,
    )
    if known.returncode != 0:
        pytest.skip("the commit of the templates before their rework is not in this clone")
    sys.modules.pop("bench.baseline_app", None)
    try:
        measured = render_cost.measure(
            applications=10, index=5, csrf_token="x" * 43, cpu=min(os.sched_getaffinity(0)),
            rounds=1, renders=100,
        )  # fmt: skip
    finally:
        sys.modules.pop("bench.baseline_app", None)
        for name in ("BENCH_APPLICATIONS", "BENCH_APPLICATION_INDEX", "BENCH_CSRF_TOKEN"):
            monkeypatch.delenv(name, raising=False)
    assert measured["same_page"]
    assert measured["before_ms"] > 0 and measured["after_ms"] > 0
