"""Waiting in tests for another process to reach a state, with a bound that only a failing
test reaches."""

from __future__ import annotations

import time
from collections.abc import Callable


def until(check: Callable[[], object], what: str = "", timeout: float = 120.0,
          interval: float = 0.05) -> None:  # fmt: skip
    """Poll ``check`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)
