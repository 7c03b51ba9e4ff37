"""The feedback-page benchmark's baseline must keep rendering the real template.

`bench/baseline_app.py` renders `candidate/feedback.html` outside the portal, so a
link or a field added to the page without the baseline knowing breaks the
benchmark (a 500 in the baseline) without failing any other test.
"""

from __future__ import annotations

import importlib
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
