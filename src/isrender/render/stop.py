"""StopSignal: how a running render is told to stop (its deadline passed, or its client left).

The renderer listens while libvips computes (render/vips/executor.py: the listener kills the
pipeline, which libvips checks at every tile); whoever stops it (server/deadlines.py at the
deadline, the gate when the client goes away) calls ``stop()`` from its own thread. Nothing
is polled: libvips never calls back into Python, so a render takes no GIL per tile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["StopSignal"]


class StopSignal:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopped = False
        self._listeners: dict[int, Callable[[], None]] = {}
        self._next = 0

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """Stop (once): every listener is called now, in this thread."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            listeners = list(self._listeners.values())
        for listener in listeners:
            listener()

    def listen(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` when stopped (at once if it already is); returns ``forget``."""
        with self._lock:
            key, self._next = self._next, self._next + 1
            already = self._stopped
            if not already:
                self._listeners[key] = listener
        if already:
            listener()

        def forget() -> None:
            with self._lock:
                self._listeners.pop(key, None)

        return forget
