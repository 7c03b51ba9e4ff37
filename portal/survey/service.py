"""The survey: what the candidate is asked (the organization's newest wording), their
answer (one per application, changeable), and the admins' changes to the wording.

Anonymity: an answer row holds the organization, the job, the month and what was
said, never the application or the candidate. The candidate finds their own answer
again through `answer_key`, an HMAC of the application's id under a key derived
from PORTAL_SECRET_KEY: without the secret, the stored key leads nowhere. Nothing
about answering is written to the audit log, which names its actors. Staff read
answers only in groups (portal.insights).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.candidates.models import Application
from portal.candidates.service import readable_applications
from portal.concurrency import Conflict
from portal.db import column_rows
from portal.feedback.models import Feedback, FeedbackState
from portal.security.actors import Candidate, Staff
from portal.settings import Settings
from portal.survey.models import SurveyAnswer, SurveyWording
from portal.urls import absolute_url

DEFAULT_HELPFULNESS = "How helpful was this feedback?"
DEFAULT_FAIRNESS = "How fair did our process feel to you?"
DEFAULT_COMMENT = "Anything you would like to tell us? (optional)"
SCALE = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Wording:
    helpfulness: str
    fairness: str
    comment: str
    version: int  # 0: the default wording


DEFAULT_WORDING = Wording(DEFAULT_HELPFULNESS, DEFAULT_FAIRNESS, DEFAULT_COMMENT, 0)


def answer_key(secret_key: str, application_id: int) -> str:
    """The keyed hash that finds an application's answer again (and nothing else)."""
    key = hmac.new(secret_key.encode("utf-8"), b"afterword survey answer v1", hashlib.sha256)
    return hmac.new(key.digest(), str(application_id).encode(), hashlib.sha256).hexdigest()


def month_of(now: dt.datetime) -> dt.date:
    return now.date().replace(day=1)


async def wording_of(db: AsyncSession, *, organization_id: int) -> Wording:
    row = (
        await db.execute(
            select(
                SurveyWording.helpfulness,
                SurveyWording.fairness,
                SurveyWording.comment,
                SurveyWording.version,
            )
            .where(SurveyWording.organization_id == organization_id)
            .order_by(SurveyWording.version.desc())
            .limit(1)
        )
    ).one_or_none()
    return DEFAULT_WORDING if row is None else Wording(**row._mapping)


@dataclass(frozen=True)
class SurveyPanel:
    """What the feedback page shows under the feedback."""

    application_id: int
    wording: Wording
    helpfulness: int | None  # the candidate's answer so far, if any
    fairness: int | None
    comment: str
    closed: bool = False  # given in a month that has ended: it can no longer change


def _newest_wording(organization_id: Any, column: Any) -> Any:
    return (
        select(column)
        .where(SurveyWording.organization_id == organization_id)
        .order_by(SurveyWording.version.desc())
        .limit(1)
        .scalar_subquery()
    )


def _answer(key: Any, column: Any) -> Any:
    return select(column).where(SurveyAnswer.answer_key == key).scalar_subquery()


# The panel in one statement (it is on every feedback page): the newest wording, if
# the organization changed it, and the candidate's answer, if any. Each value is a
# look-up by a unique or leading index column.
PANEL = select(
    *(
        _newest_wording(bindparam("organization_id"), column).label(f"wording_{column.key}")
        for column in (
            SurveyWording.helpfulness,
            SurveyWording.fairness,
            SurveyWording.comment,
            SurveyWording.version,
        )
    ),
    *(
        _answer(bindparam("answer_key"), column).label(f"answer_{column.key}")
        for column in (
            SurveyAnswer.helpfulness,
            SurveyAnswer.fairness,
            SurveyAnswer.comment,
            SurveyAnswer.period,
        )
    ),
)


async def load_panel(
    db: AsyncSession,
    *,
    actor: Candidate,
    application_id: int,
    secret_key: str,
    now: dt.datetime,
) -> SurveyPanel:
    row = (
        await column_rows(
            db,
            PANEL,
            {
                "organization_id": actor.organization_id,
                "answer_key": answer_key(secret_key, application_id),
            },
        )
    )[0]
    wording = (
        DEFAULT_WORDING
        if row["wording_version"] is None
        else Wording(
            row["wording_helpfulness"],
            row["wording_fairness"],
            row["wording_comment"],
            row["wording_version"],
        )
    )
    if row["answer_helpfulness"] is None:
        return SurveyPanel(application_id, wording, None, None, "")
    return SurveyPanel(
        application_id,
        wording,
        row["answer_helpfulness"],
        row["answer_fairness"],
        row["answer_comment"] or "",
        closed=row["answer_period"] != month_of(now),
    )


class AnswerClosed(Exception):
    """The answer was given in a month that has ended: it can no longer change."""


class NotAnswerable(LookupError):
    """Not the candidate's application, or no published feedback on it (a 404)."""


async def _answerable(db: AsyncSession, *, actor: Candidate, application_id: int) -> Any:
    """The application's organization and job, if the candidate may rate its feedback;
    raises `NotAnswerable` otherwise."""
    published = (
        select(Feedback.id)
        .where(Feedback.application_id == Application.id, Feedback.state == FeedbackState.PUBLISHED)
        .correlate(Application)
    )
    found = (
        await db.execute(
            readable_applications(actor)
            .with_only_columns(Application.organization_id, Application.job_id)
            .where(Application.id == application_id, exists(published))
        )
    ).one_or_none()
    if found is None:
        raise NotAnswerable(application_id)
    return found


async def check_answerable(db: AsyncSession, *, actor: Candidate, application_id: int) -> None:
    """Raise `NotAnswerable` unless the candidate may rate this application's feedback."""
    await _answerable(db, actor=actor, application_id=application_id)


async def answer(
    db: AsyncSession,
    *,
    actor: Candidate,
    application_id: int,
    helpfulness: int,
    fairness: int,
    comment: str,
    secret_key: str,
    now: dt.datetime,
) -> bool:
    """Record (or change) the candidate's answer; True when it was new."""
    found = await _answerable(db, actor=actor, application_id=application_id)
    wording = await wording_of(db, organization_id=found.organization_id)
    key = answer_key(secret_key, application_id)
    row = await db.scalar(select(SurveyAnswer).where(SurveyAnswer.answer_key == key))
    new = row is None
    if row is None:
        row = SurveyAnswer(answer_key=key, period=month_of(now))
        db.add(row)
    elif row.period != month_of(now):
        # Staff see a month's answers once it has ended; changing one then would let
        # two views of the same month, before and after, tell one answer apart.
        raise AnswerClosed(application_id)
    row.organization_id = found.organization_id
    row.job_id = found.job_id
    row.helpfulness = helpfulness
    row.fairness = fairness
    row.comment = comment.strip() or None
    row.wording_version = wording.version
    await db.flush()
    return new


async def change_wording(
    db: AsyncSession,
    *,
    actor: Staff,
    helpfulness: str,
    fairness: str,
    comment: str,
    version: int,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> Wording:
    """Save the admin's wording as a new version (audited); nothing when unchanged.
    Raises `Conflict` when a colleague saved a version since `version` was shown."""
    current = await wording_of(db, organization_id=actor.organization_id)
    if current.version != version:
        raise Conflict(version=current.version)
    wanted = Wording(helpfulness.strip(), fairness.strip(), comment.strip(), current.version + 1)
    if (wanted.helpfulness, wanted.fairness, wanted.comment) == (
        current.helpfulness,
        current.fairness,
        current.comment,
    ):
        return current
    db.add(
        SurveyWording(
            organization_id=actor.organization_id,
            version=wanted.version,
            helpfulness=wanted.helpfulness,
            fairness=wanted.fairness,
            comment=wanted.comment,
            created_by_staff_id=actor.staff_id,
            created_at=now,
        )
    )
    await db.flush()
    audit.by_staff(
        db,
        actor,
        action="survey.wording_changed",
        subject_type="organization",
        subject_id=actor.organization_id,
        ip_hash=ip_hash,
        details={"version": wanted.version},
    )
    return wanted


def survey_link(settings: Settings, application_id: int) -> str:
    """The address of "Was this helpful?" on the candidate's feedback page, for the
    PDF's closing line (a PDF is read offline: the link is absolute)."""
    return absolute_url(
        settings, "candidate.feedback", application_id=application_id, fragment="survey"
    )
