"""A learned signal for risky sentences, beside the rules (issue 23).

A small linear model (logistic regression over tf-idf weighted lemma unigrams and bigrams)
trained on the check's development set and on ordinary feedback text
(tests/check_corpus/everyday_train.tsv), risky against everything else. Its vocabulary,
idf weights, coefficients and threshold live in `check_learned.json` next to this module, a
plain JSON file read here without scikit-learn; `tools/train_check_model.py` writes it from
the development corpus (the file records the command and the training files).

A sentence whose score reaches the threshold is risky unless a rule already found it risky;
the finding spans the sentence and names the words that weighed most. The rules' guards
apply: when the heaviest words are a required language or a technical compound (`innocent`,
`describes_a_thing` in `check_signals`), the sentence is not flagged.

The signal is switched by `ENABLED` (on); see docs/staff/feedback-check.md for its
figures.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from portal.feedback.check_rules import NUMBER_WORDS, Tokens

__all__ = ["ENABLED", "MODEL_PATH", "NAMED", "RULE_ID", "Model", "features", "load_model"]

MODEL_PATH = Path(__file__).with_name("check_learned.json")
RULE_ID = "learned.risky"
# Whether `check_text` and `check_feedback` use the learned signal. On: with it, risky recall on
# the held-out set is 0.968 (0.895 by the rules alone) with no more fine sentences flagged. It is
# trained on ordinary feedback text as well as on the development set, so that a risky finding,
# which blocks publishing, stays rare on everyday sentences; see docs/staff/feedback-check.md.
ENABLED = True
# How many of the heaviest words the message names.
NAMED = 3


def _word(surface: str, lemma: str) -> str:
    if surface.isdigit() or surface in NUMBER_WORDS:
        return "<num>"
    return lemma


def features(lemmas: list[str]) -> list[str]:
    """The model's features of one sentence: its words (lemmas, numbers as `<num>`) and pairs."""
    found = list(lemmas)
    found += [f"{a} {b}" for a, b in itertools.pairwise(lemmas)]
    return found


def words_of(tokens: Tokens, indexes: range | list[int]) -> list[str]:
    return [_word(tokens.surfaces[i], tokens.lemmas[i]) for i in indexes]


@dataclass(frozen=True)
class Model:
    """The artifact: feature -> (idf, coefficient), the intercept and the threshold."""

    weights: dict[str, tuple[float, float]]
    intercept: float
    threshold: float
    message: str

    def score(self, words: list[str]) -> tuple[float, list[tuple[float, str]]]:
        """The decision value of one sentence and each known feature's share of it."""
        counts: dict[str, int] = {}
        for feature in features(words):
            if feature in self.weights:
                counts[feature] = counts.get(feature, 0) + 1
        if not counts:
            return self.intercept, []
        shares: list[tuple[float, str]] = []
        norm = 0.0
        for feature, count in counts.items():
            idf, coefficient = self.weights[feature]
            value = (1.0 + math.log(count)) * idf
            norm += value * value
            shares.append((value * coefficient, feature))
        scale = 1.0 / math.sqrt(norm)
        shares = [(share * scale, feature) for share, feature in shares]
        return self.intercept + sum(share for share, _ in shares), shares

    def sentences(
        self, tokens: Tokens, skip: Callable[[int, int], bool] = lambda start, end: False
    ) -> Iterator[tuple[int, int, list[tuple[float, str]]]]:
        """(first token, last token + 1, feature shares) of each sentence the model flags,
        leaving out unscored the sentences whose character span `skip` names."""
        clauses = tokens.clauses
        first = 0
        total = len(tokens)
        while first < total:
            last = first + 1
            while last < total and clauses[last] == clauses[first]:
                last += 1
            if skip(tokens.starts[first], tokens.ends[last - 1]):
                first = last
                continue
            value, shares = self.score(words_of(tokens, range(first, last)))
            if value >= self.threshold:
                yield first, last, shares
            first = last

    def heaviest(self, shares: list[tuple[float, str]], count: int = NAMED) -> list[str]:
        """The distinct words of the features that pushed the score up most."""
        named: list[str] = []
        for share, feature in sorted(shares, reverse=True):
            if share <= 0:
                break
            for word in feature.split(" "):
                if word not in named and word != "<num>":
                    named.append(word)
            if len(named) >= count:
                break
        return named[:count]


@functools.cache
def load_model(path: Path = MODEL_PATH) -> Model:
    data = json.loads(path.read_text(encoding="utf-8"))
    weights = {
        feature: (float(idf), float(coefficient))
        for feature, idf, coefficient in zip(
            data["features"], data["idf"], data["coefficients"], strict=True
        )
    }
    return Model(weights, float(data["intercept"]), float(data["threshold"]), data["message"])
