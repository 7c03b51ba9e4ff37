"""What the import page may post beside its file."""

from __future__ import annotations

from typing import Literal

from portal.forms import InputModel


class UploadForm(InputModel):
    """Publish the rows' feedback at once ("yes"), or keep them as drafts to review."""

    publish: Literal["", "yes"] = ""
