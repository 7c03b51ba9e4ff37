"""The feedback check's rule file: reading it, compiling its patterns, and words.

`check_rules.toml` says what is flagged; this module turns it into patterns
that match words of a text by lemma (simplemma, whose English data ships with
the package) and by spelling. A mistake in the file fails loudly at load time,
naming the rule, so a bad edit cannot silently switch a rule off.
"""

from __future__ import annotations

import bisect
import functools
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import simplemma

Severity = Literal["risky", "vague", "tone"]
# Most serious first: findings are listed in this order and only `risky` blocks publishing.
SEVERITIES: tuple[Severity, ...] = ("risky", "vague", "tone")
SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}

RULES_FILE = Path(__file__).with_name("check_rules.toml")

WORD = re.compile(r"[^\W_]+")
# A sentence (or clause) ends at . ! ? ; followed by a space or the end, or at a line break.
_CLAUSE_END = re.compile(r"[.!?;]+(?=\s|$)|\n")
_REFERENTS = frozenset(
    {
        "you",
        "your",
        "yours",
        "yourself",
        "candidate",
        "applicant",
        "he",
        "she",
        "him",
        "her",
        "his",
        "hers",
    }
)
_GAP = 3
# Words too common to decide whether a pattern can match a text (see Pattern.key).
_COMMON = frozenset(
    re.findall(
        r"\w+",
        "a an the you your yours yourself we our us i me my he she his her they their it its this "
        "that be is are was were been am do did does done have has had not no t to of in on at "
        "for with by from as and or but so if than then there here what who which would will "
        "could can should may might must ll d s re ve very too more most",
    )
)


# What `#` matches besides digits: numbers written as words ("a sixty-year-old").
NUMBER_WORDS = frozenset(
    re.findall(
        r"\w+",
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
        "eighty ninety",
    )
)


class RuleFileError(ValueError):
    """The rule file cannot be used; the message says where and why."""


# --- words ------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    return str(simplemma.lemmatize(word, lang="en")).lower()


@dataclass(frozen=True)
class Tokens:
    """The words of a text: where each is, how it is written (lower case), its lemma."""

    text: str
    starts: list[int]
    ends: list[int]
    surfaces: list[str]
    lemmas: list[str]
    clauses: list[int]

    @classmethod
    def of(cls, text: str) -> Tokens:
        starts: list[int] = []
        ends: list[int] = []
        surfaces: list[str] = []
        for match in WORD.finditer(text):
            starts.append(match.start())
            ends.append(match.end())
            surfaces.append(match.group().lower())
        lemmas = [lemma(surface) for surface in surfaces]
        boundaries = [match.end() for match in _CLAUSE_END.finditer(text)]
        clauses = [bisect.bisect_right(boundaries, start) for start in starts]
        return cls(text, starts, ends, surfaces, lemmas, clauses)

    def __len__(self) -> int:
        return len(self.surfaces)

    @functools.cached_property
    def positions(self) -> dict[str, list[int]]:
        """Where each word occurs, by how it is written and by its lemma."""
        found: dict[str, list[int]] = {}
        for index, (surface, lemma) in enumerate(zip(self.surfaces, self.lemmas, strict=True)):
            found.setdefault(surface, []).append(index)
            if lemma != surface:
                found.setdefault(lemma, []).append(index)
        return found

    @functools.cached_property
    def candidate_clauses(self) -> frozenset[int]:
        """The sentences that speak of the candidate (you, your, the candidate, she, ...)."""
        return frozenset(
            clause
            for clause, surface in zip(self.clauses, self.surfaces, strict=True)
            if surface in _REFERENTS
        )


# --- patterns ---------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """One position of a pattern: a set of words, word prefixes, exact words, or a number."""

    words: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    exact: frozenset[str] = frozenset()
    number: bool = False

    @functools.cached_property
    def any_word(self) -> frozenset[str]:
        return self.words | self.exact

    def matches(self, surface: str, lemma: str) -> bool:
        words = self.words
        if surface in words or lemma in words:
            return True
        if self.exact and surface in self.exact:
            return True
        if self.number and (surface.isdigit() or surface in NUMBER_WORDS):
            return True
        return bool(self.prefixes) and surface.startswith(self.prefixes)


GAP = Element()  # a marker: up to _GAP words of anything


@dataclass(frozen=True)
class Pattern:
    source: str
    elements: tuple[Element, ...]

    @functools.cached_property
    def key(self) -> Element | None:
        """The most telling element: a text without any of its words cannot match.

        Every element must match for the pattern to, so a text is tried only when it
        holds one of the key's words; this keeps the check to a few patterns per text.
        """
        literal = [e for e in self.elements if e is not GAP and not e.number]
        if not literal:
            return None
        return min(
            literal,
            key=lambda e: (bool((e.words | e.exact) & _COMMON), len(e.words) + len(e.prefixes)),
        )

    def _match(self, tokens: Tokens, index: int, position: int) -> int | None:
        """The index after the last token of the shortest match of elements[position:]."""
        elements = self.elements
        surfaces, lemmas, count = tokens.surfaces, tokens.lemmas, len(tokens.surfaces)
        while position < len(elements):
            element = elements[position]
            if element is GAP:
                for skip in range(min(_GAP, count - index) + 1):
                    end = self._match(tokens, index + skip, position + 1)
                    if end is not None:
                        return end
                return None
            if index >= count or not element.matches(surfaces[index], lemmas[index]):
                return None
            index += 1
            position += 1
        return index

    def spans(self, tokens: Tokens) -> Iterator[tuple[int, int]]:
        """Token ranges [first, last) of every match."""
        first = self.elements[0]
        surfaces, lemmas = tokens.surfaces, tokens.lemmas
        if first.prefixes or first.number:
            starts: Iterable[int] = range(len(surfaces))
        else:
            positions = tokens.positions
            starts = sorted(
                {index for word in first.any_word if word in positions for index in positions[word]}
            )
        for start in starts:
            if first.matches(surfaces[start], lemmas[start]):
                end = self._match(tokens, start + 1, 1)
                if end is not None:
                    yield start, end


_GROUP = re.compile(r"\(([^()]*)\)")


def _expand(source: str, where: str) -> list[str]:
    """Spell out "(a b|c)" groups: one pattern per choice."""
    group = _GROUP.search(source)
    if group is None:
        if "(" in source or ")" in source:
            raise RuleFileError(f"{where}: unbalanced parentheses in {source!r}")
        return [source]
    expanded: list[str] = []
    for choice in group.group(1).split("|"):
        if not choice.strip():
            raise RuleFileError(f"{where}: empty choice in {source!r}")
        spelled = f"{source[: group.start()]} {choice} {source[group.end() :]}"
        expanded += _expand(spelled, where)
    return expanded


def _compile_patterns(
    sources: Iterable[Any], macros: dict[str, str], where: str
) -> tuple[Pattern, ...]:
    return tuple(
        _compile_pattern(spelled, macros, where)
        for source in sources
        for spelled in _expand(str(source), where)
    )


def _compile_pattern(source: str, macros: dict[str, str], where: str) -> Pattern:
    elements: list[Element] = []
    for piece in source.split():
        if piece == "...":
            elements.append(GAP)
            continue
        if piece.startswith("@"):
            if piece[1:] not in macros:
                raise RuleFileError(f"{where}: unknown macro {piece} in {source!r}")
            piece = macros[piece[1:]]
        if piece == "#":
            elements.append(Element(number=True))
            continue
        alternatives = piece.split("|")
        if len(alternatives) == 1 and not piece.startswith("=") and not piece.endswith("*"):
            # "year-old" and "don't" are several words, as the tokenizer sees them.
            words = [word.lower() for word in WORD.findall(piece)]
            if not words:
                raise RuleFileError(f"{where}: no word in {piece!r} of {source!r}")
            elements += [Element(words=frozenset({word, lemma(word)})) for word in words]
            continue
        words_set: set[str] = set()
        prefixes: list[str] = []
        exact: set[str] = set()
        for alternative in alternatives:
            word = alternative.lower()
            bare = word.removeprefix("=").removesuffix("*")
            if not bare or WORD.fullmatch(bare) is None:
                raise RuleFileError(
                    f"{where}: {alternative!r} in {source!r} is not one word "
                    "(split words with spaces; a hyphen or an apostrophe splits too)"
                )
            if word.startswith("="):
                exact.add(bare)
            elif word.endswith("*"):
                prefixes.append(bare)
            else:
                words_set.update({bare, lemma(bare)})
        elements.append(Element(frozenset(words_set), tuple(prefixes), frozenset(exact)))
    if not elements or elements[0] is GAP or elements[-1] is GAP:
        raise RuleFileError(f"{where}: {source!r} must start and end with a word")
    return Pattern(source, tuple(elements))


# --- rules ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    category: str
    message: str
    patterns: tuple[Pattern, ...]
    regexes: tuple[re.Pattern[str], ...]
    unless: tuple[Pattern, ...]
    about_candidate: bool
    skip_negated: bool
    # Where the rule comes from: the law or guidance it applies, or why it was written.
    source: str = ""


@dataclass(frozen=True)
class Check:
    """A check on the draft's structure; its logic is in this module, its words in the file."""

    id: str
    severity: Severity
    message: str
    words: frozenset[str] = frozenset()
    min_words: int = 1
    source: str = ""


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    checks: dict[str, Check]
    # Which patterns a text can match, found from its words (see Pattern.key).
    by_key: dict[str, tuple[tuple[int, Pattern], ...]] = field(default_factory=dict)
    by_prefix: dict[str, tuple[tuple[int, Pattern], ...]] = field(default_factory=dict)
    unkeyed: tuple[tuple[int, Pattern], ...] = ()
    macros: dict[str, str] = field(default_factory=dict)

    @functools.cached_property
    def prefixed(self) -> re.Pattern[str]:
        """Finds the words that start with a prefix of `by_prefix`, in one pass."""
        choices = "|".join(re.escape(prefix) for prefix in sorted(self.by_prefix, key=len))
        return re.compile(rf"(?<!\S)(?:{choices})\S*")

    @functools.cached_property
    def with_regexes(self) -> tuple[Rule, ...]:
        """The rules that have regular expressions, in order (few of them)."""
        return tuple(rule for rule in self.rules if rule.regexes)


_STRUCTURAL_CHECKS = (
    "no_thanks",
    "growth_without_suggestion",
    "not_met_without_evidence",
    "no_requirement",
)


@functools.cache
def load_rules(path: Path = RULES_FILE) -> RuleSet:
    """Read and compile the rule file once; a mistake in it fails loudly, naming the rule."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleFileError(f"{path}: {exc}") from exc
    macros = {str(name): str(value) for name, value in data.get("macros", {}).items()}
    rules: list[Rule] = []
    severities: dict[str, Severity] = {}
    for number, raw in enumerate(data.get("rules", []), start=1):
        rule = compile_rule(raw, macros, f"{path.name} rule {number}")
        if not rule.source.strip():
            # Every rule says where it came from (issue 23), so a reviewer can weigh it.
            raise RuleFileError(f"{path.name} rule {number} ({rule.id}): source is missing")
        if severities.setdefault(rule.id, rule.severity) != rule.severity:
            raise RuleFileError(f"{path.name}: rule {rule.id} has two severities")
        rules.append(rule)
    checks: dict[str, Check] = {}
    raw_checks = data.get("checks", {})
    for name in _STRUCTURAL_CHECKS:
        if name not in raw_checks:
            raise RuleFileError(f"{path.name}: [checks.{name}] is missing")
        raw = raw_checks[name]
        checks[name] = Check(
            id=_text(raw, "id", f"checks.{name}"),
            severity=_severity(raw, f"checks.{name}"),
            message=_text(raw, "message", f"checks.{name}"),
            words=frozenset(str(word).lower() for word in raw.get("words", [])),
            min_words=int(raw.get("min_words", 1)),
            source=_text(raw, "source", f"checks.{name}"),
        )
    return index_rules(rules, checks, macros)


def index_rules(
    rules: Iterable[Rule], checks: dict[str, Check], macros: dict[str, str] | None = None
) -> RuleSet:
    """A rule set of compiled rules, indexed by the words that can start a match."""
    rules = tuple(rules)
    by_key: dict[str, list[tuple[int, Pattern]]] = {}
    by_prefix: dict[str, list[tuple[int, Pattern]]] = {}
    unkeyed: list[tuple[int, Pattern]] = []
    for index, rule in enumerate(rules):
        for pattern in rule.patterns:
            key = pattern.key
            if key is None:
                unkeyed.append((index, pattern))
                continue
            for word in key.words | key.exact:
                by_key.setdefault(word, []).append((index, pattern))
            for prefix in key.prefixes:
                by_prefix.setdefault(prefix, []).append((index, pattern))
    return RuleSet(
        rules,
        checks,
        {word: tuple(entries) for word, entries in by_key.items()},
        {prefix: tuple(entries) for prefix, entries in by_prefix.items()},
        tuple(unkeyed),
        dict(macros or {}),
    )


def compile_rule(raw: dict[str, Any], macros: dict[str, str], where: str) -> Rule:
    """One rule of the file (or of the lexicon) from its TOML table."""
    rule_id = _text(raw, "id", where)
    where = f"{where} ({rule_id})"
    known = {"id", "severity", "category", "message", "patterns", "regex", "unless"}
    known |= {"about_candidate", "skip_negated", "source"}
    unknown = set(raw) - known
    if unknown:
        raise RuleFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    patterns = _compile_patterns(raw.get("patterns", []), macros, where)
    try:
        regexes = tuple(re.compile(str(r), re.IGNORECASE) for r in raw.get("regex", []))
    except re.error as exc:
        raise RuleFileError(f"{where}: bad regex: {exc}") from exc
    if not patterns and not regexes:
        raise RuleFileError(f"{where}: no patterns and no regex")
    return Rule(
        id=rule_id,
        severity=_severity(raw, where),
        category=str(raw.get("category", "")),
        message=_text(raw, "message", where),
        patterns=patterns,
        regexes=regexes,
        unless=_compile_patterns(raw.get("unless", []), macros, where),
        about_candidate=bool(raw.get("about_candidate", False)),
        skip_negated=bool(raw.get("skip_negated", False)),
        source=str(raw.get("source", "")),
    )


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RuleFileError(f"{where}: {key} must be a non-empty string")
    return value


def _severity(raw: dict[str, Any], where: str) -> Severity:
    value = raw.get("severity")
    for severity in SEVERITIES:
        if value == severity:
            return severity
    raise RuleFileError(f"{where}: severity must be one of {', '.join(SEVERITIES)}, not {value!r}")
