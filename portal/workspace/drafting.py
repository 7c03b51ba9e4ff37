"""Between the editor's form and a `Draft`: building one from the other, and placing
the feedback check's findings on the form's fields with their words highlighted.

Pure functions: no database, no request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from markupsafe import Markup, escape

from portal.feedback.check import Draft, DraftItem, Finding, check_feedback
from portal.feedback.roles import SuggestedRoles
from portal.forms import FormState
from portal.workspace.forms import EditorForm, GrowthRow, StrengthRow

# How much text either side of a highlight is shown with it.
CONTEXT_CHARS = 60
SEVERITY_WORDS = {"risky": "Risky", "vague": "Vague", "tone": "Tone"}


@dataclass(frozen=True)
class Requirement:
    id: int
    name: str
    description: str


def requirement_texts(requirements: Sequence[Requirement]) -> tuple[str, ...]:
    """The texts the feedback check reads for the job's requirements (`Draft.requirements`)."""
    return tuple(
        f"{requirement.name}: {requirement.description}"
        if requirement.description
        else requirement.name
        for requirement in requirements
    )


@dataclass(frozen=True)
class BuiltDraft:
    """A draft from the form, and for each of its items the form row it came from
    (``strengths-1``), so findings can be placed back on the form."""

    draft: Draft
    rows: tuple[str, ...]
    role_offsets: tuple[int, ...]  # where each suggested role starts in the roles field


def _checked(value: bool) -> str:
    return "on" if value else ""


def _id(value: int | str | None) -> str:
    return "" if value is None else str(value)


def _roles_text(draft: Draft) -> str:
    """The roles field for a draft: a role a line, followed by its posting's address."""
    urls = dict(draft.suggested_role_urls)
    return "\n".join(
        f"{role} {urls[role]}" if role in urls else role for role in draft.suggested_roles
    )


def form_from_draft(
    draft: Draft | None, *, version: int, requirements: Sequence[Requirement]
) -> FormState:
    """The editor's form for a stored draft (or an empty one): one assessment row per
    requirement of the job, in the job's order; strengths and growth areas as stored."""
    values: dict[str, str] = {"version": str(version)}
    draft = draft or Draft(personal_note="")
    values["decision_summary"] = draft.decision_summary
    values["personal_note"] = draft.personal_note
    values["suggested_roles"] = _roles_text(draft)
    values["reapply_after_months"] = (
        "" if draft.reapply_after_months is None else str(draft.reapply_after_months)
    )
    values["pool_invitation_offered"] = _checked(draft.pool_invitation_offered)
    assessed = {item.requirement: item for item in draft.items if item.kind == "assessment"}
    for index, requirement in enumerate(requirements):
        item = assessed.get(requirement.id)
        prefix = f"assessments-{index}-"
        values[prefix + "requirement"] = str(requirement.id)
        values[prefix + "rating"] = (item.rating or "") if item else ""
        values[prefix + "evidence"] = item.body if item else ""
        values[prefix + "visible"] = _checked(item.visible if item else True)
    for list_name, kind in (("strengths", "strength"), ("growth_areas", "growth_area")):
        rows = [item for item in draft.items if item.kind == kind]
        for index, item in enumerate(rows):
            prefix = f"{list_name}-{index}-"
            values[prefix + "body"] = item.body
            values[prefix + "requirement"] = (
                "" if item.requirement is None else str(item.requirement)
            )
            values[prefix + "visible"] = _checked(item.visible)
            if kind == "growth_area":
                values[prefix + "suggestion"] = item.suggestion
                values[prefix + "suggestion_url"] = item.suggestion_url or ""
    return FormState(values=values)


def form_from_input(data: EditorForm) -> FormState:
    """The editor's form as the recruiter sent it (trimmed), for showing it again."""
    values: dict[str, str] = {
        "version": str(data.version),
        "decision_summary": data.decision_summary,
        "personal_note": data.personal_note,
        "suggested_roles": data.suggested_roles,
        "reapply_after_months": ""
        if data.reapply_after_months is None
        else str(data.reapply_after_months),
        "pool_invitation_offered": _checked(data.pool_invitation_offered),
    }
    for index, row in enumerate(data.assessments):
        prefix = f"assessments-{index}-"
        values |= {
            prefix + "requirement": str(row.requirement),
            prefix + "rating": row.rating,
            prefix + "evidence": row.evidence,
            prefix + "visible": _checked(row.visible),
        }
    for index, strength in enumerate(data.strengths):
        prefix = f"strengths-{index}-"
        values |= {
            prefix + "body": strength.body,
            prefix + "requirement": ""
            if strength.requirement is None
            else str(strength.requirement),
            prefix + "visible": _checked(strength.visible),
        }
    for index, growth in enumerate(data.growth_areas):
        prefix = f"growth_areas-{index}-"
        values |= {
            prefix + "body": growth.body,
            prefix + "suggestion": growth.suggestion,
            prefix + "suggestion_url": growth.suggestion_url,
            prefix + "requirement": _id(growth.requirement),
            prefix + "visible": _checked(growth.visible),
        }
    return FormState(values=values)


def row_count(form: FormState, list_name: str) -> int:
    """How many rows of `list_name` the form holds (rows are numbered from 0)."""
    prefix = list_name + "-"
    numbers = [
        int(name[len(prefix) :].split("-", 1)[0])
        for name in form.values
        if name.startswith(prefix) and name[len(prefix) :].split("-", 1)[0].isdigit()
    ]
    return max(numbers) + 1 if numbers else 0


def with_row_added(form: FormState, list_name: str) -> FormState:
    """The form with an empty row at the end of `list_name`, shown to the candidate."""
    index = row_count(form, list_name)
    values = {**form.values, f"{list_name}-{index}-body": "", f"{list_name}-{index}-visible": "on"}
    return FormState(values=values)


def with_row_removed(form: FormState, list_name: str, index: int) -> FormState:
    """The form without row `index` of `list_name`, the rows after it moved up."""
    prefix = list_name + "-"
    values: dict[str, str] = {}
    for name, value in form.values.items():
        if not name.startswith(prefix):
            values[name] = value
            continue
        number, _, rest = name[len(prefix) :].partition("-")
        if not number.isdigit() or int(number) == index:
            continue
        new = int(number) - 1 if int(number) > index else int(number)
        values[f"{prefix}{new}-{rest}"] = value
    return FormState(values=values)


def build_draft(data: EditorForm, *, requirements: Sequence[Requirement]) -> BuiltDraft | FormState:
    """The draft the form describes, or the form with a message on each row that cannot
    be saved as it is (evidence without a rating, a suggestion without a growth area,
    a requirement that is not the job's)."""
    known = {requirement.id for requirement in requirements}
    errors: dict[str, str] = {}
    items: list[DraftItem] = []
    rows: list[str] = []
    for index, row in enumerate(data.assessments):
        prefix = f"assessments-{index}"
        if row.requirement not in known:
            errors[prefix + "-rating"] = "This requirement is no longer part of the job."
        elif row.rating:
            items.append(
                DraftItem(
                    kind="assessment",
                    body=row.evidence,
                    rating=row.rating,
                    requirement=row.requirement,
                    visible=row.visible,
                )
            )
            rows.append(prefix)
        elif row.evidence:
            errors[prefix + "-rating"] = "Choose a rating for this evidence, or clear the evidence."
    rows_of: tuple[tuple[str, str, Sequence[StrengthRow | GrowthRow]], ...] = (
        ("strengths", "strength", data.strengths),
        ("growth_areas", "growth_area", data.growth_areas),
    )
    for list_name, kind, entries in rows_of:
        for index, entry in enumerate(entries):
            prefix = f"{list_name}-{index}"
            suggestion = getattr(entry, "suggestion", "")
            suggestion_url = getattr(entry, "suggestion_url", "")
            if entry.requirement is not None and entry.requirement not in known:
                errors[prefix + "-requirement"] = "Choose one of the job's requirements."
            if not entry.body:
                if suggestion or suggestion_url:
                    errors[prefix + "-body"] = "Describe the growth area this suggestion is for."
                continue
            items.append(
                DraftItem(
                    kind=kind,  # type: ignore[arg-type]
                    body=entry.body,
                    suggestion=suggestion,
                    requirement=entry.requirement,
                    visible=entry.visible,
                    suggestion_url=suggestion_url or None,
                )
            )
            rows.append(prefix)
    if errors:
        form = form_from_input(data)
        form.errors.update(errors)
        return form
    roles = SuggestedRoles.read(data.suggested_roles)  # valid: the form checked it
    draft = Draft(
        decision_summary=data.decision_summary,
        personal_note=data.personal_note,
        items=tuple(items),
        suggested_roles=roles.roles,
        suggested_role_urls=tuple(sorted(roles.urls.items())),
        reapply_after_months=data.reapply_after_months,
        pool_invitation_offered=data.pool_invitation_offered,
        requirements=requirement_texts(requirements),
    )
    return BuiltDraft(draft, tuple(rows), roles.offsets)


def built_from_stored(draft: Draft, *, requirements: Sequence[Requirement]) -> BuiltDraft:
    """The same mapping for a stored draft, whose form is `form_from_draft`'s."""
    draft = replace(draft, requirements=requirement_texts(requirements))
    order = {requirement.id: index for index, requirement in enumerate(requirements)}
    counters = {"strength": 0, "growth_area": 0}
    rows = []
    for item in draft.items:
        if item.kind == "assessment":
            rows.append(f"assessments-{order.get(item.requirement, 0)}")  # type: ignore[arg-type]
        else:
            list_name = "strengths" if item.kind == "strength" else "growth_areas"
            rows.append(f"{list_name}-{counters[item.kind]}")
            counters[item.kind] += 1
    # The roles field as `form_from_draft` writes it: each role, then its address.
    roles = SuggestedRoles.read(_roles_text(draft))
    return BuiltDraft(draft, tuple(rows), roles.offsets)


@dataclass(frozen=True)
class PlacedFinding:
    """A finding on one of the form's fields, with the words shown highlighted."""

    rule: str
    severity: str
    message: str
    field: str  # the form field's name
    excerpt: Markup  # escaped text with the words in <mark>, or empty for the whole field

    @property
    def severity_words(self) -> str:
        return SEVERITY_WORDS[self.severity]


@dataclass
class CheckResult:
    findings: list[PlacedFinding] = field(default_factory=list)

    def on(self, name: str) -> list[PlacedFinding]:
        return [finding for finding in self.findings if finding.field == name]

    def count(self, severity: str) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)

    @property
    def blocks_publishing(self) -> bool:
        return self.count("risky") > 0


def highlight(text: str, start: int, end: int, *, context: int = CONTEXT_CHARS) -> Markup:
    """`text` around [start, end) with those words in <mark>; everything escaped."""
    if start >= end:
        return Markup("")
    left = max(0, start - context)
    right = min(len(text), end + context)
    before = ("…" if left else "") + text[left:start]
    after = text[end:right] + ("…" if right < len(text) else "")
    return (
        escape(before)
        + Markup("<mark>")
        + escape(text[start:end])
        + Markup("</mark>")
        + escape(after)
    )


def form_field(built: BuiltDraft, finding: Finding) -> tuple[str, int]:
    """The form field a finding is on, and how far into that field its text starts."""
    name = finding.field
    if name.startswith("items["):
        index, _, part = name[6:].partition("].")
        prefix = built.rows[int(index)]
        if prefix.startswith("assessments-"):
            return prefix + "-evidence", 0
        return f"{prefix}-{'suggestion' if part == 'suggestion' else 'body'}", 0
    if name.startswith("suggested_roles["):
        return "suggested_roles", built.role_offsets[int(name[16:-1])]
    return name, 0


def check(built: BuiltDraft, texts: dict[str, str]) -> CheckResult:
    """The feedback check on a draft, each finding placed on its form field; `texts`
    holds the fields' text as the form shows it (for the highlights)."""
    placed = []
    for finding in check_feedback(built.draft):
        name, offset = form_field(built, finding)
        text = texts.get(name, "")
        placed.append(
            PlacedFinding(
                rule=finding.rule,
                severity=finding.severity,
                message=finding.message,
                field=name,
                excerpt=highlight(text, finding.start + offset, finding.end + offset),
            )
        )
    return CheckResult(placed)


def checked_fields(form: FormState) -> Iterable[str]:
    """Every field of the form that the check may place a finding on."""
    yield from ("decision_summary", "personal_note", "suggested_roles")
    for index in range(row_count(form, "assessments")):
        yield f"assessments-{index}-evidence"
    for index in range(row_count(form, "strengths")):
        yield f"strengths-{index}-body"
    for index in range(row_count(form, "growth_areas")):
        yield f"growth_areas-{index}-body"
        yield f"growth_areas-{index}-suggestion"
