"""The feedback check: flags words that should not reach a candidate.

A pure function from a draft (or one line of text) to findings. The rules live
in `check_rules.toml` next to this module, a file reviewed like code; this
module applies them (`check_rules.py` reads and compiles them). Words are
compared by their lemma as well as by how they are written, so "hired",
"hiring" and "hire" are one word to a rule.

A finding names its rule, its severity, the field it is in and the exact span
of the offending words in that field's text, so an editor can highlight them
and refuse to publish while any finding is `risky`. Rules match the text as
`portal.characters.matching_text` reads it (no invisible characters, look-alike
letters made plain), and spans are mapped back to the text as written.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, Literal

from portal.characters import MatchingText, matching_text
from portal.feedback.check_learned import ENABLED as LEARNED_ENABLED
from portal.feedback.check_learned import NAMED as _NAMED
from portal.feedback.check_learned import RULE_ID as LEARNED_RULE
from portal.feedback.check_learned import Model, load_model, words_of
from portal.feedback.check_rules import (
    SEVERITIES,
    SEVERITY_RANK,
    WORD,
    Pattern,
    Rule,
    RuleFileError,
    RuleSet,
    Severity,
    Tokens,
    lemma,
    load_rules,
)
from portal.feedback.check_signals import (
    FUNCTION_WORDS,
    Signals,
    describes_a_thing,
    innocent,
    load_signals,
    requirement_words,
    tone_spans,
    vague_spans,
)
from portal.feedback.completeness import Missing, has_evidence, missing_parts

__all__ = [
    "SEVERITIES",
    "Draft",
    "DraftItem",
    "Finding",
    "RuleFileError",
    "Severity",
    "blocks_publishing",
    "check_feedback",
    "check_text",
    "load_rules",
]

_NEGATIONS = frozenset({"not", "no", "never", "without", "nor", "t", "cannot", "nothing", "none"})
_NEGATION_REACH = 3

# --- findings ---------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One problem in one field. `start == end` means the whole field (nothing to highlight)."""

    rule: str
    severity: Severity
    start: int
    end: int
    message: str
    field: str = "text"
    item: int | None = None

    def words(self, text: str) -> str:
        return text[self.start : self.end]

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `portal feedback check --json`."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "start": self.start,
            "end": self.end,
            "message": self.message,
        }


def blocks_publishing(findings: Iterable[Finding]) -> bool:
    return any(finding.severity == "risky" for finding in findings)


# --- drafts -----------------------------------------------------------------------


@dataclass(frozen=True)
class DraftItem:
    """An assessment, a strength or a growth area, as `FeedbackItem` stores it."""

    kind: Literal["assessment", "strength", "growth_area"]
    body: str
    suggestion: str = ""
    rating: Literal["met", "partly_met", "not_yet_met"] | None = None
    requirement: int | str | None = None
    visible: bool = True
    suggestion_url: str | None = None  # a link for the suggestion (not checked: an address)


@dataclass(frozen=True)
class Draft:
    """The structured feedback of one application (DESIGN §3), as the editor holds it."""

    decision_summary: str = ""
    personal_note: str = ""
    items: Sequence[DraftItem] = ()
    suggested_roles: Sequence[str] = ()
    # (role, web address) for the suggested roles that link to a job posting.
    suggested_role_urls: tuple[tuple[str, str], ...] = ()
    # Next steps that hold no words to check, carried so a draft is the whole feedback.
    reapply_after_months: int | None = None
    pool_invitation_offered: bool = False
    # The texts of the job's requirements ("name: description"), for the check only: a
    # language they name is a requirement, not a nationality, and a sentence that names one
    # is specific. Not part of the feedback, so not compared.
    requirements: tuple[str, ...] = field(default=(), compare=False)


def check_feedback(draft: Draft) -> list[Finding]:
    """Every finding in a draft, most serious first, then in the order of the page.

    Items hidden from the candidate are still checked for risky words (internal
    notes are records too, and can be disclosed) but not for vagueness or tone.
    The job's requirements come with the draft (`Draft.requirements`).
    """
    requirements = draft.requirements
    rules = load_rules()
    signals = load_signals()
    learned = _learned()
    findings: list[Finding] = []

    def text_findings(text: str, where: str, item: int | None, *, visible: bool) -> None:
        for finding in _match(rules, text, requirements, signals, learned):
            if visible or finding.severity == "risky":
                findings.append(_placed(finding, where, item))

    text_findings(draft.decision_summary, "decision_summary", None, visible=True)
    text_findings(draft.personal_note, "personal_note", None, visible=True)
    for index, entry in enumerate(draft.items):
        prefix = f"items[{index}]"
        text_findings(entry.body, f"{prefix}.body", index, visible=entry.visible)
        text_findings(entry.suggestion, f"{prefix}.suggestion", index, visible=entry.visible)
        if entry.visible:
            findings.extend(_item_findings(rules, entry, prefix, index, requirements))
    for index, role in enumerate(draft.suggested_roles):
        text_findings(role, f"suggested_roles[{index}]", None, visible=True)

    if Missing.ASSESSMENT in missing_parts(draft):
        message = load_signals().no_assessment
        findings.append(Finding("vague.no_assessment", "vague", 0, 0, message, "decision_summary"))
    if not _thanks_somewhere(rules, draft):
        check = rules.checks["no_thanks"]
        findings.append(Finding(check.id, check.severity, 0, 0, check.message, "personal_note"))

    order = _field_order(draft)
    findings.sort(key=lambda f: (SEVERITY_RANK[f.severity], order.get(f.field, 0), f.start))
    return findings


def check_text(text: str, requirements: Sequence[str] = ()) -> list[Finding]:
    """The findings in one sentence or line (no whole-feedback checks), in text order.

    `requirements` are the texts of the job's requirements: a language they name is not a
    nationality, and a sentence that names one of them is specific."""
    return _match(load_rules(), text, requirements, load_signals(), _learned())


def _learned() -> Model | None:
    """The learned risky signal when it is switched on (`check_learned.ENABLED`)."""
    return load_model() if LEARNED_ENABLED else None


def _placed(finding: Finding, where: str, item: int | None) -> Finding:
    return Finding(
        finding.rule, finding.severity, finding.start, finding.end, finding.message, where, item
    )


def _item_findings(
    rules: RuleSet, entry: DraftItem, prefix: str, index: int, requirements: Sequence[str]
) -> Iterator[Finding]:
    checks = rules.checks
    if entry.kind == "growth_area":
        check = checks["growth_without_suggestion"]
        if _word_count(entry.suggestion) < check.min_words:
            yield Finding(
                check.id, check.severity, 0, 0, check.message, f"{prefix}.suggestion", index
            )
    if entry.kind == "assessment" and entry.rating == "not_yet_met":
        check = checks["not_met_without_evidence"]
        if _word_count(entry.body) < check.min_words or not has_evidence(entry.body, requirements):
            yield Finding(check.id, check.severity, 0, 0, check.message, f"{prefix}.body", index)
    if entry.kind in ("strength", "growth_area") and entry.requirement in (None, ""):
        check = checks["no_requirement"]
        yield Finding(check.id, check.severity, 0, 0, check.message, f"{prefix}.body", index)


def _word_count(text: str) -> int:
    return sum(1 for _ in WORD.finditer(matching_text(text).text))


def _thanks_somewhere(rules: RuleSet, draft: Draft) -> bool:
    words = rules.checks["no_thanks"].words
    texts = [draft.personal_note, draft.decision_summary]
    texts += [entry.body for entry in draft.items if entry.visible]
    for text in texts:
        for match in WORD.finditer(matching_text(text).text):
            surface = match.group().lower()
            if surface in words or lemma(surface) in words:
                return True
    return False


def _field_order(draft: Draft) -> dict[str, int]:
    """Fields in the order the candidate reads them, for a stable listing."""
    names = ["decision_summary", "personal_note"]
    for index in range(len(draft.items)):
        names += [f"items[{index}].body", f"items[{index}].suggestion"]
    names += [f"suggested_roles[{index}]" for index in range(len(draft.suggested_roles))]
    return {name: position for position, name in enumerate(names)}


# --- matching ---------------------------------------------------------------------


def _match(
    rules: RuleSet,
    written: str,
    requirements: Sequence[str] = (),
    signals: Signals | None = None,
    learned: Model | None = None,
) -> list[Finding]:
    """The findings of the rules (and, given `signals`, of the lexicon, specificity and tone,
    and, given `learned`, of the learned risky signal)."""
    seen = matching_text(written)
    text = seen.text
    if not text or not text.strip():
        return []
    tokens = Tokens.of(text)
    spans = _rule_spans(rules, tokens, text)
    if signals is not None:
        required = requirement_words(tuple(requirements))
        for rule_id, found in _rule_spans(signals.lexicon, tokens, text).items():
            spans.setdefault(rule_id, []).extend(found)
        for concept in signals.concepts:
            for first, last in concept.spans(tokens):
                span = (tokens.starts[first], tokens.ends[last - 1], concept.rule)
                spans.setdefault(concept.rule.id, []).append(span)
        for rule_id in list(spans):
            if spans[rule_id] and spans[rule_id][0][2].severity == "risky":
                spans[rule_id] = [
                    span
                    for span in spans[rule_id]
                    if not innocent(signals, tokens, span[0], span[1], required)
                    and not describes_a_thing(signals, tokens, span[0], span[1])
                ]
        # The learned signal's guess spans a whole sentence: it hides no other finding.
        guessed = (
            []
            if learned is None
            else list(_learned_spans(learned, signals, tokens, spans, required))
        )
        taken = [(start, end) for found in spans.values() for start, end, _ in found]
        for start, end in vague_spans(signals, tokens, taken, required):
            spans.setdefault(signals.vague.id, []).append((start, end, signals.vague))
        for start, end, rule in guessed:
            spans.setdefault(rule.id, []).append((start, end, rule))
        toned = [
            (start, end)
            for found in spans.values()
            for start, end, rule in found
            if rule.severity == "tone"
        ]
        for rule, start, end in tone_spans(signals, tokens, toned):
            spans.setdefault(rule.id, []).append((start, end, rule))
    return _findings(seen, spans)


def _learned_spans(
    learned: Model,
    signals: Signals,
    tokens: Tokens,
    spans: dict[str, list[tuple[int, int, Rule]]],
    required: frozenset[str],
) -> Iterator[tuple[int, int, Rule]]:
    """The sentences the learned signal finds risky that no rule found risky, unless the words
    that weighed most are a required language or a technical compound (the rules' guards)."""
    risky = [
        (start, end)
        for found in spans.values()
        for start, end, rule in found
        if rule.severity == "risky"
    ]

    def found_risky(start: int, end: int) -> bool:
        return any(a < end and start < b for a, b in risky)

    for first, last, shares in learned.sentences(tokens, skip=found_risky):
        start, end = tokens.starts[first], tokens.ends[last - 1]
        # Guarded by the heaviest word; named by the heaviest words that carry meaning
        # ("may", "you" and the like weigh but say nothing to the recruiter).
        named = learned.heaviest(shares, count=3 * _NAMED)
        words = words_of(tokens, range(first, last))
        shown: list[str] = []
        guarded = False
        for rank, word in enumerate(named):
            index = first + words.index(word)
            word_start, word_end = tokens.starts[index], tokens.ends[index]
            if rank == 0 and (
                innocent(signals, tokens, word_start, word_end, required)
                or describes_a_thing(signals, tokens, word_start, word_end)
            ):
                guarded = True
                break
            if len(shown) < _NAMED and tokens.surfaces[index].lower() not in FUNCTION_WORDS:
                shown.append(f"“{tokens.text[word_start:word_end]}”")
        if guarded:
            continue
        message = learned.message.format(words=", ".join(shown) or "the sentence as a whole")
        yield start, end, Rule(LEARNED_RULE, "risky", "learned", message, (), (), (), False, False)


def _rule_spans(
    rules: RuleSet, tokens: Tokens, text: str
) -> dict[str, list[tuple[int, int, Rule]]]:
    present = tokens.positions.keys()
    candidates: dict[int, tuple[int, Pattern]] = {}
    by_key = rules.by_key
    for word in present & by_key.keys():
        for entry in by_key[word]:
            candidates[id(entry[1])] = entry
    prefixed = rules.prefixed.findall(" ".join(present)) if rules.by_prefix else []
    if prefixed:
        for prefix, entries in rules.by_prefix.items():
            if any(word.startswith(prefix) for word in prefixed):
                for entry in entries:
                    candidates[id(entry[1])] = entry
    for entry in rules.unkeyed:
        candidates[id(entry[1])] = entry
    # rule index -> token ranges
    hits: dict[int, list[tuple[int, int]]] = {}
    for index, pattern in candidates.values():
        for span in pattern.spans(tokens):
            hits.setdefault(index, []).append(span)

    spans: dict[str, list[tuple[int, int, Rule]]] = {}
    for index, ranges in hits.items():
        rule = rules.rules[index]
        for first, last in _kept(rule, tokens, present, ranges):
            spans.setdefault(rule.id, []).append(
                (tokens.starts[first], tokens.ends[last - 1], rule)
            )
    for rule in rules.with_regexes:
        for regex in rule.regexes:
            for found in regex.finditer(text):
                if found.end() > found.start() and _regex_kept(rule, tokens, found):
                    spans.setdefault(rule.id, []).append((found.start(), found.end(), rule))
    return {rule_id: found for rule_id, found in spans.items() if found}


def _findings(seen: MatchingText, spans: dict[str, list[tuple[int, int, Rule]]]) -> list[Finding]:
    findings: list[Finding] = []
    for rule_id, rule_spans in spans.items():
        if not rule_spans:
            continue
        # Overlapping matches of one rule are one finding over their union.
        rule_spans.sort(key=lambda span: (span[0], -span[1]))
        merged: list[tuple[int, int, Rule]] = []
        for start, end, rule in rule_spans:
            if merged and start < merged[-1][1]:
                first_start, first_end, first_rule = merged[-1]
                merged[-1] = (first_start, max(first_end, end), first_rule)
            else:
                merged.append((start, end, rule))
        for start, end, rule in merged:
            findings.append(Finding(rule_id, rule.severity, *seen.span(start, end), rule.message))
    findings.sort(key=lambda f: (f.start, SEVERITY_RANK[f.severity], f.rule))
    return findings


def _kept(
    rule: Rule, tokens: Tokens, present: AbstractSet[str], ranges: list[tuple[int, int]]
) -> Iterator[tuple[int, int]]:
    innocent: list[tuple[int, int]] | None = None
    for first, last in ranges:
        if rule.about_candidate and not _about_candidate(tokens, tokens.clauses[first]):
            continue
        if rule.skip_negated and _negated(tokens, first):
            continue
        if rule.unless:
            if innocent is None:
                innocent = [
                    span
                    for pattern in rule.unless
                    if _may_match(pattern, present)
                    for span in pattern.spans(tokens)
                ]
            if any(a < last and first < b for a, b in innocent):
                continue
        yield first, last


def _may_match(pattern: Pattern, present: AbstractSet[str]) -> bool:
    key = pattern.key
    if key is None:
        return True
    if not present.isdisjoint(key.words) or not present.isdisjoint(key.exact):
        return True
    return bool(key.prefixes) and any(word.startswith(key.prefixes) for word in present)


def _regex_kept(rule: Rule, tokens: Tokens, found: re.Match[str]) -> bool:
    first = bisect.bisect_left(tokens.ends, found.start() + 1)
    if first >= len(tokens):
        first = len(tokens) - 1
    if first < 0:
        return not rule.about_candidate
    if rule.about_candidate and not _about_candidate(tokens, tokens.clauses[first]):
        return False
    return not (rule.skip_negated and _negated(tokens, first))


def _about_candidate(tokens: Tokens, clause: int) -> bool:
    return clause in tokens.candidate_clauses


def _negated(tokens: Tokens, first: int) -> bool:
    clause = tokens.clauses[first]
    for index in range(max(0, first - _NEGATION_REACH), first):
        if tokens.clauses[index] == clause and tokens.surfaces[index] in _NEGATIONS:
            return True
    return False
