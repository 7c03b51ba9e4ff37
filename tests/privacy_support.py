"""Test helpers for candidates' data: a seeded candidate with something of everything,
who owns which rows (found independently of portal.privacy, by following foreign
keys), and scans of the database and the mail directory."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.ats.models import AtsEvent
from portal.audit.models import AuditEvent
from portal.candidates.models import Application
from portal.db import Base, unit_of_work, utcnow
from portal.drafting.models import Scorecard, ScorecardEntry
from portal.feedback.models import Feedback, FeedbackItem
from portal.imports.models import ImportUpload
from portal.settings import Settings
from portal.survey.models import SurveyAnswer
from portal.survey.service import answer_key
from portal.threads.models import Message
from portal.webhooks.models import WebhookEndpoint
from tests.factories import CSRF_FIELD, World, csrf_token, make_world, sign_in
from tests.pool_support import add_member, offer_pool

Sessions = async_sessionmaker[AsyncSession]

NAME = "Dana Quillféather"
EMAIL = "dana.quill@example.com"
MARKER = "zq-marker-5531"
QUESTION = f"Could you tell me more about the statistics part? ({MARKER})"


@dataclass(frozen=True)
class Seeded:
    dana: World  # the candidate, in acme
    eve: World  # another candidate of acme
    elsewhere: World  # the same person (same address) in another organization


async def ask(client: httpx.AsyncClient, world: World, body: str) -> None:
    page = await client.get(f"/feedback/{world.application_id}")
    token = CSRF_FIELD.search(page.text)
    assert token
    response = await client.post(
        f"/feedback/{world.application_id}/questions",
        data={"csrftoken": token.group(1), "body": body},
    )
    assert response.status_code in (200, 303), response.text


async def seed(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions, app: Starlette
) -> Seeded:
    """Dana in acme with feedback (a visible part, an internal one and a draft version),
    a question with a marker and a reply, a talent-pool membership, email sent; Eve in
    acme; and Dana's address known to globex too."""
    dana = await make_world(sessions, slug="acme", email=EMAIL, name=NAME)
    eve = await make_world(
        sessions, slug="acme", email="eve@example.com", name="Eve Otherperson", job_title="Chef"
    )
    elsewhere = await make_world(
        sessions, slug="globex", email=EMAIL, name="Dana Globex", job_title="Globex Role"
    )
    await offer_pool(sessions, dana)
    await add_member(sessions, dana)
    await sign_in(client, sessions, dana)
    await ask(client, dana, QUESTION)
    # A sign-in link asked for: one email from each organization that knows the address.
    token = await csrf_token(other_client, "/signin")
    asked = await other_client.post("/signin", data={"csrftoken": token, "email": EMAIL})
    assert asked.status_code == 200
    await sign_in(other_client, sessions, eve)
    await ask(other_client, eve, "What about the kitchen? eve-question-8812")
    async with unit_of_work(sessions) as db:
        thread_id = await db.scalar(select(Message.thread_id).where(Message.body == QUESTION))
        assert thread_id is not None
        now = utcnow()
        db.add_all(
            [
                Message(
                    thread_id=thread_id,
                    author_kind="staff",
                    body="Happy to: the power calculation was the gap.",
                    state="sent",
                    sent_at=now,
                ),
                Message(
                    thread_id=thread_id,
                    author_kind="staff",
                    body="A reply waiting for approval.",
                    state="pending_approval",
                ),
            ]
        )
        draft = Feedback(
            application_id=dana.application_id,
            version=2,
            state="draft",
            decision_summary="Draft wording",
        )
        db.add(draft)
        await db.flush()
        db.add(FeedbackItem(feedback_id=draft.id, kind="strength", body="Draft strength"))
        # An interviewer's scorecard: a candidate-safe note (theirs, exported) and a
        # private one (withheld), both naming them; erasure deletes both.
        card = Scorecard(
            application_id=dana.application_id,
            source="form",
            interviewer="Kate Austen",
            step="Onsite",
        )
        db.add(card)
        await db.flush()
        db.add_all(
            [
                ScorecardEntry(
                    scorecard_id=card.id,
                    kind="attribute",
                    name="SQL",
                    rating="yes",
                    text=f"{NAME} wrote a correct join. {MARKER}",
                ),
                ScorecardEntry(
                    scorecard_id=card.id,
                    kind="question",
                    position=1,
                    name="Private notes",
                    text=f"{NAME} seemed tired. {MARKER}",
                    private=True,
                ),
            ]
        )
        # A CSV check that quoted their address.
        db.add(
            ImportUpload(
                organization_id=dana.organization_id,
                filename="rejections.csv",
                sha256="0" * 64,
                size=100,
                problems=[
                    {"row": 2, "column": "email", "message": f"{EMAIL} twice", "kind": "error"}
                ],
            )
        )
        # What their ATS sent about them (a raw body naming them), and an endpoint
        # of the organization's own systems that hears of erasures.
        db.add(
            AtsEvent(
                organization_id=dana.organization_id,
                ats="greenhouse",
                replay_key="greenhouse-event-1",
                body=json.dumps({"candidate": {"name": NAME, "email": EMAIL}}),
                state="processed",
                application_id=dana.application_id,
            )
        )
        db.add(
            WebhookEndpoint(
                organization_id=dana.organization_id,
                url="https://hooks.example.com/afterword",
                event_types=["candidate.erased"],
                secret="whsec_" + "A" * 32,
            )
        )
        # Their answer to the survey under the feedback, its comment naming them.
        db.add(
            SurveyAnswer(
                organization_id=dana.organization_id,
                job_id=await db.scalar(
                    select(Application.job_id).where(Application.id == dana.application_id)
                ),
                period=now.date().replace(day=1),
                helpfulness=4,
                fairness=5,
                comment=f"{NAME} found this useful",
                answer_key=answer_key(
                    app.state.portal.settings.secret_key.get_secret_value(), dana.application_id
                ),
            )
        )
        # An audit record whose words name them (a reason typed by staff).
        db.add(
            AuditEvent(
                action="candidate.blocked",
                actor_kind="staff",
                organization_id=dana.organization_id,
                subject_type="candidate",
                subject_id=dana.candidate_id,
                details={"reason": f"{NAME} sent the same question ten times"},
                created_at=now,
            )
        )
    while await app.state.worker.run_once():
        pass
    return Seeded(dana, eve, elsewhere)


def _plain(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return None


async def all_rows(db: AsyncSession) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the schema."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in Base.metadata.sorted_tables:
        result = await db.execute(select(table))
        rows[table.name] = [dict(row._mapping) for row in result]
    return rows


def owned_rows(dump: dict[str, list[dict[str, Any]]], candidate_id: int) -> dict[str, list[int]]:
    """The ids of the rows that are the candidate's, table by table: the candidate, and
    every row whose foreign key points (by primary key) at a row of theirs."""
    owned: dict[str, set[Any]] = {"candidates": {candidate_id}}
    for table in Base.metadata.sorted_tables:
        if table.name == "candidates":
            continue
        links = [
            (fk.parent.name, fk.column.table.name)
            for fk in table.foreign_keys
            if fk.column.primary_key and fk.column.table.name != table.name
        ]
        for row in dump[table.name]:
            if any(row[column] in owned.get(target, ()) for column, target in links):
                key = row.get("id", row.get("id_hash"))
                owned.setdefault(table.name, set()).add(key)
    return {name: sorted(ids, key=repr) for name, ids in owned.items() if ids}


def needles_in(text: str, needles: list[str]) -> list[str]:
    return [needle for needle in needles if needle.lower() in text.lower()]


def scan_database(
    dump: dict[str, list[dict[str, Any]]], needles: list[str], *, skip: dict[str, set[Any]]
) -> list[tuple[str, Any, str]]:
    """(table, row id, column) of each text or JSON value holding a needle, except the
    rows in `skip` (table -> ids)."""
    found = []
    for table, rows in dump.items():
        for row in rows:
            key = row.get("id", row.get("id_hash"))
            if key in skip.get(table, set()):
                continue
            for column, value in row.items():
                text = _plain(value)
                if text is not None and needles_in(text, needles):
                    found.append((table, key, column))
    return found


def mail_files(settings: Settings) -> list[tuple[Path, email.message.EmailMessage]]:
    found = []
    for path in sorted(Path(settings.mail_dir).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found.append((path, message))
    return found


def message_text(message: email.message.EmailMessage) -> str:
    parts = [str(value) for value in message.values()]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(str(part.get_content()))
    return "\n".join(parts)


LINK = re.compile(r"http://testserver(/your-data/(?:download|erase)/[A-Za-z0-9_\-]+)")


def link_in_mail(settings: Settings, *, to: str, subject: str) -> str:
    """The path of the one-time link in the newest email to `to` with `subject` in it."""
    for _, message in reversed(mail_files(settings)):
        if message["To"] == to and subject in str(message["Subject"]):
            body = message.get_body(preferencelist=("plain",))
            assert body is not None
            match = LINK.search(str(body.get_content()))
            assert match, body.get_content()
            return match.group(1)
    raise AssertionError(f"no email to {to} about {subject!r}")


async def decide_long_ago(sessions: Sessions, world: World, *, days: int) -> None:
    from portal.candidates.models import Application

    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Application)
            .where(Application.id == world.application_id)
            .values(decided_at=utcnow() - dt.timedelta(days=days))
        )
