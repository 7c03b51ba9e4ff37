"""Rephrasing a feedback draft with a language model: what is sent, and what may come back.

Only the draft's candidate-facing texts are sent (the decision summary, the personal
note, and the text and suggestion of each item shown to the candidate), one entry per
field, as a JSON object; never an internal item, a private note, a name, an address
or anything else of the application. The answer must be the same JSON object with
each text rephrased, and it is checked mechanically before a recruiter sees it:

- the same fields, one text each, nothing added or left out (pydantic reads it);
- no number, and no proper name (a capitalised word inside a sentence, or letters in
  capitals like "AWS"), that the field's own text did not hold.

Pure functions: no database, no request, no model.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Annotated

from pydantic import Field, TypeAdapter, ValidationError

from portal.feedback.check import Draft

# A rephrased text may be at most this many times its original's length (plus a little).
GROWTH = 2
TEXT_MAX = 10_000

SYSTEM = (
    "You rephrase feedback that an employer gives a job candidate. Rephrase only: keep "
    "the meaning of every text, make it clear, specific and kind, and add no facts. Do "
    "not add names, numbers, dates, skills, examples or claims that the text does not "
    "already hold, and do not remove any. Answer with one JSON object and nothing else: "
    "the same keys as the object you are given, each with its text rephrased."
)

_Answer = TypeAdapter(dict[str, Annotated[str, Field(max_length=TEXT_MAX)]])

NUMBER = re.compile(r"\d+(?:[.,:/]\d+)*")
WORD = re.compile(r"[^\W\d_][\w'\u2019-]*")
SENTENCE_END = re.compile(r"[.!?:;…]\s*$|^\s*$")


class BadAnswer(ValueError):
    """The model's answer cannot be used; the message says why, for the recruiter."""


def candidate_texts(draft: Draft) -> dict[str, str]:
    """The texts sent, keyed as the feedback check names fields (`items[2].suggestion`):
    every non-empty candidate-facing text, nothing internal."""
    texts = {
        "decision_summary": draft.decision_summary,
        "personal_note": draft.personal_note,
    }
    for index, item in enumerate(draft.items):
        if not item.visible:
            continue
        texts[f"items[{index}].body"] = item.body
        texts[f"items[{index}].suggestion"] = item.suggestion
    return {name: text for name, text in texts.items() if text.strip()}


def prompt_for(texts: dict[str, str]) -> str:
    return "Rephrase each text of this JSON object. Rephrase only; add no facts.\n\n" + json.dumps(
        texts, ensure_ascii=False, indent=2
    )


def json_of(output: str) -> str:
    """The answer without a Markdown code fence around it, which models like to add."""
    text = output.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, flags=re.DOTALL)
    return fenced.group(1) if fenced else text


def numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text))


def proper_names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence, and words in capitals ("AWS")."""
    found = set()
    for match in WORD.finditer(text):
        word = match.group()
        if word == "I" or not word[0].isupper():
            continue
        starts_sentence = SENTENCE_END.search(text[: match.start()]) is not None
        if not starts_sentence or (len(word) > 1 and word.isupper()):
            found.add(word)
    return found


def added_facts(before: str, after: str) -> list[str]:
    """Numbers and proper names in `after` that `before` does not hold (in any case)."""
    known = {word.casefold() for word in WORD.findall(before)}
    added = sorted(numbers(after) - numbers(before))
    added += sorted(name for name in proper_names(after) if name.casefold() not in known)
    return added


def read_answer(output: str, texts: dict[str, str]) -> dict[str, str]:
    """The rephrased texts from the model's answer, or `BadAnswer` saying what is wrong."""
    try:
        answer = _Answer.validate_json(json_of(output))
    except ValidationError as exc:
        raise BadAnswer(
            "The model's answer was not the JSON object asked for (one text for each "
            "field), so nothing was changed. Try again, or keep the draft as it is."
        ) from exc
    if set(answer) != set(texts):
        missing = sorted(set(texts) - set(answer))
        extra = sorted(set(answer) - set(texts))
        raise BadAnswer(
            "The model's answer changed the draft's structure ("
            + "; ".join(
                part
                for part in (
                    f"left out {', '.join(missing)}" if missing else "",
                    f"added {', '.join(extra)}" if extra else "",
                )
                if part
            )
            + "), so nothing was changed."
        )
    for name, text in answer.items():
        if not text.strip():
            raise BadAnswer(f"The model's answer left {name} empty, so nothing was changed.")
        if len(text) > GROWTH * len(texts[name]) + 200:
            raise BadAnswer(
                f"The model's answer made {name} much longer than it was, which a "
                "rephrasing does not, so nothing was changed."
            )
    added = {name: added_facts(texts[name], answer[name]) for name in answer}
    added = {name: words for name, words in added.items() if words}
    if added:
        raise BadAnswer(
            "The model's answer added facts that the draft does not hold ("
            + "; ".join(f"{name}: {', '.join(words)}" for name, words in sorted(added.items()))
            + "), so nothing was changed."
        )
    return answer


def rephrased(draft: Draft, texts: dict[str, str]) -> Draft:
    """`draft` with the named fields' texts replaced (keys as `candidate_texts`')."""
    items = list(draft.items)
    for name, text in texts.items():
        if name in ("decision_summary", "personal_note"):
            continue
        index, _, part = name[6:].partition("].")
        item = items[int(index)]
        items[int(index)] = (
            replace(item, suggestion=text) if part == "suggestion" else replace(item, body=text)
        )
    return replace(
        draft,
        items=tuple(items),
        decision_summary=texts.get("decision_summary", draft.decision_summary),
        personal_note=texts.get("personal_note", draft.personal_note),
    )
