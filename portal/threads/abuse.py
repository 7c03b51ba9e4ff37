"""Flagging candidate messages that look abusive, threatening or accusing (DESIGN §5 "Queue").

Two signals, either of which flags a message:

- alt-profanity-check, a linear classifier over word and character n-grams that ships
  its trained model inside the package (nothing is downloaded), for abusive language;
- Afterword's own patterns (`abuse_patterns.toml`) for threats and accusations, which a
  profanity model does not see: "I know where your office is" has no rude word in it.

Both read the message as `portal.characters.matching_text` does (no invisible characters,
look-alike letters made plain), so a zero-width space cannot hide a word from them.

A flag puts a message in front of a person with the reasons; it never blocks or hides a
message by itself. Cost: about 0.1 ms per message once loaded (classifier and patterns),
measured in tests/test_abuse.py; the model loads on first use (about a second).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import math
import re
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from portal.characters import matching_text

log = logging.getLogger("portal.threads")

Reason = Literal["threat", "accusation", "abusive language"]
REASONS: tuple[Reason, ...] = ("threat", "accusation", "abusive language")

PATTERNS_FILE = Path(__file__).with_name("abuse_patterns.toml")
# Probability above which the classifier's verdict counts as abusive language. Polite but
# frustrated messages score below 0.15 on the labelled set; insults mostly above 0.6.
CLASSIFIER_THRESHOLD = 0.5
# The score a pattern match gives a message: above any classifier score that flags alone.
PATTERN_SCORE = 0.9

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class AbuseAssessment:
    flagged: bool
    # In the order of REASONS, each once.
    reasons: list[str]
    # 0 to 1, for ordering the flagged messages: the classifier's probability, or
    # PATTERN_SCORE when a pattern matched and the classifier said less.
    score: float
    # What matched, for the reviewer: the pattern names and "abusive language (model)".
    matched: list[str]


@dataclass(frozen=True)
class Pattern:
    reason: Reason
    name: str
    # Each a single alternation of the file's expressions: one scan per sentence.
    match: re.Pattern[str]
    unless: re.Pattern[str] | None

    def found_in(self, sentence: str) -> bool:
        if not self.match.search(sentence):
            return False
        return self.unless is None or not self.unless.search(sentence)


def load_patterns(path: Path = PATTERNS_FILE) -> tuple[Pattern, ...]:
    """Read and check the pattern file; a bad entry is an error naming it."""
    with path.open("rb") as file:
        data = tomllib.load(file)
    patterns = []
    for number, entry in enumerate(data.get("pattern", []), start=1):
        where = f"{path.name}, pattern {number} ({entry.get('name', 'unnamed')})"
        reason = entry.get("reason")
        if reason not in REASONS:
            raise ValueError(f"{where}: reason must be one of {', '.join(REASONS)}")
        try:
            for expression in (*entry["match"], *entry.get("unless", [])):
                re.compile(expression)
            match = _alternation(entry["match"])
            unless = _alternation(entry["unless"]) if entry.get("unless") else None
        except (KeyError, re.error) as exc:
            raise ValueError(f"{where}: {exc}") from exc
        patterns.append(Pattern(reason, str(entry["name"]), match, unless))
    return tuple(patterns)


def _alternation(expressions: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{expression})" for expression in expressions))


def normalize(text: str) -> str:
    """How the patterns read a message: `matching_text`, lower case, straight quotes."""
    text = matching_text(text).text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"[ \t\r\f\v]+", " ", text)


class Classifier:
    """alt-profanity-check's model, loaded from the installed package's data files.

    The model is a TF-IDF vectorizer and scikit-learn's CalibratedClassifierCV over five
    linear SVMs, each with a sigmoid calibration, averaged. Through scikit-learn one
    message costs milliseconds, nearly all of it in checking input; the same arithmetic
    done here (word counts, idf weights, one dot product per SVM, five sigmoids) costs
    some 50 microseconds, and tests/test_abuse.py checks that both give the same
    numbers. Should a future model not have that shape, scikit-learn is used as it is.
    """

    def __init__(self, vectorizer: Any, model: Any) -> None:
        self.vectorizer = vectorizer
        self.model = model
        self._fast = _FastPath.of(vectorizer, model)

    def probability(self, text: str) -> float:
        if self._fast is not None:
            return self._fast.probability(text)
        return self.sklearn_probability(text)

    def sklearn_probability(self, text: str) -> float:
        # Column 1 of predict_proba is the "offensive" class.
        return float(self.model.predict_proba(self.vectorizer.transform([text]))[0][1])


@dataclass(frozen=True)
class _FastPath:
    analyze: Any
    # Per vocabulary term: its idf, and its weight in each of the SVMs.
    terms: dict[str, tuple[float, Any]]
    intercepts: Any
    slopes: Any
    offsets: Any

    @classmethod
    def of(cls, vectorizer: Any, model: Any) -> _FastPath | None:
        try:
            plain_tfidf = (
                vectorizer.norm == "l2"
                and vectorizer.use_idf
                and not vectorizer.sublinear_tf
                and not vectorizer.binary
            )
            parts = model.calibrated_classifiers_
            if not plain_tfidf or model.method != "sigmoid":
                return None
            if any(len(part.calibrators) != 1 for part in parts):
                return None
            weights = np.column_stack([np.ravel(part.estimator.coef_) for part in parts])
            idf = vectorizer.idf_
            terms = {
                term: (float(idf[column]), weights[column])
                for term, column in vectorizer.vocabulary_.items()
            }
            return cls(
                analyze=vectorizer.build_analyzer(),
                terms=terms,
                intercepts=np.array([float(np.ravel(p.estimator.intercept_)[0]) for p in parts]),
                slopes=np.array([float(part.calibrators[0].a_) for part in parts]),
                offsets=np.array([float(part.calibrators[0].b_) for part in parts]),
            )
        except (AttributeError, TypeError, ValueError, IndexError):
            return None

    def probability(self, text: str) -> float:
        counts: dict[str, int] = {}
        for token in self.analyze(text):
            if token in self.terms:
                counts[token] = counts.get(token, 0) + 1
        decisions = self.intercepts.copy()
        if counts:
            values = {term: count * self.terms[term][0] for term, count in counts.items()}
            norm = math.sqrt(sum(v * v for v in values.values()))
            for term, value in values.items():
                decisions += (value / norm) * self.terms[term][1]
        return float(np.mean(1.0 / (1.0 + np.exp(self.slopes * decisions + self.offsets))))


def load_classifier() -> Classifier | None:
    """The packaged model, or None (and a warning in the log) when it cannot be trusted.

    The model is a pickled scikit-learn object: it is only valid with the scikit-learn
    version it was saved with, which alt-profanity-check pins. If another version is
    installed anyway, scikit-learn warns (InconsistentVersionWarning) that predictions
    may be wrong; that warning is caught here and the classifier left out, so messages
    are still checked against the patterns rather than scored by a broken model.
    """
    import joblib
    from sklearn.exceptions import InconsistentVersionWarning

    spec = importlib.util.find_spec("profanity_check")
    if spec is None or spec.origin is None:
        log.warning("alt-profanity-check is not installed: abusive language is not flagged")
        return None
    data = Path(spec.origin).parent / "data"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            vectorizer = joblib.load(data / "vectorizer.joblib")
            model = joblib.load(data / "model.joblib")
    except InconsistentVersionWarning as exc:
        log.warning(
            "the abuse classifier was saved with scikit-learn %s but %s is installed; "
            "reinstall alt-profanity-check to get the version it pins. Until then only "
            "the threat and accusation patterns flag messages",
            exc.original_sklearn_version,
            exc.current_sklearn_version,
        )
        return None
    return Classifier(vectorizer, model)


@functools.cache
def _patterns() -> tuple[Pattern, ...]:
    return load_patterns()


@functools.cache
def _classifier() -> Classifier | None:
    return load_classifier()


def assess_message(text: str) -> AbuseAssessment:
    """Whether a message should be looked at by a person first, and why.

    CPU-bound (about a tenth of a millisecond, a second on the very first call while the
    model loads): fine inline for one message, use a worker thread for batches.
    """
    plain = matching_text(text).text
    normalized = normalize(plain)
    sentences = [s for s in _SENTENCE_END.split(normalized) if s.strip()]
    found: dict[str, None] = {}
    matched: list[str] = []
    for pattern in _patterns():
        if any(pattern.found_in(sentence) for sentence in sentences):
            found.setdefault(pattern.reason)
            matched.append(pattern.name)
    classifier = _classifier()
    probability = classifier.probability(plain) if classifier and normalized.strip() else 0.0
    if probability >= CLASSIFIER_THRESHOLD:
        found.setdefault("abusive language")
        matched.append("abusive language (model)")
    score = max(probability, PATTERN_SCORE if matched else 0.0)
    reasons: list[str] = [reason for reason in REASONS if reason in found]
    return AbuseAssessment(
        flagged=bool(reasons), reasons=reasons, score=round(score, 3), matched=matched
    )
