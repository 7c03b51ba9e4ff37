"""Drafting help: scorecards from the application page, the API and the ATS; the
deterministic draft and its rule; the sources shown to the recruiter; bulk drafting;
what a published draft kept; and the attacker's side (another organization's
application, a missing CSRF token, markup in a note)."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.candidates.models import Application, Requirement
from portal.db import unit_of_work, utcnow
from portal.drafting import compose
from portal.drafting.models import (
    DraftedFeedback,
    DraftingRun,
    Scorecard,
    ScorecardEntry,
    ScorecardRating,
    ScorecardSource,
)
from portal.drafting.service import AttributeInput, ScorecardInput, add_scorecard
from portal.drafting.usefulness import Measured, measure
from portal.feedback.check import check_feedback, check_text
from portal.feedback.drafts import load_draft
from portal.feedback.models import Feedback
from portal.jobs.worker import Worker
from portal.security.actors import Staff, StaffRole
from portal.settings import Settings
from tests.api_support import auth, make_key
from tests.factories import CSRF_FIELD, World, make_staff, make_world, staff_sign_in

Sessions = async_sessionmaker[AsyncSession]
SQL_NOTE = "Wrote a correct window function at once. Explained the query plan clearly"
STATS_NOTE = "Could not yet size an experiment. Mixed up power and significance."


# --- the rule, without a database ------------------------------------------------


def test_the_assessment_rule() -> None:
    assert compose.assess(["yes", "strong_yes"]) == "met"
    assert compose.assess(["no", "definitely_not"]) == "not_yet_met"
    assert compose.assess(["yes", "no"]) == "partly_met"
    assert compose.assess(["mixed"]) == "partly_met"
    assert compose.assess(["no_decision"]) is None
    assert compose.assess([]) is None


def test_evidence_is_whole_sentences_as_written() -> None:
    assert compose.sentences_of("  One thing.   Two  things!  three") == [
        "One thing.",
        "Two things!",
        "three.",
    ]


def _entry(name: str, rating: str | None, note: str, private: bool = False) -> compose.Entry:
    return compose.Entry(1, "Kate", "Onsite", name, rating, note, private)


def test_a_private_note_never_reaches_the_draft_and_a_missing_suggestion_is_said() -> None:
    composed = compose.compose(
        job_title="Analyst",
        requirements=[compose.Requirement(1, "SQL"), compose.Requirement(2, "Statistics")],
        entries=[
            _entry("SQL", "strong_yes", SQL_NOTE),
            _entry("SQL", "yes", "PRIVATE-xyzzy should not be seen.", private=True),
            _entry("Statistics", "no", STATS_NOTE),
        ],
        mapping={},
        suggestions={},
        open_jobs=[compose.OpenJob("SQL Developer", None, frozenset({"sql"}))],
        offers_pool=True,
    )
    draft = composed.draft
    text = repr(draft)
    assert "xyzzy" not in text
    ratings = {item.requirement: item.rating for item in draft.items if item.kind == "assessment"}
    assert ratings == {1: "met", 2: "not_yet_met"}
    [growth] = [item for item in draft.items if item.kind == "growth_area"]
    assert growth.suggestion == ""
    assert any("no suggestion for “Statistics”" in note for note in composed.notes)
    assert draft.suggested_roles == ("SQL Developer",)
    assert draft.pool_invitation_offered
    # Every drafted sentence was written by an interviewer, word for word.
    for sentence in composed.sentences:
        assert sentence["text"].rstrip(".") in SQL_NOTE + " " + STATS_NOTE


def test_the_drafted_decision_names_its_reasons_and_passes_the_check() -> None:
    """A decision summary that names no requirement is vague to the feedback check: the
    draft names its growth areas' requirements, so it opens with nothing to fix."""
    requirements = [compose.Requirement(1, "SQL"), compose.Requirement(2, "Statistics")]
    composed = compose.compose(
        job_title="Analyst",
        requirements=requirements,
        entries=[_entry("SQL", "strong_yes", SQL_NOTE), _entry("Statistics", "no", STATS_NOTE)],
        mapping={},
        suggestions={"statistics": compose.Suggestion("Size an experiment by hand.", None)},
        open_jobs=[],
        offers_pool=False,
    )
    summary = composed.draft.decision_summary
    assert summary.endswith("the main reason was Statistics, described below.")
    assert "SQL" not in summary
    assert check_text(summary, ["SQL", "Statistics"]) == []
    assert not [f for f in check_feedback(composed.draft) if f.field == "decision_summary"]
    assert compose.summary_for("Analyst", ["SQL", "Statistics"]).endswith(
        "the main reasons were SQL and Statistics, described below."
    )
    # With nothing short of the bar there is no reason to name.
    assert compose.summary_for("Analyst").endswith("not to continue with your application.")


def test_usefulness_counts_kept_edited_and_deleted_sentences() -> None:
    drafted = ["Wrote a correct window function at once.", "Explained the plan.", "Gone."]
    published = ["Wrote a correct window function at once.", "Explained the query plan well."]
    assert measure(drafted, published) == Measured(kept=1, edited=1, deleted=1)


def test_a_sentence_drafted_twice_and_rewritten_once_is_not_kept_twice() -> None:
    """A note's sentence is drafted as an assessment's evidence and as a growth area; the
    recruiter rewrites the growth area in the second person and keeps the evidence."""
    sentence = "The join with refunds double-counted refunded orders."
    rewritten = "Your join with refunds double-counted the refunded orders."
    drafted = [sentence, "Wrote a correct window function.", sentence]
    assert measure(drafted, [sentence, "Wrote a correct window function.", rewritten]) == (
        Measured(kept=2, edited=1, deleted=0)
    )
    # Deleted from the growth area and nothing written in its place.
    assert measure(drafted, [sentence, "Wrote a correct window function."]) == Measured(
        kept=2, edited=0, deleted=1
    )
    # One published sentence does not stand for two edited ones either.
    assert measure(
        ["Explained the plan.", "Explained the plans."], ["Explained the plan well."]
    ) == (Measured(kept=0, edited=1, deleted=1))


# --- through the pages -------------------------------------------------------------


async def _recruiter(client: httpx.AsyncClient, sessions: Sessions, world: World) -> int:
    staff_id = await make_staff(sessions, organization_id=world.organization_id)
    assert (await staff_sign_in(client)).status_code == 303
    return staff_id


async def _token(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    match = CSRF_FIELD.search(page.text)
    assert match, path
    return match.group(1)


async def _add_by_form(
    client: httpx.AsyncClient, world: World, *, sql_note: str = SQL_NOTE, private: str = ""
) -> httpx.Response:
    page = f"/staff/applications/{world.application_id}"
    data = {
        "csrftoken": await _token(client, page),
        "interviewer": "Kate Austen",
        "step": "Onsite",
        "interviewed_on": "2026-11-20",
        "overall_recommendation": "no",
        "attributes-0-name": "SQL",
        "attributes-0-rating": "strong_yes",
        "attributes-0-note": sql_note,
        "attributes-1-name": "Statistics",
        "attributes-1-rating": "no",
        "attributes-1-note": STATS_NOTE,
        "attributes-2-name": "Culture",
        "attributes-2-rating": "mixed",
        "attributes-2-note": f"{private} Seemed tired." if private else "",
        "attributes-2-private": "on",
        "questions-0-question": "Anything else?",
        "questions-0-answer": f"{private} Salary expectations too high." if private else "No.",
        "questions-0-private": "on",
    }
    return await client.post(f"{page}/scorecards", data=data)


async def test_a_recruiter_adds_a_scorecard_drafts_reviews_and_publishes(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    await _recruiter(client, sessions, world)
    added = await _add_by_form(client, world)
    assert added.status_code == 303 and "done=scorecard_added" in added.headers["location"]
    page = await client.get(f"/staff/applications/{world.application_id}")
    assert "Kate Austen · Onsite · No" in page.text and "Draft from scorecards" in page.text

    token = await _token(client, f"/staff/applications/{world.application_id}")
    drafted = await client.post(
        f"/staff/applications/{world.application_id}/draft", data={"csrftoken": token}
    )
    assert drafted.status_code == 303
    assert drafted.headers["location"].endswith("/feedback?done=drafted")
    editor = await client.get(drafted.headers["location"])
    assert "Drafted from the scorecards" in editor.text
    # Each sentence with its source, for the recruiter.
    assert "Where this draft came from" in editor.text
    assert "Scorecard" in editor.text and "Kate Austen, Onsite: “SQL”" in editor.text
    assert "Wrote a correct window function at once." in editor.text
    assert "The suggestion library has no suggestion for “Statistics”" in editor.text
    # A normal saved draft: the editor's check ran on it; nothing was published.
    assert "The feedback check" in editor.text
    async with sessions() as db:
        versions = (
            await db.execute(
                select(Feedback.version, Feedback.state)
                .where(Feedback.application_id == world.application_id)
                .order_by(Feedback.version)
            )
        ).all()
    assert [(v, str(s)) for v, s in versions] == [(1, "draft"), (2, "draft")]

    # The recruiter edits one sentence and publishes.
    actor = Staff(1, world.organization_id, StaffRole.RECRUITER, "x", b"")
    async with unit_of_work(sessions) as db:
        stored = await load_draft(db, actor=actor, application_id=world.application_id)
        assert stored is not None and stored.version == 2
    token = await _token(client, f"/staff/applications/{world.application_id}/feedback")
    published = await client.post(
        f"/staff/applications/{world.application_id}/publish",
        data={"csrftoken": token, "version": "2", "confirm_incomplete": "on"},
    )
    assert published.status_code == 303, published.text
    async with sessions() as db:
        record = await db.scalar(select(DraftedFeedback))
        assert record is not None and record.published_version == 2
        assert record.kept and record.kept > 0 and record.deleted == 0
    page = await client.get(f"/staff/applications/{world.application_id}")
    assert "How the drafts were used" in page.text


async def test_a_bad_scorecard_is_kept_as_typed_with_a_message(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    await _recruiter(client, sessions, world)
    page = f"/staff/applications/{world.application_id}"
    answer = await client.post(
        f"{page}/scorecards",
        data={
            "csrftoken": await _token(client, page),
            "interviewer": "",
            "attributes-0-name": "SQL",
            "attributes-0-note": "Kept as typed",
            "attributes-0-rating": "brilliant",
        },
    )
    assert answer.status_code == 422
    assert "Kept as typed" in answer.text and "The scorecard could not be added" in answer.text


async def test_each_scorecard_row_names_its_fields_by_its_row(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    """A screen reader moving through the form hears "Rating of attribute 2", not the
    same "Rating" eight times."""
    world = await make_world(sessions, published=False)
    await _recruiter(client, sessions, world)
    page = await client.get(f"/staff/applications/{world.application_id}")
    labels = [
        " ".join(re.sub(r"<[^>]+>", "", label).split())
        for label in re.findall(r"<label[^>]*>(.*?)</label>", page.text, re.S)
    ]
    for words in (
        "Rating of attribute 1",
        "Note on attribute 1",
        "Private note on attribute 1",
        "Rating of attribute 2",
        "Answer to question 2",
        "Private answer to question 2",
    ):
        assert words in labels, labels
    assert "Rating" not in labels and "Private" not in labels


async def test_deleting_a_scorecard_asks_first(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    await _recruiter(client, sessions, world)
    await _add_by_form(client, world)
    async with sessions() as db:
        card_id = await db.scalar(select(Scorecard.id))
    page = f"/staff/applications/{world.application_id}"
    confirm = await client.get(f"{page}/scorecards/delete?scorecard={card_id}")
    assert confirm.status_code == 200 and "Delete this scorecard?" in confirm.text
    match = CSRF_FIELD.search(confirm.text)
    assert match
    deleted = await client.post(
        f"{page}/scorecards/delete", data={"csrftoken": match.group(1), "scorecard": str(card_id)}
    )
    assert deleted.status_code == 303
    async with sessions() as db:
        assert await db.scalar(select(Scorecard.id)) is None
        assert await db.scalar(select(ScorecardEntry.id)) is None


async def test_drafting_without_scorecards_or_after_publishing_is_refused_with_words(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=True)
    await _recruiter(client, sessions, world)
    page = f"/staff/applications/{world.application_id}"
    answer = await client.post(f"{page}/draft", data={"csrftoken": await _token(client, page)})
    assert "done=draft_published" in answer.headers["location"]
    other = await make_world(sessions, slug="acme", email="fox@example.com", published=False)
    page = f"/staff/applications/{other.application_id}"
    answer = await client.post(f"{page}/draft", data={"csrftoken": await _token(client, page)})
    assert "done=draft_nothing" in answer.headers["location"]


async def test_the_attribute_mapping_is_suggested_and_used(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    staff_id = await _recruiter(client, sessions, world)
    actor = Staff(staff_id, world.organization_id, StaffRole.RECRUITER, "Sam", b"")
    async with unit_of_work(sessions) as db:
        await add_scorecard(
            db,
            actor=actor,
            application_id=world.application_id,
            card=ScorecardInput(
                interviewer="Kate",
                attributes=[AttributeInput("SQL querying", ScorecardRating.YES, "Good joins.")],
            ),
            source=ScorecardSource.FORM,
            staff_id=staff_id,
            now=utcnow(),
        )
        job_id = (await db.get_one(Application, world.application_id)).job_id
        sql_id = await db.scalar(
            select(Requirement.id).where(Requirement.job_id == job_id, Requirement.name == "SQL")
        )
    page = await client.get(f"/staff/jobs/{job_id}/scorecard-attributes")
    assert page.status_code == 200
    # Suggested by name similarity.
    assert re.search(r"SQL querying.*?Suggested\">SQL<", page.text, re.S)
    saved = await client.post(
        f"/staff/jobs/{job_id}/scorecard-attributes",
        data={
            "csrftoken": CSRF_FIELD.search(page.text).group(1),  # type: ignore[union-attr]
            "rows-0-attribute": "SQL querying",
            "rows-0-requirement": str(sql_id),
        },
    )
    assert saved.status_code == 303
    token = await _token(client, f"/staff/applications/{world.application_id}")
    await client.post(
        f"/staff/applications/{world.application_id}/draft", data={"csrftoken": token}
    )
    async with unit_of_work(sessions) as db:
        stored = await load_draft(db, actor=actor, application_id=world.application_id)
    assert stored is not None
    assert [(i.requirement, i.rating, i.body) for i in stored.draft.items] == [
        (sql_id, "met", "Good joins."),
        (sql_id, None, "Good joins."),
    ]


async def test_the_suggestion_library_fills_growth_areas(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    await _recruiter(client, sessions, world)
    library = await client.get("/staff/suggestions")
    assert library.status_code == 200 and "Statistics" in library.text
    saved = await client.post(
        "/staff/suggestions",
        data={
            "csrftoken": CSRF_FIELD.search(library.text).group(1),  # type: ignore[union-attr]
            "requirement": "Statistics",
            "text": "Work through a power analysis for an A/B test.",
            "url": "https://example.com/power",
        },
    )
    assert saved.status_code == 303
    await _add_by_form(client, world)
    token = await _token(client, f"/staff/applications/{world.application_id}")
    await client.post(
        f"/staff/applications/{world.application_id}/draft", data={"csrftoken": token}
    )
    actor = Staff(1, world.organization_id, StaffRole.RECRUITER, "x", b"")
    async with unit_of_work(sessions) as db:
        stored = await load_draft(db, actor=actor, application_id=world.application_id)
    assert stored is not None
    [growth] = [i for i in stored.draft.items if i.kind == "growth_area"]
    assert growth.suggestion == "Work through a power analysis for an A/B test."
    assert growth.suggestion_url == "https://example.com/power"


# --- bulk --------------------------------------------------------------------------


async def test_bulk_drafting_runs_as_a_job_and_says_what_it_skipped(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions, published=False)
    await _recruiter(client, sessions, world)
    await _add_by_form(client, world)
    bare = await make_world(sessions, email="fox@example.com", published=False)
    done = await make_world(sessions, email="mulder@example.com", published=True)
    listing = await client.get("/staff/applications")
    ids = f"{world.application_id},{bare.application_id},{done.application_id}"
    answer = await client.post(
        "/staff/applications/bulk",
        data={
            "csrftoken": CSRF_FIELD.search(listing.text).group(1),  # type: ignore[union-attr]
            "action": "draft",
            "scope": "ticked",
            "application": [
                str(world.application_id),
                str(bare.application_id),
                str(done.application_id),
            ],
            "shown": ids,
        },
    )
    assert answer.status_code == 303, answer.text
    run_page = answer.headers["location"]
    progress = await client.get(run_page)
    assert "0 of 3 applications" in progress.text
    await Worker(settings=settings, sessions=sessions).run_once()
    progress = await client.get(run_page)
    assert "3 of 3 applications looked at: done" in progress.text
    assert "1 drafted" in progress.text
    assert "no scorecards" in progress.text and "feedback already published" in progress.text
    async with sessions() as db:
        run = await db.scalar(select(DraftingRun))
        assert run is not None and run.drafted == 1
        states = (
            await db.scalars(
                select(Feedback.state).where(Feedback.application_id == world.application_id)
            )
        ).all()
    assert "published" not in [str(s) for s in states]


# --- the API -----------------------------------------------------------------------


async def test_the_api_adds_and_lists_scorecards_once_per_external_id(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    key = await make_key(sessions, world.organization_id)
    path = f"/api/v1/applications/{world.application_id}/scorecards"
    body = {
        "external_id": "card-1",
        "interviewer": "Kate Austen",
        "step": "Onsite",
        "interviewed_on": "2026-11-20",
        "overall_recommendation": "no",
        "attributes": [{"name": "SQL", "rating": "yes", "note": SQL_NOTE}],
        "questions": [{"question": "Notes", "answer": "Private words"}],
    }
    first = await client.post(path, json=body, headers=auth(key))
    assert first.status_code == 201, first.text
    assert first.json()["questions"][0]["private"] is True
    again = await client.post(path, json=body, headers=auth(key))
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    missing = await client.post(path, json=body, headers={"authorization": f"Bearer {key}"})
    assert missing.status_code == 400  # the Idempotency-Key the other POSTs need
    listed = await client.get(path, headers={"authorization": f"Bearer {key}"})
    assert listed.status_code == 200 and len(listed.json()["items"]) == 1
    read_only = await make_key(sessions, world.organization_id, scopes=["applications:read"])
    refused = await client.post(path, json=body, headers=auth(read_only))
    assert refused.status_code == 403


# --- the attacker ------------------------------------------------------------------


async def test_another_organizations_application_is_a_404_everywhere(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    mine = await make_world(sessions, published=False)
    theirs = await make_world(sessions, slug="globex", email="eve@example.com", published=False)
    await _recruiter(client, sessions, mine)
    token = await _token(client, f"/staff/applications/{mine.application_id}")
    base = f"/staff/applications/{theirs.application_id}"
    for path, data in (
        (f"{base}/scorecards", {"interviewer": "X"}),
        (f"{base}/draft", {}),
        (f"{base}/scorecards/delete", {"scorecard": "1"}),
    ):
        answer = await client.post(path, data={"csrftoken": token, **data})
        assert answer.status_code == 404, path
    assert (await client.get(f"{base}/scorecards/delete?scorecard=1")).status_code == 404
    key = await make_key(sessions, mine.organization_id)
    api = f"/api/v1/applications/{theirs.application_id}/scorecards"
    assert (await client.get(api, headers={"authorization": f"Bearer {key}"})).status_code == 404
    assert (await client.post(api, json={"interviewer": "X"}, headers=auth(key))).status_code == 404


async def test_a_post_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    await _recruiter(client, sessions, world)
    base = f"/staff/applications/{world.application_id}"
    assert (await client.post(f"{base}/scorecards", data={"interviewer": "X"})).status_code == 403
    assert (await client.post(f"{base}/draft")).status_code == 403
    async with sessions() as db:
        assert await db.scalar(select(Scorecard.id)) is None


async def test_markup_in_a_note_is_shown_as_text(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    await _recruiter(client, sessions, world)
    await _add_by_form(client, world, sql_note="<script>alert(1)</script> Wrote a join.")
    page = await client.get(f"/staff/applications/{world.application_id}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    token = await _token(client, f"/staff/applications/{world.application_id}")
    drafted = await client.post(
        f"/staff/applications/{world.application_id}/draft", data={"csrftoken": token}
    )
    editor = await client.get(drafted.headers["location"])
    assert "<script>alert(1)</script>" not in editor.text


# --- a CSV file ----------------------------------------------------------------------

CSV = (
    "application,scorecard,interviewer,step,date,recommendation,attribute,rating,note,"
    "note_private,question,answer,answer_private\n"
    "{app},c1,Kate Austen,Onsite,2026-11-20,no,SQL,strong_yes,Wrote a join.,,,,\n"
    "{app},c1,,,,,Statistics,no,Missed the power calculation.,,,,\n"
    "{app},c1,,,,,,,,,Salary?,Too high,\n"
)


async def test_scorecards_arrive_from_a_csv_file_once(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    await _recruiter(client, sessions, world)
    page = await client.get("/staff/scorecards/import")
    token = CSRF_FIELD.search(page.text).group(1)  # type: ignore[union-attr]
    body = CSV.format(app=world.application_id).encode()
    for expected in ("1 scorecard added", "already imported"):
        answer = await client.post(
            "/staff/scorecards/import",
            data={"csrftoken": token},
            files={"file": ("cards.csv", body, "text/csv")},
        )
        assert answer.status_code == 200 and expected in answer.text, answer.text
    async with sessions() as db:
        card = await db.scalar(select(Scorecard))
        entries = (await db.scalars(select(ScorecardEntry).order_by(ScorecardEntry.position))).all()
    assert card is not None and card.source == "csv" and card.interviewer == "Kate Austen"
    assert [(e.name, e.private) for e in entries] == [
        ("SQL", False),
        ("Statistics", False),
        ("Salary?", True),
    ]


async def test_a_csv_file_with_a_problem_stores_nothing(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    theirs = await make_world(sessions, slug="globex", email="eve@example.com", published=False)
    await _recruiter(client, sessions, world)
    page = await client.get("/staff/scorecards/import")
    token = CSRF_FIELD.search(page.text).group(1)  # type: ignore[union-attr]
    body = (
        CSV.format(app=world.application_id)
        + f"{theirs.application_id},c2,Eve,,,,SQL,brilliant,x,,,,\n"
    ).encode()
    answer = await client.post(
        "/staff/scorecards/import",
        data={"csrftoken": token},
        files={"file": ("cards.csv", body, "text/csv")},
    )
    assert answer.status_code == 422
    assert "Row 5: rating should be one of" in answer.text
    async with sessions() as db:
        assert await db.scalar(select(Scorecard.id)) is None
    body = (
        CSV.format(app=world.application_id) + f"{theirs.application_id},c2,Eve,,,,,,,,,,\n"
    ).encode()
    answer = await client.post(
        "/staff/scorecards/import",
        data={"csrftoken": token},
        files={"file": ("cards.csv", body, "text/csv")},
    )
    assert answer.status_code == 422
    assert f"no application “{theirs.application_id}” of your organization" in answer.text
    async with sessions() as db:
        assert await db.scalar(select(Scorecard.id)) is None
