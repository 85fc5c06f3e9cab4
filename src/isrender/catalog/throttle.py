"""Failed-login throttling, per account and per client address.

Every password check in isrender goes through ``Catalog.authenticate``, which asks its
``LoginThrottle`` first, so the JSON API, SOAP, the web UI and the CLI all count alike::

    throttle.check(account, address)      # LoginThrottled (10001, HTTP 429, retry_after) if locked
    ...verify the password...
    throttle.failed(account, address)     # or
    throttle.succeeded(account, address)  # clears the account's failures

Rules: ``account_failures`` failures of one account, or ``address_failures`` failures from one
client address, within ``window`` seconds lock that account or address for ``lockout`` seconds.
While locked, no password is checked at all (a locked account is no guessing oracle); when the
lock ends the count starts again, and a right password works. A success clears the account's
count but not the address's: an attacker with one good account cannot reset the address count
by logging in to it between guesses.

The state lives in process memory: each server process (``isrender serve --workers N``, each
machine) throttles on its own, and a restart forgets it. Memory is bounded: entries whose
window and lock are over are dropped, and at most ``max_keys`` keys are kept.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from isrender.errors import LoginThrottled

__all__ = ["LoginThrottle", "ThrottleLimits"]


@dataclass(frozen=True)
class ThrottleLimits:
    account_failures: int = 5
    address_failures: int = 20
    window: float = 300.0  # seconds over which failures are counted
    lockout: float = 60.0  # seconds a locked account or address waits
    max_keys: int = 100_000  # accounts + addresses tracked at most (memory bound)


@dataclass
class _Counter:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(
        self, limits: ThrottleLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or ThrottleLimits()
        self._clock = clock
        self._counters: dict[tuple[str, str], _Counter] = {}
        self._lock = threading.Lock()

    def check(self, account: str, address: str = "") -> None:
        """Raise LoginThrottled when the account or the address is locked."""
        now = self._clock()
        with self._lock:
            waits = [
                counter.locked_until - now
                for counter in (self._counters.get(key) for key in _keys(account, address))
                if counter is not None and counter.locked_until > now
            ]
        if waits:
            raise LoginThrottled(max(1, math.ceil(max(waits))))

    def failed(self, account: str, address: str = "") -> None:
        now = self._clock()
        limits = self.limits
        with self._lock:
            if len(self._counters) >= limits.max_keys:
                self._prune(now)
            for key in _keys(account, address):
                counter = self._counters.setdefault(key, _Counter())
                counter.failures.append(now)
                while counter.failures and counter.failures[0] <= now - limits.window:
                    counter.failures.popleft()
                allowed = (
                    limits.account_failures if key[0] == "account" else limits.address_failures
                )
                if len(counter.failures) >= allowed:
                    counter.locked_until = now + limits.lockout
                    counter.failures.clear()  # after the lock, a fresh count

    def _allowed(self, key: tuple[str, str]) -> int:
        limits = self.limits
        return limits.account_failures if key[0] == "account" else limits.address_failures

    def succeeded(self, account: str, address: str = "") -> None:
        with self._lock:
            self._counters.pop(("account", _account_key(account)), None)

    def _prune(self, now: float) -> None:
        """Drop finished entries; if still full, the ones idle longest."""
        window = self.limits.window
        self._counters = {
            key: counter
            for key, counter in self._counters.items()
            if counter.locked_until > now
            or (counter.failures and counter.failures[-1] > now - window)
        }
        excess = len(self._counters) - self.limits.max_keys // 2
        if excess > 0:
            idle = sorted(self._counters, key=lambda k: _last_seen(self._counters[k]))
            for key in idle[:excess]:
                del self._counters[key]


def _account_key(account: str) -> str:
    return account.strip().lower()  # e-mail addresses: one account, however it is typed


def _keys(account: str, address: str) -> list[tuple[str, str]]:
    keys = [("account", _account_key(account))]
    if address:
        keys.append(("address", address))
    return keys


def _last_seen(counter: _Counter) -> float:
    return max(counter.locked_until, counter.failures[-1] if counter.failures else 0.0)
