"""The benchmark's data set, generated deterministically from the demo content.

Everything is a pure function of the number of applications, so the rows the
seeder copies into PostgreSQL and the in-memory `FeedbackView` the baseline
renders describe the same application, to the byte.

Shape, for N applications: 5 organizations, each with 8 variants of each of
the 3 demo jobs (5 or 6 requirements each); N - N//5 candidates, every fourth
of whom applied twice; one published feedback per application, with an
assessment per requirement, 2 strengths, 2 growth areas with suggestions and
one hidden item, using the demo's texts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from portal.candidates.models import Stage
from portal.demo.content import ORGANIZATION, DemoApplication
from portal.feedback.models import FeedbackState, Rating
from portal.feedback.view import Assessment, FeedbackView, GrowthArea, Strength
from portal.orgs.branding import Branding
from portal.pool.panel import PoolPanel

# Bump when the generated content changes: a seeded database is reused only if it matches.
SEED_VERSION = 2

# Dates are relative to a fixed instant, not to "now", so that the page is reproducible.
ANCHOR = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)

ORGANIZATIONS = (
    ("Northwind Analytics", "northwind", "#1f4e79"),
    ("Contoso Health", "contoso-health", "#2e6b3a"),
    ("Fabrikam Logistics", "fabrikam", "#7a3b12"),
    ("Tailspin Travel", "tailspin", "#5b2a86"),
    ("Wide World Importers", "wide-world", "#8b1f3f"),
)
JOB_VARIANTS = 8
TEAMS = ("Growth", "Payments", "Marketplace", "Risk", "Operations", "Enterprise", "Mobile")
LOCATIONS = (
    "Remote in the EU",
    "Amsterdam (hybrid)",
    "Madrid or remote in Spain",
    "Warsaw (hybrid)",
    "Dublin (hybrid)",
    "Lisbon or remote in the EU",
    "Berlin (hybrid)",
)
FIRST_NAMES = (
    "Amara", "Priya", "Mateo", "Hana", "Sofia", "Daniel", "Aisha", "Lucas", "Nadia", "Wei",
    "Kwame", "Elena", "Tomás", "Yuki", "Fatima", "Jonas", "Ines", "Omar", "Chloé", "Ravi",
    "Zofia", "Kofi", "Leila", "Mikael", "Ana", "Samuel", "Mei", "Arjun", "Noor", "Felix",
)  # fmt: skip
LAST_NAMES = (
    "Okafor", "Raman", "Fernández", "Kobayashi", "Lindqvist", "Cohen", "Rahman", "Almeida",
    "Petrović", "Zhang", "Mensah", "Rossi", "Silva", "Novak", "Haddad", "Berg", "Costa",
    "Nakamura", "Dubois", "Iyer", "Kowalski", "Mwangi", "Farouk", "Larsen", "Moreau",
    "Adeyemi", "Chen", "Sharma", "Yilmaz", "Schmidt",
)  # fmt: skip
CONSENT_TEXT = (
    "By joining our talent pool you agree that we keep your name, email address, the "
    "feedback on your applications and your preferences, and contact you about roles that "
    "match them, for the period you choose. You can leave at any time with one click."
)
FALLBACK_EVIDENCE = (
    "We did not see enough evidence of this in the interviews to assess it fully; the "
    "examples you gave touched on it only briefly."
)

DEMO_APPLICATIONS: tuple[DemoApplication, ...] = tuple(
    demo for demo in ORGANIZATION.applications if demo.state == "published"
)


@dataclass(frozen=True, slots=True)
class Org:
    id: int
    name: str
    slug: str
    accent_colour: str

    @property
    def privacy_url(self) -> str:
        return f"https://{self.slug}.example/privacy"

    @property
    def contact_email(self) -> str:
        return f"careers@{self.slug}.example"


@dataclass(frozen=True, slots=True)
class Requirement:
    id: int
    position: int
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    organization_id: int
    kind: str  # the demo job's key
    title: str
    team: str
    location: str
    requirements: tuple[Requirement, ...]

    def requirement(self, name: str | None) -> Requirement | None:
        if name is None:
            return None
        return next(r for r in self.requirements if r.name == name)


@dataclass(frozen=True, slots=True)
class Item:
    kind: str
    position: int
    requirement: Requirement | None
    rating: str | None
    body: str
    suggestion: str
    visible: bool


@dataclass(frozen=True, slots=True)
class ApplicationData:
    id: int
    candidate: int  # candidate index
    job: Job
    demo: DemoApplication
    stage: str
    decided_at: dt.datetime
    decision_summary: str
    personal_note: str


@dataclass(frozen=True, slots=True)
class _Pools:
    assessments: dict[str, list[tuple[str, str]]]  # requirement name -> (rating, evidence)
    strengths: list[tuple[str, str | None]]  # (text, requirement name)
    growth_areas: list[tuple[str, str, str | None]]  # (text, suggestion, requirement name)


def _pools() -> tuple[dict[str, _Pools], list[tuple[str, str, str]]]:
    """Texts of the demo's visible items per job, and its hidden items (kind, text, suggestion)."""
    pools = {job.key: _Pools({}, [], []) for job in ORGANIZATION.jobs}
    hidden: list[tuple[str, str, str]] = []
    for demo in DEMO_APPLICATIONS:
        pool = pools[demo.job]
        for a in demo.assessments:
            if a.visible:
                pool.assessments.setdefault(a.requirement, []).append((a.rating, a.evidence))
        for s in demo.strengths:
            if s.visible:
                pool.strengths.append((s.text, s.requirement))
            else:
                hidden.append(("strength", s.text, ""))
        for g in demo.growth_areas:
            if g.visible:
                pool.growth_areas.append((g.text, g.suggestion, g.requirement))
            else:
                hidden.append(("growth_area", g.text, g.suggestion))
    return pools, hidden


POOLS, HIDDEN = _pools()


class Dataset:
    def __init__(self, applications: int) -> None:
        if applications < 1:
            raise ValueError("the data set needs at least one application")
        self.applications = applications
        # Applications [0, candidates) belong to candidate i; the rest are the second
        # application of every fourth candidate.
        self.second_applications = applications // 5
        self.candidates = applications - self.second_applications
        self.orgs = tuple(
            Org(i + 1, name, slug, colour) for i, (name, slug, colour) in enumerate(ORGANIZATIONS)
        )
        jobs: list[Job] = []
        self.jobs_by: dict[tuple[int, str], list[Job]] = {}
        requirement_id = 0
        for org in self.orgs:
            for demo_job in ORGANIZATION.jobs:
                for variant in range(JOB_VARIANTS):
                    requirements = []
                    for position, r in enumerate(demo_job.requirements):
                        requirement_id += 1
                        requirements.append(
                            Requirement(requirement_id, position, r.name, r.description)
                        )
                    job = Job(
                        id=len(jobs) + 1,
                        organization_id=org.id,
                        kind=demo_job.key,
                        title=demo_job.title,
                        team=demo_job.team if variant == 0 else TEAMS[(variant - 1) % len(TEAMS)],
                        location=(
                            demo_job.location
                            if variant == 0
                            else LOCATIONS[(variant + org.id) % len(LOCATIONS)]
                        ),
                        requirements=tuple(requirements),
                    )
                    jobs.append(job)
                    self.jobs_by.setdefault((org.id, demo_job.key), []).append(job)
        self.jobs = tuple(jobs)

    # -- candidates ---------------------------------------------------------------

    def candidate_of(self, index: int) -> int:
        if index < self.candidates:
            return index
        return (index - self.candidates) * 4

    def applications_of(self, candidate: int) -> list[int]:
        found = [candidate]
        if candidate % 4 == 0 and candidate // 4 < self.second_applications:
            found.append(self.candidates + candidate // 4)
        return found

    def candidate_org(self, candidate: int) -> Org:
        return self.orgs[candidate % len(self.orgs)]

    @staticmethod
    def first_name(candidate: int) -> str:
        return FIRST_NAMES[candidate % len(FIRST_NAMES)]

    def candidate_name(self, candidate: int) -> str:
        last = LAST_NAMES[(candidate // len(FIRST_NAMES)) % len(LAST_NAMES)]
        return f"{self.first_name(candidate)} {last}"

    def candidate_email(self, candidate: int) -> str:
        return f"{self.candidate_name(candidate).split(' ')[0].lower()}.{candidate + 1}@example.com"

    # -- applications -------------------------------------------------------------

    def application(self, index: int) -> ApplicationData:
        candidate = self.candidate_of(index)
        org = self.candidate_org(candidate)
        demo = DEMO_APPLICATIONS[index % len(DEMO_APPLICATIONS)]
        variants = self.jobs_by[(org.id, demo.job)]
        job = variants[(index // len(DEMO_APPLICATIONS)) % len(variants)]
        first = self.first_name(candidate)
        demo_first = demo.candidate_name.split(" ", 1)[0]
        return ApplicationData(
            id=index + 1,
            candidate=candidate,
            job=job,
            demo=demo,
            stage=demo.stage,
            decided_at=ANCHOR
            - dt.timedelta(days=demo.decided_days_ago + index % 60, minutes=index % 1440),
            decision_summary=demo.decision_summary.replace(demo_first, first),
            personal_note=demo.personal_note.replace(demo_first, first),
        )

    def items(self, index: int, application: ApplicationData | None = None) -> list[Item]:
        """Assessment per requirement, 2 strengths, 2 growth areas and one hidden item."""
        app = application or self.application(index)
        job = app.job
        pool = POOLS[job.kind]
        items: list[Item] = []
        for r in job.requirements:
            choices = pool.assessments.get(r.name) or [("partly_met", FALLBACK_EVIDENCE)]
            rating, evidence = choices[(index + r.position) % len(choices)]
            items.append(Item("assessment", r.position, r, rating, evidence, "", True))
        for position in range(2):
            text, req = pool.strengths[(index + position) % len(pool.strengths)]
            items.append(Item("strength", position, job.requirement(req), None, text, "", True))
        for position in range(2):
            text, suggestion, req = pool.growth_areas[(index + position) % len(pool.growth_areas)]
            items.append(
                Item("growth_area", position, job.requirement(req), None, text, suggestion, True)
            )
        kind, text, suggestion = HIDDEN[index % len(HIDDEN)]
        items.append(Item(kind, 2, None, None, text, suggestion, False))
        return items

    def feedback_page(self, index: int) -> FeedbackView:
        """What `load_feedback_page` returns for application `index` once it is seeded."""
        app = self.application(index)
        org = self.candidate_org(app.candidate)
        assessments: list[Assessment] = []
        strengths: list[Strength] = []
        growth_areas: list[GrowthArea] = []
        for item in self.items(index, app):
            if not item.visible:
                continue
            req = item.requirement
            if item.kind == "assessment":
                assert req is not None and item.rating is not None
                assessments.append(
                    Assessment(req.name, req.description, Rating(item.rating), item.body)
                )
            elif item.kind == "strength":
                strengths.append(Strength(item.body, req.name if req else None))
            else:
                growth_areas.append(
                    GrowthArea(item.body, item.suggestion, req.name if req else None)
                )
        return FeedbackView(
            application_id=app.id,
            version=1,
            state=FeedbackState.PUBLISHED,
            published_at=app.decided_at,
            branding=Branding(
                org.name, org.slug, org.accent_colour, org.privacy_url, org.contact_email
            ),
            candidate_name=self.candidate_name(app.candidate),
            job_title=app.job.title,
            team=app.job.team,
            location=app.job.location,
            stage=Stage(app.stage),
            decided_at=app.decided_at,
            decision_summary=app.decision_summary,
            personal_note=app.personal_note,
            reapply_after_months=app.demo.reapply_after_months,
            suggested_roles=tuple(app.demo.suggested_roles),
            pool_invitation_offered=app.demo.pool_invitation_offered,
            has_other_applications=len(self.applications_of(app.candidate)) > 1,
            assessments=tuple(assessments),
            strengths=tuple(strengths),
            growth_areas=tuple(growth_areas),
        )

    def pool_panel(self, index: int) -> PoolPanel | None:
        """The talent-pool panel the feedback page of application `index` shows: the
        organization's statement to a candidate who has not joined (nobody has, in
        the data set), when the feedback offers the pool."""
        app = self.application(index)
        if not app.demo.pool_invitation_offered:
            return None
        org = self.candidate_org(app.candidate)
        return PoolPanel(
            application_id=app.id,
            organization=org.name,
            consent_text=CONSENT_TEXT,
            consent_version=1,
            durations=(6, 12, 24),
            membership=None,
        )

    # -- rows for COPY, table by table, in dependency order -----------------------

    def tables(self) -> list[tuple[str, tuple[str, ...], Iterator[tuple[Any, ...]]]]:
        return [
            ("organizations", ORGANIZATION_COLUMNS, self._organization_rows()),
            ("jobs", JOB_COLUMNS, self._job_rows()),
            ("requirements", REQUIREMENT_COLUMNS, self._requirement_rows()),
            ("candidates", CANDIDATE_COLUMNS, self._candidate_rows()),
            ("applications", APPLICATION_COLUMNS, self._application_rows()),
            ("feedback", FEEDBACK_COLUMNS, self._feedback_rows()),
            ("feedback_items", ITEM_COLUMNS, self._item_rows()),
        ]

    def _organization_rows(self) -> Iterator[tuple[Any, ...]]:
        created = ANCHOR - dt.timedelta(days=400)
        for org in self.orgs:
            yield (
                org.id, org.name, org.slug, org.name, org.accent_colour, None, 5, 14,
                CONSENT_TEXT, 1, "[6, 12, 24]", False, created, org.privacy_url,
                org.contact_email,
            )  # fmt: skip

    def _job_rows(self) -> Iterator[tuple[Any, ...]]:
        created = ANCHOR - dt.timedelta(days=200)
        for job in self.jobs:
            yield (job.id, job.organization_id, job.title, job.team, job.location, created)

    def _requirement_rows(self) -> Iterator[tuple[Any, ...]]:
        for job in self.jobs:
            for r in job.requirements:
                yield (r.id, job.id, r.position, r.name, r.description)

    def _candidate_rows(self) -> Iterator[tuple[Any, ...]]:
        created = ANCHOR - dt.timedelta(days=120)
        for c in range(self.candidates):
            org = self.candidate_org(c)
            yield (
                c + 1, org.id, self.candidate_email(c), self.candidate_name(c), "en", created,
            )  # fmt: skip

    def _application_rows(self) -> Iterator[tuple[Any, ...]]:
        for i in range(self.applications):
            a = self.application(i)
            yield (
                a.id, a.job.organization_id, a.candidate + 1, a.job.id, a.stage, "rejected",
                a.decided_at, a.decided_at - dt.timedelta(days=21),
            )  # fmt: skip

    def _feedback_rows(self) -> Iterator[tuple[Any, ...]]:
        for i in range(self.applications):
            a = self.application(i)
            yield (
                a.id, a.id, 1, "published", a.decision_summary, a.personal_note,
                a.demo.reapply_after_months, json.dumps(list(a.demo.suggested_roles)),
                a.demo.pool_invitation_offered, None, a.decided_at, a.decided_at,
            )  # fmt: skip

    def _item_rows(self) -> Iterator[tuple[Any, ...]]:
        item_id = 0
        for i in range(self.applications):
            for item in self.items(i):
                item_id += 1
                req = item.requirement
                # Published: the requirement as the candidate read it, kept on the item.
                yield (
                    item_id, i + 1, item.kind, item.position, req.id if req else None,
                    req.name if req else None, req.description if req else None,
                    item.rating, item.body, item.suggestion, item.visible,
                )  # fmt: skip


ORGANIZATION_COLUMNS = (
    "id", "name", "slug", "display_name", "accent_colour", "logo_path", "reply_promise_days",
    "invitation_days", "consent_text", "consent_text_version", "consent_durations_months",
    "replies_need_approval", "created_at", "privacy_url", "contact_email",
)  # fmt: skip
JOB_COLUMNS = ("id", "organization_id", "title", "team", "location", "created_at")
REQUIREMENT_COLUMNS = ("id", "job_id", "position", "name", "description")
CANDIDATE_COLUMNS = ("id", "organization_id", "email", "name", "preferred_language", "created_at")
APPLICATION_COLUMNS = (
    "id", "organization_id", "candidate_id", "job_id", "stage", "status", "decided_at",
    "created_at",
)  # fmt: skip
FEEDBACK_COLUMNS = (
    "id", "application_id", "version", "state", "decision_summary", "personal_note",
    "reapply_after_months", "suggested_roles", "pool_invitation_offered", "created_by_staff_id",
    "created_at", "published_at",
)  # fmt: skip
ITEM_COLUMNS = (
    "id", "feedback_id", "kind", "position", "requirement_id", "requirement_name",
    "requirement_description", "rating", "body", "suggestion", "visible",
)  # fmt: skip
