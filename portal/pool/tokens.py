"""The token in a talent-pool member's emailed links (leave, renew).

Made with an HMAC over the membership's id (`portal.security.tokens.signed_id`),
so nothing is stored, the link works for as long as the membership exists, and
a token names one membership only: changing the id breaks it, and a token of an
ended membership never touches a later one (a re-join is a new membership).
"""

from __future__ import annotations

from portal.security.tokens import read_signed_id, signed_id
from portal.settings import Settings

TOKEN_PURPOSE = "pool membership"  # noqa: S105 - a name, not a secret


def member_token(settings: Settings, membership_id: int) -> str:
    """The token in a member's emailed links (leave, renew): it names this membership
    only, and only the holder of PORTAL_SECRET_KEY can make one."""
    return signed_id(settings.secret_key.get_secret_value(), TOKEN_PURPOSE, membership_id)


def membership_id_from_token(settings: Settings, token: str) -> int | None:
    return read_signed_id(settings.secret_key.get_secret_value(), TOKEN_PURPOSE, token)


def leave_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/pool/leave/{token}"


def renew_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/pool/renew/{token}"
