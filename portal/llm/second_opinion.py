"""A language model's second opinion beside the feedback check (portal.feedback.check).

The model is sent the draft's candidate-facing texts (as `rephrase.candidate_texts`
picks them) and asked for a JSON list of the words it would flag: each a quote, a
kind (risky, vague or tone) and a reason. A quote not found word for word in the texts
is dropped (a model may invent one). The opinion never blocks publishing, whatever it
says; any failure (no answer in time, a malformed one) is "no second opinion", logged.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from portal.feedback.check import Draft
from portal.llm import adapter
from portal.llm.rephrase import candidate_texts, json_of

log = logging.getLogger(__name__)

SYSTEM = (
    "You review feedback that an employer gives a rejected job candidate, as a second "
    "opinion beside a rule-based check. Flag words that are legally risky (they touch "
    "a protected characteristic such as age, sex, pregnancy, disability, religion, "
    "race or nationality, or judge personality or looks), vague (name no requirement, "
    "evidence or next step) or harsh in tone. Answer with a JSON list and nothing "
    'else: one object per finding, with "quote" (the exact words, copied), "kind" '
    '("risky", "vague" or "tone") and "reason" (one short sentence). Answer [] '
    "when nothing needs flagging."
)
MAX_OPINIONS = 20


class _Opinion(BaseModel):
    quote: Annotated[str, Field(min_length=1, max_length=500)]
    kind: Literal["risky", "vague", "tone"]
    reason: Annotated[str, Field(max_length=500)] = ""


_Answer = TypeAdapter(list[_Opinion])


@dataclass(frozen=True)
class Opinion:
    field: str  # as the feedback check names fields: "decision_summary", "items[1].body"
    quote: str
    kind: str
    reason: str


@dataclass(frozen=True)
class SecondOpinion:
    model: str
    opinions: tuple[Opinion, ...]


def prompt_for(texts: dict[str, str]) -> str:
    return "Review these texts of one feedback:\n\n" + json.dumps(
        texts, ensure_ascii=False, indent=2
    )


def read_answer(output: str, texts: dict[str, str]) -> tuple[Opinion, ...]:
    """The opinions whose quote is in one of the texts; `ValueError` for a malformed answer."""
    try:
        answer = _Answer.validate_json(json_of(output))
    except ValidationError as exc:
        raise ValueError("not a JSON list of {quote, kind, reason}") from exc
    found = []
    for opinion in answer[:MAX_OPINIONS]:
        field = next((name for name, text in texts.items() if opinion.quote in text), None)
        if field is not None:
            found.append(Opinion(field, opinion.quote, opinion.kind, opinion.reason))
    return tuple(found)


async def second_opinion(model: str, draft: Draft, *, within: float) -> SecondOpinion | None:
    """The model's opinion on `draft`'s candidate-facing texts, or None (logged) when it
    could not be had. Call it only when the organization turned it on."""
    texts = candidate_texts(draft)
    if not texts:
        return SecondOpinion(model, ())
    try:
        exchange = await adapter.ask(model, system=SYSTEM, prompt=prompt_for(texts), within=within)
        return SecondOpinion(model, read_answer(exchange.output, texts))
    except adapter.ModelFailed:
        return None  # logged by the adapter
    except ValueError as exc:
        log.warning("language model %s gave a malformed second opinion: %s", model, exc)
        return None
