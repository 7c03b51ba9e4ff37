"""Staff passwords: argon2id hashes (argon2-cffi), checked in the same time whether or not
the account exists.

Both functions are CPU-bound (tens of milliseconds by design): call them from a worker
thread (`anyio.to_thread.run_sync`), never on the event loop.
"""

from __future__ import annotations

import contextlib
import functools
import secrets

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

# RFC 9106's second recommended profile for argon2id (t=3, m=64 MiB, p=4), argon2-cffi's
# default: what the hashes are made with.
PRODUCTION_PARAMETERS = profiles.RFC_9106_LOW_MEMORY
_hasher = PasswordHasher.from_parameters(PRODUCTION_PARAMETERS)


def use_parameters(parameters: Parameters) -> None:
    """Hash with other parameters from now on, in this process.

    For the test suite only, which hashes hundreds of passwords: at the cheapest
    parameters its runs take seconds less, and one test checks the production ones.
    """
    global _hasher
    _hasher = PasswordHasher.from_parameters(parameters)
    _dummy_hash.cache_clear()


def hash_password(password: str) -> str:
    """An argon2id hash of `password`, salted, in the PHC string format."""
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    # A real hash with the same parameters, so that checking an unknown account costs
    # as much as checking a wrong password.
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches `stored_hash`.

    With no stored hash (unknown account, or one that signs in only with single
    sign-on) or an unreadable one, the password is checked against a dummy hash and
    the answer is False, so that "no such account" and "wrong password" take the same
    time.
    """
    if stored_hash is None:
        _check(_dummy_hash(), password)
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except InvalidHashError:
        _check(_dummy_hash(), password)
        return False
    except VerificationError:
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether a hash was made with weaker parameters than today's (rehash at sign-in)."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def _check(stored_hash: str, password: str) -> None:
    with contextlib.suppress(VerificationError):
        _hasher.verify(stored_hash, password)
