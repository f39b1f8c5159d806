"""kb.throttle against a real database (SQLite and PostgreSQL): failures counted per account and per address, a growing delay."""
from __future__ import annotations

from datetime import timedelta

import pytest

from kb.accounts_model import now_utc
from kb.throttle import SignInThrottle, account_key
from kb.users import UserStore


class Clock:
    def __init__(self):
        self.offset = timedelta()

    def __call__(self):
        return now_utc() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def throttle(database_url, clock):
    store = UserStore(database_url)
    store.upgrade()
    yield SignInThrottle(store.audit_log, account_limit=5, address_limit=8, clock=clock)
    store.dispose()


def fail(throttle, n, username="sam", address="10.0.0.1"):
    for _ in range(n):
        throttle.failed(username, address)


def test_five_failures_then_a_wait(throttle):
    fail(throttle, 4)
    assert throttle.wait_seconds("sam", "10.0.0.1") == 0
    fail(throttle, 1)
    assert 29 <= throttle.wait_seconds("sam", "10.0.0.1") <= 30
    assert 29 <= throttle.wait_seconds("SAM ", "10.9.9.9") <= 30  # the account, from anywhere, any spelling
    assert throttle.wait_seconds("other", "10.0.0.2") == 0


def test_the_wait_doubles_with_each_further_failure_up_to_a_ceiling(throttle, clock):
    fail(throttle, 5)
    waits = []
    for _ in range(8):
        waits.append(throttle.wait_seconds("sam", "10.0.0.1"))
        clock.advance(waits[-1])
        assert throttle.wait_seconds("sam", "10.0.0.1") == 0
        throttle.failed("sam", "10.0.0.1")  # the attempt allowed after waiting fails again
        clock.offset = timedelta()  # failures are stamped with the real time
    assert waits[:6] == [30, 60, 120, 240, 480, 900] and waits[6:] == [900, 900]


def test_the_window_forgets_old_failures(throttle, clock):
    fail(throttle, 5)
    clock.advance(3601)
    assert throttle.wait_seconds("sam", "10.0.0.1") == 0


def test_success_clears_the_account_but_not_the_address(throttle):
    fail(throttle, 4, address="10.0.0.1")
    throttle.succeeded("sam", "10.0.0.1")
    fail(throttle, 4, address="10.0.0.1")
    assert throttle.wait_seconds("sam", "10.0.0.9") == 0  # 4 since the success
    assert throttle.wait_seconds("someone", "10.0.0.1") > 0  # but the address made 8


def test_per_address_limit_across_accounts(throttle):
    for i in range(7):
        throttle.failed(f"user{i}", "10.0.0.7")
    assert throttle.wait_seconds("fresh", "10.0.0.7") == 0
    throttle.failed("user7", "10.0.0.7")
    assert throttle.wait_seconds("fresh", "10.0.0.7") > 0
    assert throttle.wait_seconds("fresh", "10.0.0.8") == 0


def test_unknown_and_known_accounts_are_counted_alike(throttle):
    """The throttle never looks the account up: it cannot tell whether one exists."""
    fail(throttle, 5, username="no-such-user")
    fail(throttle, 5, username="sam")
    assert throttle.wait_seconds("no-such-user", "") == throttle.wait_seconds("sam", "")


def test_account_key_matches_the_audit_log():
    assert account_key("  Moussa ") == "moussa"
    assert len(account_key("x" * 500)) == 40
    assert account_key(None) == ""
