"""What an admin may type about a colleague, and what an invited colleague sets."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from portal.forms import EMAIL_MAX, Email, Id, InputModel, OneLine, OptionalTimeZone, Say
from portal.security.actors import StaffRole
from portal.staff.models import QuestionEmails

PASSWORD_MIN = 12
PASSWORD_MAX = 1024


class SignInForm(InputModel):
    """The staff sign-in form. The address is not checked for shape: any address
    that matches no account gets the one answer every failed sign-in gets. The
    password is not stripped: spaces are part of a passphrase."""

    model_config = ConfigDict(str_strip_whitespace=False, extra="ignore", frozen=True)

    email: Annotated[
        str,
        Field(min_length=1, max_length=EMAIL_MAX),
        Say(
            missing="Enter the email address of your staff account.",
            invalid="That is longer than any email address we know.",
        ),
    ]
    password: Annotated[
        str,
        Field(min_length=1, max_length=PASSWORD_MAX),
        Say(
            missing="Enter your password.",
            invalid=f"Passwords are at most {PASSWORD_MAX:,} characters.",
        ),
    ]

    @field_validator("email", mode="before")
    @classmethod
    def _normalise(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


class InviteForm(InputModel):
    name: Annotated[
        str, Field(min_length=1, max_length=200), Say(missing="Enter your colleague's name.")
    ]
    email: Annotated[Email, Say(missing="Enter the address the invitation goes to.")]
    role: StaffRole = StaffRole.RECRUITER

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class RoleForm(InputModel):
    role: StaffRole


class TitleForm(InputModel):
    """A colleague's job title, signed under their notes ("Senior Recruiter")."""

    title: Annotated[str, Field(max_length=200)] = ""


class PasswordForm(InputModel):
    """A new password, typed twice. Not stripped: spaces are part of a passphrase."""

    model_config = ConfigDict(str_strip_whitespace=False, extra="ignore", frozen=True)

    password: Annotated[
        str,
        Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX),
        Say(missing="Choose a password."),
    ]
    confirm: Annotated[str, Field(max_length=PASSWORD_MAX), Say(missing="Type the password again.")]

    @field_validator("confirm")
    @classmethod
    def _same(cls, value: str, info: ValidationInfo) -> str:
        password = info.data.get("password")
        if password is not None and value != password:
            raise PydanticCustomError("mismatch", "The two passwords are not the same.")
        return value


class LockForm(InputModel):
    """The sign-in lock to clear (the page's hidden field)."""

    lock: Id


class ProfileForm(InputModel):
    """What a staff member may change about themselves on their profile page.
    `seen_title` is the job title the page showed: an admin may change it
    meanwhile, and a save that leaves the field as it was keeps theirs."""

    name: Annotated[
        str, Field(min_length=1, max_length=200), OneLine, Say(missing="Enter your name.")
    ]
    title: Annotated[str, Field(max_length=200), OneLine] = ""
    seen_title: Annotated[str, Field(max_length=200)] = ""
    time_zone: OptionalTimeZone = ""
    # When they hear about candidates' questions by email; absent: as it was.
    question_emails: QuestionEmails | None = None
