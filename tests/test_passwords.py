"""Staff password hashes: argon2id, and the same work for unknown and wrong."""

from __future__ import annotations

from collections.abc import Iterator

import argon2
import argon2.low_level
import pytest
from argon2 import Parameters, extract_parameters, profiles

from portal.staff import passwords
from portal.staff.passwords import PRODUCTION_PARAMETERS, hash_password, verify_password


def test_a_hash_is_salted_argon2id_and_verifies() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("$argon2id$")
    assert first != second
    assert verify_password(first, "correct horse")
    assert verify_password(second, "correct horse")


def test_a_wrong_password_is_refused() -> None:
    stored = hash_password("correct horse")
    assert not verify_password(stored, "Correct horse")
    assert not verify_password(stored, "")


def test_no_stored_hash_and_an_unreadable_one_are_refused() -> None:
    assert not verify_password(None, "anything")
    assert not verify_password("", "anything")
    assert not verify_password("plain-text-password", "plain-text-password")


@pytest.fixture
def production_parameters() -> Iterator[None]:
    # The suite hashes at the cheapest parameters (conftest.py); these tests, at the real ones.
    passwords.use_parameters(PRODUCTION_PARAMETERS)
    yield
    passwords.use_parameters(profiles.CHEAPEST)


@pytest.mark.usefixtures("production_parameters")
def test_hashes_are_made_with_rfc_9106s_second_profile() -> None:
    assert PRODUCTION_PARAMETERS == profiles.RFC_9106_LOW_MEMORY
    made = extract_parameters(hash_password("correct horse"))
    assert (made.type, made.time_cost, made.memory_cost, made.parallelism) == (
        argon2.Type.ID,
        3,
        65536,
        4,
    )
    assert verify_password(hash_password("correct horse"), "correct horse")


@pytest.mark.usefixtures("production_parameters")
def test_unknown_account_and_wrong_password_cost_one_full_hash_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored = hash_password("correct horse")
    computed: list[Parameters] = []

    def counting_verify(hash: bytes, secret: bytes, type: argon2.Type) -> bool:
        computed.append(extract_parameters(hash.decode()))
        return argon2.low_level.verify_secret(hash, secret, type)

    # PasswordHasher.verify hands every check to this one function.
    monkeypatch.setattr("argon2._password_hasher.verify_secret", counting_verify)
    for stored_hash in (stored, None, "not a hash", ""):
        computed.clear()
        assert not verify_password(stored_hash, "wrong")
        # Exactly one argon2id computation at the production cost, whatever the account:
        # without the dummy hash, "unknown" would cost microseconds against tens of ms.
        assert computed == [PRODUCTION_PARAMETERS], stored_hash
