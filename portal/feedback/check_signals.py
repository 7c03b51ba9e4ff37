"""The feedback check's signals beside its phrase rules (docs/staff/feedback-check.md).

`check_lexicon.toml` holds their data, every entry with its source:

- **risky**: a lexicon of protected characteristics and their common proxies, matched by lemma
  with the rule file's pattern syntax, and guards that make a risky finding innocent (a
  sensitive word that modifies a technical noun, "an age-partitioned table"; a language the
  job's requirements name, "fluent German" for a job that asks for German);
- **vague**: specificity: a sentence that assesses (a negation, a decision, a comparison, a call
  to improve) but names no requirement of the job, no evidence (a number, a quoted answer, a
  name, a word beyond the vocabulary of generic feedback) is vague;
- **tone**: the VADER sentiment lexicon's valence (shipped with `vaderSentiment`), contempt
  patterns and sarcasm (praise that opens a sentence naming a fault).
"""

from __future__ import annotations

import bisect
import functools
import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from portal.feedback.check_rules import (
    NUMBER_WORDS,
    WORD,
    Rule,
    RuleFileError,
    RuleSet,
    Tokens,
    compile_rule,
    index_rules,
    lemma,
    load_rules,
)

LEXICON_FILE = Path(__file__).with_name("check_lexicon.toml")

# Function words: never specific, never the head of a compound.
_FUNCTION_WORDS = frozenset(
    re.findall(
        r"\w+",
        "a an the this that these those my your yours our ours their theirs his her hers its "
        "i me we us you they them he she it who whom whose which what when where why how "
        "is are was were be been being am do does did done have has had having will would "
        "shall should can could may might must to of in on at for with by from as into onto "
        "about above below over under than then so if or and but nor not no t s d ll re ve m "
        "also too very just only even any some each every all both either neither such own "
        "same there here up down out off again once one cannot unable rather instead because "
        "while although though unless until whereas",
    )
)
FUNCTION_WORDS = _FUNCTION_WORDS
_NUMBER_WORDS = frozenset(
    re.findall(
        r"\w+",
        "two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty "
        "fifty hundred hundreds thousand thousands million millions half twice percent",
    )
)
# Quotation marks: straight and typographic double quotes, and single quotes around words.
_QUOTE = re.compile(
    "[\"\u201c\u201d\u00ab\u00bb]|(?<!\\w)['\u2018](?=\\w)|(?<=\\w)['\u2019](?!\\w)"
)
# Hyphens: the ASCII one, U+2010 HYPHEN, U+2011 NON-BREAKING HYPHEN, U+2013 EN DASH.
_HYPHENS = "-\u2010\u2011\u2013"
_NEGATIONS = frozenset({"not", "no", "never", "without", "nor", "t", "cannot", "hardly"})


@dataclass(frozen=True)
class Signals:
    lexicon: RuleSet
    sources: dict[str, str]
    compound_reach: int
    technical_nouns: frozenset[str]
    breaks: frozenset[str]
    languages: frozenset[str]
    vague: Rule
    no_assessment: str
    cues: frozenset[str]
    generic: frozenset[str]
    min_specific_length: int
    contempt_rule: Rule
    sarcasm_rule: Rule
    valence: dict[str, float]
    harsh_valence: float
    technical: frozenset[str]
    intensifiers: frozenset[str]
    harsh: frozenset[str]  # contempt words VADER lacks: valence HARSH_WORD_VALENCE
    contempt: re.Pattern[str]  # the [tone] contempt patterns as one alternation
    praise_openers: dict[str, tuple[tuple[str, ...], ...]]  # by first word, longest first
    fault_words: frozenset[str]
    # Words naming people or a person's traits: a sensitive word that modifies one of them is
    # about a person ("a Black candidate", "a young team"), not about a thing ("maternity pay").
    person_nouns: frozenset[str] = frozenset()
    # Co-occurrence signals: a concept word and a cue word near each other in one sentence.
    concepts: tuple[Concept, ...] = ()


@dataclass(frozen=True)
class Concept:
    """A characteristic named by two words near each other ("early" ... "career") rather than
    by a fixed phrase, so word order, inflection and the words between may vary."""

    rule: Rule
    words: frozenset[str]
    near: frozenset[str]
    window: int
    about_candidate: bool

    def spans(self, tokens: Tokens) -> Iterator[tuple[int, int]]:
        """Token ranges [first, last) from a concept word to its nearest cue word."""
        near, window = self.near, self.window
        positions = tokens.positions
        found = {i for word in self.words if word in positions for i in positions[word]}
        if not found:
            return
        surfaces, lemmas, clauses_of = tokens.surfaces, tokens.lemmas, tokens.clauses
        for index in sorted(found):
            clause = clauses_of[index]
            if self.about_candidate and not _about_a_person(tokens, clause):
                continue
            low, high = max(0, index - window), min(len(tokens), index + window + 1)
            for other in sorted(range(low, high), key=lambda i: abs(i - index)):
                if other == index or clauses_of[other] != clause:
                    continue
                if surfaces[other] in near or lemmas[other] in near:
                    yield min(index, other), max(index, other) + 1
                    break


def _about_a_person(tokens: Tokens, clause: int) -> bool:
    """Whether a sentence speaks of the candidate, or of the person to hire ("someone who")."""
    if clause in tokens.candidate_clauses:
        return True
    return any(
        tokens.clauses[i] == clause for word in _PEOPLE for i in tokens.positions.get(word, ())
    )


def _words(raw: dict[str, Any], key: str, where: str, *, single: bool = False) -> frozenset[str]:
    value = raw.get(key)
    if not isinstance(value, list) or not value:
        raise RuleFileError(f"{where}: {key} must be a non-empty list")
    words = frozenset(str(word).lower() for word in value)
    for word in words:
        if single and not WORD.fullmatch(word):
            raise RuleFileError(f"{where}: {key}: {word!r} is not one word")
    return words


def _signal_rule(rule_id: str, severity: str, message: str) -> Rule:
    return compile_rule(
        {"id": rule_id, "severity": severity, "message": message, "regex": ["(?!)"]}, {}, rule_id
    )


@functools.lru_cache(maxsize=1)
def vader_boosters() -> frozenset[str]:
    """The one-word intensifiers of VADER's BOOSTER_DICT ("extremely", "utterly", ...)."""
    from vaderSentiment.vaderSentiment import BOOSTER_DICT  # type: ignore[import-untyped]

    return frozenset(
        word for word, value in BOOSTER_DICT.items() if value > 0 and WORD.fullmatch(word)
    )


# The valence given to a word of the [tone] harsh list (VADER's scale, -4 to 4).
HARSH_WORD_VALENCE = -2.0


@functools.lru_cache(maxsize=1)
def vader_lexicon() -> dict[str, float]:
    """Word -> mean valence (-4 to 4) from the lexicon `vaderSentiment` ships."""
    data = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_bytes()
    text = data.decode("utf-8", errors="replace")
    valence: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and WORD.fullmatch(parts[0]):
            valence[parts[0].lower()] = float(parts[1])
    return valence


@functools.cache
def load_signals(path: Path = LEXICON_FILE) -> Signals:
    """Read and compile the lexicon once; a mistake in it fails loudly, naming the entry."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleFileError(f"{path}: {exc}") from exc
    rules_file = load_rules()
    messages = {rule.id: rule.message for rule in rules_file.rules}
    macros = rules_file.macros
    sources = {str(key): str(value) for key, value in data.get("sources", {}).items()}
    entries: list[Rule] = []
    for number, raw in enumerate(data.get("entries", []), start=1):
        where = f"{path.name} entry {number}"
        source = raw.get("source")
        if source not in sources:
            raise RuleFileError(f"{where}: source {source!r} is not in [sources]")
        if not raw.get("characteristic"):
            raise RuleFileError(f"{where}: characteristic is missing")
        rule_id = str(raw.get("rule", ""))
        message = raw.get("message") or messages.get(rule_id)
        if not rule_id.startswith("risky.") or not message:
            raise RuleFileError(f"{where}: rule must be a risky rule id with a message")
        entries.append(
            compile_rule(
                {
                    "id": rule_id,
                    "severity": "risky",
                    "category": str(raw["characteristic"]),
                    "message": message,
                    "patterns": raw.get("terms", []),
                    "unless": raw.get("unless", []),
                    "about_candidate": bool(raw.get("about_candidate", False)),
                    "source": sources[source],
                },
                macros,
                where,
            )
        )
    guards, vague, tone = data.get("guards", {}), data.get("vague", {}), data.get("tone", {})
    try:
        patterns = [re.compile(str(r)).pattern for r in tone.get("contempt", [])]
        if patterns and all(p.startswith(r"\b") for p in patterns):
            # One word-start test for all of them: twice as fast as a \b in each alternative.
            alternatives = "|".join(f"(?:{p[2:]})" for p in patterns)
            contempt = re.compile(rf"(?<!\w)(?=\w)(?:{alternatives})", re.IGNORECASE)
        else:
            contempt = re.compile("|".join(f"(?:{p})" for p in patterns) or "(?!)", re.IGNORECASE)
    except re.error as exc:
        raise RuleFileError(f"{path.name} [tone] contempt: bad regex: {exc}") from exc
    return Signals(
        lexicon=index_rules(entries, {}),
        sources=sources,
        compound_reach=int(guards.get("compound_reach", 3)),
        technical_nouns=_words(guards, "technical_nouns", "[guards]"),
        breaks=_words(guards, "breaks", "[guards]") | _FUNCTION_WORDS,
        languages=_words(guards, "languages", "[guards]"),
        vague=_signal_rule("vague.unspecific", "vague", str(vague.get("message", ""))),
        no_assessment=str(vague.get("no_assessment", "")),
        cues=_words(vague, "cues", "[vague]"),
        generic=_words(vague, "generic", "[vague]"),
        min_specific_length=int(vague.get("min_specific_length", 3)),
        contempt_rule=_signal_rule("tone.contempt", "tone", str(tone.get("message", ""))),
        sarcasm_rule=_signal_rule(
            "tone.sarcasm", "tone", messages.get("tone.sarcasm", str(tone.get("message", "")))
        ),
        valence=_with_harsh(vader_lexicon(), _words(tone, "harsh", "[tone]", single=True)),
        harsh_valence=float(tone.get("harsh_valence", -1.5)),
        technical=_words(tone, "technical", "[tone]"),
        intensifiers=_words(tone, "intensifiers", "[tone]")
        | (vader_boosters() - _words(tone, "not_intensifiers", "[tone]")),
        harsh=_words(tone, "harsh", "[tone]", single=True),
        contempt=contempt,
        praise_openers=_by_first_word(_words(tone, "praise_openers", "[tone]")),
        fault_words=_words(tone, "fault_words", "[tone]"),
        person_nouns=_words(guards, "person_nouns", "[guards]"),
        concepts=_concepts(data.get("concepts", []), sources, messages, path.name),
    )


def _concepts(
    raw_list: list[dict[str, Any]], sources: dict[str, str], messages: dict[str, str], name: str
) -> tuple[Concept, ...]:
    concepts: list[Concept] = []
    for number, raw in enumerate(raw_list, start=1):
        where = f"{name} concept {number}"
        source = raw.get("source")
        if source not in sources:
            raise RuleFileError(f"{where}: source {source!r} is not in [sources]")
        if not raw.get("characteristic"):
            raise RuleFileError(f"{where}: characteristic is missing")
        rule_id = str(raw.get("rule", ""))
        message = raw.get("message") or messages.get(rule_id)
        if not rule_id.startswith("risky.") or not message:
            raise RuleFileError(f"{where}: rule must be a risky rule id with a message")
        rule = compile_rule(
            {
                "id": rule_id,
                "severity": "risky",
                "category": str(raw["characteristic"]),
                "message": message,
                "regex": ["(?!)"],
                "source": sources[source],
            },
            {},
            where,
        )
        words = _words(raw, "words", where, single=True)
        near = _words(raw, "near", where, single=True)
        concepts.append(
            Concept(
                rule,
                words | {lemma(word) for word in words},
                near | {lemma(word) for word in near},
                int(raw.get("window", 3)),
                bool(raw.get("about_candidate", False)),
            )
        )
    return tuple(concepts)


def _with_harsh(valence: dict[str, float], harsh: frozenset[str]) -> dict[str, float]:
    merged = dict(valence)
    for word in harsh:
        merged[word] = min(merged.get(word, 0.0), HARSH_WORD_VALENCE)
    return merged


# --- requirements ---------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def requirement_words(requirements: tuple[str, ...]) -> frozenset[str]:
    """The words of the job's requirements (as written and by lemma), without function words."""
    words: set[str] = set()
    for text in requirements:
        for match in WORD.finditer(text):
            surface = match.group().lower()
            if surface not in _FUNCTION_WORDS:
                words.update({surface, lemma(surface)})
    return frozenset(words)


# --- risky guards ---------------------------------------------------------------------


def innocent(
    signals: Signals, tokens: Tokens, start: int, end: int, requirements: frozenset[str]
) -> bool:
    """Whether a risky span [start, end) is a technical compound or a required language."""
    indexes = list(
        range(bisect.bisect_left(tokens.starts, start), bisect.bisect_left(tokens.starts, end))
    )
    if not indexes:
        return False
    first, last = indexes[0], indexes[-1]
    text = tokens.text
    surfaces = tokens.surfaces
    # A language the job's requirements name; a language as a medium ("answered in Italian").
    if any(surfaces[i] in signals.languages for i in indexes):
        if any(surfaces[i] in requirements for i in indexes):
            return True
        # The sentence itself names the language as the job's requirement: "the role requires
        # fluent French", "the posting asked for German at C1 level".
        clause = tokens.clauses[first]
        if any(
            tokens.clauses[i] == clause
            and tokens.lemmas[i] in _REQUIREMENT_WORDS
            and not any(surfaces[j] in _NEGATIONS for j in range(max(0, i - 3), i))
            for i in range(len(tokens))
        ):
            return True  # not "the job does not require writing"
        if len(indexes) == 1 and first > 0 and surfaces[first - 1] in ("in", "into"):
            return True
    # The head of a hyphenated term of three or more words: "married-filing-jointly status".
    if _hyphen_chain(tokens, first, last) >= 3 and not (
        surfaces[first].isdigit() or surfaces[first] in NUMBER_WORDS
    ):
        return True  # but a "60-year-old" is a person's age
    # Part of a product or module name, a run of capitalised words followed by a technical noun:
    # "the Expecting Parents onboarding flow".
    run_end = _capitalised_run_end(tokens, first, last)
    if run_end is not None and modifies_technical(signals, tokens, run_end, capitalised=True):
        return True
    # The tail of a compound: "max-age", "colour-blind".
    before = text[max(0, start - 2) : start]
    if (
        len(before) == 2
        and before[1] in _HYPHENS
        and before[0].isalnum()
        and first > 0
        and surfaces[first - 1] not in _NOT_COMPOUND
        and surfaces[first - 1] not in _FUNCTION_WORDS  # "you-are-pregnant" is no compound
    ):
        return True
    # A hyphenated term used as a modifier may be followed by its noun after a space:
    # "a hearing-aid pairing screen".
    hyphenated = any(
        text[tokens.ends[i] : tokens.starts[i + 1]] in _HYPHENS_SET for i in range(first, last)
    )
    return modifies_technical(signals, tokens, last, capitalised=hyphenated)


# Words that make what follows belong to the candidate ("your maternity leave").
_POSSESSIVES = frozenset({"your", "his", "her", "their", "s", "yours", "hers", "theirs"})
_DETERMINERS = frozenset(
    {"the", "a", "an", "this", "that", "these", "those", "two", "both", "all", "our", "its"}
)


def describes_a_thing(signals: Signals, tokens: Tokens, start: int, end: int) -> bool:
    """Whether a lexicon term [start, end) describes a thing rather than a person: it modifies
    a noun that names no person ("maternity pay rules", "a religious holiday calendar"), or is
    the head of "X of <a thing>" ("the height of the chart", "a strike of the build farm"),
    and no possessive ties it to the candidate ("your maternity leave" stays risky). A modifier
    counts only in a sentence that does not speak of the candidate: there ("you plan to start a
    family next year") the words describe the candidate's own situation."""
    first = bisect.bisect_left(tokens.starts, start)
    last = bisect.bisect_left(tokens.starts, end) - 1
    if first > last:
        return False
    surfaces, text = tokens.surfaces, tokens.text
    clause = tokens.clauses[first]
    for back in range(first - 1, max(-1, first - 3), -1):
        if tokens.clauses[back] != clause:
            break
        if surfaces[back] in _POSSESSIVES:
            return False
        if surfaces[back] in _FUNCTION_WORDS:
            break
    persons = signals.person_nouns

    def person(index: int) -> bool:
        return surfaces[index] in persons or tokens.lemmas[index] in persons

    following = last + 1
    if following >= len(tokens) or tokens.clauses[following] != clause:
        return False
    if text[tokens.ends[last] : tokens.starts[following]].strip(" " + _HYPHENS) != "":
        return False  # punctuation between: "She is Polish, and ..."
    word = surfaces[following]
    if word == "of":
        index = following + 1
        while index < len(tokens) and surfaces[index] in _DETERMINERS:
            index += 1
        if index >= len(tokens) or tokens.clauses[index] != clause:
            return False
        nearby = range(index, min(len(tokens), index + 3))
        if surfaces[index] in _FUNCTION_WORDS or surfaces[index] in _POSSESSIVES:
            return False
        if surfaces[index].isdigit() or surfaces[index] in _NUMBER_WORDS:
            return False  # "a mother of three"
        return not any(person(i) or surfaces[i] in _POSSESSIVES for i in nearby)
    if clause in tokens.candidate_clauses or any(
        tokens.clauses[i] == clause and surfaces[i] in _PEOPLE
        for i in range(max(0, first - 12), min(len(tokens), last + 12))
    ):
        return False  # "you plan to start a family next year": the candidate's own situation
    if surfaces[last] in _FUNCTION_WORDS:
        return False  # "grew up with smartphones": the noun is the term's object
    if word in _FUNCTION_WORDS or word in signals.breaks or word.endswith("ly"):
        return False
    if first == 0 or tokens.clauses[first - 1] != clause:
        return False  # the sentence's subject, not a modifier: "Women tend to find ..."
    written = text[tokens.starts[following] : tokens.ends[following]]
    if written[:1].isupper() or word.isdigit():
        return False  # "native English speaker", "aged 58"
    return not person(following)


# Words that make a sentence speak of the person to hire, as "you" does.
_PEOPLE = frozenset(
    re.findall(
        r"\w+",
        "someone somebody anyone anybody hire hires people person applicant applicants candidates "
        "junior seniors staff workforce workplace employees recruit recruits",
    )
)


# Words that state a job requirement (a language named beside one is required, not an origin).
_REQUIREMENT_WORDS = frozenset(
    re.findall(
        r"\w+",
        "require requires required requirement requirements essential mandatory posting advert",
    )
) | frozenset({"need", "ask"})


# Prefixes after which a hyphen keeps the word's meaning ("non-native speaker").
_NOT_COMPOUND = frozenset({"non", "un", "half", "part", "semi", "self", "ex", "anti", "pro"})


def _hyphen_chain(tokens: Tokens, first: int, last: int) -> int:
    """How many words, from `first` on, are joined by hyphens alone with no function word
    ("married-filing-jointly" is 3; "mum-to-be" is not a term, since "to" and "be" are
    function words); 0 when a hyphen joins `first` to the word before it."""
    text, surfaces = tokens.text, tokens.surfaces
    if first > 0 and text[tokens.ends[first - 1] : tokens.starts[first]] in _HYPHENS_SET:
        return 0
    count = 1
    for index in range(first + 1, len(tokens)):
        if text[tokens.ends[index - 1] : tokens.starts[index]] not in _HYPHENS_SET:
            break
        count += 1
    if count < last - first + 1:
        return 0  # the span itself is not one hyphenated word
    chain = surfaces[first : first + count]
    if any(word in _FUNCTION_WORDS for word in chain):
        return 0
    return count


_HYPHENS_SET = frozenset(_HYPHENS)


def _capitalised_run_end(tokens: Tokens, first: int, last: int) -> int | None:
    """The last token of a run of capitalised words holding [first, last], when the run does
    not open its sentence (where any word is capitalised); None otherwise."""
    text = tokens.text

    def capitalised(index: int) -> bool:
        return text[tokens.starts[index]].isupper()

    if not all(capitalised(i) for i in range(first, last + 1)):
        return None
    start = first
    while (
        start > 0 and tokens.clauses[start - 1] == tokens.clauses[first] and capitalised(start - 1)
    ):
        start -= 1
    if start == 0 or tokens.clauses[start - 1] != tokens.clauses[first]:
        return None  # the run opens the sentence
    end = last
    while (
        end + 1 < len(tokens)
        and tokens.clauses[end + 1] == tokens.clauses[first]
        and capitalised(end + 1)
    ):
        end += 1
    return end


def modifies_technical(
    signals: Signals, tokens: Tokens, last: int, *, capitalised: bool = False
) -> bool:
    """Whether token `last` modifies a technical noun: "age-partitioned tables", "sex field".

    The noun follows within `compound_reach` words, joined by hyphens or by nouns and adjectives
    (a function word or a verb ends the phrase); the first link is a hyphen, or the noun itself.
    """
    text, surfaces = tokens.text, tokens.surfaces
    clause = tokens.clauses[last]
    nouns = signals.technical_nouns
    for index in range(last + 1, min(len(tokens), last + 1 + signals.compound_reach)):
        between = text[tokens.ends[index - 1] : tokens.starts[index]]
        if tokens.clauses[index] != clause or between.strip(" " + _HYPHENS) != "":
            return False
        hyphen = any(mark in between for mark in _HYPHENS)
        if surfaces[index] in nouns or tokens.lemmas[index] in nouns:
            return True
        written = text[tokens.starts[index] : tokens.ends[index]]
        if index == last + 1 and not hyphen and not written[:1].isupper() and not capitalised:
            return False  # a product name may stand between: "older Android app"
        if surfaces[index] in signals.breaks:
            return False
    return False


# --- sentences ------------------------------------------------------------------------


def clauses(tokens: Tokens) -> Iterator[tuple[int, int]]:
    """Token ranges [first, last) of each sentence (or clause ended by ;)."""
    count = len(tokens)
    first = 0
    while first < count:
        last = first
        while last < count and tokens.clauses[last] == tokens.clauses[first]:
            last += 1
        yield first, last
        first = last


def specific(
    signals: Signals, tokens: Tokens, first: int, last: int, requirements: frozenset[str]
) -> bool:
    """Whether tokens [first, last) name a requirement, evidence or a concrete action."""
    text = tokens.text
    span = text[tokens.starts[first] : tokens.ends[last - 1]]
    if _QUOTE.search(span):
        return True
    generic, cues = signals.generic, signals.cues
    for index in range(first, last):
        surface, word_lemma = tokens.surfaces[index], tokens.lemmas[index]
        if surface.isdigit() or surface in _NUMBER_WORDS:
            return True
        written = text[tokens.starts[index] : tokens.ends[index]]
        if index > first and written[0].isupper() and written != "I":
            return True  # a name: a product, a tool, a book, an acronym
        if surface in _FUNCTION_WORDS:
            continue
        if (
            requirements
            and (surface in requirements or word_lemma in requirements)
            and surface not in _REQUIREMENT_NOISE
        ):
            return True
        if len(surface) < signals.min_specific_length or surface.endswith("ly"):
            continue
        if surface in generic or word_lemma in generic or surface in cues or word_lemma in cues:
            continue
        if surface in signals.valence and surface not in signals.technical:
            continue  # a judgement word ("poor", "impressive") is not evidence; "crash" is
        return True
    return False


# Words of a requirement that say nothing about which requirement a sentence is about.
_REQUIREMENT_NOISE = frozenset(
    re.findall(
        r"\w+",
        "experience experienced skill skills ability able good strong year years work working "
        "role team knowledge understanding level",
    )
)


def is_assessment(signals: Signals, tokens: Tokens, first: int, last: int) -> bool:
    cues = signals.cues
    return any(tokens.surfaces[i] in cues or tokens.lemmas[i] in cues for i in range(first, last))


def reassurance(signals: Signals, tokens: Tokens, first: int, last: int) -> bool:
    """A negated judgement ("not your fault", "nothing wrong") reassures; it assesses nothing."""
    surfaces, valence = tokens.surfaces, signals.valence
    for index in range(first, last):
        if surfaces[index] in _NEGATIONS or surfaces[index] == "nothing":
            for after in range(index + 1, min(last, index + 4)):
                if valence.get(surfaces[after], 0.0) <= -1.0:
                    return True
    return False


def vague_spans(
    signals: Signals,
    tokens: Tokens,
    taken: Sequence[tuple[int, int]],
    requirements: frozenset[str],
) -> Iterator[tuple[int, int]]:
    """Character spans of the sentences that assess without naming anything specific."""
    for first, last in clauses(tokens):
        start, end = tokens.starts[first], tokens.ends[last - 1]
        if any(a < end and start < b for a, b in taken):
            continue  # the sentence already has a finding to fix
        if reassurance(signals, tokens, first, last):
            continue  # "it was not your fault"
        if is_assessment(signals, tokens, first, last) and not specific(
            signals, tokens, first, last, requirements
        ):
            yield start, end


def tone_spans(
    signals: Signals, tokens: Tokens, taken: Sequence[tuple[int, int]]
) -> Iterator[tuple[Rule, int, int]]:
    """Harsh words, contempt and sarcasm, in sentences without a tone finding yet."""
    text = tokens.text
    valence = signals.valence
    # Most texts hold no contempt pattern at all: one search over the text tells.
    any_contempt = signals.contempt.search(text) is not None
    for first, last in clauses(tokens):
        start, end = tokens.starts[first], tokens.ends[last - 1]
        if any(a < end and start < b for a, b in taken):
            continue
        if any_contempt:
            # The clause's closing marks belong to it ("Really?").
            tail = end
            while tail < len(text) and tail - end < 3 and text[tail] in "?!.,":
                tail += 1
            match = signals.contempt.search(text, start, tail)
            if match is not None:
                yield signals.contempt_rule, match.start(), match.end()
                continue
        surfaces, lemmas = tokens.surfaces, tokens.lemmas
        opener = _praise_opener(signals, surfaces, first, last)
        if opener:
            rest = range(first + opener, last)
            if any(
                surfaces[i] in signals.fault_words or valence.get(surfaces[i], 0.0) <= -0.5
                for i in rest
            ):
                yield signals.sarcasm_rule, start, end
                continue
        intensified = any(surfaces[i] in signals.intensifiers for i in range(first, last))
        for index in range(first, last):
            surface = surfaces[index]
            score = valence.get(surface, valence.get(lemmas[index], 0.0))
            if score >= 0 or surface in signals.technical or lemmas[index] in signals.technical:
                continue
            if score > signals.harsh_valence and not (intensified and score <= -1.0):
                continue
            if any(surfaces[i] in _NEGATIONS for i in range(max(first, index - 3), index)):
                continue  # "not bad"
            if modifies_technical(signals, tokens, index):
                continue  # "bad tokens", "a hostile-input test"
            if index > first and (
                surfaces[index - 1] in signals.technical_nouns
                or lemmas[index - 1] in signals.technical_nouns
                or lemmas[index - 1] in _SYSTEM_SUBJECTS
            ):
                continue  # a system is the subject: "when a node dies", "the build failed"
            yield signals.contempt_rule, tokens.starts[index], tokens.ends[index]
            break


# Things that fail, crash or die without anyone being judged (beside the technical nouns).
_SYSTEM_SUBJECTS = frozenset(
    re.findall(
        r"\w+",
        "node server build job worker container pod process request query test deploy deployment "
        "release migration cluster disk connection host machine instance",
    )
)


def _praise_opener(signals: Signals, surfaces: list[str], first: int, last: int) -> int:
    """How many words of praise open the sentence (0 when it does not open with praise)."""
    for opener in signals.praise_openers.get(surfaces[first], ()):
        size = len(opener)
        if last - first > size and tuple(surfaces[first : first + size]) == opener:
            return size
    return 0


def _by_first_word(phrases: frozenset[str]) -> dict[str, tuple[tuple[str, ...], ...]]:
    found: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        words = tuple(word.lower() for word in WORD.findall(phrase))
        if words:
            found.setdefault(words[0], []).append(words)
    return {word: tuple(sorted(choices, key=len, reverse=True)) for word, choices in found.items()}
