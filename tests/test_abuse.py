"""Flagging abusive, threatening and accusing messages, measured on a labelled set."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from portal.threads.abuse import assess_message, load_classifier, load_patterns
from tests.abuse_corpus import DO_NOT_FLAG, FLAG

RECALL_TARGET = 0.9
PRECISION_TARGET = 0.9
POLITE_FLAGGED_AT_MOST = 0.1


def test_the_labelled_set_is_big_enough() -> None:
    total = sum(map(len, FLAG.values())) + sum(map(len, DO_NOT_FLAG.values()))
    assert total >= 120
    assert len(DO_NOT_FLAG["polite but frustrated"]) >= 40


def test_precision_and_recall_on_the_labelled_set() -> None:
    lines = ["", "abuse flagging on tests/abuse_corpus.py:"]
    flagged_right = flagged_wrong = 0
    misses: list[str] = []
    for reason, messages in FLAG.items():
        hits = [m for m in messages if reason in assess_message(m).reasons]
        caught = [m for m in messages if assess_message(m).flagged]
        flagged_right += len(caught)
        misses += [f"  missed ({reason}): {m}" for m in messages if m not in caught]
        recall = len(caught) / len(messages)
        lines.append(
            f"  {reason:<18} recall {recall:.2f} ({len(caught)}/{len(messages)}), "
            f"with this reason {len(hits)}/{len(messages)}"
        )
        assert recall >= RECALL_TARGET, (reason, misses)
        assert len(hits) / len(messages) >= RECALL_TARGET, (reason, set(messages) - set(hits))
    false_alarms: list[str] = []
    for kind, messages in DO_NOT_FLAG.items():
        wrong = [m for m in messages if assess_message(m).flagged]
        false_alarms += [f"  flagged ({kind}): {m}" for m in wrong]
        flagged_wrong += len(wrong)
        rate = len(wrong) / len(messages)
        lines.append(f"  {kind:<18} flagged {rate:.2f} ({len(wrong)}/{len(messages)})")
        assert rate <= POLITE_FLAGGED_AT_MOST, false_alarms
    precision = flagged_right / (flagged_right + flagged_wrong)
    lines.append(f"  precision {precision:.2f}")
    print("\n".join(lines + misses + false_alarms))
    assert precision >= PRECISION_TARGET


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("I know where your office is", "threat"),
        ("you WILL regret this", "threat"),
        ("See you in court!", "threat"),
        ("this whole thing is a scam", "accusation"),
        ("You\u2019re lying to me", "accusation"),
        ("You are all idiots", "abusive language"),
    ],
)
def test_each_kind_is_flagged_with_its_reason(message: str, reason: str) -> None:
    assessment = assess_message(message)
    assert assessment.flagged
    assert reason in assessment.reasons
    assert assessment.score >= 0.5
    assert assessment.matched


def test_a_polite_question_is_not_flagged() -> None:
    assessment = assess_message("I'm really disappointed, this feels unfair. What did I lack?")
    assert not assessment.flagged
    assert assessment.reasons == []
    assert assessment.score < 0.5


def test_a_question_about_a_suspected_phishing_email_is_not_an_accusation() -> None:
    assert not assess_message("Is this email a scam? I wasn't expecting feedback.").flagged
    assert assess_message("Your job ad is a scam.").flagged


def test_a_threat_in_any_sentence_of_a_long_message_is_found() -> None:
    message = "Thank you for the feedback.\n\n" * 50 + "But I know where you live."
    assert assess_message(message).reasons == ["threat"]


def test_empty_and_whitespace_messages_are_not_flagged() -> None:
    for text in ("", "   \n\n "):
        assert not assess_message(text).flagged


def test_assessing_is_fast() -> None:
    messages = [m for group in (*FLAG.values(), *DO_NOT_FLAG.values()) for m in group]
    assess_message("warm up: load the model")
    started = time.perf_counter()
    for message in messages:
        assess_message(message)
    per_message = (time.perf_counter() - started) / len(messages)
    print(f"\nabuse flagging: {per_message * 1000:.3f} ms per message")
    assert per_message < 0.005


def test_a_model_from_another_scikit_learn_is_left_out_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # scikit-learn compares the version a model was saved with against its own.
    monkeypatch.setattr("sklearn.base.__version__", "0.0.1")
    with caplog.at_level(logging.WARNING, logger="portal.threads"):
        assert load_classifier() is None
    assert "saved with scikit-learn" in caplog.text
    assert "0.0.1 is installed" in caplog.text


def test_the_packaged_model_loads_without_warnings() -> None:
    # pytest turns warnings into errors here (filterwarnings = error).
    classifier = load_classifier()
    assert classifier is not None
    assert classifier.probability("you absolute idiot") > 0.9


def test_a_broken_pattern_file_names_the_bad_entry(tmp_path: Path) -> None:
    bad = tmp_path / "patterns.toml"
    bad.write_text('[[pattern]]\nreason = "threat"\nname = "oops"\nmatch = ["(unclosed"]\n')
    with pytest.raises(ValueError, match=r"pattern 1 \(oops\)"):
        load_patterns(bad)
    bad.write_text('[[pattern]]\nreason = "rude"\nname = "x"\nmatch = ["x"]\n')
    with pytest.raises(ValueError, match="reason must be one of"):
        load_patterns(bad)


def test_the_direct_arithmetic_gives_scikit_learns_numbers() -> None:
    classifier = load_classifier()
    assert classifier is not None
    messages = [m for group in (*FLAG.values(), *DO_NOT_FLAG.values()) for m in group]
    for message in [*messages, "", "qwxz unknownword"]:
        assert classifier.probability(message) == pytest.approx(
            classifier.sklearn_probability(message), abs=1e-9
        ), message
