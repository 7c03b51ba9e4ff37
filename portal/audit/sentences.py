"""The audit trail in words: one sentence per kind of event.

Every action the portal records has a sentence here ("{actor} published feedback on
{application}"); `tests/test_audit_sentences.py` reads the source for every action
recorded and fails for one without. A sentence names what the event touched with
placeholders, filled from the names the audit page looked up
(`portal.audit.service.look_up_names`):

- `{actor}`: who did it (a colleague, a candidate, "Afterword" for the portal's
  own work, "Command line" for the `portal` command);
- what the subject is or leads to: `{application}` ("Sam Lee's application for Data
  Analyst"), `{position}` (the job's title, linking to the application),
  `{candidate}`, `{job}`, `{thread}`, `{person}` (a staff account), `{assignee}`,
  `{membership}`, `{saved_answer}`, `{requirement}`, `{organization}`, `{subject}`
  (whatever the subject is); and pages: `{settings}`, `{pool_settings}`,
  `{consent_text}`;
- words from the event's details, for the sentences that are functions of them.

`{name:other words}` shows other words for the same thing (and its link):
"{thread:the conversation}". Text that people typed (a reason, a title) only ever
fills a placeholder, never the sentence itself, so it is shown as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Details = Mapping[str, Any]


@dataclass(frozen=True)
class Link:
    """A page of the portal, by route name and path parameters."""

    route: str
    params: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Named:
    """Something an event names, as the page shows it: its words, the page to read
    it on when the reader may open it, and a note after it ("(since deleted)").
    `ours`: words of the portal's ("someone not signed in"), not a name as written,
    so they take a capital at the start of a sentence."""

    text: str
    link: Link | None = None
    note: str = ""
    deleted: bool = False
    ours: bool = False


@dataclass(frozen=True)
class Part:
    """A piece of a sentence: words, linked to a page or not."""

    text: str
    link: Link | None = None


# A sentence: its words, or a function of the event's details giving the words and
# any placeholders of its own (counts, a role, a reason as typed).
Said = tuple[str, dict[str, str]]
Sentence = str | Callable[[Details], Said]


def _text(value: Any, limit: int = 200) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _quoted(value: Any) -> str:
    return f"“{_text(value)}”"


def _count(number: int, one: str, many: str) -> str:
    return f"{number:,} {one if number == 1 else many}"


def _listed(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def readable(code: str) -> str:
    """An action or a detail's code as words: "staff.sign_in_failed" -> "Staff sign in
    failed"."""
    words = re.sub(r"[._\-:]+", " ", code).strip()
    return words[:1].upper() + words[1:] if words else code


# Names of settings fields, as the settings pages label them.
FIELD_NAMES = {
    "display_name": "name shown to candidates",
    "accent_colour": "accent colour",
    "reply_promise_days": "reply promise",
    "invitation_days": "invitation link lifetime",
    "consent_text": "talent-pool consent text",
    "mail_from_name": "sender name",
    "privacy_url": "privacy notice",
    "contact_email": "contact address",
    "time_zone": "time zone",
    "replies_need_approval": "approval rule for replies",
    "offers_pool": "talent-pool offer",
    "consent_durations_months": "consent durations",
    "name": "name",
    "title": "job title",
    "question_emails": "question emails",
}


def _fields(details: Details) -> str:
    names = details.get("fields")
    if not isinstance(names, list | tuple) or not names:
        return "nothing"
    return _listed([FIELD_NAMES.get(str(name), readable(str(name)).lower()) for name in names])


# Why a staff sign-in failed (`portal.staff.service`, `portal.staff.oidc`).
SIGN_IN_FAILURES = {
    "unknown": "no account has that email address",
    "wrong_password": "wrong password",
    "inactive": "the account is deactivated",
    "unknown_identity": "the single sign-on identity belongs to no account",
    "locked": "too many failed attempts, so sign-in was locked for a while",
    "rate_limited": "too many attempts from one connection",
    "no_flow": "the single sign-on took too long or started in another browser",
    "provider_unreachable": "the identity provider could not be reached",
}


def _sign_in_failure(reason: Any, *, single_sign_on: bool) -> str:
    reason = str(reason or "")
    if reason in SIGN_IN_FAILURES:
        return SIGN_IN_FAILURES[reason]
    if reason.startswith("provider:"):
        return f"the identity provider refused ({_text(reason.removeprefix('provider:'), 40)})"
    if reason and single_sign_on:
        return f"the identity provider's answer did not check out ({readable(reason).lower()})"
    return readable(_text(reason, 60)).lower() if reason else "for a reason not recorded"


def _purpose(details: Details) -> str:
    return {
        "invitation": "invitation",
        "sign_in": "sign-in",
        "reply": "reply",
        "pool": "talent pool",
    }.get(str(details.get("purpose") or details.get("via") or ""), "candidate")


def _signed_in(details: Details) -> Said:
    via = details.get("via")
    if via == "invitation":
        return "{actor} signed in with their invitation link", {}
    if via in ("reply", "pool"):
        return "{actor} signed in with the link in a {purpose} email", {
            "purpose": _purpose(details)
        }
    if via == "sign_in":
        return "{actor} signed in with an emailed sign-in link", {}
    return "{actor} signed in", {}


def _staff_signed_in(details: Details) -> Said:
    if details.get("method") == "single_sign_on":
        return "{actor} signed in with single sign-on", {}
    return "{actor} signed in with their password", {}


def _sign_in_failed(details: Details) -> Said:
    single_sign_on = details.get("method") == "single_sign_on"
    words = {"reason": _sign_in_failure(details.get("reason"), single_sign_on=single_sign_on)}
    if single_sign_on:
        return "A single sign-on failed: {reason}", words
    return "A sign-in as {person} failed: {reason}", words


def _invitation_accepted(details: Details) -> Said:
    if details.get("method") == "single_sign_on":
        return "{actor} accepted their invitation and signed in with single sign-on", {}
    return "{actor} accepted their invitation, set a password and signed in", {}


def _role(value: Any) -> str:
    return "an admin" if str(value) == "admin" else "a recruiter"


def _invited(details: Details) -> Said:
    return "{actor} invited {person} as {role}", {"role": _role(details.get("role"))}


def _role_changed(details: Details) -> Said:
    return "{actor} made {person} {role}", {"role": _role(details.get("to"))}


def _title_changed(details: Details) -> Said:
    title = details.get("to")
    if not isinstance(title, str) or not title.strip():
        return "{actor} removed the job title of {person}", {}
    return "{actor} changed the job title of {person} to {title}", {"title": _quoted(title)}


def _profile_changed(details: Details) -> Said:
    changes = details.get("to")
    zone = changes.get("time_zone") if isinstance(changes, Mapping) else None
    words = {"fields": _fields(details)}
    if zone is None:
        return "{actor} changed their profile: {fields}", words
    words["zone"] = zone or "their organization's zone"
    return "{actor} changed their profile: {fields} (times now in {zone})", words


def _link_used(details: Details) -> Said:
    if _purpose(details) == "sign-in":
        return "{actor} signed in with an emailed sign-in link", {}
    if _purpose(details) in ("reply", "talent pool"):
        return "{actor} opened the link in a {purpose} email", {"purpose": _purpose(details)}
    return "{actor} opened their invitation link", {}


def _link_issued(details: Details) -> Said:
    if _purpose(details) == "sign-in":
        return "{actor} emailed {candidate} a sign-in link", {}
    if _purpose(details) in ("reply", "talent pool"):
        return (
            "{actor} emailed {candidate} a link to their feedback on {position}"
            " in a {purpose} email",
            {"purpose": _purpose(details)},
        )
    return "{actor} emailed {candidate} a link to their feedback on {position}", {}


def _link_reused(details: Details) -> Said:
    return "{actor} tried {candidate}'s {purpose} link again after it had been used", {
        "purpose": _purpose(details)
    }


def _link_rejected(details: Details) -> Said:
    reason = {"expired": "expired", "revoked": "revoked"}.get(str(details.get("reason")), "spent")
    return "{actor} tried {candidate}'s {reason} {purpose} link", {
        "reason": reason,
        "purpose": _purpose(details),
    }


def _check_overridden(details: Details) -> Said:
    return (
        "{actor} published feedback on {application} over the check's risky findings, "
        "giving the reason {reason}",
        {"reason": _quoted(details.get("reason", ""))},
    )


def _version(details: Details) -> dict[str, str]:
    return {"version": str(details.get("version", "?"))}


def _feedback_saved(details: Details) -> Said:
    return "{actor} saved version {version} of the feedback on {application}", _version(details)


def _imported(details: Details) -> Said:
    rows = details.get("rows")
    words = {
        "rows": _count(rows, "row", "rows") if isinstance(rows, int) else "a file",
        "file": _quoted(details["file"]) if details.get("file") else "a CSV file",
    }
    if details.get("source") == "api":
        return "{actor} saved feedback sent through the API as drafts ({rows})", words
    if details.get("published"):
        return "{actor} imported and published feedback from {file} ({rows})", words
    return "{actor} imported feedback from {file} as drafts ({rows})", words


def _settings_changed(details: Details) -> Said:
    return "{actor} changed {settings:the organization's settings}: {fields}", {
        "fields": _fields(details)
    }


def _send_window_changed(details: Details) -> Said:
    return "{actor} changed {settings:the send window}: {fields}", {"fields": _fields(details)}


def _language_model_changed(details: Details) -> Said:
    model = details.get("model") or ""
    if not model:
        return "{actor} turned the language model off in {settings:the settings}", {}
    uses = [
        use
        for use, on in (
            ("rephrasing drafts", details.get("rephrases")),
            ("a second opinion on the check", details.get("second_opinion")),
        )
        if on
    ]
    return "{actor} set the language model to {model} in {settings:the settings} ({uses})", {
        "model": _quoted(str(model)),
        "uses": " and ".join(uses) if uses else "no use turned on",
    }


def _rephrasing_approved(details: Details) -> Said:
    return (
        "{actor} saved version {version} of the feedback on {application} as rephrased by {model}",
        {**_version(details), "model": _quoted(str(details.get("model", "")))},
    )


def _sent_now(details: Details) -> Said:
    return (
        "{actor} sent the invitation to the feedback on {application} outside the send "
        "window, giving the reason {reason}",
        {"reason": _quoted(details.get("reason", ""))},
    )


def _pool_settings_changed(details: Details) -> Said:
    return "{actor} changed {pool_settings:the talent-pool settings}: {fields}", {
        "fields": _fields(details)
    }


def _consent_text_changed(details: Details) -> Said:
    return "{actor} published version {version} of {consent_text}", _version(details)


def _pool_duration_changed(details: Details) -> Said:
    months = details.get("duration_months")
    if not isinstance(months, int):
        return "{actor} changed how long they stay in {membership:the talent pool}", {}
    return "{actor} changed how long they stay in {membership:the talent pool} to {months}", {
        "months": _count(months, "month", "months")
    }


def _pool_exported(details: Details) -> Said:
    rows = details.get("rows")
    members = _count(rows, "member", "members") if isinstance(rows, int) else "members"
    return "{actor} exported {members} of the talent pool as CSV", {"members": members}


def _pool_invited(details: Details) -> Said:
    sent, skipped = details.get("sent"), details.get("skipped")
    words = {"sent": _count(len(sent) if isinstance(sent, list) else 0, "member", "members")}
    if isinstance(skipped, list) and skipped:
        words["skipped"] = _count(len(skipped), "member", "members")
        return (
            "{actor} invited {sent} of the talent pool to apply for {job} "
            "(skipping {skipped} who asked to be contacted less often)",
            words,
        )
    return "{actor} invited {sent} of the talent pool to apply for {job}", words


def _hidden(details: Details) -> Said:
    return "{actor} hid a message in {thread}: {reason}", {
        "reason": _quoted(details.get("reason", ""))
    }


def _closed(details: Details) -> Said:
    if details.get("reason"):
        return "{actor} closed {thread}: {reason}", {"reason": _quoted(details["reason"])}
    return "{actor} closed {thread}", {}


def _returned(details: Details) -> Said:
    if details.get("comment"):
        return "{actor} sent a reply to {thread} back for changes: {comment}", {
            "comment": _quoted(details["comment"])
        }
    return "{actor} sent a reply to {thread} back for changes", {}


def _thread_assigned(details: Details) -> Said:
    if details.get("assignee") is None:
        return "{actor} unassigned {thread}", {}
    return "{actor} assigned {thread} to {assignee}", {}


def _blocked(details: Details) -> Said:
    if details.get("reason"):
        return "{actor} stopped {candidate} from asking more questions: {reason}", {
            "reason": _quoted(details["reason"])
        }
    return "{actor} stopped {candidate} from asking more questions", {}


ERASURE_CAUSES = {
    "candidate": "at their request, confirmed from the link emailed to them",
    "staff": "on their written request",
    "retention": "as the retention period had run out",
    "ats": "as the applicant tracking system had anonymized them",
}


def _erased(details: Details) -> Said:
    why = ERASURE_CAUSES.get(str(details.get("cause")))
    sentence = "{actor} erased the data of {candidate}" + (" {why}" if why else "")
    words = {"why": why} if why else {}
    if details.get("reason"):
        return sentence + ": {reason}", {**words, "reason": _quoted(details["reason"])}
    return sentence, words


def _retention_run(details: Details) -> Said:
    erased = int(details.get("erased", 0))
    return "{actor} ran retention: {count} erased", {
        "count": f"{erased} candidate{'' if erased == 1 else 's'}"
    }


def _application_assigned(details: Details) -> Said:
    if details.get("assignee") is None and details.get("assignee_id") is None:
        return "{actor} unassigned {application}", {}
    return "{actor} assigned {application} to {assignee}", {}


def _job_updated(details: Details) -> Said:
    if details.get("fields"):
        return "{actor} changed the job {job}: {fields}", {"fields": _fields(details)}
    return "{actor} changed the job {job}", {}


def _webhook(words: str) -> Sentence:
    def said(details: Details) -> Said:
        return "{actor} " + words + " {url}", {"url": _quoted(details.get("url", ""))}

    return said


def _ats_secret_set(details: Details) -> Said:
    system = _text(details.get("ats", "")).capitalize() or "an applicant tracking system"
    return "{actor} set the webhook secret for {system}", {"system": system}


def _ats_credentials(details: Details) -> Said:
    system = _text(details.get("ats", "")).capitalize() or "an applicant tracking system"
    if details.get("removed"):
        return "{actor} removed the API credentials for {system}", {"system": system}
    return "{actor} set the API credentials for {system}", {"system": system}


def _ats_event_again(details: Details) -> Said:
    system = _text(details.get("ats", "")).capitalize() or "an applicant tracking system"
    return "{actor} had an event from {system} processed again", {"system": system}


def _ats_job_mapped(details: Details) -> Said:
    words = {"external": _quoted(details.get("external", ""))}
    if details.get("job_id") is None:
        return "{actor} unmapped the applicant tracking system's job {external}", words
    return "{actor} mapped the applicant tracking system's job {external} to a job", words


def _requirements_copied(details: Details) -> Said:
    names = [" ".join(str(name).split()) for name in details.get("names") or ()]
    if not names:
        return "{actor} copied requirements from another job to {job}", {}
    listed = _listed([f"“{name}”" for name in names])
    return "{actor} copied {copied} from another job to {job}", {"copied": listed}


def _api_key(verb: str) -> Callable[[Details], Said]:
    def said(details: Details) -> Said:
        return "{actor} " + verb + " the API key {key}", {
            "key": _quoted(f"{details.get('name', '')} ({details.get('prefix', '')}…)")
        }

    return said


def _drafting_bulk(details: Details) -> Said:
    count = details.get("applications", 0)
    number = _count(count if isinstance(count, int) else 0, "application", "applications")
    return "{actor} started drafting feedback from scorecards for {number}", {"number": number}


def _suggestion_saved(details: Details) -> Said:
    words = {"requirement": _quoted(details.get("requirement", ""))}
    return "{actor} changed the suggestion library's entry for {requirement}", words


SENTENCES: dict[str, Sentence] = {
    # Signing in and out (portal.auth, portal.staff).
    "session.signed_in": _signed_in,
    "session.signed_out": "{actor} signed out",
    "staff.signed_in": _staff_signed_in,
    "staff.signed_out": "{actor} signed out",
    "staff.sign_in_failed": _sign_in_failed,
    "staff.invitation_accepted": _invitation_accepted,
    # Staff accounts (portal.staff.people, portal.staff.profile).
    "staff.invited": _invited,
    "staff.reinvited": "{actor} sent {person} a new invitation",
    "staff.role_changed": _role_changed,
    "staff.title_changed": _title_changed,
    "staff.deactivated": "{actor} deactivated {person}",
    "staff.reactivated": "{actor} reactivated {person}",
    "staff.sign_in_lock_cleared": "{actor} cleared a sign-in lock for {person}",
    "staff.profile_changed": _profile_changed,
    # Candidates' links (portal.access, portal.workspace).
    "link.issued": _link_issued,
    "link.used": _link_used,
    "link.reused": _link_reused,
    "link.rejected": _link_rejected,
    "link.unknown": "{actor} tried a link that Afterword never issued",
    "link.revoked": "{actor} revoked an unused link to {application}",
    # Feedback (portal.feedback, portal.imports).
    "feedback.saved": _feedback_saved,
    "feedback.rephrasing_approved": _rephrasing_approved,
    "feedback.check_overridden": _check_overridden,
    "feedback.published": "{actor} published feedback on {application}",
    "feedback.imported": _imported,
    # When candidates hear (portal.timing).
    "feedback.send_scheduled": "{actor} published feedback on {application} outside the "
    "send window: the invitation waits for it to open",
    "feedback.sent_now": _sent_now,
    "feedback.call_done": "{actor} called the candidate of {application} before their email",
    "organization.send_window_changed": _send_window_changed,
    # The survey under the feedback (portal.survey); answering it is never audited.
    "survey.wording_changed": "{actor} changed the wording of the survey under the feedback",
    # Settings (portal.orgs, portal.pool).
    "organization.created": "{actor} created the organization {organization}",
    "organization.settings_changed": _settings_changed,
    "organization.language_model_changed": _language_model_changed,
    "pool.consent_text_changed": _consent_text_changed,
    "pool.settings_changed": _pool_settings_changed,
    # Applicant tracking systems (portal.ats).
    "ats.secret_set": _ats_secret_set,
    "ats.job_mapped": _ats_job_mapped,
    "ats.api_credentials_set": _ats_credentials,
    "ats.event_processed_again": _ats_event_again,
    # Scorecards and drafting from them (portal.drafting).
    "scorecard.added": "{actor} added a scorecard to {application}",
    "scorecard.deleted": "{actor} deleted a scorecard of {application}",
    "drafting.bulk_started": _drafting_bulk,
    "drafting.mapping_saved": "{actor} chose which scorecard attributes rate the "
    "requirements of the job {job}",
    "drafting.suggestion_saved": _suggestion_saved,
    # Webhooks (portal.webhooks).
    "webhook.endpoint_added": _webhook("added the webhook endpoint"),
    "webhook.endpoint_changed": _webhook("changed the webhook endpoint"),
    "webhook.secret_rotated": _webhook("made a new signing secret for the webhook endpoint"),
    "webhook.delivery_resent": _webhook("sent a webhook message again to"),
    "webhook.endpoint_gone": _webhook("turned off the webhook endpoint (it answered 410 Gone)"),
    # The talent pool (portal.pool).
    "pool.joined": "{actor} joined {membership:the talent pool}",
    "pool.changed": "{actor} changed their {membership:talent-pool preferences}",
    "pool.duration_changed": _pool_duration_changed,
    "pool.renewed": "{actor} renewed their {membership:talent-pool consent}",
    "pool.left": "{actor} left {membership:the talent pool}",
    "pool.expired": "{actor} ended the talent-pool membership of {candidate}: "
    "their consent expired",
    "pool.exported": _pool_exported,
    "pool.invited": _pool_invited,
    # Conversations (portal.threads).
    "thread.question_asked": "{actor} asked {thread:a question} about their application for {job}",
    "thread.replied": "{actor} replied to {thread}",
    "thread.reply_submitted": "{actor} wrote a reply to {thread} for a colleague to approve",
    "thread.reply_approved": "{actor} approved and sent a reply to {thread}",
    "thread.reply_returned": _returned,
    "thread.no_reply_submitted": "{actor} proposed closing {thread} with no reply needed, "
    "for a colleague to approve",
    "thread.no_reply_needed": "{actor} marked {thread} as needing no reply",
    "thread.closing_note_approved": "{actor} approved the closing note and closed {thread}",
    "thread.message_hidden": _hidden,
    "thread.closed": _closed,
    "thread.reopened": "{actor} reopened {thread}",
    "thread.assigned": _thread_assigned,
    "thread.note_added": "{actor} added an internal note to {thread}",
    "candidate.blocked": _blocked,
    "candidate.unblocked": "{actor} let {candidate} ask questions again",
    "saved_answer.created": "{actor} added the saved answer {saved_answer}",
    "saved_answer.changed": "{actor} changed the saved answer {saved_answer}",
    "saved_answer.deleted": "{actor} deleted the saved answer {saved_answer}",
    # Jobs, their requirements and the requirement library.
    "job.created": "{actor} created the job {job}",
    "job.updated": _job_updated,
    "job.archived": "{actor} archived the job {job}",
    "job.unarchived": "{actor} took the job {job} out of the archive",
    "job.deleted": "{actor} deleted the job {job}",
    "requirement.added": "{actor} added the requirement {requirement} to {job}",
    "requirement.updated": "{actor} changed the requirement {requirement} of {job}",
    "requirement.moved": "{actor} moved the requirement {requirement} within {job}",
    "requirement.removed": "{actor} removed the requirement {requirement} from {job}",
    "requirement.restored": "{actor} restored the requirement {requirement} to {job}",
    "requirement.copied": _requirements_copied,
    "library_requirement.saved": "{actor} added {requirement} to the requirement library",
    "library_requirement.updated": "{actor} changed {requirement} in the requirement library",
    "library_requirement.deleted": "{actor} deleted {requirement} from the requirement library",
    # Candidates' data (portal.privacy).
    "privacy.export_requested": "{actor} asked for a copy of the data of {candidate}",
    "privacy.export_sent": "{actor} emailed {candidate} a one-time link to their data",
    "privacy.export_downloaded": "{actor} downloaded the data of {candidate} "
    "from the one-time link",
    "privacy.erasure_requested": "{actor} asked for the data of {candidate} to be erased; "
    "a confirmation link was emailed",
    "privacy.erased": _erased,
    "privacy.retention_changed": "{actor} changed the retention periods",
    "privacy.retention_run": _retention_run,
    # Applications.
    "application.created": "{actor} added {application}",
    "application.assigned": _application_assigned,
    "application.updated": "{actor} changed {application}",
    # The API (portal.api).
    "api_key.created": _api_key("created"),
    "api_key.revoked": _api_key("revoked"),
}

SINCE_DELETED = " (since deleted)"
# What a placeholder says when the event names nothing for it (a sign-in with an
# address no account has, an event recorded without its subject).
UNNAMED = {
    "actor": "someone",
    "person": "an unknown account",
    "assignee": "someone",
    "candidate": "a candidate",
    "job": "a job",
    "position": "a job",
    "application": "an application",
    "thread": "a conversation",
    "membership": "a talent-pool membership",
    "saved_answer": "a saved answer",
    "requirement": "a requirement",
    "organization": "an organization",
}
# Actions that themselves say their subject is gone: no "(since deleted)" after it.
_DELETIONS = (".deleted", ".removed")
_PLACEHOLDER = re.compile(r"\{(\w+)(?::([^{}]*))?\}")


def template_for(action: str, details: Details) -> Said:
    """The words of `action`'s sentence, and placeholders of its own. An action without
    a sentence gets its code in words: "{actor}: job archived"."""
    sentence = SENTENCES.get(action)
    if sentence is None:
        words = {"what": readable(action).lower()}
        return "{actor}: {what} ({subject})", words
    if isinstance(sentence, str):
        return sentence, {}
    return sentence(details)


def render(action: str, details: Details, names: Mapping[str, Named | None]) -> tuple[Part, ...]:
    """The sentence of an event as parts: `names` fills the placeholders that name
    something; a placeholder with nothing to fill it says so in general words
    (`UNNAMED`: "an unknown account", "a conversation")."""
    template, words = template_for(action, details)
    if action not in SENTENCES and names.get("subject") is None:
        template = template.replace(" ({subject})", "")
    parts: list[Part] = []
    # Whether the sentence starts with words of ours, which take a capital (a name
    # is shown as written).
    capital = not template.startswith("{")
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > position:
            parts.append(Part(template[position : match.start()]))
        position = match.end()
        key, other_words = match.group(1), match.group(2)
        named = names.get(key)
        if key in words:
            parts.append(Part(words[key]))
        elif named is None:
            parts.append(Part(other_words or UNNAMED.get(key, "something")))
            capital = capital or match.start() == 0
        else:
            deletion = action.endswith(_DELETIONS)
            if other_words:
                parts.append(Part(other_words, None if named.deleted else named.link))
                if named.deleted and not deletion:
                    parts.append(Part(SINCE_DELETED))
            else:
                parts.append(Part(named.text, named.link))
                if named.note and not deletion:
                    parts.append(Part(named.note))
            capital = capital or (
                match.start() == 0 and (named.deleted or named.ours or bool(other_words))
            )
    if position < len(template):
        parts.append(Part(template[position:]))
    if capital and parts:
        first = parts[0]
        parts[0] = Part(first.text[:1].upper() + first.text[1:], first.link)
    return _merged(parts)


def _merged(parts: list[Part]) -> tuple[Part, ...]:
    """Neighbouring unlinked parts as one."""
    merged: list[Part] = []
    for part in parts:
        if merged and merged[-1].link is None and part.link is None:
            merged[-1] = Part(merged[-1].text + part.text)
        else:
            merged.append(part)
    return tuple(merged)


def plain(parts: tuple[Part, ...]) -> str:
    """A rendered sentence as plain text."""
    return "".join(part.text for part in parts)
