"""\"Was this helpful?\" under the feedback (issue 26): answered without JavaScript,
one answer per application and changeable, stored apart from who gave it, with
wording the admins may change (versioned)."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.candidates.models import Application
from portal.db import unit_of_work, utcnow
from portal.feedback.view import load_feedback_view
from portal.pdf.document import summary_html
from portal.pdf.summary import summary_view
from portal.security.actors import Candidate
from portal.settings import Settings
from portal.survey import service
from portal.survey.models import SurveyAnswer, SurveyWording
from tests.factories import World, csrf_token, make_world, sign_in
from tests.jobs_support import desk

Sessions = async_sessionmaker[AsyncSession]


async def _answers(sessions: Sessions) -> list[SurveyAnswer]:
    async with sessions() as db:
        return list((await db.scalars(select(SurveyAnswer).order_by(SurveyAnswer.id))).all())


async def _answer(client: httpx.AsyncClient, world: World, **fields: str) -> httpx.Response:
    token = await csrf_token(client, f"/feedback/{world.application_id}")
    return await client.post(
        f"/feedback/{world.application_id}/survey", data={"csrftoken": token, **fields}
    )


async def test_a_candidate_answers_and_changes_their_answer_without_javascript(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    page = await client.get(f"/feedback/{world.application_id}")
    assert "Was this helpful?" in page.text
    assert service.DEFAULT_HELPFULNESS in page.text
    sent = await _answer(client, world, helpfulness="4", fairness="2", comment="Clear, thanks.")
    assert sent.status_code == 303
    assert sent.headers["location"].endswith(
        f"/feedback/{world.application_id}?survey=thanks#survey"
    )
    back = await client.get(sent.headers["location"])
    assert "your answer is saved" in back.text
    assert 'value="4" required checked' in back.text and "Clear, thanks." in back.text
    [stored] = await _answers(sessions)
    assert (stored.helpfulness, stored.fairness, stored.comment) == (4, 2, "Clear, thanks.")
    assert stored.period.day == 1 and stored.wording_version == 0
    # Changing it changes the one answer.
    await _answer(client, world, helpfulness="5", fairness="3", comment="")
    [changed] = await _answers(sessions)
    assert changed.id == stored.id
    assert (changed.helpfulness, changed.fairness, changed.comment) == (5, 3, None)


async def test_an_answer_is_kept_apart_from_who_gave_it(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    await _answer(client, world, helpfulness="3", fairness="3")
    columns = {column.key for column in inspect(SurveyAnswer).columns}
    assert not {"application_id", "candidate_id", "created_at", "updated_at"} & columns
    [stored] = await _answers(sessions)
    secret = settings.secret_key.get_secret_value()
    assert stored.answer_key == service.answer_key(secret, world.application_id)
    assert len(stored.answer_key) == 64 and stored.answer_key != str(world.application_id)
    assert service.answer_key(secret, world.application_id) != service.answer_key(
        "another secret", world.application_id
    )
    # Nothing about answering names the candidate in the audit log.
    async with sessions() as db:
        actions = (await db.scalars(select(AuditEvent.action))).all()
    assert not [action for action in actions if action.startswith("survey.")]


async def test_bad_and_forged_answers_store_nothing(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    other = await make_world(sessions, slug="globex", email="eve@example.com", name="Eve")
    await sign_in(client, sessions, world)
    for fields in (
        {"helpfulness": "6", "fairness": "3"},
        {"helpfulness": "0", "fairness": "3"},
        {"fairness": "3"},
        {"helpfulness": "3", "fairness": "3", "comment": "x" * 1001},
        {"helpfulness": "3", "fairness": "3", "comment": "bad\x00byte"},
    ):
        answer = await _answer(client, world, **fields)
        assert answer.status_code == 303
        assert answer.headers["location"].endswith("?survey=invalid#survey")
    shown = await client.get(f"/feedback/{world.application_id}?survey=invalid")
    assert "Choose a number from 1 to 5" in shown.text
    # Without the CSRF token; and for someone else's application.
    forged = await client.post(
        f"/feedback/{world.application_id}/survey", data={"helpfulness": "1", "fairness": "1"}
    )
    assert forged.status_code == 403
    theirs = await _answer(client, other, helpfulness="1", fairness="1")
    assert theirs.status_code == 404
    assert await _answers(sessions) == []


async def test_a_comment_is_text_not_markup(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    await _answer(client, world, helpfulness="2", fairness="2", comment="<script>alert(1)</script>")
    page = await client.get(f"/feedback/{world.application_id}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_unpublished_feedback_cannot_be_rated(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    draft_only = await make_world(sessions, job_title="Chef", published=False)
    await sign_in(client, sessions, world)
    answer = await _answer(client, draft_only, helpfulness="5", fairness="5")
    assert answer.status_code == 404
    assert await _answers(sessions) == []


async def test_admins_change_the_wording_as_a_new_version(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    admin = await desk(client, sessions, role="admin", world=world)
    page = await client.get("/staff/survey-settings")
    assert page.status_code == 200 and service.DEFAULT_FAIRNESS in page.text
    empty = await admin.post(
        "/staff/survey-settings", helpfulness="", fairness="Fair?", comment="Tell us", version="0"
    )
    assert empty.status_code == 422 and "Write the question." in empty.text
    assert "Tell us" in empty.text
    saved = await admin.post(
        "/staff/survey-settings",
        helpfulness="Did this help you?",
        fairness="Did we treat you fairly?",
        comment="Anything else?",
        version="0",
    )
    assert saved.status_code == 303
    stale = await admin.post(
        "/staff/survey-settings", helpfulness="Old", fairness="Old", comment="Old", version="0"
    )
    assert stale.status_code == 409 and "Old" in stale.text
    async with sessions() as db:
        versions = (await db.scalars(select(SurveyWording.version))).all()
        event = await db.scalar(
            select(AuditEvent).where(AuditEvent.action == "survey.wording_changed")
        )
    assert list(versions) == [1] and event is not None
    # The candidate is asked the new wording, and their answer records its version.
    await sign_in(other_client, sessions, world)
    candidate_page = await other_client.get(f"/feedback/{world.application_id}")
    assert "Did we treat you fairly?" in candidate_page.text
    await _answer(other_client, world, helpfulness="4", fairness="4")
    [stored] = await _answers(sessions)
    assert stored.wording_version == 1


async def test_recruiters_cannot_change_the_wording(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    recruiter = await desk(client, sessions)
    assert (await client.get("/staff/survey-settings")).status_code == 404
    answer = await recruiter.post(
        "/staff/survey-settings", helpfulness="A", fairness="B", comment="C", version="0"
    )
    assert answer.status_code == 404
    async with sessions() as db:
        assert await db.scalar(select(func.count(SurveyWording.id))) == 0


async def test_the_pdf_ends_with_a_link_to_the_survey(
    sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    actor = Candidate(world.candidate_id, world.organization_id, "Dana Scully", b"")
    link = service.survey_link(settings, world.application_id)
    assert link.endswith(f"/feedback/{world.application_id}#survey")
    async with unit_of_work(sessions) as db:
        page = await load_feedback_view(db, actor=actor, application_id=world.application_id)
        assert page is not None
        view = await summary_view(db, page, actor=actor, survey_url=link)
    html = summary_html(view, generated_on=dt.date(2026, 12, 7))
    assert f'<a href="{link}">' in html
    assert html.count("Was this feedback helpful?") == 1


async def test_an_answer_from_a_month_that_has_ended_no_longer_changes(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    last_month = (utcnow().date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    async with unit_of_work(sessions) as db:
        db.add(
            SurveyAnswer(
                organization_id=world.organization_id,
                job_id=(
                    await db.scalar(
                        select(Application.job_id).where(Application.id == world.application_id)
                    )
                ),
                period=last_month,
                helpfulness=2,
                fairness=3,
                answer_key=service.answer_key(
                    settings.secret_key.get_secret_value(), world.application_id
                ),
            )
        )
    await sign_in(client, sessions, world)
    page = await client.get(f"/feedback/{world.application_id}")
    assert "You answered 2 out of 5 for helpfulness" in page.text
    assert 'name="helpfulness"' not in page.text
    refused = await _answer(client, world, helpfulness="5", fairness="5")
    assert refused.headers["location"].endswith("?survey=closed#survey")
    [kept] = await _answers(sessions)
    assert (kept.helpfulness, kept.fairness, kept.period) == (2, 3, last_month)
