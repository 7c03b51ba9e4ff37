"""Staff password hashes: argon2id, and the same cost for unknown and wrong."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from portal.staff.passwords import hash_password, verify_password


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


def _median_seconds(check: Callable[[], bool], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        assert not check()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def test_unknown_account_and_wrong_password_take_the_same_time() -> None:
    stored = hash_password("correct horse")
    verify_password(None, "warm up the dummy hash")
    wrong = _median_seconds(lambda: verify_password(stored, "wrong"))
    unknown = _median_seconds(lambda: verify_password(None, "wrong"))
    unreadable = _median_seconds(lambda: verify_password("not a hash", "wrong"))
    # Both do one full argon2id computation; without the dummy hash, "unknown" would take
    # microseconds against tens of milliseconds.
    for other in (unknown, unreadable):
        assert 0.5 < other / wrong < 2, (wrong, unknown, unreadable)
