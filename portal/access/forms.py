"""What the candidate's sign-in form may contain."""

from __future__ import annotations

from typing import Annotated

from portal.forms import Email, InputModel, Say


class SignInForm(InputModel):
    email: Annotated[Email, Say(missing="Enter the email address your application used.")]
