"""The feedback check's figures on its labelled sets and on everyday text.

See docs/staff/feedback-check.md.

- The development set (tests/feedback_check_corpus.tsv and tests/check_corpus/development*.tsv):
  the rules and the lexicon are tuned on it; its misses are printed to work on. It includes the
  probe sets (tests/check_corpus/development_probes.tsv), each written before the check was run
  on it; their figures are printed apart, per set, as the honest estimate of how the check does on
  new wording (the first figures each set gave are in docs/staff/feedback-check.md).
- The held-out set (tests/check_corpus/held_out.tsv): written before the check was rebuilt, by
  a different method (paraphrases of public guidance), and never used for tuning. Only its
  totals are printed, never its sentences.
- Everyday text (tests/check_corpus/everyday_*.tsv): ordinary feedback sentences, none of them
  risky, where a risky finding is a false alarm that blocks publishing. The learned signal is
  trained on everyday_train.tsv; everyday_development.tsv was read; everyday_probe.tsv never
  was, and only its totals are printed.

Issue 23's targets on the held-out set are risky recall >= 0.95 with at most 1 fine sentence in
10 flagged, vague recall >= 0.80 and tone recall >= 0.70; the check meets them, and the test
asserts both the targets and the figures reached (floors that catch a regression). Raise a
floor when the check gets better, never by tuning on the held-out sentences.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal.feedback.check import check_text
from portal.feedback.check_learned import MODEL_PATH
from portal.feedback.check_learned import RULE_ID as LEARNED_RULE
from tests.check_figures import (
    DEVELOPMENT,
    EVERYDAY_DEVELOPMENT,
    EVERYDAY_PROBE,
    EVERYDAY_TRAIN,
    HELD_OUT,
    PROBES,
    figures,
    read_corpus,
    read_everyday,
    training_digest,
)

TARGETS = {"risky": 0.95, "vague": 0.80, "tone": 0.70, "fine_flagged": 0.10}
# What the check reaches on the held-out set today (see the module's docstring).
HELD_OUT_FLOORS = {"risky": 0.96, "vague": 0.81, "tone": 0.80, "fine_flagged": 0.10}
# The probe sets' fine sentences are the hard kind (a sensitive word in a technical, product or
# policy sense) and were never all made to pass: they are why fine_flagged is not near 0. The
# floors hold with the learned risky signal on or off (probe4, added unchanged, lowered the
# rules' risky recall from 0.965 to 0.948 and raised fine flagged from 0.091 to 0.118).
DEVELOPMENT_FLOORS = {"risky": 0.94, "vague": 0.95, "tone": 0.95, "fine_flagged": 0.12}
# Risky recall and fine sentences with a risky finding, per probe set, today (the figures of
# the rules alone: the learned signal is trained on these sets, so its figures here are not a
# measure of how it generalizes; probe4's were measured before it joined, see the docs).
PROBE_FLOORS = {
    "probe1": (0.92, 0.12),
    "probe2": (0.93, 0.27),
    "probe3": (0.83, 0.21),
    "probe4": (0.81, 0.24),
}


def test_the_sets_are_large_enough_and_separate() -> None:
    development = read_corpus(*DEVELOPMENT)
    held_out = read_corpus(HELD_OUT)
    assert len(development) >= 600
    assert len(held_out) >= 300
    # Count only: an assertion on the sets themselves would print held-out sentences.
    shared = len({row.text for row in development} & {row.text for row in held_out})
    assert shared == 0, f"{shared} sentence(s) are in both sets"
    for labelled in (development, held_out):
        for severity in ("risky", "vague", "tone"):
            assert sum(severity in row.expected for row in labelled) >= 25, severity
        assert sum(not row.expected for row in labelled) >= 100
    assert all(row.source for row in held_out)
    everyday = [set(read_everyday(path)) for path in EVERYDAY_SETS]
    labelled_texts = {row.text for row in development} | {row.text for row in held_out}
    for number, texts in enumerate(everyday):
        assert not texts & labelled_texts
        for later in everyday[number + 1 :]:
            assert not texts & later


def test_the_learned_signal_was_trained_on_todays_sets() -> None:
    # Retrain with tools/train_check_model.py when the development or everyday training set changes.
    trained = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    today = training_digest(read_corpus(*DEVELOPMENT), read_everyday(EVERYDAY_TRAIN))
    assert trained["training_digest"] == today


def test_development_figures(capsys: pytest.CaptureFixture[str]) -> None:
    result = figures(read_corpus(*DEVELOPMENT))
    report = result.report("development set", misses=True)
    with capsys.disabled():
        print("\n" + report)
    for severity in ("risky", "vague", "tone"):
        assert result.recall[severity] >= DEVELOPMENT_FLOORS[severity], report
    assert result.fine_flagged <= DEVELOPMENT_FLOORS["fine_flagged"], report


def test_held_out_figures(capsys: pytest.CaptureFixture[str]) -> None:
    result = figures(read_corpus(HELD_OUT))
    report = result.report("held-out set (totals only)", misses=False)
    targets = ", ".join(
        f"{name} {'<=' if name == 'fine_flagged' else '>='} {value}"
        for name, value in TARGETS.items()
    )
    with capsys.disabled():
        print("\n" + report + f"\n  targets: {targets}")
    for severity in ("risky", "vague", "tone"):
        assert result.recall[severity] >= HELD_OUT_FLOORS[severity], report
        assert result.recall[severity] >= TARGETS[severity], report
    assert result.fine_flagged <= HELD_OUT_FLOORS["fine_flagged"], report
    assert result.fine_flagged <= TARGETS["fine_flagged"], report


def test_probe_figures(capsys: pytest.CaptureFixture[str]) -> None:
    rows = read_corpus(PROBES)
    for source, (risky_floor, fine_ceiling) in PROBE_FLOORS.items():
        labelled = [row for row in rows if row.source == source]
        result = figures(labelled)
        fine = [row for row in labelled if not row.expected]
        risky_fine = sum(
            any(f.severity == "risky" for f in check_text(row.text, requirements=row.requirements))
            for row in fine
        ) / len(fine)
        report = result.report(f"probe set {source}", misses=False)
        report += f"\n  fine   {risky_fine:.3f} with a risky finding"
        with capsys.disabled():
            print("\n" + report)
        assert len(labelled) >= 200, source
        assert result.recall["risky"] >= risky_floor, report
        assert risky_fine <= fine_ceiling, report


EVERYDAY_SETS = (EVERYDAY_TRAIN, EVERYDAY_DEVELOPMENT, EVERYDAY_PROBE)
# Ordinary feedback text, none of it risky: the share of its sentences with a risky finding
# (which blocks publishing) from the rules, and from the learned signal alone. The training set
# and the development set were read and worked on; the probe was never read per sentence, and
# its first reading is in the docs. Ceilings: what the check reaches today, as floors are.
EVERYDAY_CEILINGS = {
    "everyday_train": (0.002, 0.0),
    "everyday_development": (0.035, 0.008),
    "everyday_probe": (0.06, 0.003),
}


@pytest.mark.parametrize("path", EVERYDAY_SETS, ids=lambda path: path.stem)
def test_everyday_text_is_rarely_flagged_risky(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = read_everyday(path)
    risky = [[f for f in check_text(text) if f.severity == "risky"] for text in texts]
    by_rules = sum(any(f.rule != LEARNED_RULE for f in found) for found in risky) / len(texts)
    learned_only = sum(
        bool(found) and all(f.rule == LEARNED_RULE for f in found) for found in risky
    ) / len(texts)
    # Totals only: the probe's sentences are never printed.
    with capsys.disabled():
        print(
            f"\n{path.stem}: {len(texts)} sentences; a risky finding from the rules on"
            f" {by_rules:.4f}, from the learned signal alone on {learned_only:.4f}"
        )
    rules_ceiling, learned_ceiling = EVERYDAY_CEILINGS[path.stem]
    assert len(texts) >= 600
    assert by_rules <= rules_ceiling
    assert learned_only <= learned_ceiling
