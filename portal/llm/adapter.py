"""The one place Afterword talks to a language model, through Simon Willison's `llm`.

A model call blocks (a network request, or a local model's work), so it runs in a
small thread pool of its own, never on the event loop, and is given up after
`PORTAL_LANGUAGE_MODEL_TIMEOUT_SECONDS` (the thread finishes on its own; its answer
is dropped). Which models exist is `llm`'s business: its plugins register them (`llm
install llm-ollama` for local ones), and keys come from `llm keys set` or the
provider's environment variable, in the directory `LLM_USER_PATH` names.

Nothing here decides whether text may be sent: callers ask only when the
organization's admin turned a use on (portal.llm.service).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import llm

log = logging.getLogger(__name__)

# At most this many model calls at once in a process; more wait their turn.
WORKERS = 4
_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="language-model")


class ModelFailed(Exception):
    """The model could not be asked, or did not answer in time."""


@dataclass(frozen=True)
class Exchange:
    """What was sent to a model and what it answered, word for word."""

    model: str
    system: str
    prompt: str
    output: str


def known_model(name: str) -> bool:
    """Whether `llm` has a model by this id or alias (its plugins register them)."""
    try:
        llm.get_model(name)
    except llm.UnknownModelError:
        return False
    return True


def _ask(name: str, system: str, prompt: str) -> str:
    model = llm.get_model(name)
    return model.prompt(prompt, system=system, stream=False).text()


async def ask(name: str, *, system: str, prompt: str, within: float) -> Exchange:
    """Ask model `name`, off the event loop; `ModelFailed` for any failure or a timeout."""
    loop = asyncio.get_running_loop()
    try:
        output = await asyncio.wait_for(
            loop.run_in_executor(_pool, _ask, name, system, prompt), within
        )
    except TimeoutError as exc:
        log.warning("language model %s gave no answer within %s s", name, within)
        raise ModelFailed(f"{name} gave no answer within {within:g} seconds") from exc
    except Exception as exc:  # any plugin's error: unknown model, no key, network
        log.warning("language model %s failed: %s", name, type(exc).__name__, exc_info=True)
        raise ModelFailed(f"{name} could not be asked ({type(exc).__name__})") from exc
    return Exchange(model=name, system=system, prompt=prompt, output=output)
