"""Nothing private of a scorecard reaches the candidate: a unique marker planted in every
private field (private attribute notes, private questions and their answers) is searched
for in every candidate-facing output of a feedback drafted from it and published (the
draft's candidate fields, the preview, the published page, the PDF's text, the emails,
the candidate's data export), and the ratings never appear there as labels. Erasure
deletes the scorecards."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.db import unit_of_work, utcnow
from portal.drafting.models import DraftedFeedback, Scorecard, ScorecardEntry, ScorecardSource
from portal.drafting.models import ScorecardRating as R
from portal.drafting.service import AttributeInput, QuestionInput, ScorecardInput, add_scorecard
from portal.feedback.drafts import load_draft
from portal.jobs.worker import Worker
from portal.privacy.erasure import erase_candidate
from portal.privacy.export import build_export
from portal.privacy.models import ErasureCause
from portal.security.actors import Staff, StaffRole
from portal.settings import Settings
from tests.factories import CSRF_FIELD, make_staff, make_world, open_link, staff_sign_in

Sessions = async_sessionmaker[AsyncSession]
MARK = "QZXMARK"
PRIVATE_TEXTS = {
    "attribute note": f"{MARK}1 Seemed distracted by {MARK}1.",
    "question": f"What about {MARK}2?",
    "answer": f"{MARK}3 Asked for too much money.",
    "second card's private note": f"{MARK}4 Not a fit for the team.",
}
RATING_LABELS = ("strong_yes", "Strong yes", "definitely_not", "Definitely not", "no_decision")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"pdf_timeout_seconds": 120.0})


async def _cards(sessions: Sessions, application_id: int, organization_id: int) -> None:
    actor = Staff(0, organization_id, StaffRole.RECRUITER, "", b"")
    async with unit_of_work(sessions) as db:
        await add_scorecard(
            db,
            actor=actor,
            application_id=application_id,
            card=ScorecardInput(
                interviewer="Kate Austen",
                step="Onsite",
                overall_recommendation=R.STRONG_YES,
                attributes=[
                    AttributeInput("SQL", R.STRONG_YES, "Wrote a correct window function."),
                    AttributeInput("Statistics", R.DEFINITELY_NOT, "Mixed up power and bias."),
                    AttributeInput("SQL", R.YES, PRIVATE_TEXTS["attribute note"], private=True),
                ],
                questions=[
                    QuestionInput(PRIVATE_TEXTS["question"], PRIVATE_TEXTS["answer"], private=True)
                ],
            ),
            source=ScorecardSource.GREENHOUSE,
            staff_id=None,
            now=utcnow(),
        )
        await add_scorecard(
            db,
            actor=actor,
            application_id=application_id,
            card=ScorecardInput(
                interviewer="Jack Shephard",
                overall_recommendation=R.DEFINITELY_NOT,
                attributes=[
                    AttributeInput(
                        "Statistics",
                        R.NO_DECISION,
                        PRIVATE_TEXTS["second card's private note"],
                        private=True,
                    ),
                ],
            ),
            source=ScorecardSource.API,
            staff_id=None,
            now=utcnow(),
        )


def _clean(text: str, where: str) -> None:
    assert MARK not in text, f"a private field reached {where}"
    for label in RATING_LABELS:
        assert label not in text, f"the rating {label!r} reached {where}"


async def test_no_private_field_or_rating_reaches_anything_the_candidate_sees(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
    tmp_path: Path,
) -> None:
    world = await make_world(sessions, published=False)
    await make_staff(sessions, organization_id=world.organization_id)
    assert (await staff_sign_in(client)).status_code == 303
    await _cards(sessions, world.application_id, world.organization_id)
    page = f"/staff/applications/{world.application_id}"
    # Staff see the private fields on the application page: that is where they stay.
    assert MARK in (await client.get(page)).text
    token = CSRF_FIELD.search((await client.get(page)).text).group(1)  # type: ignore[union-attr]
    drafted = await client.post(f"{page}/draft", data={"csrftoken": token})
    assert drafted.status_code == 303

    # The draft's candidate fields.
    actor = Staff(0, world.organization_id, StaffRole.RECRUITER, "", b"")
    async with unit_of_work(sessions) as db:
        stored = await load_draft(db, actor=actor, application_id=world.application_id)
        record = await db.scalar(select(DraftedFeedback))
    assert stored is not None and record is not None
    _clean(repr(stored.draft), "the draft")
    _clean(json.dumps(record.sentences), "the draft's sources")
    # The editor shows the draft and its sources; none of them private.
    _clean((await client.get(f"{page}/feedback")).text, "the editor")
    # The preview.
    preview = (await client.get(f"/staff/applications/{world.application_id}/preview")).text
    _clean(preview, "the preview")
    assert "Where this draft came from" not in preview and "Kate Austen" not in preview

    token = CSRF_FIELD.search((await client.get(f"{page}/feedback")).text).group(1)  # type: ignore[union-attr]
    published = await client.post(
        f"/staff/applications/{world.application_id}/publish",
        data={"csrftoken": token, "version": str(stored.version), "confirm_incomplete": "on"},
    )
    assert published.status_code == 303, published.text
    await Worker(settings=settings, sessions=sessions).run_once()

    # The emails.
    mails = sorted(Path(settings.mail_dir).glob("*.eml"))
    assert mails
    for mail in mails:
        _clean(mail.read_text(), f"the email {mail.name}")
    link = next(
        line.split("http://testserver", 1)[1].split()[0]
        for mail in mails
        for line in mail.read_text().splitlines()
        if "http://testserver/l/" in line
    )
    # The published page.
    opened = await open_link(other_client, link)
    assert opened.status_code == 303
    feedback_page = await other_client.get(opened.headers["location"])
    assert "Wrote a correct window function." in feedback_page.text
    _clean(feedback_page.text, "the published page")
    # The sources are the recruiter's: no interviewer is named to the candidate.
    assert "Kate Austen" not in feedback_page.text
    assert "Where this draft came from" not in feedback_page.text
    # The PDF's text.
    pdf = await other_client.get(f"/feedback/{world.application_id}/summary.pdf")
    assert pdf.status_code == 200
    if shutil.which("pdftotext"):
        path = tmp_path / "summary.pdf"
        path.write_bytes(pdf.content)
        text = subprocess.run(  # noqa: ASYNC221  (a test; poppler is quick)
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "window function" in " ".join(text.split())
        _clean(text, "the PDF")
    else:  # pragma: no cover - the PDF tests need poppler too
        assert MARK.encode() not in pdf.content
    # The candidate's data export: their candidate-safe notes, not the private ones.
    async with unit_of_work(sessions) as db:
        document = await build_export(
            db, organization_id=world.organization_id, candidate_id=world.candidate_id, now=utcnow()
        )
    assert document is not None
    exported = json.dumps(document)
    assert "Wrote a correct window function." in exported
    assert len(document["tables"]["scorecards"]) == 2
    _clean(exported, "the data export")


async def test_erasure_deletes_the_scorecards(sessions: Sessions, settings: Settings) -> None:
    world = await make_world(sessions, published=False)
    await _cards(sessions, world.application_id, world.organization_id)
    async with unit_of_work(sessions) as db:
        erased = await erase_candidate(
            db,
            organization_id=world.organization_id,
            candidate_id=world.candidate_id,
            cause=ErasureCause.STAFF,
            settings=settings,
            now=utcnow(),
            actor_kind="staff",
            notify=False,
        )
    assert erased is not None
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Scorecard)) == 0
        assert await db.scalar(select(func.count()).select_from(ScorecardEntry)) == 0
