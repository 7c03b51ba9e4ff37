"""The deterministic draft: feedback composed from scorecards by written rules, with no
model and no network. Pure functions: the caller reads the rows and stores the result.

The rule, per requirement of the job (docs/drafting.md):

- the ratings of the attributes mapped to it, `no_decision` left out: all `yes` or
  `strong_yes` → met; all `no` or `definitely_not` → not yet met; any other mix
  (`mixed` included) → partly met; no rating → not assessed (no assessment, and the
  recruiter is told);
- the evidence: whole sentences of the candidate-safe notes on those attributes, as
  written (spaces tidied, a closing full stop added when there is none); never a
  private note, never a question's answer;
- strengths: the best-rated met requirements (up to two) with a sentence of evidence
  (from a positively rated attribute when there is one);
- growth areas: the lowest-rated requirements (up to two), each with a sentence of a
  note whose own rating was not positive (or none), and the
  organization's suggestion for that requirement from the suggestion library, or an
  empty suggestion and a note saying the library has none;
- next steps: the organization's open jobs whose requirements of the same names the
  candidate met (all of them, at least one), and the talent-pool invitation as the
  organization's setting says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from portal.feedback.check import Draft, DraftItem

SCORES = {"definitely_not": 0, "no": 1, "mixed": 2, "yes": 3, "strong_yes": 4}
POSITIVE = {"yes", "strong_yes"}
NEGATIVE = {"no", "definitely_not"}
MAX_STRENGTHS = 2
MAX_GROWTH = 2
# Sentences of evidence per requirement: enough to be specific, few enough to read.
MAX_EVIDENCE = 3
RatingValue = Literal["met", "partly_met", "not_yet_met"]

# What may end a sentence: its mark, or a closing quote or bracket after one.
CLOSERS = ".!?\"')]\u201d\u2019"
# A sentence ends at . ! or ? (and any closing quote or bracket) followed by a space.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+")


def key_of(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Entry:
    """An attribute of a scorecard, as the draft reads it."""

    scorecard_id: int
    interviewer: str
    step: str
    name: str
    rating: str | None
    note: str
    private: bool


@dataclass(frozen=True)
class Requirement:
    id: int
    name: str


@dataclass(frozen=True)
class OpenJob:
    title: str
    url: str | None
    requirement_keys: frozenset[str]


@dataclass(frozen=True)
class Suggestion:
    text: str
    url: str | None = None


@dataclass
class Composed:
    draft: Draft
    # Where each drafted sentence came from: {"field", "text", "scorecard_id",
    # "interviewer", "step", "attribute", "from"} ("scorecard" or "library").
    sentences: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def sentences_of(text: str) -> list[str]:
    """The whole sentences of a note, as written: spaces tidied, a full stop added to a
    last sentence that has none. Nothing else is changed."""
    found = []
    for part in _SENTENCE_END.split(" ".join(text.split())):
        part = part.strip()
        if not part:
            continue
        if part[-1] not in CLOSERS:
            part += "."
        found.append(part)
    return found


def assess(ratings: Sequence[str]) -> RatingValue | None:
    """The documented rule: None when nothing was decided."""
    decided = [r for r in ratings if r in SCORES]
    if not decided:
        return None
    if all(r in POSITIVE for r in decided):
        return "met"
    if all(r in NEGATIVE for r in decided):
        return "not_yet_met"
    return "partly_met"


def requirement_for(
    attribute: str, requirements: Sequence[Requirement], mapping: Mapping[str, int | None]
) -> Requirement | None:
    """The requirement an attribute rates: as mapped for the job (None: none), or else the
    requirement of the same name."""
    key = key_of(attribute)
    if key in mapping:
        chosen = mapping[key]
        return next((r for r in requirements if r.id == chosen), None)
    return next((r for r in requirements if key_of(r.name) == key), None)


def summary_for(job_title: str, short_of: Sequence[str] = ()) -> str:
    """The decision in candidate-safe words. It names the requirements of the growth
    areas when there are some: a summary that names none is what the feedback check
    calls vague ("says how it went but not against what"), so every draft would
    otherwise open with a finding for the recruiter to fix by hand."""
    thanks = f"Thank you for applying for the {job_title} role and for the time you gave us. "
    if not short_of:
        return thanks + "We have decided not to continue with your application."
    names = short_of[0] if len(short_of) == 1 else ", ".join(short_of[:-1]) + " and " + short_of[-1]
    # One sentence: the check reads the decision and its reasons together.
    return (
        f"{thanks}We have decided not to continue with your application: the main "
        f"{'reason was' if len(short_of) == 1 else 'reasons were'} {names}, described below."
    )


@dataclass
class _Found:
    requirement: Requirement
    ratings: list[str] = field(default_factory=list)
    evidence: list[tuple[str, Entry]] = field(default_factory=list)


def compose(
    *,
    job_title: str,
    requirements: Sequence[Requirement],
    entries: Sequence[Entry],
    mapping: Mapping[str, int | None],
    suggestions: Mapping[str, Suggestion],
    open_jobs: Sequence[OpenJob],
    offers_pool: bool,
) -> Composed:
    found = {r.id: _Found(r) for r in requirements}
    for entry in entries:
        target = requirement_for(entry.name, requirements, mapping)
        if target is None:
            continue
        slot = found[target.id]
        if entry.rating:
            slot.ratings.append(entry.rating)
        if entry.private or not entry.note.strip():
            continue
        for sentence in sentences_of(entry.note):
            if sentence not in (s for s, _ in slot.evidence):
                slot.evidence.append((sentence, entry))

    sentences: list[dict[str, Any]] = []
    notes: list[str] = []
    items: list[DraftItem] = []
    assessed: list[tuple[_Found, RatingValue, float]] = []

    def source(where: str, text: str, entry: Entry) -> None:
        sentences.append(
            {
                "field": where,
                "text": text,
                "scorecard_id": entry.scorecard_id,
                "interviewer": entry.interviewer,
                "step": entry.step,
                "attribute": entry.name,
                "from": "scorecard",
            }
        )

    for requirement in requirements:
        slot = found[requirement.id]
        rating = assess(slot.ratings)
        if rating is None:
            notes.append(f"Not assessed: no interviewer rated “{requirement.name}”.")
            continue
        scores = [SCORES[r] for r in slot.ratings if r in SCORES]
        assessed.append((slot, rating, sum(scores) / len(scores)))
        chosen = slot.evidence[:MAX_EVIDENCE]
        where = f"items[{len(items)}].body"
        for sentence, entry in chosen:
            source(where, sentence, entry)
        if not chosen:
            notes.append(
                f"“{requirement.name}” has ratings but no candidate-safe note: write its "
                "evidence yourself."
            )
        items.append(
            DraftItem(
                kind="assessment",
                body=" ".join(s for s, _ in chosen),
                rating=rating,
                requirement=requirement.id,
            )
        )

    best = sorted((a for a in assessed if a[1] == "met" and a[0].evidence), key=lambda a: -a[2])[
        :MAX_STRENGTHS
    ]
    for slot, _, _ in best:
        sentence, entry = next(
            ((s, e) for s, e in slot.evidence if e.rating in POSITIVE), slot.evidence[0]
        )
        source(f"items[{len(items)}].body", sentence, entry)
        items.append(DraftItem(kind="strength", body=sentence, requirement=slot.requirement.id))

    lowest = sorted((a for a in assessed if a[1] != "met"), key=lambda a: a[2])[:MAX_GROWTH]
    for slot, _, _ in lowest:
        name = slot.requirement.name
        # What fell short, in an interviewer's words: a sentence of a note whose own
        # rating was not positive (none: the recruiter writes it).
        body = ""
        shortfall = [(s, e) for s, e in slot.evidence if e.rating not in POSITIVE]
        if shortfall:
            body, entry = shortfall[-1]
            source(f"items[{len(items)}].body", body, entry)
        else:
            notes.append(
                f"No interviewer's note says what fell short in “{name}”: write the growth "
                "area's words yourself."
            )
        suggestion = suggestions.get(key_of(name))
        if suggestion is None or not suggestion.text.strip():
            notes.append(
                f"The suggestion library has no suggestion for “{name}”: the growth area's "
                "suggestion is empty. Write one, or add one to the library for next time."
            )
            text, url = "", None
        else:
            text, url = suggestion.text, suggestion.url
            sentences.append(
                {
                    "field": f"items[{len(items)}].suggestion",
                    "text": text,
                    "scorecard_id": None,
                    "interviewer": "",
                    "step": "",
                    "attribute": name,
                    "from": "library",
                }
            )
        items.append(
            DraftItem(
                kind="growth_area",
                body=body,
                suggestion=text,
                requirement=slot.requirement.id,
                suggestion_url=url,
            )
        )

    met = {key_of(a[0].requirement.name) for a in assessed if a[1] == "met"}
    known = {key_of(a[0].requirement.name) for a in assessed}
    roles: list[str] = []
    urls: list[tuple[str, str]] = []
    for job in open_jobs:
        shared = job.requirement_keys & known
        if shared and shared <= met and job.title not in roles:
            roles.append(job.title)
            if job.url:
                urls.append((job.title, job.url))
    draft = Draft(
        decision_summary=summary_for(job_title, [slot.requirement.name for slot, _, _ in lowest]),
        items=tuple(items),
        suggested_roles=tuple(roles),
        suggested_role_urls=tuple(sorted(urls)),
        pool_invitation_offered=offers_pool,
    )
    return Composed(draft=draft, sentences=sentences, notes=notes)
