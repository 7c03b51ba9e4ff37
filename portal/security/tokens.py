"""Secret tokens for links and sessions (256 random bits, only their hash stored),
and sealing for the few secrets that must wait in the database (an email's link)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken


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


def _signing_key(secret_key: str, purpose: str) -> bytes:
    # One key per purpose, so a token made for one thing means nothing elsewhere.
    return hmac.new(
        secret_key.encode("utf-8"), b"afterword sign v1 " + purpose.encode("utf-8"), hashlib.sha256
    ).digest()


def signed_id(secret_key: str, purpose: str, record_id: int) -> str:
    """A token naming one record for one purpose: ``<id>.<HMAC-SHA256>``.

    For links that must keep working for as long as the record does (a
    talent-pool member's way out) without storing anything: only the holder of
    PORTAL_SECRET_KEY can make one, and changing the id breaks the MAC.
    """
    mac = hmac.new(_signing_key(secret_key, purpose), str(record_id).encode(), hashlib.sha256)
    return f"{record_id}.{base64.urlsafe_b64encode(mac.digest()).rstrip(b'=').decode('ascii')}"


# "<id>.<43 characters>": anything longer is not one of ours, whatever it holds.
SIGNED_ID_MAX = 11 + 1 + 43


def read_signed_id(secret_key: str, purpose: str, token: str) -> int | None:
    """The record id a `signed_id` token names, or None if it is not a genuine one."""
    if len(token) > SIGNED_ID_MAX:
        return None
    head, _, _mac = token.partition(".")
    if not head.isascii() or not head.isdigit() or len(head) > 10 or head != str(int(head)):
        return None
    record_id = int(head)
    if not hmac.compare_digest(signed_id(secret_key, purpose, record_id), token):
        return None
    return record_id


def _sealing_key(secret_key: str, purpose: bytes = b"afterword seal v1") -> Fernet:
    # A key of its own for each purpose, derived from the installation's secret key.
    derived = hmac.new(secret_key.encode("utf-8"), purpose, hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret_key: str, value: str) -> str:
    """Encrypt and authenticate a value to be kept in the database (Fernet).

    Whoever holds a copy of the database but not PORTAL_SECRET_KEY cannot read it.
    """
    return _sealing_key(secret_key).encrypt(value.encode("utf-8")).decode("ascii")


def unseal(secret_key: str, sealed: str) -> str:
    """The value `seal` sealed; ValueError if it was sealed with another key or altered."""
    try:
        return _sealing_key(secret_key).decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise ValueError("the sealed value cannot be opened with this secret key") from exc


def seal_for_a_while(secret_key: str, value: str, *, purpose: str) -> str:
    """Encrypt and authenticate a value a browser keeps for a few minutes (a cookie),
    with a key of its own for `purpose`: the browser can neither read nor alter it."""
    key = _sealing_key(secret_key, f"afterword {purpose} v1".encode())
    return key.encrypt(value.encode("utf-8")).decode("ascii")


def unseal_recent(secret_key: str, sealed: str, *, purpose: str, max_age_seconds: int) -> str:
    """The value `seal_for_a_while` sealed for `purpose`; ValueError if it is older than
    `max_age_seconds`, was sealed for another purpose or key, or was altered."""
    key = _sealing_key(secret_key, f"afterword {purpose} v1".encode())
    try:
        return key.decrypt(sealed.encode("ascii"), ttl=max_age_seconds).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise ValueError("the sealed value is too old, altered or not ours") from exc
