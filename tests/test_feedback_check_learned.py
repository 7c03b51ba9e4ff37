"""The feedback check's learned risky signal (portal/feedback/check_learned.py)."""

from __future__ import annotations

import json

import pytest

import portal.feedback.check as check
from portal.feedback.check_learned import MODEL_PATH, RULE_ID, load_model

# Wording no rule knows, written for the fourth probe set (now in the development set).
UNLISTED = "Someone who remembers punch cards may not enjoy our sprint rituals."


@pytest.fixture
def learned_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check, "LEARNED_ENABLED", True)


@pytest.fixture
def learned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check, "LEARNED_ENABLED", False)


def test_the_artifact_records_its_source_and_is_plain_json() -> None:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert data["command"] == "python tools/train_check_model.py"
    assert all(path.startswith("tests/") for path in data["training_files"])
    assert not any("held_out" in path for path in data["training_files"])
    assert len(data["features"]) == len(data["idf"]) == len(data["coefficients"])
    assert "{words}" in data["message"]


def test_a_sentence_the_rules_miss_is_risky_and_spans_the_sentence(learned_on: None) -> None:
    text = "Thank you for coming in. " + UNLISTED
    findings = [f for f in check.check_text(text) if f.severity == "risky"]
    assert [f.rule for f in findings] == [RULE_ID]
    (finding,) = findings
    assert text[finding.start : finding.end] == UNLISTED.rstrip(".")
    assert "protected characteristic" in finding.message
    assert "“" in finding.message  # names the words that weighed most
    assert check.blocks_publishing(findings)


def test_switched_off_it_finds_nothing(learned_off: None) -> None:
    assert not any(f.rule == RULE_ID for f in check.check_text(UNLISTED))


def test_specific_criticism_and_praise_stay_quiet(learned_on: None) -> None:
    for text in (
        "Your answer on caching did not mention invalidation.",
        "Your SQL exercise returned the right totals but took 40 seconds.",
        "You explained the trade-offs of the queue design clearly.",
    ):
        assert not any(f.rule == RULE_ID for f in check.check_text(text)), text


def test_a_sentence_the_rules_found_risky_gets_no_second_finding(learned_on: None) -> None:
    text = "Since you are pregnant, the timing of the project would not work."
    rules = [f.rule for f in check.check_text(text) if f.severity == "risky"]
    assert rules and RULE_ID not in rules


def test_disguised_letters_do_not_hide_the_sentence_and_spans_stay_on_the_text(
    learned_on: None,
) -> None:
    # Invisible characters and a look-alike letter, as someone avoiding the check might type.
    text = "Some\u200bone who rem\u0435mbers punch cards may not enjoy our sprint rituals."
    (finding,) = [f for f in check.check_text(text) if f.rule == RULE_ID]
    assert finding.start == 0 and text[finding.end - 1] == "s"


def test_the_score_counts_each_feature_once_per_sentence() -> None:
    model = load_model()
    value, shares = model.score(["you", "be", "too", "old"])
    assert len(shares) == len({feature for _, feature in shares})
    assert value == pytest.approx(model.intercept + sum(share for share, _ in shares))
    assert model.score([]) == (model.intercept, [])


def test_a_long_text_is_scored_sentence_by_sentence(learned_on: None) -> None:
    text = " ".join(["Your answer on caching did not mention invalidation."] * 2000)
    assert not any(f.rule == RULE_ID for f in check.check_text(text))
