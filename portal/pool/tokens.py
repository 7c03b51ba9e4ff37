"""The tokens in a talent-pool member's emailed links: one to leave, one to renew.

Made with an HMAC over the membership's id (`portal.security.tokens.signed_id`),
so nothing is stored, a link works for as long as the membership exists, and
a token names one membership only: changing the id breaks it, and a token of an
ended membership never touches a later one (a re-join is a new membership).

Each link has a purpose of its own inside the HMAC. The leave link travels in
every pool email and in its `List-Unsubscribe` header, which mail providers and
forwarded copies show to others; it must never be able to do more than end the
membership. A renewal agrees to a consent statement on the member's behalf, so
only the renewal link, sent to the member alone, can lead to it.
"""

from __future__ import annotations

import enum

from portal.security.tokens import read_signed_id, signed_id
from portal.settings import Settings
from portal.urls import absolute_url


class LinkPurpose(enum.Enum):
    # The leave purpose keeps the name every pool token had when one token served
    # both links, so the leave links already in mailboxes keep working (and can now
    # only leave); renewal links sent before then no longer renew.
    LEAVE = "pool membership"
    RENEW = "pool renewal"


def member_token(settings: Settings, membership_id: int, purpose: LinkPurpose) -> str:
    """The token of one of a member's emailed links: it names this membership for
    this purpose only, and only the holder of PORTAL_SECRET_KEY can make one."""
    return signed_id(settings.secret_key.get_secret_value(), purpose.value, membership_id)


def membership_id_from_token(settings: Settings, token: str, purpose: LinkPurpose) -> int | None:
    """The membership a token names, or None if it is not a genuine token for `purpose`."""
    return read_signed_id(settings.secret_key.get_secret_value(), purpose.value, token)


def leave_url(settings: Settings, token: str) -> str:
    return absolute_url(settings, "pool.leave", token=token)


def renew_url(settings: Settings, token: str) -> str:
    return absolute_url(settings, "pool.renew_page", token=token)
