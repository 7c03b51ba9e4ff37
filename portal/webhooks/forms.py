"""What an admin fills in for a webhook endpoint."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from portal.forms import URL_MAX, InputModel, OneLine, Say
from portal.webhooks.address import RefusedAddress, check_url_shape
from portal.webhooks.events import EVENT_TYPES

# Each event type is a checkbox named after it, dots made underscores.
EVENT_FIELDS = {name.replace(".", "_"): name for name in EVENT_TYPES}
LABELS = {"url": "Address (URL)", "description": "Description", "events": "Events"}


class EndpointForm(InputModel):
    url: Annotated[
        str,
        Field(min_length=1, max_length=URL_MAX),
        Say(missing="Enter the address that receives the events."),
    ]
    description: Annotated[str, Field(max_length=200), OneLine] = ""
    # Only on the endpoint's own page (a new endpoint starts on): unticked posts nothing.
    enabled: bool = False
    feedback_published: bool = False
    feedback_viewed: bool = False
    question_asked: bool = False
    question_answered: bool = False
    pool_joined: bool = False
    pool_left: bool = False
    candidate_erased: bool = False

    @property
    def event_types(self) -> list[str]:
        return [event for name, event in EVENT_FIELDS.items() if getattr(self, name)]


def problems(data: EndpointForm, *, allow_private: bool) -> dict[str, str]:
    """What the model alone cannot say: the address's kind, and at least one event."""
    found: dict[str, str] = {}
    try:
        check_url_shape(data.url, allow_private=allow_private)
    except RefusedAddress as exc:
        found["url"] = str(exc)
    if not data.event_types:
        found["events"] = "Choose at least one event to send."
    return found


def form_values(endpoint: Any) -> dict[str, str]:
    values = {"url": endpoint.url, "description": endpoint.description}
    if endpoint.enabled:
        values["enabled"] = "on"
    for name, event in EVENT_FIELDS.items():
        if event in (endpoint.event_types or ()):
            values[name] = "on"
    return values
