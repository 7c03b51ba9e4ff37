"""Staff acting on a candidate's written request: export on their behalf, erase with a
reason; the data requests log with its one-month due dates."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from portal.audit.models import AuditEvent
from portal.candidates.models import Candidate
from portal.db import unit_of_work, utcnow
from portal.privacy.models import DataRequest, LegalHold
from portal.settings import Settings
from tests.factories import csrf_token, make_staff, make_world, staff_sign_in
from tests.privacy_support import Sessions, link_in_mail, mail_files

ADMIN = "ada@acme.example"


async def _setup(client: httpx.AsyncClient, sessions: Sessions) -> tuple[int, int, int]:
    """An admin of acme signed in; (acme's candidate, acme's org, globex's candidate)."""
    world = await make_world(sessions, email="kim@example.com", name="Kim Requester")
    other = await make_world(sessions, slug="globex", email="kim@example.com", name="Kim G")
    await make_staff(sessions, organization_id=world.organization_id, email=ADMIN, role="admin")
    assert (await staff_sign_in(client, ADMIN)).status_code == 303
    return world.candidate_id, world.organization_id, other.candidate_id


async def test_staff_export_on_a_written_request(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    candidate_id, _, _ = await _setup(client, sessions)
    path = f"/staff/privacy/candidates/{candidate_id}"
    page = await client.get(path)
    assert page.status_code == 200 and "Kim Requester" in page.text
    token = await csrf_token(client, path)
    missing = await client.post(f"{path}/export", data={"csrftoken": token, "reason": ""})
    assert missing.status_code == 422
    assert "Say which written request" in missing.text
    done = await client.post(
        f"{path}/export", data={"csrftoken": token, "reason": "Email of 2 March <b>asking</b>"}
    )
    assert done.status_code == 303
    while await app.state.worker.run_once():
        pass
    # The link goes to the candidate, not to staff.
    assert link_in_mail(settings, to="kim@example.com", subject="is ready")
    log = await client.get("/staff/privacy")
    assert "Kim Requester" in log.text and "on a written request" in log.text
    assert "&lt;b&gt;asking&lt;/b&gt;" in log.text


async def test_staff_erase_needs_a_reason_and_the_box_ticked(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    candidate_id, org_id, globex_candidate = await _setup(client, sessions)
    path = f"/staff/privacy/candidates/{candidate_id}"
    token = await csrf_token(client, path)
    unticked = await client.post(
        f"{path}/erase", data={"csrftoken": token, "reason": "Letter of 3 March"}
    )
    assert unticked.status_code == 422
    assert "Tick the box" in unticked.text and 'value="Letter of 3 March"' in unticked.text
    no_reason = await client.post(f"{path}/erase", data={"csrftoken": token, "confirm": "yes"})
    assert no_reason.status_code == 422
    no_csrf = await client.post(
        f"{path}/erase", data={"reason": "Letter of 3 March", "confirm": "yes"}
    )
    assert no_csrf.status_code == 403
    async with unit_of_work(sessions) as db:
        assert await db.get(Candidate, candidate_id) is not None
    erased = await client.post(
        f"{path}/erase",
        data={
            "csrftoken": token,
            "reason": "Letter from Kim Requester of 3 March",
            "confirm": "yes",
        },
    )
    assert erased.status_code == 303
    while await app.state.worker.run_once():
        pass
    async with unit_of_work(sessions) as db:
        assert await db.get(Candidate, candidate_id) is None
        assert await db.get(Candidate, globex_candidate) is not None
        event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.erased"))
        assert event is not None
        assert event.details["cause"] == "staff"
        # The reason is kept, without their name.
        assert event.details["reason"] == "Letter from [erased] of 3 March"
        holds = (await db.scalars(select(LegalHold))).all()
        assert [hold.organization_id for hold in holds] == [org_id]
    notices = [m for _, m in mail_files(settings) if "has been erased" in str(m["Subject"])]
    assert len(notices) == 1 and notices[0]["To"] == "kim@example.com"
    log = await client.get("/staff/privacy")
    assert "Erased candidate" in log.text and "Kim Requester" not in log.text
    assert "1 legal hold kept" in log.text
    # The page of an erased candidate is gone.
    assert (await client.get(path)).status_code == 404


async def test_another_organizations_candidate_is_not_found(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    _, _, globex_candidate = await _setup(client, sessions)
    path = f"/staff/privacy/candidates/{globex_candidate}"
    assert (await client.get(path)).status_code == 404
    token = await csrf_token(client, "/staff/privacy")
    for action, data in (
        ("export", {"reason": "x"}),
        ("erase", {"reason": "x", "confirm": "yes"}),
    ):
        response = await client.post(f"{path}/{action}", data={"csrftoken": token, **data})
        assert response.status_code == 404, action
    async with unit_of_work(sessions) as db:
        assert await db.get(Candidate, globex_candidate) is not None
        assert (await db.scalars(select(DataRequest))).all() == []


async def test_the_log_shows_due_dates_and_marks_overdue_requests(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    candidate_id, org_id, _ = await _setup(client, sessions)
    now = utcnow()
    async with unit_of_work(sessions) as db:
        db.add_all(
            [
                DataRequest(
                    organization_id=org_id,
                    candidate_id=candidate_id,
                    kind="export",
                    source="candidate",
                    requested_at=now - dt.timedelta(days=40),
                ),
                DataRequest(
                    organization_id=org_id,
                    candidate_id=candidate_id,
                    kind="export",
                    source="candidate",
                    requested_at=now - dt.timedelta(days=3),
                    answered_at=now - dt.timedelta(days=3),
                ),
            ]
        )
    log = await client.get("/staff/privacy")
    assert log.status_code == 200
    assert log.text.count("Overdue since") == 1
    assert "2 requests" in log.text
    assert (await client.get("/staff/privacy?page=9")).status_code == 404
