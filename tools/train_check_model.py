"""Train the feedback check's learned risky signal and write `portal/feedback/check_learned.json`.

Run from the repository root (scikit-learn is installed with the project)::

    .venv/bin/python tools/train_check_model.py            # cross-validate, fit, write
    .venv/bin/python tools/train_check_model.py --dry-run  # cross-validate only

Trains on the development set (`tests/check_figures.DEVELOPMENT`: the project corpus and
tests/check_corpus/development*.tsv) and on ordinary feedback text, none of it risky
(`tests/check_corpus/everyday_train.tsv`); never on the held-out set nor on the everyday probe
(`everyday_probe.tsv`), which measure it. A sentence is risky when its expected labels include
"risky". Features: tf-idf (sublinear, l2) over lemma unigrams and
bigrams (`portal.feedback.check_learned.features`), in a logistic regression with balanced
class weights. Deterministic: fixed folds and solver (`liblinear`, `random_state=0`).

The threshold is chosen by 5-fold cross-validation: the lowest decision value at which, on
the folds' held-back sentences, (a) the development set's fine sentences flagged risky by the
rules or the model stay at or below `--fine-target` (0.08) or, when the rules alone flag more
than that, at most `--added-fine` (0.01) above the rules alone, and (b) the model flags at most
`--everyday-target` (0.003) of the everyday sentences: a risky finding blocks publishing, so
on ordinary text it must be rare. The figures of that cross-validation are printed and written
into the artifact with the command and the training files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from check_figures import (  # noqa: E402
    DEVELOPMENT,
    EVERYDAY_TRAIN,
    read_corpus,
    read_everyday,
    training_digest,
)

from portal.characters import matching_text  # noqa: E402
from portal.feedback.check import _match  # noqa: E402
from portal.feedback.check_learned import MODEL_PATH, features, words_of  # noqa: E402
from portal.feedback.check_rules import Tokens, load_rules  # noqa: E402
from portal.feedback.check_signals import load_signals  # noqa: E402

MESSAGE = (
    "This sentence may refer to a protected characteristic or a proxy for one (the words that "
    "weighed most: {words}); remove it and assess only the requirements."
)
C = 4.0


def _words(text: str) -> list[str]:
    tokens = Tokens.of(matching_text(text).text)
    return words_of(tokens, range(len(tokens)))


def _model() -> tuple[TfidfVectorizer, LogisticRegression]:
    vectorizer = TfidfVectorizer(
        analyzer=features, sublinear_tf=True, min_df=2, norm="l2", dtype=np.float64
    )
    classifier = LogisticRegression(
        C=C, class_weight="balanced", solver="liblinear", random_state=0, max_iter=1000
    )
    return vectorizer, classifier


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="cross-validate only")
    parser.add_argument("--fine-target", type=float, default=0.08)
    parser.add_argument("--added-fine", type=float, default=0.01)
    parser.add_argument("--everyday-target", type=float, default=0.003)
    args = parser.parse_args()

    rows = read_corpus(*DEVELOPMENT)
    everyday = read_everyday(EVERYDAY_TRAIN)
    docs = [_words(row.text) for row in rows] + [_words(text) for text in everyday]
    risky = np.array(["risky" in row.expected for row in rows] + [False] * len(everyday))
    fine = np.array([not row.expected for row in rows] + [False] * len(everyday))
    ordinary = np.array([False] * len(rows) + [True] * len(everyday))
    rules, signals = load_rules(), load_signals()
    by_rules = np.array(
        [
            any(f.severity == "risky" for f in _match(rules, row.text, row.requirements, signals))
            for row in rows
        ]
        + [
            any(f.severity == "risky" for f in _match(rules, text, (), signals))
            for text in everyday
        ]
    )

    scores = np.zeros(len(docs))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for train, test in folds.split(docs, risky):
        vectorizer, classifier = _model()
        matrix = vectorizer.fit_transform([docs[i] for i in train])
        classifier.fit(matrix, risky[train])
        scores[test] = classifier.decision_function(vectorizer.transform([docs[i] for i in test]))

    def rates(threshold: float) -> tuple[float, float, float, float, float]:
        learned = scores >= threshold
        both = by_rules | learned
        return (
            float(learned[risky].mean()),
            float(learned[fine].mean()),
            float(both[risky].mean()),
            float(both[fine].mean()),
            float((learned & ~by_rules)[ordinary].mean()),
        )

    # The brief's target, fine flagged <= 0.08 on the folds, is out of reach: the rules alone
    # flag 0.091 of the development set's fine sentences. So the model may add at most
    # `--added-fine` to the rules' fine flagged on the folds.
    rules_fine = float(by_rules[fine].mean())
    candidates = sorted(set(np.round(scores, 4)))
    threshold = max(candidates)
    for candidate in candidates:
        figures = rates(candidate)
        if (
            figures[3] <= max(args.fine_target, rules_fine + args.added_fine)
            and figures[4] <= args.everyday_target
        ):
            threshold = float(candidate)
            break
    alone_risky, alone_fine, both_risky, both_fine, added_everyday = rates(threshold)
    rules_risky = float(by_rules[risky].mean())
    report = {
        "sentences": len(rows),
        "risky": int(risky.sum()),
        "fine": int(fine.sum()),
        "everyday": int(ordinary.sum()),
        "rules_only": {
            "risky_recall": round(rules_risky, 3),
            "fine_flagged": round(rules_fine, 3),
            "everyday_flagged": round(float(by_rules[ordinary].mean()), 3),
        },
        "learned_alone": {
            "risky_recall": round(alone_risky, 3),
            "fine_flagged": round(alone_fine, 3),
        },
        "rules_or_learned": {
            "risky_recall": round(both_risky, 3),
            "fine_flagged": round(both_fine, 3),
            "everyday_added": round(added_everyday, 4),
        },
    }
    for candidate in np.quantile(scores, np.linspace(0.3, 0.99, 24)):
        alone_r, alone_f, both_r, both_f, added_e = rates(float(candidate))
        print(
            f"  at {candidate:.3f}: alone risky {alone_r:.3f} fine {alone_f:.3f};"
            f" with rules risky {both_r:.3f} fine {both_f:.3f}; everyday added {added_e:.4f}"
        )
    print(f"threshold {threshold:.4f} (5-fold)")
    print(json.dumps(report, indent=2))
    if args.dry_run:
        return 0

    vectorizer, classifier = _model()
    matrix = vectorizer.fit_transform(docs)
    classifier.fit(matrix, risky)
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    artifact = {
        "about": "The feedback check's learned risky signal (portal/feedback/check_learned.py).",
        "command": "python tools/train_check_model.py",
        "training_files": [str(path.relative_to(ROOT)) for path in (*DEVELOPMENT, EVERYDAY_TRAIN)],
        "model": f"tf-idf lemma 1-2-grams (sublinear, l2, min_df=2), logistic regression "
        f"(liblinear, C={C}, balanced), scikit-learn",
        "cross_validation": report,
        "training_digest": training_digest(rows, everyday),
        "message": MESSAGE,
        "threshold": round(threshold, 6),
        "intercept": round(float(classifier.intercept_[0]), 6),
        "features": vocabulary,
        "idf": [round(float(value), 6) for value in vectorizer.idf_],
        "coefficients": [round(float(value), 6) for value in classifier.coef_[0]],
    }
    MODEL_PATH.write_text(json.dumps(artifact, ensure_ascii=False, indent=0) + "\n", "utf-8")
    print(f"wrote {MODEL_PATH.relative_to(ROOT)} ({len(vocabulary)} features)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
