"""What a candidate chooses when joining the talent pool, and what staff type about it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from portal.forms import Id, InputModel, Say, parse_number
from portal.pool.models import ContactFrequency, RemotePreference

# The kinds of role a member may ask to hear about: stored by code, shown by label.
ROLE_FAMILIES: dict[str, str] = {
    "engineering": "Software engineering",
    "data": "Data and analytics",
    "product": "Product management",
    "design": "Design and research",
    "sales": "Sales and business development",
    "marketing": "Marketing and communications",
    "customer": "Customer success and support",
    "operations": "Operations",
    "finance": "Finance",
    "people": "People and HR",
    "other": "Something else",
}
REMOTE_WORDS = {
    RemotePreference.EITHER: "Remote or on site",
    RemotePreference.REMOTE: "Remote only",
    RemotePreference.ON_SITE: "On site or hybrid only",
}
# Which roles a member may hear about (as posted -> in words), and how often.
WHICH_ROLES_WORDS = {
    "chosen": "Only roles of the kinds I chose",
    "any": "Any role that may suit me",
}
FREQUENCY_WORDS = {
    ContactFrequency.ANYTIME: "Whenever a suitable role comes up",
    ContactFrequency.MONTHLY: "At most once a month",
    ContactFrequency.QUARTERLY: "At most once a quarter",
}


class PreferenceWords:
    """A member's choices in words, for anything with `role_families` (codes),
    `remote`, `only_chosen_roles` and `contact_frequency`."""

    role_families: tuple[str, ...]
    remote: str
    only_chosen_roles: bool
    contact_frequency: str

    @property
    def which_roles(self) -> str:
        """The "which roles" choice as posted: only the chosen kinds (when there are
        any to keep to), or any role."""
        return "chosen" if self.only_chosen_roles and self.role_families else "any"

    @property
    def which_roles_words(self) -> str:
        """Which roles they may hear about, as staff read it."""
        if self.which_roles == "chosen":
            return "Only roles of the kinds chosen"
        return "Any kind of role"

    @property
    def role_family_labels(self) -> tuple[str, ...]:
        return tuple(ROLE_FAMILIES[code] for code in self.role_families if code in ROLE_FAMILIES)

    @property
    def remote_words(self) -> str:
        return REMOTE_WORDS[RemotePreference(self.remote)]

    @property
    def frequency_words(self) -> str:
        return FREQUENCY_WORDS[ContactFrequency(self.contact_frequency)]


LOCATIONS_MAX = 300
MESSAGE_MAX = 2_000
CONSENT_TEXT_MAX = 10_000


def role_family_codes(value: str) -> tuple[str, ...]:
    """The codes of a stored or posted comma-separated list, known ones only, sorted."""
    return tuple(sorted({code for code in value.split(",") if code in ROLE_FAMILIES}))


def _role_families(value: str) -> str:
    given = [code.strip() for code in value.split(",") if code.strip()]
    if any(code not in ROLE_FAMILIES for code in given):
        raise PydanticCustomError("choice", "Choose from the kinds of role listed.")
    return ",".join(sorted(set(given)))


def location_list(value: str) -> tuple[str, ...]:
    """Places as a person listed them (commas or lines), without repeats."""
    seen: dict[str, str] = {}
    for part in re.split(r"[,\n]", value):
        place = " ".join(part.split())
        if place and place.casefold() not in seen:
            seen[place.casefold()] = place
    return tuple(seen.values())


def _locations(value: str) -> str:
    return "\n".join(location_list(value))


RoleFamilies = Annotated[str, Field(max_length=400), AfterValidator(_role_families)]
Locations = Annotated[
    str,
    Field(max_length=LOCATIONS_MAX),
    AfterValidator(_locations),
]


_REMOTE = "Choose whether you would like remote or on-site work."
_WHICH = "Choose which roles we may tell you about."
_OFTEN = "Choose how often we may contact you."
_LONG = "Choose how long we may keep you in the pool."


class PreferencesForm(InputModel):
    """What a member may change at any time: each question of the form is one field
    (what kinds of role, where, remote or not, which roles to hear about, how often)."""

    role_families: RoleFamilies = ""
    locations: Locations = ""
    remote: Annotated[RemotePreference, Say(missing=_REMOTE, invalid=_REMOTE)]
    which_roles: Annotated[Literal["chosen", "any"], Say(missing=_WHICH)]
    contact_frequency: Annotated[ContactFrequency, Say(missing=_OFTEN, invalid=_OFTEN)]

    @field_validator("which_roles")
    @classmethod
    def _kinds_to_keep_to(cls, value: str, info: ValidationInfo) -> str:
        if value == "chosen" and not info.data.get("role_families", "x"):
            raise PydanticCustomError(
                "choice",
                "Tick at least one kind of role above, or choose to hear about any role.",
            )
        return value

    @property
    def only_chosen_roles(self) -> bool:
        return self.which_roles == "chosen"


class DurationForm(InputModel):
    """A member's new choice of how long they stay (one of the organization's)."""

    duration_months: Annotated[int, Field(ge=1, le=60), Say(missing=_LONG, invalid=_LONG)]


class JoinForm(PreferencesForm):
    """Joining: the preferences, how long, and agreeing to the statement shown."""

    duration_months: Annotated[int, Field(ge=1, le=60), Say(missing=_LONG, invalid=_LONG)]
    consent: Annotated[
        Literal["yes"],
        Say(
            missing="Tick the box to agree to the statement, or simply do not join.",
            invalid="Tick the box to agree to the statement, or simply do not join.",
        ),
    ]
    # The version of the statement the candidate read (the page's hidden field).
    consent_version: Id


class RenewForm(InputModel):
    consent_version: Id


class OneClickForm(InputModel):
    """RFC 8058's one-click unsubscribe: a body of ``List-Unsubscribe=One-Click``."""

    list_unsubscribe: Literal["One-Click"]

    @staticmethod
    def posted(pairs: list[tuple[str, str]]) -> dict[str, str]:
        """The posted values (`read_form`'s `values`): the field by the name RFC 8058
        gives it, which is no Python name."""
        given = dict(pairs).get("List-Unsubscribe")
        return {} if given is None else {"list_unsubscribe": given}


# --- staff ---------------------------------------------------------------------


class PoolFilter(InputModel):
    """The recruiters' search: every field narrows; an empty one filters nothing."""

    role_family: Annotated[str, Field(max_length=40)] = ""
    location: Annotated[str, Field(max_length=100)] = ""
    remote: Literal["", "yes", "no"] = ""
    skill: Annotated[str, Field(max_length=100)] = ""
    job: Annotated[Id | None, Say(invalid="Choose a job.")] = None
    joined_from: dt.date | None = None
    joined_to: dt.date | None = None
    page: Annotated[int, Field(ge=1, le=100_000)] = 1

    @field_validator("role_family")
    @classmethod
    def _known_family(cls, value: str) -> str:
        if value and value not in ROLE_FAMILIES:
            raise PydanticCustomError("choice", "Choose from the kinds of role listed.")
        return value

    @field_validator("joined_to")
    @classmethod
    def _not_before_from(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        since = info.data.get("joined_from")
        if value is not None and since is not None and value < since:
            raise PydanticCustomError("range_order", "The end date comes before the start date.")
        return value


def _web_address(value: str) -> str:
    if not re.match(r"^https?://[^\s/?#]+\.[^\s]*$", value):
        raise PydanticCustomError(
            "url",
            "Enter the job's web address, starting with https://, like https://example.com/jobs/42.",
        )
    return value


class InviteForm(InputModel):
    """An invitation to apply: which job, where to apply, a note, and to whom."""

    job_id: Annotated[Id, Say(missing="Choose the job.", invalid="Choose the job.")]
    # The kind of role it is: members who want only matching roles hear of it only if
    # it is one of theirs.
    role_family: Annotated[
        str,
        Field(min_length=1, max_length=40),
        Say(missing="Choose the kind of role.", invalid="Choose the kind of role."),
    ]
    apply_url: Annotated[
        str,
        Field(min_length=1, max_length=500),
        AfterValidator(_web_address),
        Say(missing="Enter the address where candidates apply."),
    ]
    message: Annotated[str, Field(max_length=MESSAGE_MAX)] = ""
    # Comma-separated membership ids (the page's checkboxes, joined).
    members: Annotated[
        str, Field(min_length=1, max_length=20_000), Say(missing="Choose at least one member.")
    ]
    # The button pressed: see who would be invited, or send.
    action: Literal["", "preview", "send"] = ""

    @field_validator("role_family")
    @classmethod
    def _family(cls, value: str) -> str:
        if value not in ROLE_FAMILIES:
            raise PydanticCustomError("choice", "Choose the kind of role.")
        return value

    @field_validator("members")
    @classmethod
    def _ids(cls, value: str) -> str:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not parts or any(parse_number(p) is None for p in parts):
            raise PydanticCustomError("choice", "Choose at least one member.")
        return ",".join(parts)

    @property
    def member_ids(self) -> list[int]:
        return sorted({int(part) for part in self.members.split(",")})


def _durations(value: str) -> str:
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts or any(parse_number(p, high=60) is None for p in parts) or len(parts) > 6:
        raise PydanticCustomError(
            "durations", "List up to six numbers of months from 1 to 60, like 6, 12, 24."
        )
    return ", ".join(str(n) for n in sorted({int(p) for p in parts}))


class ConsentSettingsForm(InputModel):
    """The admins' talent-pool settings; a changed statement becomes a new version."""

    consent_text: Annotated[
        str,
        Field(min_length=1, max_length=CONSENT_TEXT_MAX),
        Say(missing="Write what candidates agree to when they join."),
    ]
    durations: Annotated[str, Field(max_length=100), AfterValidator(_durations)]
    offers_pool: Literal["", "yes"] = ""
    version: Id

    @property
    def duration_months(self) -> list[int]:
        return [int(part) for part in self.durations.split(",")]
