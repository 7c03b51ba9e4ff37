"""The feedback check: the labelled corpus, spans, whole-draft checks and the rule file."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.feedback.check import (
    SEVERITIES,
    Draft,
    DraftItem,
    RuleFileError,
    blocks_publishing,
    check_feedback,
    check_text,
    load_rules,
)
from tests.check_figures import DEVELOPMENT, HELD_OUT, figures, read_corpus

RISKY_RECALL_TARGET = 0.95
FINE_FLAGGED_TARGET = 0.10


def test_the_original_corpus_still_meets_its_targets() -> None:
    """The corpus the phrase rules were written on (tests/feedback_check_corpus.tsv);
    tests/test_feedback_check_corpus.py reports the development and held-out figures."""
    corpus = read_corpus(DEVELOPMENT[0])
    assert len(corpus) >= 200
    categories = {row.category for row in corpus if "risky" in row.expected}
    assert categories >= {
        "age", "gender", "family", "race", "nationality", "accent", "religion", "disability",
        "health", "orientation", "culture_fit", "personality", "appearance", "comparison",
    }  # fmt: skip
    result = figures(corpus)
    report = result.report("original corpus", misses=True)
    assert result.recall["risky"] >= RISKY_RECALL_TARGET, report
    assert result.fine_flagged <= FINE_FLAGGED_TARGET, report
    assert result.recall["vague"] >= 0.9, report
    assert result.recall["tone"] >= 0.9, report


def test_corpus_is_well_formed() -> None:
    for row in read_corpus(*DEVELOPMENT):
        assert row.text.strip(), row
        assert row.expected <= set(SEVERITIES), row
    # The held-out set is counted, never printed (it must not be seen while tuning).
    malformed = sum(
        not row.text.strip() or not row.expected <= set(SEVERITIES) for row in read_corpus(HELD_OUT)
    )
    assert malformed == 0, f"{malformed} malformed held-out row(s)"


def test_a_finding_points_at_the_exact_words() -> None:
    text = "Your code was solid, but you would fit in better with a younger team."
    findings = check_text(text)
    assert [(f.rule, f.words(text)) for f in findings] == [
        ("risky.culture_fit", "fit in better"),
        ("risky.age", "younger team"),
    ]
    assert all(text[f.start : f.end] == f.words(text) for f in findings)


def test_spans_count_characters_not_bytes() -> None:
    text = "Café Zoë says: your accent was hard to follow."
    [finding] = check_text(text)
    assert text[finding.start : finding.end] == "accent"


@pytest.mark.parametrize(
    "text",
    [
        "A 10-year-old codebase.",
        "We are a young company.",
        "Our team is young.",
        "Your English-language documentation was clear.",
        "You never missed a deadline.",
        "It was not your fault that the call dropped.",
        "You found the race condition.",
        "Your health check endpoint was a nice touch.",
        "",
        "   ",
    ],
)
def test_innocent_uses_are_not_flagged(text: str) -> None:
    assert check_text(text) == []


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Our team is young.", None),
        ("You are young for a lead role.", "risky.age"),
        ("It was your fault.", "tone.blame"),
        ("It was not your fault.", None),
    ],
)
def test_guards_for_the_candidate_and_for_negation(text: str, rule: str | None) -> None:
    assert [f.rule for f in check_text(text)] == ([rule] if rule else [])


def good_draft(**changes: object) -> Draft:
    parts: dict[str, object] = {
        "decision_summary": "You reached the final interview; we offered the role elsewhere.",
        "personal_note": "Thank you for the care you put into the take-home.",
        "items": [
            DraftItem(
                "assessment", "Your queries used window functions.", rating="met", requirement=1
            ),
            DraftItem(
                "assessment",
                "The design did not cover retries or failover between regions.",
                rating="not_yet_met",
                requirement=2,
            ),
            DraftItem("strength", "Clear commit messages and a helpful README.", requirement=3),
            DraftItem(
                "growth_area",
                "Failure handling in distributed systems.",
                suggestion="Chapter 8 of Designing Data-Intensive Applications covers it well.",
                requirement=2,
            ),
        ],
        "suggested_roles": ["Data engineer"],
    }  # fmt: skip
    parts.update(changes)
    return Draft(**parts)  # type: ignore[arg-type]


def test_a_specific_kind_draft_has_no_findings() -> None:
    assert check_feedback(good_draft()) == []


def test_a_draft_lists_findings_by_field_with_risky_first() -> None:
    draft = good_draft(
        decision_summary="Other candidates were more qualified.",
        items=[
            DraftItem("assessment", "", rating="not_yet_met", requirement=1),
            DraftItem("growth_area", "Testing.", suggestion="", requirement=None),
            DraftItem("strength", "You are a digital native.", requirement=2),
        ],
    )
    findings = check_feedback(draft)
    assert [(f.severity, f.rule, f.field, f.item) for f in findings] == [
        ("risky", "risky.age", "items[2].body", 2),
        ("vague", "vague.generic", "decision_summary", None),
        ("vague", "vague.no_evidence", "items[0].body", 0),
        ("vague", "vague.no_requirement", "items[1].body", 1),
        ("vague", "vague.no_suggestion", "items[1].suggestion", 1),
    ]
    assert blocks_publishing(findings)
    body = draft.items[2].body
    assert body[findings[0].start : findings[0].end] == "digital native"
    # A finding about a whole field (a missing suggestion) highlights nothing.
    assert findings[-1].start == findings[-1].end == 0


def test_feedback_without_thanks_is_flagged_once() -> None:
    findings = check_feedback(good_draft(personal_note="Good luck in your search."))
    assert [(f.rule, f.field) for f in findings] == [("tone.no_thanks", "personal_note")]
    assert not blocks_publishing(findings)
    grateful = good_draft(personal_note="We are grateful for the time you gave us.")
    assert check_feedback(grateful) == []


def test_hidden_items_are_checked_for_risky_words_only() -> None:
    hidden = [
        DraftItem("growth_area", "Candidate seemed nervous.", suggestion="", visible=False),
        DraftItem("strength", "Other candidates were more qualified.", visible=False),
    ]
    findings = check_feedback(good_draft(items=hidden))
    # Hidden items say nothing to the candidate, so the feedback assesses no requirement.
    assert [(f.rule, f.field) for f in findings] == [
        ("risky.health", "items[0].body"),
        ("vague.no_assessment", "decision_summary"),
    ]


def test_suggested_roles_and_suggestions_are_checked() -> None:
    items = [
        DraftItem(
            "growth_area",
            "System design.",
            suggestion="Obviously you should read more before applying.",
            requirement=1,
        )
    ]
    findings = check_feedback(good_draft(items=items, suggested_roles=["Role for a younger team"]))
    assert {(f.rule, f.field) for f in findings} == {
        ("tone.sarcasm", "items[0].suggestion"),
        ("risky.age", "suggested_roles[0]"),
        ("vague.no_assessment", "decision_summary"),  # the only item is a growth area
    }


def test_every_rule_says_what_to_write_instead() -> None:
    rules = load_rules()
    assert {rule.severity for rule in rules.rules} == set(SEVERITIES)
    for rule in rules.rules:
        assert rule.id.startswith(rule.severity + "."), rule.id
        assert "\n" not in rule.message and rule.message.endswith("."), rule.id
    for check in rules.checks.values():
        assert check.id.startswith(check.severity + "."), check.id


def test_every_rule_and_lexicon_entry_says_where_it_came_from() -> None:
    """Issue 23: a reviewer can weigh every rule by the law or guidance it applies."""
    import tomllib

    from portal.feedback.check_signals import LEXICON_FILE, load_signals

    rules = load_rules()
    for rule in rules.rules:
        assert len(rule.source) > 20, rule.id
    for check in rules.checks.values():
        assert len(check.source) > 20, check.id
    for rule in load_signals().lexicon.rules:
        assert len(rule.source) > 20, rule.id  # the text of its [sources] entry
    data = tomllib.loads(LEXICON_FILE.read_text(encoding="utf-8"))
    for table in ("guards", "vague", "tone"):
        assert len(data[table]["source"]) > 20, table


MINIMAL_CHECKS = "\n".join(
    f'[checks.{name}]\nid = "tone.{name}"\nseverity = "tone"\nmessage = "Say it."\n'
    'source = "A test."\n'
    for name in (
        "no_thanks",
        "growth_without_suggestion",
        "not_met_without_evidence",
        "no_requirement",
    )
)


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        (
            'id = "risky.x"\nseverity = "bad"\nmessage = "m"\npatterns = ["a"]',
            "severity must be one of",
        ),
        (
            'id = "risky.x"\nseverity = "risky"\nmessage = "m"\npatterns = ["@NOPE"]',
            "unknown macro @NOPE",
        ),
        ('id = "risky.x"\nseverity = "risky"\nmessage = "m"\npatterns = ["(a|b"]', "unbalanced"),
        (
            'id = "risky.x"\nseverity = "risky"\nmessage = "m"\npatterns = ["... a"]',
            "start and end",
        ),
        ('id = "risky.x"\nseverity = "risky"\nmessage = "m"\npatterns = ["a|b-c"]', "not one word"),
        ('id = "risky.x"\nseverity = "risky"\nmessage = "m"\nregex = ["("]', "bad regex"),
        ('id = "risky.x"\nseverity = "risky"\nmessage = "m"', "no patterns"),
        (
            'id = "risky.x"\nseverity = "risky"\nmessage = "m"\npatterns = ["a"]\nabout = true',
            "unknown key",
        ),
        ('id = "risky.x"\nseverity = "risky"\npatterns = ["a"]', "message must be"),
        (
            'id = "risky.x"\nseverity = "risky"\nmessage = "m"\npatterns = ["a"]',
            "source is missing",
        ),
    ],
)
def test_a_broken_rule_file_fails_loudly(tmp_path: Path, rule: str, error: str) -> None:
    path = tmp_path / "rules.toml"
    if "source" not in error:
        rule += '\nsource = "A test."'
    path.write_text(f"[[rules]]\n{rule}\n\n{MINIMAL_CHECKS}", encoding="utf-8")
    with pytest.raises(RuleFileError, match=r"risky\.x|rule 1") as raised:
        load_rules(path)
    assert error in str(raised.value)


def test_a_rule_file_without_the_structural_checks_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[rules]]\nid = "tone.x"\nseverity = "tone"\nmessage = "m"\npatterns = ["a"]\n'
        'source = "A test."\n'
    )
    with pytest.raises(RuleFileError, match=r"\[checks.no_thanks\] is missing"):
        load_rules(path)


def test_a_custom_rule_file_works_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[macros]\nTEAM = "squad|crew"\n\n'
        '[[rules]]\nid = "risky.demo"\nseverity = "risky"\nmessage = "Do not."\n'
        'about_candidate = true\npatterns = ["rockstar", "(ten x|10x) @TEAM"]\nsource = "A test."\n'
        'unless = ["rockstar @TEAM"]\n\n' + MINIMAL_CHECKS,
        encoding="utf-8",
    )
    rules = load_rules(path)
    assert rules is load_rules(path)  # loaded once
    from portal.feedback.check import _match

    assert [f.rule for f in _match(rules, "You are a rockstar.")] == ["risky.demo"]
    assert _match(rules, "A rockstar.") == []  # not about the candidate
    assert _match(rules, "You joined the rockstar crew.") == []  # forgiven by unless
    assert [(f.start, f.end) for f in _match(rules, "You, ten x squad")] == [(5, 16)]


# --- the signals beside the phrase rules (docs/staff/feedback-check.md) ------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("You said you need time to pray at set hours.", "pray"),
        ("Our customers are mostly white, so we worried about rapport.", "white"),
        ("We are looking for someone earlier in their career.", "earlier in their career"),
        ("You mentioned you are expecting, so the timing is hard.", "expecting"),
    ],
)
def test_the_lexicon_flags_characteristics_whoever_the_sentence_is_about(
    text: str, words: str
) -> None:
    findings = [f for f in check_text(text) if f.severity == "risky"]
    assert [f.words(text) for f in findings] == [words]


@pytest.mark.parametrize(
    "text",
    [
        "You proposed age-partitioned tables for the event log.",
        "You built a pregnancy-tracking app with offline sync.",
        "You wrote the married-filing tax module.",
        "You mapped the gender field to the new schema.",
        "Our older Android app is written in Java.",
        "You set a sensible max-age on the static assets.",
    ],
)
def test_a_sensitive_word_in_a_technical_compound_is_innocent(text: str) -> None:
    assert [f for f in check_text(text) if f.severity == "risky"] == []


def test_a_language_the_job_requires_is_not_a_nationality() -> None:
    text = "Your fluent German will help with our DACH customers."
    assert [f.rule for f in check_text(text)] == ["risky.nationality"]
    assert check_text(text, requirements=["German: fluent, for the DACH accounts"]) == []
    # Another language named by the job does not excuse this one.
    assert [f.rule for f in check_text(text, requirements=["Fluent French"])] == [
        "risky.nationality"
    ]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        # Two words near each other name the idea, in any order and inflection.
        ("We prefer people still early in their working lives.", "early in their working lives"),
        ("He is near the end of his career.", "near the end of his career"),
        ("You would not stay in the UK for long, we felt.", "stay in the UK"),
        ("Your union involvement worried the directors.", "union involvement"),
        ("She grew up on a council estate.", "council estate"),
        # About the person to hire, not only "you": "someone who", "people".
        ("We want someone who was born here.", "born here"),
    ],
)
def test_a_concept_is_flagged_whatever_the_words_between(text: str, words: str) -> None:
    findings = [f for f in check_text(text) if f.severity == "risky"]
    assert [f.words(text) for f in findings] == [words]


@pytest.mark.parametrize(
    "text",
    [
        "The payroll team handles maternity pay and sick pay rules.",
        "Our client sells wedding planning software.",
        "You sized the height of the chart correctly.",
        "You explained how the marriage of the two data models would work.",
        "The role requires fluent French, and your French was excellent.",
    ],
)
def test_a_sensitive_word_that_describes_a_thing_is_innocent(text: str) -> None:
    assert [f for f in check_text(text) if f.severity == "risky"] == []


@pytest.mark.parametrize(
    "text",
    [
        # A possessive ties the words to the candidate; a person noun makes them about people.
        "Your maternity leave plans would clash with the launch.",
        "The client asked for white consultants only.",
        "You plan to start a family next year.",
        "As a mother of three you may find the travel demanding.",
        "Women tend to find our on-call culture difficult.",
        "You were not born in this country, we noted.",
        # "not ... require" states no requirement: the language is still an origin.
        "Your English is poor, although the job does not require writing.",
    ],
)
def test_a_thing_guard_does_not_excuse_a_person(text: str) -> None:
    assert "risky" in {f.severity for f in check_text(text)}


def test_an_age_written_in_words_or_hyphenated_is_flagged() -> None:
    for text in ("We worried that a 60-year-old would not adapt.", "A sixty-year-old, then."):
        assert "risky.age" in {f.rule for f in check_text(text)}, text
    # A thing's age is not a person's.
    assert check_text("You refactored a twenty-year-old codebase with care.") == []


def test_a_non_native_speaker_is_still_flagged() -> None:
    text = "You are a non-native speaker."
    assert "risky.nationality" in {f.rule for f in check_text(text)}


@pytest.mark.parametrize(
    ("text", "vague"),
    [
        ("We have decided to go in another direction.", True),
        ("Your profile was not quite what we were looking for.", True),
        ("Keep working on your skills.", True),
        ("Your SQL answer did not handle customers with no orders.", False),
        ("The take-home solved 4 of the 5 tasks.", False),
        ('You answered "I would restart it", but the scenario needed a root cause.', False),
        ("Thank you for the care you put into the take-home.", False),
        ("It was a pleasure to meet you.", False),
        ("It was not your fault that the call dropped.", False),
    ],
)
def test_a_sentence_that_names_nothing_specific_is_vague(text: str, vague: bool) -> None:
    findings = [f for f in check_text(text) if f.rule == "vague.unspecific"]
    assert bool(findings) is vague
    if vague:
        # The whole sentence is highlighted, without its full stop.
        assert findings[0].words(text) == text.rstrip(".")


def test_naming_a_requirement_of_the_job_makes_a_sentence_specific() -> None:
    text = "Your communication was not clear enough."
    assert [f.rule for f in check_text(text)] == ["vague.unspecific"]
    assert check_text(text, requirements=["Clear written communication"]) == []


@pytest.mark.parametrize(
    ("text", "rule", "words"),
    [
        ("Frankly, your design was terrible.", "tone.contempt", "terrible"),
        ("Honestly this interview was a waste of our time.", "tone.contempt", "waste of our time"),
        ("You clearly have never worked on a production system.", "tone.contempt", None),
        ("Wow, you managed to break the build twice.", "tone.sarcasm", None),
    ],
)
def test_contempt_and_sarcasm_are_tone(text: str, rule: str, words: str | None) -> None:
    findings = [f for f in check_text(text) if f.severity == "tone"]
    assert [f.rule for f in findings] == [rule]
    if words:
        assert findings[0].words(text) == words


@pytest.mark.parametrize(
    "text",
    [
        "Frankly, your test coverage was the best we saw this round.",
        "Great question about the deployment pipeline.",
        "You seriously impressed the panel with the profiling demo.",
        "Your tests covered negative numbers and empty input.",
        "You fixed the memory leak under heavy load.",
    ],
)
def test_praise_and_technical_faults_stay_quiet(text: str) -> None:
    assert check_text(text) == []


def test_a_not_yet_met_without_evidence_is_vague_even_when_long() -> None:
    generic = DraftItem(
        "assessment",
        "Your communication was not at the level we need for this role.",
        rating="not_yet_met",
        requirement=2,
    )
    findings = check_feedback(good_draft(items=[good_draft().items[0], generic]))
    assert ("vague.no_evidence", "items[1].body") in {(f.rule, f.field) for f in findings}
    # Naming the requirement it was measured against is evidence enough.
    draft = good_draft(
        items=[good_draft().items[0], generic],
        requirements=("Communication: explains a design to the team",),
    )
    assert ("vague.no_evidence", "items[1].body") not in {
        (f.rule, f.field) for f in check_feedback(draft)
    }


def test_feedback_that_assesses_no_requirement_is_vague_as_a_whole() -> None:
    items = [item for item in good_draft().items if item.kind != "assessment"]
    findings = check_feedback(good_draft(items=items))
    [finding] = [f for f in findings if f.rule == "vague.no_assessment"]
    assert (finding.severity, finding.start, finding.end) == ("vague", 0, 0)
    assert not blocks_publishing(findings)
    # An assessment without a rating assesses nothing either.
    unrated = DraftItem("assessment", "Your queries used window functions.", requirement=1)
    assert "vague.no_assessment" in {
        f.rule for f in check_feedback(good_draft(items=[unrated, *items]))
    }


def test_the_requirements_a_draft_carries_are_not_part_of_its_content() -> None:
    assert good_draft(requirements=("German",)) == good_draft()


def test_every_lexicon_entry_names_its_source() -> None:
    import tomllib

    from portal.feedback.check_signals import LEXICON_FILE, load_signals

    data = tomllib.loads(LEXICON_FILE.read_text(encoding="utf-8"))
    sources = data["sources"]
    assert {"ea2010", "eeoc", "eu21"} <= set(sources)
    for entry in data["entries"]:
        assert entry["source"] in sources, entry
        assert entry["characteristic"] and entry["terms"], entry
    assert data["vague"]["source"] and data["tone"]["source"]
    signals = load_signals()
    assert {rule.id for rule in signals.lexicon.rules} <= {
        rule.id for rule in load_rules().rules
    } | {"risky.genetic", "risky.social_origin", "risky.political_opinion"}
    assert len(signals.valence) > 7000  # the lexicon vaderSentiment ships


def test_a_lexicon_entry_without_a_known_source_fails_loudly(tmp_path: Path) -> None:
    from portal.feedback.check_signals import LEXICON_FILE, load_signals

    text = LEXICON_FILE.read_text(encoding="utf-8").replace(
        'source = "eu21"', 'source = "a blog"', 1
    )
    path = tmp_path / "lexicon.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError, match="source 'a blog' is not in"):
        load_signals(path)


# --- issue 23: wordings nobody wrote down, and the guards that keep fine text quiet ----------


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "You mentioned you have multiple sclerosis, so the travel worried us.",
            "risky.disability",
        ),
        ("You asked for a quiet room to pray.", "risky.religion"),
        ("With a little one on the way, the timing is not ideal.", "risky.family"),
        ("Someone in their twenties would suit the team's social side better.", "risky.age"),
        ("You were active in the union at your last job.", "risky.political_opinion"),
        ("You grew up in another country, which the panel noted.", "risky.nationality"),
    ],
)
def test_indirect_risky_wordings_are_caught(text: str, rule: str) -> None:
    assert rule in {f.rule for f in check_text(text)}


@pytest.mark.parametrize(
    ("text", "requirements"),
    [
        ("You modelled married-filing-jointly status correctly in the tax module.", ()),
        ("You designed the Expecting Parents onboarding flow in Figma.", ()),
        ("Your SQL used UNION ALL where duplicates were expected.", ()),
        ("You explained how the birthday paradox affects hash collisions.", ()),
        ("You found that the disabled button had no accessible name.", ()),
        ("The design did not cover failover; sketch how the queue recovers when a node dies.", ()),
        ("Your German was fluent in the customer call.", ("German: fluent spoken German",)),
        ("Frankly, your test coverage was the best we saw.", ()),
    ],
)
def test_technical_terms_product_names_required_languages_and_praise_stay_quiet(
    text: str, requirements: tuple[str, ...]
) -> None:
    assert check_text(text, requirements) == []


@pytest.mark.parametrize(
    "text",
    [
        "We noted You Are Pregnant, so the launch worried us.",  # capitals hide nothing
        "We noted you-are-pregnant, so the launch worried us.",  # nor do hyphens
        "Your Pregnancy was noted.",
    ],
)
def test_capitals_and_hyphens_do_not_hide_a_risky_word(text: str) -> None:
    assert "risky.family" in {f.rule for f in check_text(text)}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Really? A global variable for everything?", "Really?"),
        ("Seriously, anyone could have written that query.", "anyone could"),
        ("Your solution was amateurish.", "amateurish"),
        ("Your design was mediocre at best.", "at best"),
        ("You clearly have never worked on a real team.", "You clearly have"),
    ],
)
def test_contempt_and_sarcasm_without_a_listed_word_are_tone(text: str, words: str) -> None:
    findings = [f for f in check_text(text) if f.severity == "tone"]
    assert findings and findings[0].words(text) == words


@pytest.mark.parametrize(
    "text",
    [
        "After careful thought, we have chosen to go in another direction.",
        "Your profile was not quite what we were looking for.",
        "Keep working on your skills.",
        "We are looking for a different profile.",
    ],
)
def test_decision_lines_that_name_nothing_are_vague(text: str) -> None:
    assert "vague.unspecific" in {f.rule for f in check_text(text)}


def test_a_sentence_naming_a_requirement_is_not_vague() -> None:
    text = "Your profile was not quite what we were looking for in Kubernetes operations."
    assert check_text(text, ("Kubernetes: runs production clusters",)) == []
