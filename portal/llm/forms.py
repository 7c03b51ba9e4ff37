"""The admins' language-model settings (portal.llm.service)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from portal.forms import Id, InputModel, OneLine
from portal.llm import adapter


class ModelSettingsForm(InputModel):
    # The `llm` library's model id or alias, like "gpt-4o-mini" or "llama3.2"; empty: off.
    language_model: Annotated[str, Field(max_length=100), OneLine] = ""
    model_rephrases: bool = False
    model_second_opinion: bool = False
    version: Id

    @field_validator("language_model")
    @classmethod
    def _installed(cls, value: str) -> str:
        value = value.strip()
        if value and not adapter.known_model(value):
            raise PydanticCustomError(
                "language_model",
                "No model called {name} is installed here. `llm models` lists the installed "
                "ones; a plugin adds more (like `llm install llm-ollama`).",
                {"name": value},
            )
        return value

    @field_validator("model_rephrases", "model_second_opinion")
    @classmethod
    def _needs_a_model(cls, value: bool, info: ValidationInfo) -> bool:
        if value and not info.data.get("language_model"):
            raise PydanticCustomError("language_model", "Name the model first: this needs one.")
        return value


LABELS = {
    "language_model": "Language model",
    "model_rephrases": "Rephrase drafts",
    "model_second_opinion": "Second opinion on the check",
}
