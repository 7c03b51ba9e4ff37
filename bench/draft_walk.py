"""Drafting walk: a recruiter publishing 10 feedbacks written by hand against 10 drafted
from scorecards, in a real browser, timed.

Run from the repository root (needs Debian's Chromium at /usr/bin/chromium)::

    .venv/bin/python bench/draft_walk.py
    .venv/bin/python bench/draft_walk.py --per-way 3 --strict

What it does:

1. Starts ``portal demo --json`` on a fresh SQLite file, exactly as the browser tests do
   (``tests/browser/conftest.py``), and signs in as a demo recruiter of Northwind
   Analytics.
2. Seeds, through the project's own services (``add_rejection``, ``add_scorecard``,
   ``save_suggestion``), 20 rejected applications for the Senior Data Analyst job, each
   with 3 scorecards (a technical screen, a case study, an onsite) rating the job's five
   requirements by name with candidate-safe notes, plus a private note and a private
   question each; the suggestion library holds suggestions for three of the five
   requirements (none for "Python for analysis" and "Data storytelling").
3. **By hand** (the first 10): opens the application page, "Write feedback", rates every
   requirement and types its evidence, adds two strengths tied to requirements and two
   growth areas with suggestions, the decision summary, "may apply again after 6 months",
   the talent-pool offer and a personal note; "Save and preview"; "Publish".
4. **Drafted** (the other 10): opens the application page, "Draft from scorecards",
   reads the draft in the editor (the script reads every field), rewrites the first growth
   area's sentence in the second person, fills each suggestion the library did not have,
   sets "may apply again after 6 months" and types the same personal note; "Save and
   preview"; "Publish".

Time model (the script never waits in real time; text goes in with Playwright's ``fill``):

    time of one feedback = measured browser time (from opening the application page to
                           "Published.", server and browser work included)
                         + characters typed / 200 per minute (``--chars-per-minute``)

That is the model the target is judged on (the recruiter typing at a human pace). A
stricter figure is printed beside it: the same plus 5 s per field holding a value when
the recruiter previews (``--field-seconds``), for reading or deciding it, charged the
same to both ways, although reading a drafted sentence is likely quicker than deciding
what to write. Each published version must pass the feedback check with nothing to flag
and be complete (no "incomplete" warning); a way that fails it stops the walk. The
usefulness counters of the drafted ten (kept, edited, deleted drafted sentences) are read
from ``drafted_feedback``, the table the application page's "How the drafts were used"
shows. Results go to ``bench/results/draft_walk.json``. Target: the hand-written way
takes at least 3x as long.

Exit status: 0; 2 with ``--strict`` when the target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402

from portal import models as _models  # noqa: E402, F401  (every table known)
from portal.candidates.models import Job, Stage  # noqa: E402
from portal.db import create_engine, session_factory, unit_of_work, utcnow  # noqa: E402
from portal.drafting import library  # noqa: E402
from portal.drafting import service as drafting  # noqa: E402
from portal.drafting.models import ScorecardRating, ScorecardSource  # noqa: E402
from portal.security.actors import Staff, StaffRole  # noqa: E402
from portal.settings import Settings  # noqa: E402
from portal.staff.models import StaffUser  # noqa: E402
from portal.workspace.forms import RejectionForm  # noqa: E402
from portal.workspace.rejection import add_rejection  # noqa: E402
from tests.browser.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_COMMAND,
    _wait_for_announcement,
)
from tests.browser.support import DESKTOP, Demo  # noqa: E402
from tests.processes import stop  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "draft_walk.json"
ORGANIZATION = "Northwind Analytics"
JOB = "Senior Data Analyst"
TARGET_RATIO = 3.0
MET, PARTLY, NOT_MET = "met", "partly_met", "not_yet_met"
SQL, STATS, PYTHON, STORY, STAKE = (
    "SQL",
    "Statistics",
    "Python for analysis",
    "Data storytelling",
    "Stakeholder management",
)
REQUIREMENTS = (SQL, STATS, PYTHON, STORY, STAKE)
# Each candidate's level per requirement, in REQUIREMENTS order: at least two met and
# two not met, so that there are two strengths and two growth areas to write.
PROFILES = (
    (MET, NOT_MET, MET, PARTLY, MET),
    (MET, PARTLY, MET, NOT_MET, PARTLY),
    (PARTLY, MET, NOT_MET, MET, MET),
    (NOT_MET, MET, MET, MET, PARTLY),
    (MET, MET, PARTLY, NOT_MET, NOT_MET),
)
# Which interview rates which requirement.
CARDS = (
    ("Inês Carvalho", "Technical screen", 9, (SQL, PYTHON)),
    ("Jonas Weber", "Case study", 6, (STATS, PYTHON, STORY)),
    ("Mariana Costa", "Onsite", 3, (STAKE, STORY, SQL)),
)


@dataclass(frozen=True)
class Texts:
    """What interviewers noted on one requirement, and what a recruiter writes about it."""

    good: str  # an interviewer's candidate-safe note on a good answer
    weak: str  # ... on a weak one
    mixed: str  # ... a mixed rating from one interviewer
    by_hand_met: str  # the evidence a recruiter types, met
    by_hand_partly: str
    by_hand_not_met: str
    strength: str  # a strength a recruiter types
    growth: str  # a growth area a recruiter types (also the drafted way's rewrite)
    suggestion: str  # a recruiter's suggestion for it
    library: str = ""  # the organization's suggestion library, if it has one


TEXTS: dict[str, Texts] = {
    SQL: Texts(
        good="Wrote the retention query with a window function on the first try. "
        "Explained why the index on the event date made it fast.",
        weak="The join between orders and refunds double-counted refunded orders. "
        "Did not spot it until the totals were pointed out.",
        mixed="Wrote a correct window function for the retention query. "
        "The join with refunds double-counted refunded orders.",
        by_hand_met="In the technical screen you wrote the retention query with a window "
        "function at the first attempt and explained why the index on the event date "
        "made it fast.",
        by_hand_partly="You wrote a correct window function for retention, but the join "
        "between orders and refunds counted refunded orders twice until we pointed at the "
        "totals.",
        by_hand_not_met="The join between orders and refunds counted refunded orders twice, "
        "and the error was found only when we pointed at the totals.",
        strength="Your retention query used a window function correctly at the first "
        "attempt, and you explained why the index made it fast.",
        growth="Your join between orders and refunds counted refunded orders twice, which "
        "changed the totals.",
        suggestion="Before trusting a total, compare the row count after each join with "
        "the count you expect; Mode's SQL tutorial has a clear chapter on join fan-out.",
        library="Practise checking the row count after every join against the count you "
        "expect; the SQL tutorial at mode.com explains join fan-out with examples.",
    ),
    STATS: Texts(
        good="Sized the experiment from the baseline conversion rate and the smallest "
        "effect worth detecting. Explained the trade-off between power and duration.",
        weak="Chose a t-test for conversion rates without checking the sample size. "
        "Could not say how long the experiment would need to run.",
        mixed="Picked a sensible test for the conversion rates. "
        "Did not estimate how long the experiment would need to run.",
        by_hand_met="In the case study you sized the experiment from the baseline "
        "conversion rate and the smallest effect worth detecting, and explained the "
        "trade-off between power and duration.",
        by_hand_partly="You picked a sensible test for the conversion rates, but did not "
        "estimate how long the experiment would need to run.",
        by_hand_not_met="You chose a t-test for conversion rates without checking the "
        "sample size and could not say how long the experiment would need to run.",
        strength="You sized the experiment from the baseline rate and the smallest effect "
        "worth detecting, and explained power against duration.",
        growth="Sizing an experiment before it starts: the case study left open how long "
        "it would need to run.",
        suggestion="Work through a power calculation for a conversion test by hand, then "
        "check it with an online sample size calculator such as Evan Miller's.",
        library="Work through a power calculation for a conversion-rate test by hand, then "
        "check it with Evan Miller's sample size calculator.",
    ),
    PYTHON: Texts(
        good="Cleaned the messy export with pandas and kept every step in a notebook that "
        "re-ran from scratch.",
        weak="Edited the export by hand in a spreadsheet before loading it. "
        "The cleaning steps could not be re-run on the next month's file.",
        mixed="Loaded and joined the files with pandas. "
        "Fixed the date formats by hand, so the steps could not be re-run.",
        by_hand_met="You cleaned the messy export with pandas and kept every step in a "
        "notebook that re-ran from scratch.",
        by_hand_partly="You loaded and joined the files with pandas, but fixed the date "
        "formats by hand, so the cleaning could not be re-run.",
        by_hand_not_met="You edited the export by hand in a spreadsheet before loading it, "
        "so the cleaning could not be re-run on the next month's file.",
        strength="Your pandas notebook cleaned the messy export and re-ran from scratch "
        "without a manual step.",
        growth="Making data cleaning reproducible: some steps were done by hand and could "
        "not be run again on a new file.",
        suggestion="Put every cleaning step in a script or notebook that runs from the raw "
        "file; the pandas user guide's section on dates covers the formats you met.",
    ),
    STORY: Texts(
        good="Opened with the recommendation and backed it with one clear chart. "
        "Answered the product manager's questions in plain words.",
        weak="Walked through every query before saying what to do. "
        "The recommendation came only at the end, after twenty minutes.",
        mixed="The chart on churn by cohort was clear. "
        "The recommendation came only at the end of the presentation.",
        by_hand_met="In the onsite you opened with the recommendation, backed it with one "
        "clear chart and answered the product manager's questions in plain words.",
        by_hand_partly="Your chart on churn by cohort was clear, but the recommendation "
        "came only at the end of the presentation.",
        by_hand_not_met="You walked through every query before saying what to do, and the "
        "recommendation came only after twenty minutes.",
        strength="You opened with the recommendation and supported it with one clear chart "
        "that the product manager understood at once.",
        growth="Leading with the recommendation: the presentation reached it only at the "
        "end, after the method.",
        suggestion="Rehearse a five-minute version that states the recommendation in the "
        "first minute; Barbara Minto's pyramid principle is a good guide.",
    ),
    STAKE: Texts(
        good="Asked who would act on the analysis before touching the data. "
        "Agreed a definition of an active customer with the product manager.",
        weak="Started querying before asking what decision the analysis was for. "
        "Did not agree what an active customer meant.",
        mixed="Asked who the analysis was for. "
        "Did not agree a definition of an active customer before starting.",
        by_hand_met="You asked who would act on the analysis before touching the data and "
        "agreed a definition of an active customer with the product manager.",
        by_hand_partly="You asked who the analysis was for, but did not agree a definition "
        "of an active customer before starting.",
        by_hand_not_met="You started querying before asking what decision the analysis was "
        "for, and did not agree what an active customer meant.",
        strength="You asked who would act on the analysis before starting and agreed the "
        "key definition with the product manager.",
        growth="Scoping a question with its owner before starting: definitions were left open.",
        suggestion="Before any query, write down the decision, its owner and the "
        "definitions you will use, and agree them in a short message.",
        library="Before any query, write down the decision, who owns it and the "
        "definitions you will use, and agree them with that person.",
    ),
}
DECISION = (
    "Thank you for applying for the Senior Data Analyst role and for the time you gave us. "
    "We have decided not to continue with your application, mainly because of the two "
    "growth areas below."
)
NOTE = (
    "Thank you for the care you put into the case study. We enjoyed meeting you and hope "
    "to see your name again."
)
REAPPLY_MONTHS = "6"
FIRST_NAMES = (
    "Aisha Bello", "Tomás Silva", "Hannah Kim", "Olu Adebayo", "Sofia Rossi",
    "Lukas Meyer", "Nadia Haddad", "Ravi Patel", "Elena Popescu", "Jamal Reed",
    "Chloé Martin", "Ben Okoro", "Ingrid Berg", "Kenji Sato", "Marta Nowak",
    "Diego Ramos", "Fatima Zahra", "Oscar Lind", "Leah Cohen", "Noah Baptiste",
)  # fmt: skip


@dataclass
class Walked:
    way: str
    application_id: int
    browser_seconds: float
    typed_chars: int
    fields: int
    version: int = 0

    def total(self, *, chars_per_minute: float, field_seconds: float) -> float:
        return self.browser_seconds + self.typing(chars_per_minute) + self.fields * field_seconds

    def typing(self, chars_per_minute: float) -> float:
        return self.typed_chars * 60.0 / chars_per_minute


@dataclass
class Seeded:
    application_id: int
    name: str
    levels: dict[str, str]
    staff: dict[str, str] = field(default_factory=dict)


# --- the demo server ---------------------------------------------------------------------


@contextmanager
def running_demo(workdir: Path) -> Iterator[Demo]:
    """`portal demo --json` on a fresh SQLite file, as tests/browser/conftest.py starts it."""
    stdout_path, stderr_path = workdir / "stdout.txt", workdir / "stderr.txt"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=f"sqlite:///{workdir / 'demo.db'}",
        PORTAL_MAIL_DIR=str(workdir / "mail"),
        PORTAL_RATE_LIMIT_STORAGE="memory://",
        PYTHONUNBUFFERED="1",
    )
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [*DEMO_COMMAND, "--json"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        data = _wait_for_announcement(process, stdout_path, stderr_path)
        yield Demo(
            base_url=data["base_url"],
            mail_dir=workdir / "mail",
            candidates=[],
            database=workdir / "demo.db",
            staff=data["staff"],
        )
    finally:
        stop(process)


# --- seeding -------------------------------------------------------------------------------


def _ratings(level: str, raters: int) -> list[tuple[ScorecardRating, str, str]]:
    """(rating, which note) for each interviewer who rated a requirement at `level`."""
    if level == MET:
        return [(ScorecardRating.STRONG_YES, "good", "")] + [(ScorecardRating.YES, "good", "")] * (
            raters - 1
        )
    if level == NOT_MET:
        return [(ScorecardRating.NO, "weak", "")] * raters
    if raters == 1:
        return [(ScorecardRating.MIXED, "mixed", "")]
    return [(ScorecardRating.YES, "good", ""), (ScorecardRating.NO, "weak", "")] * (raters // 2)


async def seed(database: Path, recruiter_email: str, applications: int) -> list[Seeded]:
    engine = create_engine(Settings(database_url=f"sqlite:///{database}"))
    sessions = session_factory(engine)
    now = utcnow()
    seeded: list[Seeded] = []
    try:
        async with unit_of_work(sessions) as db:
            staff = await db.scalar(select(StaffUser).where(StaffUser.email == recruiter_email))
            assert staff is not None
            actor = Staff(staff.id, staff.organization_id, StaffRole.RECRUITER, staff.name, b"")
            job_id = await db.scalar(
                select(Job.id).where(Job.organization_id == staff.organization_id, Job.title == JOB)
            )
            assert job_id is not None
            for name, texts in TEXTS.items():
                if texts.library:
                    await library.save_suggestion(
                        db, actor=actor, requirement=name, text=texts.library, url=None, now=now
                    )
            for i in range(applications):
                name = FIRST_NAMES[i % len(FIRST_NAMES)]
                levels = dict(zip(REQUIREMENTS, PROFILES[i % len(PROFILES)], strict=True))
                form = RejectionForm.model_validate(
                    {
                        "name": name,
                        "email": f"walk.{i + 1:02d}@example.com",
                        "job": job_id,
                        "stage": Stage.INTERVIEW.value,
                    }
                )
                added = await add_rejection(db, actor=actor, form=form, now=now, ip_hash="walk")
                # Each interviewer's rating and note per requirement they rated.
                given: dict[str, list[tuple[ScorecardRating, str, str]]] = {
                    requirement: _ratings(
                        levels[requirement],
                        sum(requirement in card[3] for card in CARDS),
                    )
                    for requirement in REQUIREMENTS
                }
                for interviewer, step, days_ago, rated in CARDS:
                    attributes = []
                    for requirement in rated:
                        rating, which, _ = given[requirement].pop(0)
                        note = getattr(TEXTS[requirement], which)
                        attributes.append(
                            drafting.AttributeInput(name=requirement, rating=rating, note=note)
                        )
                    attributes.append(
                        drafting.AttributeInput(
                            name="Culture add",
                            rating=ScorecardRating.MIXED,
                            note="Seemed tired; ask the hiring manager before any offer.",
                            private=True,
                        )
                    )
                    await drafting.add_scorecard(
                        db,
                        actor=actor,
                        application_id=added.application_id,
                        card=drafting.ScorecardInput(
                            interviewer=interviewer,
                            step=step,
                            interviewed_on=(now - dt.timedelta(days=days_ago)).date(),
                            overall_recommendation=ScorecardRating.NO,
                            attributes=attributes,
                            questions=[
                                drafting.QuestionInput("Salary expectations", "Above the band.")
                            ],
                        ),
                        source=ScorecardSource.FORM,
                        staff_id=staff.id,
                        now=now,
                    )
                seeded.append(Seeded(added.application_id, name, levels))
    finally:
        await engine.dispose()
    return seeded


# --- the walk ------------------------------------------------------------------------------


def sign_in(page: Page, account: dict[str, str]) -> None:
    page.goto("/staff/signin")
    page.get_by_label("Email address").fill(account["email"])
    page.get_by_label("Password").fill(account["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


class Typist:
    """`fill` at once, counting the characters a person would have typed."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.chars = 0

    def type(self, selector: str, text: str) -> None:
        self.page.locator(selector).fill(text)
        self.chars += len(text)


FIELDS_WITH_A_VALUE = """() => {
  const form = document.getElementById('editor-form');
  let n = 0;
  const fields = 'textarea, select, input[type=number], input[type=text]';
  for (const el of form.querySelectorAll(fields)) {
    if (el.value.trim() !== '') n += 1;
  }
  const pool = document.getElementById('pool_invitation_offered');
  if (pool && pool.checked) n += 1;
  return n;
}"""


def strengths_and_growth(levels: dict[str, str]) -> tuple[list[str], list[str]]:
    met = [r for r in REQUIREMENTS if levels[r] == MET][:2]
    order = {NOT_MET: 0, PARTLY: 1}
    short = sorted((r for r in REQUIREMENTS if levels[r] != MET), key=lambda r: order[levels[r]])
    return met, short[:2]


def preview_and_publish(page: Page) -> int:
    """The version published, once the preview showed no finding of the check."""
    page.get_by_role("button", name="Save and preview").click()
    expect(page.get_by_role("heading", level=2, name=re.compile("^Preview: what"))).to_be_visible()
    findings = page.locator(".preview-banner ul.findings > li")
    if findings.count():
        raise AssertionError(
            f"the check flagged {page.url}: " + " | ".join(findings.all_inner_texts())
        )
    publish = page.get_by_role("button", name=re.compile(r"^Publish version \d+$"))
    label = publish.inner_text()
    publish.click()
    expect(page.get_by_role("status").first).to_contain_text("Published.")
    return int(label.rsplit(" ", 1)[1])


def by_hand(page: Page, seeded: Seeded) -> Walked:
    started = time.perf_counter()
    page.goto(f"/staff/applications/{seeded.application_id}")
    page.get_by_role("link", name="Write feedback").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Feedback for")
    strengths, growth = strengths_and_growth(seeded.levels)
    # Rows first: each press re-renders the editor.
    for n in range(2):
        page.get_by_role("button", name="Add a strength").click()
        expect(page.locator("textarea[name$='-body'][name^='strengths-']")).to_have_count(n + 1)
    for n in range(2):
        page.get_by_role("button", name="Add a growth area").click()
        expect(page.locator("textarea[name$='-body'][name^='growth_areas-']")).to_have_count(n + 1)
    typist = Typist(page)
    typist.type("#decision_summary", DECISION)
    words = {MET: "by_hand_met", PARTLY: "by_hand_partly", NOT_MET: "by_hand_not_met"}
    for i, requirement in enumerate(REQUIREMENTS):
        level = seeded.levels[requirement]
        page.locator(f"#assessments-{i}-rating").select_option(level)
        typist.type(f"#assessments-{i}-evidence", getattr(TEXTS[requirement], words[level]))
    for i, requirement in enumerate(strengths):
        typist.type(f"#strengths-{i}-body", TEXTS[requirement].strength)
        page.locator(f"#strengths-{i}-requirement").select_option(label=requirement)
    for i, requirement in enumerate(growth):
        typist.type(f"#growth_areas-{i}-body", TEXTS[requirement].growth)
        typist.type(f"#growth_areas-{i}-suggestion", TEXTS[requirement].suggestion)
        page.locator(f"#growth_areas-{i}-requirement").select_option(label=requirement)
    typist.type("#reapply_after_months", REAPPLY_MONTHS)
    page.locator("#pool_invitation_offered").check()
    typist.type("#personal_note", NOTE)
    fields = page.evaluate(FIELDS_WITH_A_VALUE)
    version = preview_and_publish(page)
    return Walked(
        "by hand",
        seeded.application_id,
        time.perf_counter() - started,
        typist.chars,
        fields,
        version,
    )


def drafted(page: Page, seeded: Seeded) -> Walked:
    started = time.perf_counter()
    page.goto(f"/staff/applications/{seeded.application_id}")
    page.get_by_role("button", name="Draft from scorecards").click()
    expect(page.get_by_role("heading", name="Where this draft came from")).to_be_visible()
    typist = Typist(page)
    # The recruiter reads the whole draft and its sources (the script reads them too).
    draft = {
        name: value
        for name, value in page.evaluate(
            "() => [...document.querySelectorAll('#editor-form textarea')]"
            ".map(el => [el.name, el.value])"
        )
    }
    page.locator(".draft-sources").inner_text()
    # Third person quoted from a note: say it to the candidate instead.
    first_growth = draft.get("growth_areas-0-body", "")
    if first_growth:
        requirement = page.locator("#growth_areas-0-requirement option:checked").inner_text()
        typist.type("#growth_areas-0-body", TEXTS[requirement].growth)
    i = 0
    while f"growth_areas-{i}-suggestion" in draft:
        if not draft[f"growth_areas-{i}-suggestion"].strip():
            requirement = page.locator(f"#growth_areas-{i}-requirement option:checked").inner_text()
            typist.type(f"#growth_areas-{i}-suggestion", TEXTS[requirement].suggestion)
        i += 1
    typist.type("#reapply_after_months", REAPPLY_MONTHS)
    typist.type("#personal_note", NOTE)
    fields = page.evaluate(FIELDS_WITH_A_VALUE)
    version = preview_and_publish(page)
    return Walked(
        "drafted",
        seeded.application_id,
        time.perf_counter() - started,
        typist.chars,
        fields,
        version,
    )


def usefulness(database: Path, application_ids: list[int]) -> dict[str, int]:
    """The counters the application page shows under "How the drafts were used"."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT application_id, kept, edited, deleted FROM drafted_feedback"
            " WHERE published_version IS NOT NULL"
        ).fetchall()
    mine = [row for row in rows if row[0] in set(application_ids)]
    return {
        "kept": sum(row[1] for row in mine),
        "edited": sum(row[2] for row in mine),
        "deleted": sum(row[3] for row in mine),
        "measured": len(mine),
    }


def page_counters(page: Page, application_id: int) -> tuple[int, int, int]:
    page.goto(f"/staff/applications/{application_id}")
    row = page.locator("table:has(caption:text('Drafted sentences kept')) tbody tr").first
    cells = [
        row.locator(f"td[data-label='{name}']").inner_text()
        for name in ("Kept", "Edited", "Deleted")
    ]
    kept, edited, deleted = (int(c) for c in cells)
    return kept, edited, deleted


def walk(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="draft-walk-") as tmp, running_demo(Path(tmp)) as demo:
        assert demo.database is not None
        recruiter = next(
            s for s in demo.staff if s["role"] == "recruiter" and s["organization"] == ORGANIZATION
        )
        seeded = asyncio.run(seed(demo.database, recruiter["email"], 2 * args.per_way))
        hand, draft = seeded[: args.per_way], seeded[args.per_way :]
        walked: list[Walked] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            width, height = DESKTOP
            context = browser.new_context(
                viewport={"width": width, "height": height}, base_url=demo.base_url
            )
            context.set_default_timeout(30_000)
            page = context.new_page()
            sign_in(page, recruiter)
            # Alternate the two ways, so a busy moment of the machine weighs on both.
            for one, other in zip(hand, draft, strict=True):
                walked.append(by_hand(page, one))
                walked.append(drafted(page, other))
                print(
                    f"  {walked[-2].way}: {walked[-2].browser_seconds:.2f} s, "
                    f"{walked[-2].typed_chars} chars; {walked[-1].way}: "
                    f"{walked[-1].browser_seconds:.2f} s, {walked[-1].typed_chars} chars",
                    flush=True,
                )
            shown = [page_counters(page, s.application_id) for s in draft]
            browser.close()
        counters = usefulness(demo.database, [s.application_id for s in draft])
        assert counters["measured"] == len(draft), counters
        assert [sum(c[k] for c in shown) for k in range(3)] == [
            counters["kept"],
            counters["edited"],
            counters["deleted"],
        ], (shown, counters)
    return report(walked, counters, args)


def report(
    walked: list[Walked], counters: dict[str, int], args: argparse.Namespace
) -> dict[str, Any]:
    cpm, per_field = args.chars_per_minute, args.field_seconds
    ways: dict[str, Any] = {}
    for way in ("by hand", "drafted"):
        mine = [w for w in walked if w.way == way]
        ways[way] = {
            "feedbacks": len(mine),
            "browser_seconds": round(sum(w.browser_seconds for w in mine), 1),
            "typed_characters": sum(w.typed_chars for w in mine),
            "typing_seconds": round(sum(w.typing(cpm) for w in mine), 1),
            "fields": sum(w.fields for w in mine),
            "field_seconds": round(sum(w.fields for w in mine) * per_field, 1),
            "total_seconds": round(
                sum(w.total(chars_per_minute=cpm, field_seconds=per_field) for w in mine), 1
            ),
            "total_seconds_typing_only": round(
                sum(w.browser_seconds + w.typing(cpm) for w in mine), 1
            ),
        }
    hand, draft = ways["by hand"], ways["drafted"]
    return {
        "model": {
            "chars_per_minute": cpm,
            "seconds_per_field_with_a_value": per_field,
            "rule": "measured browser time + characters typed / chars_per_minute "
            "+ fields with a value at preview x seconds_per_field (same for both ways)",
        },
        "ways": ways,
        "ratio": round(hand["total_seconds"] / draft["total_seconds"], 2),
        "ratio_typing_only": round(
            hand["total_seconds_typing_only"] / draft["total_seconds_typing_only"], 2
        ),
        "target_ratio": TARGET_RATIO,
        "usefulness": counters,
        "load": os.getloadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        epilog="Time model"
        + (__doc__ or "").split("Time model", 1)[1].split("Exit status")[0].strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--per-way", type=int, default=10, help="feedbacks each way (default 10)")
    parser.add_argument(
        "--chars-per-minute", type=float, default=200.0, help="typing speed (default 200)"
    )
    parser.add_argument(
        "--field-seconds",
        type=float,
        default=5.0,
        help="for the stricter figure: reading or deciding allowance per field with a "
        "value, both ways (default 5)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 2 when the target is missed")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"draft_walk: {CHROMIUM} not found (install Debian's chromium)", file=sys.stderr)
        return 2
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    result = walk(args)
    for way, figures in result["ways"].items():
        print(
            f"{way:8}: {figures['feedbacks']} published in {figures['total_seconds']} s = "
            f"{figures['browser_seconds']} s measured in the browser + "
            f"{figures['typing_seconds']} s typing {figures['typed_characters']:,} characters "
            f"at {args.chars_per_minute:g}/min + {figures['field_seconds']} s for "
            f"{figures['fields']} fields at {args.field_seconds:g} s"
        )
    ok = result["ratio_typing_only"] >= TARGET_RATIO
    use = result["usefulness"]
    print(
        f"ratio by hand / drafted (browser time + typing at {args.chars_per_minute:g}/min): "
        f"{result['ratio_typing_only']}x; target >= {TARGET_RATIO:g}x: "
        f"{'PASS' if ok else 'FAIL'}"
    )
    print(f"stricter, with {args.field_seconds:g} s per field both ways: {result['ratio']}x")
    print(
        f"drafted sentences in the {use['measured']} drafted feedbacks: kept {use['kept']}, "
        f"edited {use['edited']}, deleted {use['deleted']}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 2 if args.strict and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
