"""Sign-in throttling per account and per client address, with exponential backoff (no Tornado here).

After `free_failures` failed attempts for one account (or `free_failures_per_address` from one address),
each further failure locks that key for `base_delay * 2**n` seconds, up to `max_delay`; an attempt while
a key is locked is answered "too many attempts, retry in N s" without the credentials being checked, so a
guesser learns nothing and the failures stop counting. A success clears the account's record; a key with
no failure for `forget_after` seconds is forgotten. Per-account locking is what stops a guesser spread over
many addresses; the per-address limit is higher, so that classmates behind one NAT do not lock each other
out and an address that tried many accounts cannot keep on guessing.

The records live in this process (bounded, oldest dropped first): with several service processes each
counts on its own, so a guesser gets at most that many times the attempts (docs/security.md says so).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from traitlets import Float, Int
from traitlets.config import LoggingConfigurable


@dataclass
class _Record:
    failures: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0


class LoginThrottle(LoggingConfigurable):
    """Failed sign-ins per account and per address; the password form and the OAuth2 token endpoint."""

    free_failures = Int(5, help="Failed attempts for one account before it is locked for a while.").tag(
        config=True
    )
    free_failures_per_address = Int(
        30, help="Failed attempts from one client address (any accounts) before it is locked for a while."
    ).tag(config=True)
    base_delay = Float(2.0, help="Seconds of the first lock; each further failure doubles it.").tag(
        config=True
    )
    max_delay = Float(900.0, help="Longest lock in seconds.").tag(config=True)
    forget_after = Float(3600.0, help="Seconds without a failure after which a record is dropped.").tag(
        config=True
    )
    max_records = Int(100_000, help="Records kept in memory (the oldest go first).").tag(config=True)

    def __init__(self, clock: Callable[[], float] = time.monotonic, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self._records: OrderedDict[tuple[str, str], _Record] = OrderedDict()

    @staticmethod
    def _keys(account: str, address: str) -> list[tuple[str, str]]:
        keys = [("address", address)]
        if account:
            keys.append(("account", account.strip().lower()))
        return keys

    def _get(self, key: tuple[str, str], now: float) -> _Record | None:
        record = self._records.get(key)
        if (
            record is not None
            and now - record.last_failure > self.forget_after
            and now >= record.locked_until
        ):
            del self._records[key]
            return None
        return record

    def retry_after(self, account: str, address: str) -> float:
        """Seconds until `account` may try again from `address` (0: go ahead)."""
        now = self.clock()
        wait = 0.0
        for key in self._keys(account, address):
            record = self._get(key, now)
            if record is not None and record.locked_until > now:
                wait = max(wait, record.locked_until - now)
        return wait

    def failed(self, account: str, address: str) -> None:
        """Count a failed attempt; locks the account or the address once past its free failures."""
        now = self.clock()
        for key in self._keys(account, address):
            record = self._get(key, now) or _Record()
            record.failures += 1
            record.last_failure = now
            free = self.free_failures if key[0] == "account" else self.free_failures_per_address
            over = record.failures - free + 1  # the free-th failure already locks
            if over > 0:
                record.locked_until = now + min(self.base_delay * 2 ** min(over - 1, 30), self.max_delay)
            self._records[key] = record
            self._records.move_to_end(key)
        while len(self._records) > self.max_records:
            self._records.popitem(last=False)

    def succeeded(self, account: str, address: str) -> None:
        """A correct sign-in clears the account's record (the address keeps its count)."""
        if account:
            self._records.pop(("account", account.strip().lower()), None)


def retry_message(seconds: float) -> str:
    """What the user reads when throttled."""
    wait = max(1, int(seconds + 0.999))
    unit = "second" if wait == 1 else "seconds"
    return (
        f"Too many failed sign-in attempts for this account or from your network. Try again in {wait} {unit}."
    )


def oauth_client_hint(authorization: str, form_client_id: str) -> str:
    """The client id a token request claims (body, or HTTP Basic user), unverified: the throttle's key."""
    if form_client_id:
        return form_client_id[:200]
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        raw = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return unquote(raw.partition(":")[0].replace("+", " "))[:200]
