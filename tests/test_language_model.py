"""The optional language model (portal.llm): off by default and sending nothing, turned
on by an admin (audited), rephrasing a saved draft (approved or rejected by a
recruiter, guarded against malformed answers and added facts) and a second opinion
beside the feedback check. Models: the `llm-echo` plugin, and a scripted model
registered here through `llm`'s plugin hooks. No network, no real model."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import llm
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.db import unit_of_work, utcnow
from portal.feedback.models import Feedback, FeedbackItem
from portal.llm import adapter, rephrase
from portal.llm.models import Rephrasing, RephrasingState
from portal.orgs.models import Organization
from portal.privacy.erasure import erase_candidate
from portal.privacy.export import build_export
from portal.privacy.models import ErasureCause
from portal.settings import Settings
from tests.factories import World, csrf_token, make_staff, make_world, staff_sign_in

Sessions = async_sessionmaker[AsyncSession]
ADMIN = "ada@acme.example"
RECRUITER = "sam@acme.example"
SCRIPTED = "afterword-scripted"


class Scripted(llm.Model):
    """A model whose answer a test writes: `answer(texts)` gets the texts sent."""

    model_id = SCRIPTED
    can_stream = False

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.answer: Callable[[dict[str, str]], str] = lambda texts: json.dumps(texts)

    def execute(self, prompt: Any, stream: bool, response: Any, conversation: Any = None) -> Any:
        self.prompts.append(prompt.prompt)
        texts = json.loads(prompt.prompt[prompt.prompt.index("{") :])
        yield self.answer(texts)


class _Plugin:
    def __init__(self, model: Scripted) -> None:
        self.model = model

    @llm.hookimpl
    def register_models(self, register: Any) -> None:
        register(self.model)


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Scripted]:
    # llm keeps keys, aliases and logs in its user directory: never the person's own.
    monkeypatch.setenv("LLM_USER_PATH", str(tmp_path / "llm"))
    llm.plugins.load_plugins()  # type: ignore[no-untyped-call]
    model = Scripted()
    plugin = _Plugin(model)
    llm.plugins.pm.register(plugin, name=SCRIPTED)
    try:
        yield model
    finally:
        llm.plugins.pm.unregister(plugin)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, scripted: Scripted) -> list[str]:
    """Every model asked, by name (the calls still go through)."""
    asked: list[str] = []
    real = adapter._ask

    def counting(name: str, system: str, prompt: str) -> str:
        asked.append(name)
        return real(name, system, prompt)

    monkeypatch.setattr(adapter, "_ask", counting)
    return asked


async def _world(
    client: httpx.AsyncClient, sessions: Sessions, *, model: str = "", **uses: bool
) -> World:
    world = await make_world(sessions, published=False)
    await make_staff(sessions, organization_id=world.organization_id, email=RECRUITER)
    async with unit_of_work(sessions) as db:
        org = await db.get(Organization, world.organization_id)
        assert org is not None
        org.language_model = model
        org.model_rephrases = uses.get("rephrases", False)
        org.model_second_opinion = uses.get("second_opinion", False)
    assert (await staff_sign_in(client, RECRUITER)).status_code == 303
    return world


def _editor(world: World) -> str:
    return f"/staff/applications/{world.application_id}/feedback"


async def _rephrase(client: httpx.AsyncClient, world: World) -> httpx.Response:
    token = await csrf_token(client, _editor(world))
    return await client.post(_editor(world) + "/rephrase", data={"csrftoken": token})


async def _versions(sessions: Sessions, world: World) -> list[int]:
    async with sessions() as db:
        found = await db.scalars(
            select(Feedback.version)
            .where(Feedback.application_id == world.application_id)
            .order_by(Feedback.version)
        )
        return list(found.all())


async def _rephrasings(sessions: Sessions) -> list[Rephrasing]:
    async with sessions() as db:
        return list((await db.scalars(select(Rephrasing).order_by(Rephrasing.id))).all())


# --- off by default ------------------------------------------------------------------------


async def test_off_by_default_nothing_is_offered_or_sent(
    client: httpx.AsyncClient, sessions: Sessions, calls: list[str]
) -> None:
    world = await _world(client, sessions)
    page = await client.get(_editor(world))
    assert page.status_code == 200
    assert "Rephrase with" not in page.text and "second opinion" not in page.text
    assert (await _rephrase(client, world)).status_code == 404
    off = await client.get(_editor(world) + "/second-opinion")
    assert off.status_code == 200 and "nothing was sent anywhere" in off.text
    assert calls == []
    assert await _rephrasings(sessions) == []


async def test_a_model_named_but_no_use_turned_on_sends_nothing(
    client: httpx.AsyncClient, sessions: Sessions, calls: list[str]
) -> None:
    world = await _world(client, sessions, model=SCRIPTED)
    assert "Rephrase with" not in (await client.get(_editor(world))).text
    assert (await _rephrase(client, world)).status_code == 404
    off = await client.get(_editor(world) + "/second-opinion")
    assert off.status_code == 200 and "nothing was sent anywhere" in off.text
    assert calls == []


# --- the admin's setting ---------------------------------------------------------------------


async def _admin(client: httpx.AsyncClient, sessions: Sessions) -> World:
    world = await make_world(sessions, published=False)
    await make_staff(sessions, organization_id=world.organization_id, email=ADMIN, role="admin")
    assert (await staff_sign_in(client, ADMIN)).status_code == 303
    return world


async def _save_model(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    token = await csrf_token(client, "/staff/settings")
    return await client.post(
        "/staff/settings/language-model", data={"csrftoken": token, "version": "1", **fields}
    )


async def test_an_admin_turns_the_model_on_and_off_audited(
    client: httpx.AsyncClient, sessions: Sessions, calls: list[str]
) -> None:
    world = await _admin(client, sessions)
    page = await client.get("/staff/settings")
    assert "Language model" in page.text and 'name="language_model"' in page.text

    saved = await _save_model(client, language_model="echo", model_rephrases="on")
    assert saved.status_code == 303
    assert "model_saved=1" in saved.headers["location"]
    async with sessions() as db:
        org = await db.get(Organization, world.organization_id)
        assert org is not None
        assert (org.language_model, org.model_rephrases, org.model_second_opinion) == (
            "echo",
            True,
            False,
        )
        event = await db.scalar(
            select(AuditEvent).where(AuditEvent.action == "organization.language_model_changed")
        )
    assert event is not None and event.organization_id == world.organization_id
    assert event.details["model"] == "echo" and event.details["rephrases"] is True
    shown = await client.get("/staff/settings?model_saved=1")
    assert "Language model settings saved." in shown.text

    off = await _save_model(client, language_model="", version="2")
    assert off.status_code == 303
    async with sessions() as db:
        actions = (
            await db.scalars(
                select(AuditEvent.details).where(
                    AuditEvent.action == "organization.language_model_changed"
                )
            )
        ).all()
    assert [details["model"] for details in actions] == ["echo", ""]
    log = await client.get("/staff/audit")
    assert "turned the language model off" in log.text
    assert calls == []  # checking that a model exists asks it nothing


async def test_an_unknown_model_or_a_use_without_a_model_is_refused_as_typed(
    client: httpx.AsyncClient, sessions: Sessions, scripted: Scripted
) -> None:
    world = await _admin(client, sessions)
    unknown = await _save_model(client, language_model="no-such-model-here")
    assert unknown.status_code == 422
    assert "No model called no-such-model-here is installed" in unknown.text
    assert 'value="no-such-model-here"' in unknown.text
    no_model = await _save_model(client, language_model="", model_second_opinion="on")
    assert no_model.status_code == 422
    assert "Name the model first" in no_model.text
    async with sessions() as db:
        org = await db.get(Organization, world.organization_id)
        assert org is not None and org.language_model == "" and not org.model_second_opinion


async def test_the_setting_is_for_admins_only_and_needs_the_csrf_token(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    scripted: Scripted,
) -> None:
    world = await _admin(client, sessions)
    refused = await client.post(
        "/staff/settings/language-model", data={"language_model": "echo", "version": "1"}
    )
    assert refused.status_code == 403
    await make_staff(sessions, organization_id=world.organization_id, email=RECRUITER)
    assert (await staff_sign_in(other_client, RECRUITER)).status_code == 303
    token = await csrf_token(other_client, "/staff/")
    posted = await other_client.post(
        "/staff/settings/language-model",
        data={"csrftoken": token, "language_model": "echo", "version": "1"},
    )
    assert posted.status_code == 404
    async with sessions() as db:
        org = await db.get(Organization, world.organization_id)
        assert org is not None and org.language_model == ""


# --- rephrasing -------------------------------------------------------------------------------


def _kinder(texts: dict[str, str]) -> str:
    return json.dumps({name: f"Kindly put: {text}" for name, text in texts.items()})


async def test_a_recruiter_approves_a_rephrasing_as_a_new_version(
    client: httpx.AsyncClient, sessions: Sessions, scripted: Scripted
) -> None:
    world = await _world(client, sessions, model=SCRIPTED, rephrases=True)
    scripted.answer = _kinder
    page = await client.get(_editor(world))
    assert f"Rephrase with {SCRIPTED}" in page.text

    asked = await _rephrase(client, world)
    assert asked.status_code == 303, asked.text
    # Only candidate-facing texts were sent: never the internal item.
    [sent] = scripted.prompts
    assert "INTERNAL" not in sent and "Dana" not in sent and "dana@example.com" not in sent
    assert "Your window-function answer was precise." in sent
    assert "Rephrase only; add no facts" in sent
    [proposal] = await _rephrasings(sessions)
    assert proposal.state == RephrasingState.PROPOSED and proposal.feedback_id is None
    assert await _versions(sessions, world) == [1]  # nothing saved yet

    shown = await client.get(asked.headers["location"])
    assert shown.status_code == 200
    assert "Kindly put: Your window-function answer was precise." in shown.text
    assert "The feedback check on the rephrased texts" in shown.text
    assert "Approve and save as a new draft" in shown.text

    token = await csrf_token(client, asked.headers["location"])
    approved = await client.post(asked.headers["location"] + "/approve", data={"csrftoken": token})
    assert approved.status_code == 303
    assert await _versions(sessions, world) == [1, 2]
    async with sessions() as db:
        feedback = await db.scalar(
            select(Feedback).where(
                Feedback.application_id == world.application_id, Feedback.version == 2
            )
        )
        assert feedback is not None and feedback.state == "draft"
        assert feedback.decision_summary.startswith("Kindly put: ")
        items = (
            await db.scalars(select(FeedbackItem).where(FeedbackItem.feedback_id == feedback.id))
        ).all()
        internal = [item.body for item in items if not item.visible]
        assert internal == ["INTERNAL: hiring manager wanted more seniority."]
        row = await db.get(Rephrasing, proposal.id)
        assert row is not None
        assert row.state == RephrasingState.APPROVED and row.feedback_id == feedback.id
        assert row.prompt == sent and row.output.startswith("{")
        assert "rephrase only" in row.system.lower()
        event = await db.scalar(
            select(AuditEvent).where(AuditEvent.action == "feedback.rephrasing_approved")
        )
    assert event is not None and event.details == {"version": 2, "model": SCRIPTED}
    # Approved once: not again.
    again = await client.post(asked.headers["location"] + "/approve", data={"csrftoken": token})
    assert again.status_code == 404
    assert await _versions(sessions, world) == [1, 2]


async def test_a_recruiter_rejects_a_rephrasing_and_nothing_changes(
    client: httpx.AsyncClient, sessions: Sessions, scripted: Scripted
) -> None:
    world = await _world(client, sessions, model=SCRIPTED, rephrases=True)
    scripted.answer = _kinder
    asked = await _rephrase(client, world)
    token = await csrf_token(client, asked.headers["location"])
    rejected = await client.post(asked.headers["location"] + "/reject", data={"csrftoken": token})
    assert rejected.status_code == 303
    assert await _versions(sessions, world) == [1]
    [row] = await _rephrasings(sessions)
    assert row.state == RephrasingState.REJECTED
    approved = await client.post(asked.headers["location"] + "/approve", data={"csrftoken": token})
    assert approved.status_code == 404
    assert await _versions(sessions, world) == [1]


async def test_a_rephrasing_of_an_older_version_cannot_be_approved(
    client: httpx.AsyncClient, sessions: Sessions, scripted: Scripted
) -> None:
    world = await _world(client, sessions, model=SCRIPTED, rephrases=True)
    scripted.answer = _kinder
    asked = await _rephrase(client, world)
    # Meanwhile a colleague saves a newer version.
    async with unit_of_work(sessions) as db:
        db.add(Feedback(application_id=world.application_id, version=2, decision_summary="New."))
    shown = await client.get(asked.headers["location"])
    assert "can no longer be approved" in shown.text
    token = await csrf_token(client, asked.headers["location"])
    refused = await client.post(asked.headers["location"] + "/approve", data={"csrftoken": token})
    assert refused.status_code == 409
    assert "A newer version was saved" in refused.text
    assert await _versions(sessions, world) == [1, 2]


async def test_the_echo_model_answer_is_malformed_and_nothing_is_saved(
    client: httpx.AsyncClient, sessions: Sessions, calls: list[str]
) -> None:
    # llm-echo answers with its prompt wrapped in JSON of its own: not the object asked for.
    world = await _world(client, sessions, model="echo", rephrases=True)
    refused = await _rephrase(client, world)
    assert refused.status_code == 422
    assert "was not the JSON object asked for" in refused.text
    assert calls == ["echo"]
    assert await _rephrasings(sessions) == []
    assert await _versions(sessions, world) == [1]


REFUSED_ANSWERS: list[tuple[Callable[[dict[str, str]], Any], str]] = [
    (lambda t: {**t, "decision_summary": t["decision_summary"] + " After 5 years."}, ": 5)"),
    (lambda t: {**t, "personal_note": "It was a pleasure, said our friends at Google."}, "Google"),
    (lambda t: {k: v for k, v in t.items() if k != "personal_note"}, "left out personal_note"),
    (lambda t: {**t, "extra": "More."}, "added extra"),
    (lambda t: [*t.values()], "was not the JSON object"),
    (lambda t: {**t, "personal_note": ""}, "left personal_note empty"),
]


async def test_answers_that_add_facts_or_change_the_structure_are_refused(
    client: httpx.AsyncClient, sessions: Sessions, scripted: Scripted
) -> None:
    world = await _world(client, sessions, model=SCRIPTED, rephrases=True)
    for answer, words in REFUSED_ANSWERS:
        scripted.answer = lambda texts, answer=answer: json.dumps(answer(texts))  # type: ignore[misc]
        refused = await _rephrase(client, world)
        assert refused.status_code == 422, words
        assert words in html.unescape(refused.text), words
        assert "nothing was changed" in refused.text
    assert len(scripted.prompts) == len(REFUSED_ANSWERS)
    assert await _rephrasings(sessions) == []
    assert await _versions(sessions, world) == [1]


async def test_a_model_that_fails_is_a_message_and_nothing_is_saved(
    client: httpx.AsyncClient, sessions: Sessions, scripted: Scripted
) -> None:
    world = await _world(client, sessions, model=SCRIPTED, rephrases=True)

    def broken(texts: dict[str, str]) -> str:
        raise ConnectionError("no network")

    scripted.answer = broken
    refused = await _rephrase(client, world)
    assert refused.status_code == 503
    assert "could not rephrase the draft" in refused.text
    assert await _rephrasings(sessions) == []


async def test_rephrasing_needs_the_csrf_token_and_stays_in_the_organization(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    scripted: Scripted,
) -> None:
    world = await _world(client, sessions, model=SCRIPTED, rephrases=True)
    scripted.answer = _kinder
    assert (await client.post(_editor(world) + "/rephrase")).status_code == 403
    asked = await _rephrase(client, world)
    proposal = asked.headers["location"]
    assert (await client.post(proposal + "/approve")).status_code == 403
    assert len(scripted.prompts) == 1

    # A recruiter of another organization, with the model on too, sees none of it.
    other = await make_world(sessions, slug="globex", email="eve@example.com")
    await make_staff(sessions, organization_id=other.organization_id, email="gil@globex.example")
    async with unit_of_work(sessions) as db:
        org = await db.get(Organization, other.organization_id)
        assert org is not None
        org.language_model, org.model_rephrases, org.model_second_opinion = SCRIPTED, True, True
    assert (await staff_sign_in(other_client, "gil@globex.example")).status_code == 303
    token = await csrf_token(other_client, "/staff/")
    posted = await other_client.post(_editor(world) + "/rephrase", data={"csrftoken": token})
    assert posted.status_code == 404
    assert (await other_client.get(proposal)).status_code == 404
    for action in ("approve", "reject"):
        answer = await other_client.post(f"{proposal}/{action}", data={"csrftoken": token})
        assert answer.status_code == 404
    assert (await other_client.get(_editor(world) + "/second-opinion")).status_code == 404
    # Their own application's id with this proposal's id: not theirs either.
    elsewhere = proposal.replace(f"/{world.application_id}/", f"/{other.application_id}/")
    assert (await other_client.get(elsewhere)).status_code == 404
    assert len(scripted.prompts) == 1
    assert await _versions(sessions, world) == [1]


# --- the second opinion -----------------------------------------------------------------------


async def test_the_second_opinion_is_shown_beside_the_check_and_keeps_only_real_quotes(
    client: httpx.AsyncClient, sessions: Sessions, scripted: Scripted
) -> None:
    world = await _world(client, sessions, model=SCRIPTED, second_opinion=True)
    scripted.answer = lambda texts: json.dumps(
        [
            {"quote": "was missing", "kind": "vague", "reason": "Say what a power test needs."},
            {"quote": "you are too old", "kind": "risky", "reason": "Invented by the model."},
        ]
    )
    page = await client.get(_editor(world))
    assert f"Ask {SCRIPTED} for a second opinion" in page.text
    assert "Rephrase with" not in page.text

    shown = await client.get(_editor(world) + "/second-opinion")
    assert shown.status_code == 200
    assert f"Second opinion from {SCRIPTED}" in shown.text
    assert "It never blocks publishing" in shown.text
    assert "was missing" in shown.text and "Say what a power test needs." in shown.text
    assert "you are too old" not in shown.text
    assert "The feedback check on version 1" in shown.text
    assert "INTERNAL" not in scripted.prompts[0]

    fragment = await client.get(_editor(world) + "/second-opinion", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section class="card" id="second-opinion"')
    assert await _versions(sessions, world) == [1]


async def test_no_second_opinion_when_the_answer_cannot_be_read(
    client: httpx.AsyncClient, sessions: Sessions, calls: list[str]
) -> None:
    world = await _world(client, sessions, model="echo", second_opinion=True)
    shown = await client.get(_editor(world) + "/second-opinion")
    assert shown.status_code == 200
    assert "No second opinion" in shown.text
    assert calls == ["echo"]


async def test_the_second_opinion_gives_up_after_the_timeout(
    client: httpx.AsyncClient,
    sessions: Sessions,
    scripted: Scripted,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from portal.workspace import rephrase_routes

    world = await _world(client, sessions, model=SCRIPTED, second_opinion=True)
    release = threading.Event()

    def stuck(texts: dict[str, str]) -> str:
        release.wait(10)
        return "[]"

    scripted.answer = stuck
    monkeypatch.setattr(rephrase_routes, "_timeout", lambda request: 0.05)
    try:
        shown = await client.get(_editor(world) + "/second-opinion")
    finally:
        release.set()
    assert shown.status_code == 200 and "No second opinion" in shown.text


# --- privacy -------------------------------------------------------------------------------


async def test_rephrasings_are_exported_and_erased_with_the_candidate(
    client: httpx.AsyncClient, sessions: Sessions, scripted: Scripted, settings: Settings
) -> None:
    world = await _world(client, sessions, model=SCRIPTED, rephrases=True)
    scripted.answer = _kinder
    assert (await _rephrase(client, world)).status_code == 303
    async with unit_of_work(sessions) as db:
        document = await build_export(
            db, organization_id=world.organization_id, candidate_id=world.candidate_id, now=utcnow()
        )
    assert document is not None
    exported = json.dumps(document)
    assert "feedback_rephrasings" in exported and "Kindly put:" in exported
    async with unit_of_work(sessions) as db:
        await erase_candidate(
            db,
            organization_id=world.organization_id,
            candidate_id=world.candidate_id,
            cause=ErasureCause.STAFF,
            settings=settings,
            now=utcnow(),
            actor_kind="staff",
            notify=False,
        )
    assert await _rephrasings(sessions) == []


# --- the guard itself ------------------------------------------------------------------------


def test_the_guard_finds_added_numbers_and_names_only() -> None:
    before = "Thank you for applying. Your SQL was strong; read 'Designing Data-Intensive'."
    assert rephrase.added_facts(before, "Thanks for applying. Your sql was strong.") == []
    assert rephrase.added_facts(before, "Thanks. In 2 rounds your SQL was strong.") == ["2"]
    assert rephrase.added_facts(before, "Thanks. Your SQL impressed Maria.") == ["Maria"]
    assert rephrase.added_facts(before, "Thanks. Your AWS work was strong.") == ["AWS"]
    # A capital at the start of a sentence is not a name.
    assert rephrase.added_facts(before, "Thanks. Strong SQL. Keep reading.") == []


def test_only_candidate_facing_texts_are_sent() -> None:
    from portal.feedback.check import Draft, DraftItem

    draft = Draft(
        decision_summary="Thanks.",
        personal_note="",
        items=(
            DraftItem(kind="strength", body="Clear queries."),
            DraftItem(kind="strength", body="PRIVATE", visible=False),
            DraftItem(kind="growth_area", body="Testing.", suggestion="Read a book."),
        ),
    )
    assert rephrase.candidate_texts(draft) == {
        "decision_summary": "Thanks.",
        "items[0].body": "Clear queries.",
        "items[2].body": "Testing.",
        "items[2].suggestion": "Read a book.",
    }
    answer = json.dumps({"decision_summary": "Thank you.", "items[0].body": "Clear SQL."})
    with pytest.raises(rephrase.BadAnswer):
        rephrase.read_answer(answer, rephrase.candidate_texts(draft))
