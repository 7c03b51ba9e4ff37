"""Secret tokens for links and sessions: 256 random bits, only their hash stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def digests_match(stored: bytes, token: str) -> bool:
    return hmac.compare_digest(stored, token_digest(token))


def keyed_hash(secret_key: str, value: str) -> str:
    """A short keyed hash, for values (IP addresses) the audit log must not keep in clear."""
    mac = hmac.new(secret_key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()[:32]
