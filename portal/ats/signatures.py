"""Checking an applicant tracking system's signature, before anything else is read.

- Greenhouse: `Signature: sha256 <hex>`, HMAC-SHA256 of the raw body with the secret.
- Ashby: `Ashby-Signature: sha256=<hex>`, the same over the raw body.
- Lever: in the body: `signature` is hex(HMAC-SHA256(secret, token + triggeredAt)).

Every comparison is constant-time (`hmac.compare_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from portal.ats.models import Ats


def _digest(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def header_signature_ok(ats: Ats, secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """Greenhouse's and Ashby's signature header over the raw body."""
    if ats == Ats.GREENHOUSE:
        scheme, _, given = headers.get("signature", "").strip().partition(" ")
    elif ats == Ats.ASHBY:
        scheme, _, given = headers.get("ashby-signature", "").strip().partition("=")
    else:
        return False
    if scheme.lower() != "sha256" or not given:
        return False
    return _same(_digest(secret, body), given)


def lever_signature_ok(secret: str, payload: Mapping[str, Any]) -> bool:
    """Lever's signature, carried in the body with its token and `triggeredAt`."""
    token, triggered, given = (
        payload.get("token"),
        payload.get("triggeredAt"),
        payload.get("signature"),
    )
    if not isinstance(token, str) or not isinstance(given, str):
        return False
    if not isinstance(triggered, int | str) or isinstance(triggered, bool):
        return False
    return _same(_digest(secret, f"{token}{triggered}".encode()), given)


def sign_for_tests(secret: str, data: bytes) -> str:
    """The hex signature an ATS would send (for documentation examples and tests)."""
    return _digest(secret, data)
