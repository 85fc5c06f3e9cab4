"""Deadlines: one thread per gate that calls each registered action when its time comes (a
render's ``render_timeout``), unless it was forgotten first. No timer thread per render, and
no progress callback from libvips into Python per tile (render/stop.py).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

__all__ = ["Deadlines"]

Action = Callable[[], None]


class Deadlines:
    def __init__(self) -> None:
        # (when, order, [action or None once forgotten]); forgotten entries leave at their time
        self._heap: list[tuple[float, int, list[Action | None]]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def at(self, when: float, action: Action) -> Callable[[], None]:
        """Call ``action`` at ``when`` (time.monotonic()); returns ``forget``."""
        holder: list[Action | None] = [action]
        with self._wake:
            entry = (when, next(self._order), holder)
            heapq.heappush(self._heap, entry)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="isrender-deadlines",
                                                daemon=True)  # fmt: skip
                self._thread.start()
            if self._heap[0] is entry:  # the thread sleeps until a later time: wake it
                self._wake.notify()

        def forget() -> None:
            holder[0] = None

        return forget

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                due = self._due()
                while not due and not self._closed:
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._wake.wait(wait)
                    due = self._due()
                if self._closed:
                    return
            for action in due:  # outside the lock: an action may take a while
                action()

    def _due(self) -> list[Action]:
        now, due = time.monotonic(), []
        while self._heap and self._heap[0][0] <= now:
            action = heapq.heappop(self._heap)[2][0]
            if action is not None:
                due.append(action)
        return due
