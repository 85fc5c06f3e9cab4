"""A bounded render pool: at most ``slots`` renders at once; past that, refuse at once.

Queueing without limit turns a burst into minutes of latency and unbounded memory (each
waiting request holds its source open); a 503 with Retry-After lets a CDN or client back off.
A render that overruns the timeout answers 504, but keeps its slot until the thread really
ends: libvips cannot be interrupted, and freeing the slot early would break the bound.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from isrender.errors import IsRenderError

__all__ = ["Busy", "RenderGate", "RenderTimeout"]

T = TypeVar("T")


class Busy(IsRenderError):
    http_status = 503


class RenderTimeout(IsRenderError):
    http_status = 504


class RenderGate:
    def __init__(self, slots: int, timeout: float) -> None:
        self.slots = slots
        self.timeout = timeout
        self._busy = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="isrender-render")

    @property
    def busy(self) -> int:
        return self._busy

    async def run(self, work: Callable[[], T]) -> T:
        with self._lock:
            if self._busy >= self.slots:
                raise Busy(f"all {self.slots} render slots are busy; retry shortly")
            self._busy += 1
        future: Future[T] = self._pool.submit(work)
        future.add_done_callback(self._release)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except TimeoutError:
            raise RenderTimeout(f"the render took longer than {self.timeout:g} s") from None

    def _release(self, _future: Future[Any]) -> None:
        with self._lock:
            self._busy -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
