"""Sign-in throttling per account and per address, counted from the audit log's ``login_failed`` entries.

The counts live in the database, so every gunicorn worker (and every server sharing the database) sees the
same ones. After ``limit`` failures within ``window`` the next attempt must wait ``base`` seconds after the
latest failure, doubling with each further failure up to ``ceiling``. A successful sign-in clears an
account's count (a user who mistyped twice is not punished later); an address's count is not cleared, or
one valid account would let its owner keep guessing others' passwords. The answer depends only on the
name typed, never on whether that account exists.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .accounts_model import now_utc
from .auditlog import AuditLog, clip

FAILED = "login_failed"
SUCCEEDED = "login"


def account_key(username: str | None) -> str:
    """The account a sign-in attempt names, spelled as the audit log stores it."""
    return clip(str(username or "").strip().lower(), 40)


@dataclass
class SignInThrottle:
    log: AuditLog
    account_limit: int = 5
    address_limit: int = 20  # an office behind one NAT address shares it, so allow more than per account
    base: float = 30.0  # seconds to wait after the limit is reached; doubles with each further failure
    ceiling: float = 900.0
    window: timedelta = timedelta(hours=1)
    clock: Callable[[], datetime] = now_utc

    def _delay(self, failures: int, limit: int) -> float:
        if failures < limit:
            return 0.0
        return min(self.ceiling, self.base * 2 ** min(failures - limit, 32))

    def _wait(self, count: int, latest: datetime | None, limit: int, now: datetime) -> float:
        if latest is None:
            return 0.0
        return max(0.0, self._delay(count, limit) - (now - latest).total_seconds())

    def wait_seconds(self, username: str | None, address: str | None) -> int:
        """Seconds before this account may try again from this address; 0 means try now."""
        now = self.clock()
        since = now - self.window
        account = account_key(username)
        waits = [0.0]
        if account:
            _, last_ok = self.log.recent(SUCCEEDED, since, actor=account)
            count, latest = self.log.recent(FAILED, max(since, last_ok or since), actor=account)
            waits.append(self._wait(count, latest, self.account_limit, now))
        if address:
            count, latest = self.log.recent(FAILED, since, address=address)
            waits.append(self._wait(count, latest, self.address_limit, now))
        return math.ceil(max(waits))

    def failed(self, username: str | None, address: str | None, detail: str = "") -> None:
        """Count one failed attempt (it is also the audit log's record of it)."""
        self.log.record(FAILED, actor=account_key(username), address=address or "", detail=detail)

    def succeeded(self, username: str, address: str | None) -> None:
        self.log.record(SUCCEEDED, actor=account_key(username), address=address or "")
