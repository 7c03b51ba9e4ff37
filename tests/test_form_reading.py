"""Handlers read posted forms through the form layer (`portal.forms.read_form`), each
with the field limit it always had."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import csrf_token, make_staff, make_world, open_session

Sessions = async_sessionmaker[AsyncSession]
PORTAL = Path(__file__).resolve().parent.parent / "portal"
READS_A_FORM = re.compile(r"\.form\(")


def test_no_handler_reads_a_posted_form_itself() -> None:
    readers = [
        f"{path.relative_to(PORTAL)}:{number}"
        for path in sorted(PORTAL.rglob("*.py"))
        if path != PORTAL / "forms.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if READS_A_FORM.search(line)
    ]
    assert readers == [], "read posted forms with portal.forms.read_form (or read_upload)"


def _extra(count: int) -> dict[str, str]:
    return {f"extra{n}": "x" for n in range(count)}


async def test_forms_keep_their_field_limits(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    admin = await make_staff(sessions, organization_id=world.organization_id, role="admin")
    # One-click unsubscribe: its field and at most three more (no CSRF token).
    one_click = {"List-Unsubscribe": "One-Click"}
    assert (await client.post("/pool/leave/x", data={**one_click, **_extra(4)})).status_code == 400
    assert (await client.post("/pool/leave/x", data={**one_click, **_extra(3)})).status_code == 404
    # A candidate's question, and an admin's change of role: five fields in all.
    for who, path, form in (
        ({"candidate_id": world.candidate_id}, f"/feedback/{world.application_id}/questions", {}),
        ({"staff_user_id": admin}, f"/staff/people/{admin}/role", {"role": "admin"}),
    ):
        client.cookies.set("afterword_session", await open_session(sessions, **who))
        token = await csrf_token(client)
        data = {"csrftoken": token, **form}
        too_many = await client.post(path, data={**data, **_extra(5 - len(data) + 1)})
        assert too_many.status_code == 400, path
        assert "That request could not be read" in too_many.text
        within = await client.post(path, data={**data, **_extra(5 - len(data))})
        assert within.status_code != 400, path
        client.cookies.clear()
